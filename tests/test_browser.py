"""The dashboard in real headless Chromium: loads on the demo, shows SIAT's state, on desktop and tablet."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, ROOT, TABLET, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser

SHOTS = ROOT / "test-results"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="module")
def demo_url():
    with streamlit_server() as url:
        yield url


@pytest.fixture
def console_errors(page):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_demo_loads_with_siat_state(page, demo_url, console_errors, viewport):
    page.set_viewport_size(viewport)
    page.goto(demo_url)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Estado")).to_be_visible()
    header = page.locator(".st-key-shell_header")
    expect(header).to_contain_text("DEMO")
    expect(header).to_contain_text("SIAT en línea")
    expect(page.get_by_text("SIAT responde.")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"estado-{viewport['width']}.png"), full_page=True)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert console_errors == []
