"""The dashboard in real headless Chromium, on desktop and on an 820x1180 tablet."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import DESKTOP, ROOT, TABLET, streamlit_server, wait_for_app
from tests.support.net import free_port

SHOTS = ROOT / "screenshots"  # not test-results/: pytest-playwright owns and cleans that folder
VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])


@pytest.fixture(scope="module")
def demo():
    """The app on the demo; the in-process simulator on a known port so tests can switch faults."""
    sim_port = free_port()
    env = {"CUCU_SIMULATOR_PORT": str(sim_port), "CUCU_CHECK_INTERVAL_S": "1", "CUCU_SWEEP_INTERVAL_S": "2"}
    with streamlit_server(env) as url:
        yield url, f"http://127.0.0.1:{sim_port}"


@pytest.fixture
def console_errors(page):
    """Console errors, except Streamlit's own probe of <page>/_stcore/* when a page URL is opened directly."""
    errors: list[str] = []

    def on_console(msg):
        if msg.type == "error" and "/_stcore/" not in (msg.location or {}).get("url", ""):
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def first_visit(demo):
    """Before any other test touches the server: the very first request is a page URL."""
    return demo


def test_first_request_to_a_page_still_goes_through_the_shell(first_visit, page, console_errors):
    url, _ = first_visit
    page.set_viewport_size(TABLET)
    page.goto(f"{url}/eventos")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Eventos activos")).to_be_visible()
    expect(page.locator(".st-key-shell_header")).to_contain_text("DEMO")
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)  # not Streamlit's legacy pages/ menu
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert console_errors == []


@VIEWPORTS
def test_estado_on_the_demo(demo, page, console_errors, viewport):
    url, _ = demo
    page.set_viewport_size(viewport)
    page.goto(url)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Estado")).to_be_visible()
    header = page.locator(".st-key-shell_header")
    expect(header).to_contain_text("DEMO")
    expect(header).to_contain_text("SIAT: Operativo")  # the one state, as the page says it
    expect(page.get_by_role("heading", name="SIAT: Operativo")).to_be_visible()
    expect(page.get_by_text("POS en contingencia")).to_be_visible()
    expect(page.get_by_role("heading", name="Sucursales que requieren atención")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Todas las sucursales"))).to_be_visible()
    shot(page, f"estado-{viewport['width']}")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert console_errors == []


@VIEWPORTS
def test_eventos_filtered_link(demo, page, console_errors, viewport):
    url, _ = demo
    page.set_viewport_size(viewport)
    page.goto(url)
    wait_for_app(page)
    page.locator(".st-key-tile_88cbe4eb-6221-5ab1-a711-b5500c4dfbc1").get_by_role("link", name="Eventos").click()
    page.wait_for_url(re.compile(r"/eventos\?sucursal=Casa\+Matriz"))  # the previous run may still look idle
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Eventos activos")).to_be_visible()
    assert "sucursal=Casa+Matriz" in page.url and "estado=En+contingencia" in page.url
    # One table, filtered to the branch's POS in contingency (of its 6; the demo's 22): what the tile is about.
    expect(page.get_by_text(re.compile(r"^([1-6]) de 22 puntos de venta · \1 en contingencia"))).to_be_visible()
    expect(page.get_by_test_id("stMultiSelect").filter(has_text="Sucursal")).to_contain_text("Casa Matriz")
    shot(page, f"eventos-{viewport['width']}")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert console_errors == []


def test_estado_alert_appears_live_when_siat_goes_down(demo, page, console_errors):
    url, sim_url = demo
    page.set_viewport_size(TABLET)
    page.goto(url)
    wait_for_app(page)
    expect(page.get_by_text("SIAT responde.")).to_be_visible()
    httpx.put(f"{sim_url}/_sim/faults", json={"siat_down": True}).raise_for_status()
    try:
        # No reload: the live fragment refreshes by itself.
        alert = page.get_by_test_id("stAlertContentError")
        expect(alert).to_contain_text("SIAT no responde desde las", timeout=30_000)
        # The header says it with the page, not up to 10 s later: a live part that finds SIAT's state changed
        # reruns the whole app (one state, one run).
        expect(page.locator(".st-key-shell_header")).to_contain_text("SIAT: Caído", timeout=2_000)
        wait_for_app(page)
        shot(page, "estado-siat-caido-820")
    finally:
        httpx.put(f"{sim_url}/_sim/faults", json={"siat_down": False})
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert console_errors == []


def test_server_stops_cleanly_with_its_collector(page, tmp_path):
    log_path = tmp_path / "server.log"
    stopped: list = []
    with streamlit_server({"CUCU_CHECK_INTERVAL_S": "1"}, log_path=log_path, stopped=stopped) as url:
        page.goto(url)
        wait_for_app(page)  # the first run builds the runtime and starts the collector
        expect(page.locator(".st-key-shell_header")).to_contain_text("DEMO")
    assert stopped == [0]  # SIGTERM: a clean exit, not a kill
    log = log_path.read_text()
    assert "colector iniciado" in log and "colector detenido" in log
    assert "Traceback" not in log


def test_grids_offer_no_csv_download_of_their_own(demo, page, console_errors):
    """The grid toolbar's "Download as CSV" writes cells unguarded (client.disableDataExport hides it)."""
    url, _ = demo
    page.set_viewport_size(TABLET)
    page.goto(f"{url}/eventos")
    wait_for_app(page)
    grid = page.get_by_test_id("stDataFrame").first
    grid.hover()
    toolbar = page.get_by_test_id("stElementToolbar").first
    expect(toolbar.get_by_role("button", name="Buscar")).to_be_visible()  # the toolbar is there (in Spanish: ui/spanish.js)
    expect(page.get_by_role("button", name="Download as CSV")).to_have_count(0)
    assert console_errors == []


def installed_manifest(page) -> dict:
    """What Chromium reads for "add to home screen": the manifest's URL, its parse errors and its content."""
    cdp = page.context.new_cdp_session(page)
    found = cdp.send("Page.getAppManifest")
    return {"url": found["url"], "errors": found["errors"], "data": found.get("data") or ""}


def test_a_tablet_can_install_it_with_its_name_and_icon_full_screen(demo, page):
    url, _ = demo
    page.goto(f"{url}/eventos?sucursal=Casa+Matriz")
    wait_for_app(page)
    expect(page.locator("html")).to_have_attribute("lang", "es-BO")  # read in Spanish by a screen reader
    manifest = installed_manifest(page)
    assert manifest["url"] == f"{url}/app/static/manifest.webmanifest" and manifest["errors"] == []
    data = httpx.get(manifest["url"]).json()
    assert (data["name"], data["display"], data["lang"]) == ("Contingencia", "fullscreen", "es-BO")
    assert httpx.get(httpx.URL(manifest["url"]).join(data["start_url"])).url == httpx.URL(f"{url}/")
    for icon in data["icons"]:
        answer = httpx.get(httpx.URL(manifest["url"]).join(icon["src"]))
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    touch = page.locator('link[rel="apple-touch-icon"]').get_attribute("href")
    assert httpx.get(touch).status_code == 200
