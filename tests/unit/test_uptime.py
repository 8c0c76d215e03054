"""cucu.connectivity.rules (rollup, down-since, uptime, outages, heartbeat, latency, history) and its figures."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cucu.connectivity import rules as uptime
from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.window import CheckHistory
from cucu.lapaz import LA_PAZ
from cucu.views import conectividad
from cucu.views.figures.connectivity import heartbeat_chart, latency_chart
from cucu.vocabulary import CheckState, ErrorKind, SiatStatus

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=LA_PAZ)
STEP = timedelta(seconds=30)
OK, DOWN, CUCU = True, False, None


def series(states: str, *, end: datetime = NOW, step: timedelta = STEP) -> list[ConnectivityCheck]:
    """Checks from a string, oldest first, the last one at ``end``: ``.`` ok, ``x`` SIAT down, ``?`` cucu unreachable."""
    kinds = {".": OK, "x": DOWN, "?": CUCU}
    n = len(states)
    return [
        ConnectivityCheck(
            end - step * (n - 1 - i),
            kinds[s],
            latency_ms=None if s == "?" else 100.0 + i,
            error="No hubo respuesta de cucu" if s == "?" else None,
            error_kind=ErrorKind.TIMEOUT if s == "?" else None,
        )
        for i, s in enumerate(states)
    ]


# ---- rollup --------------------------------------------------------------------------


def test_rollup_operativo():
    r = uptime.siat_rollup(series("x......"), NOW)  # the failure is outside the window of 6
    assert (r.word, r.color) == ("Operativo", "green")
    assert "últimas 6" in r.detail and r.latest is not None and r.latest.checked_at == NOW


def test_rollup_operativo_with_a_single_check():
    r = uptime.siat_rollup(series("."), NOW)
    assert r.word == "Operativo" and "la última comprobación" in r.detail


def test_rollup_intermitente():
    r = uptime.siat_rollup(series("...x.."), NOW)
    assert (r.word, r.color) == ("Intermitente", "orange")
    assert "1 de las últimas 6" in r.detail and "SIAT no respondió" in r.detail
    assert "SIAT respondió en las últimas 2" in r.detail and "vuelve a Operativo con 3 respuestas seguidas" in r.detail


@pytest.mark.parametrize(
    ("pattern", "word"),
    [
        ("xxxxxxxx.", "Intermitente"),
        ("xxxxxxxx..", "Intermitente"),
        ("xxxxxxxx...", "Operativo"),  # a window of 6 kept "Intermitente" for three more checks (1.5 min)
        ("x.x.x...", "Operativo"),
        ("??????...", "Operativo"),
        ("....x...", "Operativo"),
    ],
)
def test_intermitente_clears_on_the_third_answer_in_a_row(pattern, word):
    """The rule's own count, as many answers as failures make it Caído: not a window that lingers."""
    r = uptime.siat_rollup(series(pattern), NOW)
    assert r.word == word
    if word == "Operativo":
        assert "SIAT respondió en las últimas 3 comprobaciones" in r.detail


def test_rollup_two_latest_failures_are_not_yet_down():
    r = uptime.siat_rollup(series("....xx"), NOW)
    assert r.word == "Intermitente" and "La última falló" in r.detail


def test_rollup_caido_when_three_latest_failed():
    r = uptime.siat_rollup(series("...xxx"), NOW)
    assert (r.word, r.color) == ("Caído", "red")
    assert "SIAT no responde desde las 11:59:00" in r.detail and "3 comprobaciones" in r.detail


def test_rollup_caido_counts_the_whole_run():
    r = uptime.siat_rollup(series(".xxxxxxxxx"), NOW)
    assert r.word == "Caído" and "desde las 11:56:00" in r.detail and "9 comprobaciones" in r.detail


def test_rollup_cucu_unreachable_is_its_own_state_never_caido():
    """cucu giving no answer says nothing of SIAT: "cucu no responde", grey, never "Caído"."""
    r = uptime.siat_rollup(series("...???"), NOW)
    assert (r.word, r.color, r.status) == ("cucu no responde", "gray", SiatStatus.CUCU_SILENT) and r.down_since is None
    assert "Sin respuesta de cucu desde las 11:59:00" in r.detail and "no se sabe si SIAT responde" in r.detail
    assert uptime.siat_rollup(series("xxxxx???"), NOW).word == "cucu no responde"  # what SIAT was is not what it is
    r = uptime.siat_rollup(series("...?.."), NOW)
    assert r.word == "Intermitente" and "sin respuesta de cucu" in r.detail


