"""Deep links in real Chromium: a viewer on a supervisor's page, and anyone before access is granted,
get a Spanish explanation under that URL, never Streamlit's English "Page not found" dialog."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import TABLET, production_env, streamlit_server, wait_for_app


def served(sim_server, tmp_path, **access: str):
    access_settings = {f"access_{name}": value for name, value in access.items()}
    return streamlit_server(production_env(sim_server.base_url, tmp_path / "contingencia.db", collector="off", **access_settings))


def test_a_viewer_on_a_supervisor_link_is_told_why(sim, sim_server, tmp_path, page):
    with served(sim_server, tmp_path, mode="off") as url:  # sign-in off outside DEMO: everyone is a viewer
        page.set_viewport_size(TABLET)
        page.goto(f"{url}/iniciar")
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Solo para supervisores")).to_be_visible()
        expect(page.get_by_text("Su rol (Observador)")).to_be_visible()
        expect(page.get_by_text("Page not found")).to_have_count(0)
        expect(page.get_by_role("link", name="Iniciar evento")).to_have_count(0)  # not in the menu either
        page.goto(f"{url}/eventos")  # the pages a viewer has still open
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Eventos activos")).to_be_visible()


def test_a_deep_link_without_access_shows_the_gate(sim, sim_server, tmp_path, page):
    with served(sim_server, tmp_path, mode="proxy", proxy_secret="p" * 64) as url:  # no user header: nobody
        for path in ("eventos", "historial", "iniciar"):
            page.goto(f"{url}/{path}")
            wait_for_app(page)
            expect(page.get_by_text("no tiene acceso a este tablero")).to_be_visible()
            expect(page.get_by_text("Page not found")).to_have_count(0)
