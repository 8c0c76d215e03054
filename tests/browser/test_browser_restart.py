"""A restart of the dashboard's server (an update, a crash and systemd's restart): the wall display and a tablet
say they lost it and come back by themselves within 30 s, with fresh data, nobody touching them (issue 26 §3;
the network cut is in test_browser_pantalla.py and test_browser_offline.py)."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.support.browser import TABLET, streamlit_server, wait_for_app
from tests.support.net import free_port


def test_pantalla_and_estado_come_back_by_themselves_after_the_server_restarts(browser):
    port, simulator_port = free_port(), free_port()
    env = {"CUCU_SIMULATOR_PORT": str(simulator_port)}
    context = browser.new_context(viewport=TABLET)
    wall, tablet = context.new_page(), context.new_page()
    marks = {}
    with streamlit_server(env, port=port) as url:
        for tab, path in ((wall, "pantalla?rotar=1"), (tablet, "")):
            tab.goto(f"{url}/{path}")
            wait_for_app(tab)
            marks[tab] = tab.locator("[data-cucu-datos]").last.get_attribute("data-cucu-corrida")
    # the server is stopped: each says so in Spanish
    for tab in (wall, tablet):
        expect(tab.get_by_test_id("cucuSinConexion")).to_contain_text("Sin conexión con el servidor del tablero", timeout=10_000)
    with streamlit_server(env, port=port):
        back = time.monotonic()
        for tab in (wall, tablet):
            expect(tab.get_by_test_id("cucuSinConexion")).to_be_hidden(timeout=30_000)
            assert time.monotonic() - back < 30
            expect(tab.get_by_role("heading", name="SIAT:").first).to_be_visible()
            assert tab.locator("[data-cucu-datos]").last.get_attribute("data-cucu-corrida") != marks[tab]  # fresh data
            expect(tab.get_by_test_id("stException")).to_have_count(0)
    context.close()