def test_rollup_unknowns_inside_a_run_cucu_called_down_neither_start_nor_end_it():
    r = uptime.siat_rollup(series("..x?xx"), NOW)
    assert r.word == "Caído" and "desde las 11:58:30" in r.detail and "3 comprobaciones" in r.detail
    assert uptime.siat_rollup(series("..x?x?"), NOW).word == "Intermitente"  # the latest said nothing of SIAT


def test_a_check_a_person_asked_for_counts_for_no_rule():
    asked = [dataclasses.replace(c, on_request=True) for c in series("xxxxx", end=NOW + STEP)]
    checks = series("......") + asked
    assert uptime.siat_down_since(checks) is None and uptime.siat_rollup(checks, NOW + STEP).word == "Operativo"
    assert uptime.ok_streak(series("xxx") + [dataclasses.replace(c, on_request=True) for c in series("...")]) == 0


def test_a_check_a_person_asked_for_is_shown_beside_the_state_it_does_not_change():
    asked = dataclasses.replace(series("x", end=NOW + STEP)[0], on_request=True)
    r = uptime.siat_rollup([*series("......"), asked], NOW + STEP)
    assert r.word == "Operativo" and r.asked == asked and r.latest is not None and r.latest.checked_at == NOW
    assert "Comprobación pedida a las 12:00:30: SIAT no responde" in r.asked_note
    assert "comprobaciones periódicas" in r.asked_note
    # Once the collector checked again, the person's check is history like any other.
    later = series(".", end=NOW + 2 * STEP)
    assert uptime.siat_rollup([*series("......"), asked, *later], NOW + 2 * STEP).asked is None


def test_rollup_key_is_the_word_and_since_when():
    caido = uptime.siat_rollup(series("...xxx"), NOW)
    assert caido.key == (SiatStatus.DOWN, NOW - 2 * STEP)
    assert uptime.siat_rollup(series("......"), NOW).key == (SiatStatus.OPERATIONAL, None)


def test_rollup_sin_datos():
    r = uptime.siat_rollup([], NOW)
    assert (r.word, r.color, r.latest) == ("Sin datos", "gray", None)
    assert "Todavía no hay" in r.detail


def test_rollup_stale_data_is_sin_datos():
    checks = series("......", end=NOW - timedelta(seconds=91))
    r = uptime.siat_rollup(checks, NOW)
    assert r.word == "Sin datos" and "hace 1 min" in r.detail and "colector" in r.detail
    assert uptime.siat_rollup(series("......", end=NOW - timedelta(seconds=89)), NOW).word == "Operativo"
    # A longer interval tolerates an older latest check.
    assert uptime.siat_rollup(checks, NOW, check_interval_s=60).word == "Operativo"


def test_rollup_stale_even_when_down():
    assert uptime.siat_rollup(series("xxxx", end=NOW - timedelta(hours=2)), NOW).word == "Sin datos"


# ---- down since ------------------------------------------------------------------------


def test_down_since():
    assert uptime.siat_down_since(series("..xxx")) == NOW - 2 * STEP
    assert uptime.siat_down_since(series("..x.x")) is None  # one failure: not yet
    assert uptime.siat_down_since(series("xx...")) is None
    assert uptime.siat_down_since(series("x?x")) is None  # cucu unreachable is not SIAT down
    assert uptime.siat_down_since(series("x?xx")) == NOW - 3 * STEP  # nor does it break what cucu said
    assert uptime.siat_down_since(series("???")) is None and uptime.siat_down_since(series("xxx?")) is None
    assert uptime.siat_down_since([]) is None
    assert uptime.siat_down_since(series("..")) is None


@pytest.mark.parametrize(
    ("pattern", "down"), [("...xx", False), ("..xxx", True), ("x..?x", False), ("..x?x", False), ("x?x?xx", True)]
)
def test_one_rule_decides_down_for_the_rollup_and_the_alert(pattern, down):
    """At the boundary (two failures, then three) the word and the alert's rule agree."""
    checks = series(pattern)
    rollup = uptime.siat_rollup(checks, NOW)
    assert (uptime.siat_down_since(checks) is not None) is down
    assert (rollup.word == "Caído") is down and (rollup.down_since is not None) is down
    assert rollup.down_since == uptime.siat_down_since(checks)
    if not down:
        assert rollup.word == "Intermitente"


