"""Pantalla, the wall display, in Chromium on a 1920x1080 TV: large type, nothing to press, and when the
network to the server drops it greys itself in Spanish and comes back by itself, with nobody touching it."""

from __future__ import annotations

import time

from playwright.sync_api import ViewportSize, expect

from tests.support.browser import wait_for_app

TV: ViewportSize = {"width": 1920, "height": 1080}


def test_the_wall_reads_from_across_a_room_has_no_controls_and_recovers_by_itself(behind_a_network, page):
    path = behind_a_network
    page.set_viewport_size(TV)
    page.goto(f"http://127.0.0.1:{path.port}/pantalla?rotar=1")
    wait_for_app(page)
    siat = page.get_by_role("heading", name="SIAT:")
    expect(siat).to_be_visible()
    assert float(siat.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 56  # 4 rem: three metres
    value = page.get_by_test_id("stMetricValue").first
    assert float(value.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 48
    # Nothing to press, type or follow: no top bar, no session line, no heading anchors (the keyboard's skip
    # link, shown only once focused, is left alone).
    for role in ("button", "link", "textbox", "combobox", "checkbox", "switch"):
        shown = page.get_by_role(role).filter(visible=True).and_(page.locator(':not([data-testid="stSkipToContent"])'))
        expect(shown).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)

    banner = page.get_by_test_id("cucuSinConexion")
    page.evaluate("() => { window.cucuSameLoad = true; }")  # gone once the page is loaded afresh
    first_mark = page.locator("[data-cucu-datos]").last.get_attribute("data-cucu-corrida")
    path.stop()
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner).to_contain_text("Sin conexión con el servidor del tablero")
    assert "grayscale(1)" in page.get_by_test_id("stMain").evaluate("e => getComputedStyle(e).filter")
    page.wait_for_timeout(3_000)
    path.start()
    back = time.monotonic()
    expect(banner).to_be_hidden(timeout=30_000)
    assert time.monotonic() - back < 30
    expect(page.get_by_role("heading", name="SIAT:")).to_be_visible()
    assert page.locator("[data-cucu-datos]").last.get_attribute("data-cucu-corrida") != first_mark  # fresh data
    # A wall runs for days: it starts afresh after a lost connection (Streamlit's client kept about 1 MB of each
    # session it reconnected in place, benchmarks.kiosk).
    assert page.evaluate("() => window.cucuSameLoad === undefined")
