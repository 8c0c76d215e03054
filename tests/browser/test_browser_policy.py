"""Estado in Chromium on PostgreSQL: a supervisor pauses the automatic policy and resumes it.

Seen on PostgreSQL only (SQLite keeps any length in a VARCHAR): the resume's audit row, action
"reanudar_politica", did not fit its column; the transaction rolled back, the policy stayed paused and
the DataError reached the page. AppTest runs on SQLite; this runs the real server on PostgreSQL.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cucu.store import Store
from cucu.vocabulary import ActionKind
from tests.support.browser import TABLET, production_env, streamlit_server, wait_for_app


@pytest.fixture(scope="module")
def site(sim_server, postgres_server):
    from tests.support.postgres import fresh_database

    db = fresh_database(postgres_server)
    env = production_env(sim_server.base_url, db, collector="off", policy_mode="on", access_allow_anonymous_supervisors="true")
    with streamlit_server(env) as url:
        yield url, db


def test_a_supervisor_pauses_and_resumes_the_policy_on_postgresql(site, page):
    url, db = site
    page.set_viewport_size(TABLET)
    page.goto(url)
    wait_for_app(page)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("Política automática:")
    expect(main).not_to_contain_text("Política automática: En pausa")

    page.get_by_role("button", name="Pausar").click()
    wait_for_app(page)
    expect(main).to_contain_text("Política automática: En pausa")
    expect(main).to_contain_text("En pausa por")

    page.get_by_role("button", name="Reanudar").click()
    wait_for_app(page)
    expect(page.get_by_role("button", name="Pausar")).to_be_visible()
    expect(main).not_to_contain_text("Política automática: En pausa")
    expect(page.get_by_test_id("stException")).to_have_count(0)

    store = Store(db)
    try:
        assert store.policy_paused_by() is None
        assert sorted(e.action for e in store.audit_entries()) == sorted([ActionKind.PAUSE_POLICY, ActionKind.RESUME_POLICY])
    finally:
        store.close()