# ---- uptime ----------------------------------------------------------------------------


def test_uptime_share_ignores_cucu_unreachable():
    checks = series("..x.??")  # 3 ok of 4 answered
    assert uptime.uptime(checks, NOW - timedelta(hours=1)) == pytest.approx(0.75)
    assert uptime.uptime(checks, NOW - STEP) is None  # only "?" in the window
    assert uptime.uptime(checks, NOW - 3 * STEP) == pytest.approx(0.5)  # x . ? ? -> 1 of 2, since is inclusive
    assert uptime.uptime([], NOW) is None


def test_uptime_windows():
    day = timedelta(days=1)
    checks = [
        ConnectivityCheck(NOW - 20 * day, False),
        ConnectivityCheck(NOW - 20 * day + STEP, True),
        ConnectivityCheck(NOW - 3 * day, False),
        ConnectivityCheck(NOW - 3 * day + STEP, True),
        ConnectivityCheck(NOW - timedelta(hours=2), True),
        ConnectivityCheck(NOW - timedelta(hours=1), True),
        ConnectivityCheck(NOW - 40 * day + timedelta(days=0), False),  # out of order and too old: ignored by 30 d
    ]
    checks.sort(key=lambda c: c.checked_at)
    assert conectividad.uptime_windows(checks, NOW) == {"24h": 1.0, "7d": pytest.approx(0.75), "30d": pytest.approx(4 / 6)}
    assert conectividad.uptime_windows([], NOW) == {"24h": None, "7d": None, "30d": None}


def test_checks_in_window():
    checks = series("......")
    assert conectividad.checks_in_window(checks, NOW - STEP) == checks[-2:]
    assert conectividad.checks_in_window(checks, NOW + STEP) == []
    assert conectividad.checks_in_window(checks, NOW - timedelta(days=1)) == checks


# ---- outages ---------------------------------------------------------------------------


def test_outages_ended_ongoing_and_causes():
    checks = series("..xx..???.x?x.xxx")
    frame = conectividad.outages(checks, NOW)
    assert list(frame.columns) == ["Inicio", "Fin", "Duración", "En curso", "Causa", "Comprobaciones fallidas"]
    assert len(frame) == 4
    t = [c.checked_at for c in checks]
    newest, mixed, cucu, siat = (frame.iloc[i] for i in range(4))
    # Newest first: the ongoing run at the end.
    assert newest["En curso"] and pd.isna(newest["Fin"]) and newest["Inicio"] == t[14]
    assert newest["Duración"] == NOW - t[14] and newest["Causa"] == "SIAT no responde"
    assert newest["Comprobaciones fallidas"] == 3
    assert mixed["Causa"] == "SIAT no responde y sin conexión con cucu" and mixed["Comprobaciones fallidas"] == 3
    assert (mixed["Inicio"], mixed["Fin"]) == (t[10], t[13])
    assert cucu["Causa"] == "Sin conexión con cucu" and cucu["Duración"] == 3 * STEP and not cucu["En curso"]
    assert (siat["Inicio"], siat["Fin"], siat["Duración"]) == (t[2], t[4], 2 * STEP)
    assert str(frame["Inicio"].dt.tz) == "America/La_Paz"
    assert frame["Comprobaciones fallidas"].dtype == "int64" and frame["En curso"].dtype == bool


def test_outages_ongoing_duration_runs_to_now():
    checks = series("..x", end=NOW - timedelta(minutes=10))
    frame = conectividad.outages(checks, NOW)
    assert len(frame) == 1 and frame.iloc[0]["Duración"] == timedelta(minutes=10)


def test_the_outages_summary_counts_one_outage_in_the_singular_and_more_in_the_plural():
    one = conectividad.outages(series("..xx.."), NOW)
    assert conectividad.outages_summary(one, "24 h").startswith("1 caída en los últimos 24 h, duración total 1 min;")
    two = conectividad.outages(series("..xx..x."), NOW)
    assert conectividad.outages_summary(two, "24 h").startswith("2 caídas en los últimos 24 h,")


