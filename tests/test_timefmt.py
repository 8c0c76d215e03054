from datetime import datetime, timedelta, timezone

from cucu.models import LA_PAZ, parse_api_datetime
from cucu.timefmt import fmt_age, fmt_datetime, fmt_duration, fmt_time


def test_datetimes_are_shown_in_la_paz():
    utc = datetime(2026, 11, 24, 12, 5, tzinfo=timezone.utc)
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


def test_age():
    now = datetime(2026, 11, 24, 10, 0, tzinfo=LA_PAZ)
    assert fmt_age(now - timedelta(seconds=12), now) == "hace 12 s" and fmt_age(None) == "nunca"


def test_api_datetime_forms():
    assert parse_api_datetime("2026-11-24 08:00:00").tzinfo == LA_PAZ
    assert parse_api_datetime("2026-11-24T08:00:00.123").microsecond == 123000
    assert parse_api_datetime("2026-11-24T12:00:00+00:00").hour == 8
    assert parse_api_datetime("") is None
