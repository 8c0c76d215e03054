"""Mantenimiento in Chromium on PostgreSQL (issue 25, part 3): a supervisor on a tablet schedules SIAT's
announced maintenance with the form as it opens (tonight's 22:00-23:00, or tomorrow's once it began), sees it
listed with what the automatic policy will do, every page names it, Bitácora has it, and cancels it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cucu.store import Store
from cucu.vocabulary import ActionKind
from tests.support.browser import TABLET, production_env, streamlit_server, wait_for_app
from ui.resources import OPEN_ALERTS_EVERY_S

REASON = "Mantenimiento de SIAT anunciado por Impuestos"


@pytest.fixture(scope="module")
def site(sim_server, postgres_server):
    from tests.support.postgres import fresh_database

    db = fresh_database(postgres_server)
    env = production_env(
        sim_server.base_url, db, collector="off", access_allow_anonymous_supervisors="true", policy_mode="dry-run"
    )
    with streamlit_server(env) as url:
        yield url, db


def test_a_supervisor_schedules_siat_maintenance_every_page_names_it_and_cancels_it(site, page):
    url, db = site
    store = Store(db)
    try:
        page.set_viewport_size(TABLET)
        page.goto(f"{url}/mantenimiento")
        wait_for_app(page)
        main = page.get_by_test_id("stMain")
        expect(main).to_contain_text("No hay mantenimientos programados ni recientes.")
        reason = page.get_by_label("Motivo").first
        reason.fill(REASON)
        # Enter in the field submits the form with what was typed ("Press Enter to submit form"): a click on
        # "Programar" right on the heels of fill() submitted it without the text, 4 times of 4 alone, and once in
        # CI even after leaving the field first (Streamlit takes a form's text when the field lets go of it).
        expect(reason).to_have_value(REASON)
        reason.press("Enter")
        wait_for_app(page)
        expect(main).to_contain_text("Mantenimiento programado:")
        expect(main).to_contain_text("Programado")
        expect(main).to_contain_text("Alertas en espera: SIAT caído")
        # What the automatic policy (in simulation here) does during it, said where it is scheduled.
        expect(main).to_contain_text("Política automática (en simulación: solo lo avisa): no inicia ni finaliza nada")
        (window,) = store.maintenance_windows(ending_after=store.now())
        assert window.reason == REASON and not window.branch_ids

        # Another page names it (it starts within a day): every page reads the windows once a process every few
        # seconds, so a fresh tab sees it after that.
        page.wait_for_timeout(OPEN_ALERTS_EVERY_S * 1000 + 500)
        page.goto(f"{url}/eventos")
        wait_for_app(page)
        expect(page.get_by_text("Mantenimiento programado:").first).to_contain_text(REASON)

        page.goto(f"{url}/mantenimiento")
        wait_for_app(page)
        page.get_by_role("button", name="Cancelar este mantenimiento").click()
        wait_for_app(page)
        expect(main).to_contain_text("Mantenimiento cancelado.")
        expect(main).to_contain_text("Cancelado el")
        expect(page.get_by_test_id("stException")).to_have_count(0)
        assert not store.maintenance_windows(ending_after=store.now())
        assert [e.action for e in store.audit_entries()] == [ActionKind.CANCEL_MAINTENANCE, ActionKind.SCHEDULE_MAINTENANCE]
    finally:
        store.close()