def test_outages_empty():
    for checks in ([], series("....")):
        frame = conectividad.outages(checks, NOW)
        assert frame.empty and list(frame.columns) == conectividad.OUTAGE_COLUMNS


# ---- heartbeat and latency -------------------------------------------------------------


def test_heartbeat_frame():
    checks = series("." * 100 + "x?")
    frame = conectividad.heartbeat_frame(checks)
    assert len(frame) == 90 and list(frame.columns) == ["Hora", "Estado", "Latencia (ms)", "Error"]
    assert frame["Hora"].iloc[-1] == NOW and frame["Hora"].is_monotonic_increasing
    assert list(frame["Estado"].tail(3)) == ["SIAT en línea", "SIAT no responde", "Sin conexión con cucu"]
    assert pd.isna(frame["Latencia (ms)"].iloc[-1]) and frame["Error"].iloc[-1] == "No hubo respuesta de cucu"
    assert len(conectividad.heartbeat_frame(checks, limit=5)) == 5
    assert conectividad.heartbeat_frame([]).empty


def test_latency_frame_raw_and_bucketed():
    checks = series(".x.?" * 30)  # 120 checks, one hour
    raw = conectividad.latency_frame(checks)
    assert len(raw) == 120 and raw["SIAT no responde"].sum() == 30 and raw["Sin conexión con cucu"].sum() == 30
    assert raw["Latencia (ms)"].notna().sum() == 60  # only checks in which SIAT answered
    assert str(raw["Hora"].dt.tz) == "America/La_Paz" and raw["Hora"].iloc[-1] == NOW
    buckets = conectividad.latency_frame(checks, timedelta(minutes=10))
    assert len(buckets) in (6, 7) and buckets["Comprobaciones"].sum() == 120
    answered = buckets.dropna(subset=["Latencia (ms)"])
    assert buckets["SIAT no responde"].sum() == 30 and (answered["Máxima (ms)"] >= answered["Latencia (ms)"]).all()


def test_auto_bucket_keeps_charts_light():
    assert conectividad.auto_bucket(timedelta(hours=1)) is None
    for days in (1, 7, 30):
        bucket = conectividad.auto_bucket(timedelta(days=days))
        assert bucket is not None and timedelta(days=days) / bucket <= 800


def test_latency_frame_of_30_days_is_bucketed_for_a_light_chart():
    # 86 400 checks (30 days at 30 s) become hourly buckets; how fast that is, is a benchmark's business.
    checks = series("." * 86_400)
    frame = conectividad.latency_frame(checks, conectividad.auto_bucket(timedelta(days=30)))
    assert 700 <= len(frame) <= 722 and frame["Comprobaciones"].sum() == 86_400


# ---- the in-memory history -----------------------------------------------------------------


def test_check_history_loads_once_then_tops_up():
    stored = series("." * 10)
    calls = []

    def load(since):
        calls.append(since)
        return [c for c in stored if c.checked_at >= since]

    history = CheckHistory(load, keep=timedelta(hours=1), overlap=timedelta(seconds=60))
    assert history.refresh(NOW) == stored and calls == [NOW - timedelta(hours=1)]
    stored.append(ConnectivityCheck(NOW + STEP, False))
    stored.insert(-2, ConnectivityCheck(NOW - STEP + timedelta(seconds=1), True))  # written late, within the overlap
    got = history.refresh(NOW + STEP)
    assert got == sorted(stored, key=lambda c: c.checked_at) and calls[-1] == NOW - timedelta(seconds=60)
    # Old checks fall out of the window (its start is inclusive).
    assert history.refresh(NOW + timedelta(hours=1)) == [stored[-2], stored[-1]]


# ---- figures ---------------------------------------------------------------------------


