"""Alertas in Chromium on PostgreSQL: a supervisor opens an alert from its message's link, says "Lo atiendo"
with a note, adds a note, and Bitácora and the header show it (issue 25, part 1)."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from cucu.alerts import incident_link
from cucu.alerts.alerter import ALERTS_JOB
from cucu.lapaz import LA_PAZ
from cucu.store import Store
from cucu.vocabulary import ActionKind, AlertRule
from tests.support.browser import TABLET, production_env, streamlit_server, wait_for_app


@pytest.fixture(scope="module")
def site(sim_server, postgres_server):
    from tests.support.postgres import fresh_database

    db = fresh_database(postgres_server)
    env = production_env(sim_server.base_url, db, collector="off", access_allow_anonymous_supervisors="true")
    with streamlit_server(env) as url:
        yield url, db


def test_a_supervisor_takes_an_alert_from_its_link_and_writes_a_note(site, page):
    url, db = site
    store = Store(db)
    try:
        when = datetime(2026, 12, 3, 3, 0, tzinfo=LA_PAZ)
        store.incident_open(
            key=AlertRule.SIAT_DOWN.value, rule=AlertRule.SIAT_DOWN, branch_id=None, opened_at=when, now=when,
            title="SIAT no responde", body="SIAT no responde desde las 03:00.", messages=[],
        )  # fmt: skip
        store.record_job(ALERTS_JOB, store.now(), None, passed=True)  # as the polling process's round does (off here)
        page.set_viewport_size(TABLET)
        page.goto(incident_link(url, AlertRule.SIAT_DOWN.value))
        wait_for_app(page)
        main = page.get_by_test_id("stMain")
        expect(main).to_contain_text("Nadie la atiende todavía.")
        expect(page.get_by_text("1 alerta abierta · 1 sin atender").first).to_be_visible()

        page.get_by_label("Nota").fill("Llamo a soporte de SIAT")
        page.get_by_role("button", name="Lo atiendo").click()
        wait_for_app(page)
        expect(main).to_contain_text("Usted atiende «SIAT no responde»")
        expect(main).to_contain_text("Lo atiendo: Llamo a soporte de SIAT")
        expect(page.get_by_text("1 alerta abierta · atendida").first).to_be_visible()

        page.get_by_label("Nota").fill("SIAT anuncia el regreso a las 10:00")
        page.get_by_role("button", name="Agregar nota").click()
        wait_for_app(page)
        expect(main).to_contain_text("Nota: SIAT anuncia el regreso a las 10:00")
        expect(page.get_by_test_id("stException")).to_have_count(0)

        incident = store.open_incidents()[0]
        assert incident.acknowledged_by is not None and incident.quiet_until is not None
        assert [e.action for e in store.audit_entries()] == [ActionKind.NOTE, ActionKind.ACKNOWLEDGE]

        page.goto(f"{url}/bitacora")
        wait_for_app(page)
        expect(page.get_by_test_id("stMain")).to_contain_text("2 registros")
    finally:
        store.close()
