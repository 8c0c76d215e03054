"""AppTest: the Conectividad page (rollup, uptime metrics, heartbeat, latency, outages, window)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from streamlit.testing.v1 import AppTest

from cucu.connectivity.checks import ConnectivityCheck
from cucu.lapaz import now_la_paz
from cucu.vocabulary import ErrorKind
from tests.support.apptest import APP, run_app, texts

PAGE = "pages/conectividad.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def charts(at) -> list[str]:
    return [el.proto.spec for el in at.get("vega_lite_chart")]


def test_no_checks_yet_is_explained(app_secrets, monkeypatch):
    # The header's first view would store a check; keep the store empty to see the page's own message.
    from ui import resources

    monkeypatch.setattr(resources, "connectivity", lambda runtime, fresh=False: ConnectivityCheck(now_la_paz(), True))
    at = run_app(app_secrets, page=PAGE)
    body = texts(at)
    assert at.title[0].value == "Conectividad"
    assert "Todavía no hay comprobaciones de conectividad" in body
    assert "No hay comprobaciones en los últimos" not in body  # one message is enough
    assert not at.metric and not charts(at)


def test_healthy(seeded_runtime, app_secrets):
    at = run_app(app_secrets, page=PAGE)
    body = texts(at)
    assert "Operativo" in body and "SIAT respondió en la última comprobación" in body
    assert "Última comprobación hace" in body
    assert metrics(at) == {
        "Disponibilidad 24 h": "100,00 %",
        "Disponibilidad 7 días": "100,00 %",
        "Disponibilidad 30 días": "100,00 %",
    }
    assert len(charts(at)) == 2  # heartbeat and latency
    assert "Sin caídas en los últimos 24 h" in body
    assert at.segmented_control(key="ventana").value == "24h"


def test_siat_down_is_caido_with_an_ongoing_outage(sim, seeded_runtime, app_secrets):
    sim.update_faults({"siat_down": True})
    for _ in range(3):
        seeded_runtime.collector.check_once()
    at = run_app(app_secrets, page=PAGE)
    body = texts(at)
    assert "Caído" in body and "SIAT no responde desde las" in body and "cucu lo dijo en 3 comprobaciones" in body
    assert "1 caída en los últimos 24 h" in body and "sigue en curso" in body
    table = at.dataframe[0].value
    assert len(table) == 1
    row = table.iloc[0]
    assert row["Causa"] == "SIAT no responde" and bool(row["En curso"]) and pd.isna(row["Fin"])
    assert row["Comprobaciones fallidas"] == 3
    assert metrics(at)["Disponibilidad 24 h"] == "25,0 %"  # 1 of 4 checks: the seeded one


def test_cucu_unreachable_does_not_count_against_siat_and_is_never_caido(seeded_runtime, app_secrets):
    seeded = seeded_runtime.store.latest_check().checked_at
    for i in range(1, 4):  # after the seeded (successful) check
        seeded_runtime.store.add_check(
            ConnectivityCheck(seeded + timedelta(milliseconds=i), None, error="sin red", error_kind=ErrorKind.CONNECTION)
        )
    at = run_app(app_secrets, page=PAGE)
    body = texts(at)
    assert "cucu no responde" in body and "Sin respuesta de cucu desde las" in body and "Caído" not in body
    assert metrics(at)["Disponibilidad 24 h"] == "100,00 %"
    assert at.dataframe[0].value.iloc[0]["Causa"] == "Sin conexión con cucu"


def test_long_history_uptime_metrics_and_window(seeded_runtime, app_secrets):
    now = now_la_paz()
    history: dict[timedelta, list[bool | None]] = {
        timedelta(days=25): [False, True],
        timedelta(days=5): [False, False, True, True],
        timedelta(hours=2): [False, True, True, None],
    }
    for age, states in history.items():
        for i, ok in enumerate(states):
            seeded_runtime.store.add_check(ConnectivityCheck(now - age + timedelta(minutes=i), ok, latency_ms=120.0))
    at = run_app(app_secrets, page=PAGE)
    # Answered checks (None excluded), the seeded one (ok, now) included:
    # 24 h: 3 of 4; 7 d: 5 of 8; 30 d: 6 of 10.
    assert metrics(at) == {"Disponibilidad 24 h": "75,0 %", "Disponibilidad 7 días": "62,5 %", "Disponibilidad 30 días": "60,0 %"}
    assert "2 caídas en los últimos 24 h" in texts(at)  # the unreachable check is an outage too

    at.segmented_control(key="ventana").set_value("7d").run()
    assert not at.exception
    assert "3 caídas en los últimos 7 días" in texts(at)
    at.segmented_control(key="ventana").set_value("30d").run()
    body = texts(at)
    assert "4 caídas en los últimos 30 días" in body and "promedio cada hora" in body
    assert len(at.dataframe[0].value) == 4


def test_window_from_the_url(seeded_runtime, app_secrets):
    seeded_runtime.store.add_check(ConnectivityCheck(now_la_paz() - timedelta(days=3), False))
    seeded_runtime.store.add_check(ConnectivityCheck(now_la_paz() - timedelta(days=3, seconds=-30), True))
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.query_params["ventana"] = "7d"  # a shared link: /conectividad?ventana=7d
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.segmented_control(key="ventana").value == "7d"
    assert "1 caída en los últimos 7 días" in texts(at)


def test_stale_data_is_sin_datos(seeded_runtime, app_secrets):
    # Only an old check: the collector is not reporting (the header stores none: the store is not empty).
    old = now_la_paz() - timedelta(hours=1)
    seeded_runtime.store.prune_checks(now_la_paz() + timedelta(seconds=1))
    seeded_runtime.store.add_check(ConnectivityCheck(old, True, latency_ms=90.0))
    at = run_app(app_secrets, page=PAGE)
    body = texts(at)
    assert "Sin datos" in body and "el colector no está informando" in body
    assert "Disponibilidad 24 h" in metrics(at)  # the history is still shown