def test_heartbeat_chart_colours_and_hover():
    checks = series("...x?")
    checks[-1] = ConnectivityCheck(NOW, None, error="No hubo <respuesta> de cucu")
    spec = heartbeat_chart(conectividad.heartbeat_frame(checks))
    rows = {r["Posición"]: r for r in spec["data"]["values"]}
    scale = spec["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        "SIAT en línea": CheckState.ONLINE.chart_color,
        "SIAT no responde": CheckState.SIAT_DOWN.chart_color,
        "Sin conexión con cucu": CheckState.CUCU_UNREACHABLE.chart_color,
    }
    assert CheckState.ONLINE.chart_color == "#1f9d55"
    assert rows[89]["Estado"] == "Sin conexión con cucu"  # right-aligned: the newest in the last slot
    assert [rows[i]["Estado"] for i in (85, 86, 87)] == ["SIAT en línea"] * 3 and min(rows) == 85
    assert (
        rows[88]["Estado"] == "SIAT no responde"
        and rows[88]["Hora"] == "24/11/2026 11:59:30"
        and rows[88]["Latencia"] == "103 ms"
    )
    assert rows[89]["Error"] == "No hubo <respuesta> de cucu"  # Vega's tooltips show text, never HTML
    assert spec["height"] == 90 and spec["encoding"]["x"]["axis"] is None
    assert spec["encoding"]["x"]["scale"]["domain"] == list(range(90))  # one slot per check, whatever the states


def test_heartbeat_chart_empty():
    assert heartbeat_chart(conectividad.heartbeat_frame([]))["data"]["values"] == []


def latency_spec(checks, bucket="auto"):
    """What Conectividad draws: a bucket chosen from the span, then the chart of the frame."""
    if bucket == "auto":
        bucket = conectividad.auto_bucket(checks[-1].checked_at - checks[0].checked_at)
    return latency_chart(conectividad.latency_frame(checks, bucket), bucket=bucket)


def test_latency_chart_raw_marks_failures():
    spec = latency_spec(series("..x..?.."))
    line, siat, cucu = spec["layer"]
    assert line["mark"]["type"] == "line" and siat["mark"]["color"] == CheckState.SIAT_DOWN.chart_color
    assert cucu["mark"]["color"] == CheckState.CUCU_UNREACHABLE.chart_color
    rows = spec["data"]["values"]
    assert len(rows) == 8 and sum(r["ms"] is None for r in rows) == 2  # the failures are gaps in the line
    # La Paz wall-clock times on a UTC scale: the browser's zone never shifts them.
    assert rows[-1]["t"] == "2026-11-24T12:00:00Z" and line["encoding"]["x"]["scale"]["type"] == "utc"
    assert line["encoding"]["y"]["title"] == "ms"


def test_latency_chart_bucketed_for_long_windows():
    checks = series("." * 2000 + "xx" + "." * 1000, step=timedelta(minutes=5))  # ~10 days
    spec = latency_spec(checks)
    assert len(spec["data"]["values"]) <= 260 and "media" in str(spec["layer"][0]["encoding"]["tooltip"])
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line", "tick"]
    assert len(latency_spec(series("...."), bucket=None)["layer"]) == 1


# ---- SIAT-down periods (the outage dossier's) ------------------------------------------------------------


def test_down_periods_start_at_the_first_down_are_declared_at_the_third_and_end_when_siat_answers():
    checks = series("..xx?x.x?x??xxx???")
    periods = uptime.siat_down_periods(checks)
    assert [(p.first_failed, p.declared_at, p.ended_at, p.back, p.said_down) for p in periods] == [
        (checks[2].checked_at, checks[5].checked_at, checks[6].checked_at, True, 3),  # a "?" neither starts nor ends it
        (checks[7].checked_at, checks[12].checked_at, checks[15].checked_at, False, 5),  # ended by cucu's silence
    ]
    assert uptime.siat_down_periods(series("..xx.")) == []  # two "down" answers are not SIAT down
    (ongoing,) = uptime.siat_down_periods(series(".xxx?"))
    assert ongoing.ended_at is None and not ongoing.back


@given(st.text(alphabet=".x?", max_size=40))
def test_down_periods_are_the_one_rule_read_forwards(states):
    """Wherever the latest check says "down", siat_down_since (read backwards) gives the start of the ongoing
    period siat_down_periods found (read forwards), or None when there is none: one rule, two directions."""
    checks = series(states)
    for end in range(1, len(checks) + 1):
        prefix = checks[:end]
        if prefix[-1].siat_ok is not False:
            continue
        periods = uptime.siat_down_periods(prefix)
        ongoing = periods[-1].first_failed if periods and periods[-1].ended_at is None else None
        assert uptime.siat_down_since(prefix) == ongoing, states[:end]
