from datetime import UTC, datetime, timedelta

from cucu.api.models import parse_api_datetime
from cucu.formatting import (
    fmt_age,
    fmt_count,
    fmt_datetime,
    fmt_duration,
    fmt_durations,
    fmt_every,
    fmt_number,
    fmt_percent,
    fmt_time,
    in_sentence,
)
from cucu.lapaz import LA_PAZ


def test_datetimes_are_shown_in_la_paz():
    utc = datetime(2026, 11, 24, 12, 5, tzinfo=UTC)
    assert fmt_datetime(utc) == "24/11/2026 08:05" and fmt_time(utc) == "08:05:00"
    assert fmt_datetime(None) == "—"


def test_pandas_missing_values_are_dashes():
    import pandas as pd

    assert fmt_datetime(pd.NaT) == "—" and fmt_time(pd.NaT) == "—" and fmt_duration(pd.NaT) == "—"
    assert fmt_age(pd.NaT) == "nunca"


def test_durations():
    assert fmt_duration(timedelta(seconds=40)) == "40 s"
    assert fmt_duration(timedelta(minutes=7, seconds=5)) == "7 min"
    assert fmt_duration(timedelta(hours=5, minutes=12)) == "5 h 12 min"
    assert fmt_duration(timedelta(days=2, hours=3, minutes=1)) == "2 d 3 h"
    assert fmt_duration(timedelta(seconds=-5)) == "0 s"


def test_a_column_of_durations_reads_as_each_one_alone():
    import pandas as pd

    seconds = [-90061.5, -5, -0.4, 0, 0.9, 1, 59.99, 60, 61, 3599, 3600, 3661, 86399, 86400, 90061.7, 9 * 86400 + 1]
    deltas = pd.Series([timedelta(seconds=s) for s in seconds] + [None], index=range(10, 27), dtype="timedelta64[ns]")
    said = fmt_durations(deltas)
    assert list(said.index) == list(deltas.index)
    assert list(said) == [fmt_duration(timedelta(seconds=s)) for s in seconds] + ["—"]
    assert said.iloc[-2] == "9 d 0 h" and said.iloc[-1] == "—"


def test_age():
    now = datetime(2026, 11, 24, 10, 0, tzinfo=LA_PAZ)
    assert fmt_age(now - timedelta(seconds=12), now) == "hace 12 s" and fmt_age(None) == "nunca"


def test_api_datetime_forms():
    naive = parse_api_datetime("2026-11-24 08:00:00")
    fractional = parse_api_datetime("2026-11-24T08:00:00.123")
    utc = parse_api_datetime("2026-11-24T12:00:00+00:00")
    assert naive is not None and naive.tzinfo == LA_PAZ
    assert fractional is not None and fractional.microsecond == 123000
    assert utc is not None and utc.hour == 8
    assert parse_api_datetime("") is None


def test_numbers_and_percentages_in_bolivian_style():
    assert fmt_number(1234.56) == "1 234,6" and fmt_number(0.5, 2) == "0,50"
    assert fmt_percent(1.0) == "100,00 %" and fmt_percent(0.25) == "25,0 %" and fmt_percent(None) == "—"
    assert fmt_percent(0.9995) == "99,95 %"
    assert fmt_count(10_000) == "10 000" and fmt_count(952) == "952"


def test_chart_buckets_and_labels_inside_sentences():
    assert fmt_every(timedelta(hours=1)) == "hora" and fmt_every(timedelta(minutes=15)) == "15 min"
    assert fmt_every(timedelta(hours=6)) == "6 h"
    assert in_sentence("Sin conexión con cucu") == "sin conexión con cucu"
    assert in_sentence("SIAT no responde") == "SIAT no responde"


def test_md_text_escapes_markdown_and_breaks_directives_and_autolinks():
    from cucu.formatting import md_text

    shown = md_text("[clic](http://x.bo) **b** :red[r] :material/home: a@b.bo www.x.bo $1 <b>")
    for formed in ("[clic](", "**b**", ":red[", ":material/", "http://", "a@b", "www."):
        assert formed not in shown, formed
    assert "\\$1" in shown and "\\<b\\>" in shown  # escaped: no math, no HTML
    assert md_text("Caja 1") == "Caja 1"  # plain names stay as they are
