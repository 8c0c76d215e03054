"""No English word where a supervisor looks: every page on a tablet, its date picker, its grids' toolbar,
the navigation, an unknown URL, and the lost-server state.

Streamlit hard-codes some English (the top bar's "N more", the date picker's quick-select presets, the
grid toolbar, the connection dialog); the app avoids each through its layout or configuration (see the
README's "Español en toda la pantalla"), and this walk is what keeps it so.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser_support import TABLET, free_port, streamlit_server, wait_for_app
from tests.test_browser_offline import NetworkPath

pytestmark = pytest.mark.browser

# Whole words, case-sensitive: "more" is the top bar's overflow ("2 more"); the capitalised ones are
# Streamlit's labels (date picker, grid toolbar, connection and page-not-found dialogs).
ENGLISH = re.compile(r"\b(?:more|Skip|Connection|Select|Past|Week|Month|Download|Search|Fullscreen)\b|Show/hide|Page not found")
MONTHS = re.compile(r"^(enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)", re.I)
PAGES = ["", "eventos", "conectividad", "historial", "iniciar", "facturas", "facturas?vista=CUFD", "bitacora", "alertas",
         "no-existe"]  # fmt: skip

# What a person meets: the rendered text, and the labels of rendered elements (screen readers, tooltips).
SEEN = """() => {
  const said = [document.body.innerText];
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt], [aria-description]")) {
    if (el.getClientRects().length === 0) continue;  // not rendered (display: none, or outside the page)
    for (const name of ["aria-label", "title", "placeholder", "alt", "aria-description"]) {
      const value = el.getAttribute(name);
      if (value) said.push(value);
    }
  }
  return said.join("\\n");
}"""


def english_in(page, where: str, within_ms: int = 2_000) -> list[str]:
    """English seen at ``where``, unless it goes within ``within_ms`` (the app's script says it in Spanish
    a moment after Streamlit draws it)."""
    for _ in range(within_ms // 250 + 1):
        said = [f"{where}: {line.strip()[:100]}" for line in page.evaluate(SEEN).splitlines() if ENGLISH.search(line)]
        if not said:
            break
        page.wait_for_timeout(250)
    return said


@pytest.fixture(scope="module")
def site():
    """The demo app behind a network path that the test can cut (the lost-server state)."""
    app_port = free_port()
    with streamlit_server({"CUCU_SIMULATOR_PORT": str(free_port())}, port=app_port):
        path = NetworkPath(app_port)
        path.start()
        try:
            yield path
        finally:
            path.stop()


def test_no_english_word_where_a_supervisor_looks(site, page):
    url = f"http://127.0.0.1:{site.port}"
    page.set_viewport_size(TABLET)
    found: list[str] = []
    for path in PAGES:
        page.goto(f"{url}/{path}")
        wait_for_app(page)
        grids = page.get_by_test_id("stDataFrame")
        for n in range(grids.count()):  # the grid toolbar appears on hover
            if grids.nth(n).is_visible() and not page.get_by_role("dialog").count():  # not in a closed expander
                grids.nth(n).hover()
                found += english_in(page, f"/{path} grid {n}")
        if path == "no-existe":  # Streamlit's dialog for an unknown address, over the main page
            expect(page.get_by_role("dialog")).to_be_visible()
        found += english_in(page, f"/{path}")
        if page.get_by_test_id("stDateInput").count():  # the calendar, open
            page.get_by_test_id("stDateInput").first.locator("input, [role='group']").first.click()
            calendar = page.get_by_role("grid").first
            expect(calendar).to_be_visible()
            # Spanish, Monday first (an English Chromium, as this one is, used to get "S M T W T F S").
            days = calendar.locator("th").all_inner_texts()
            if not days[0].strip().lower().startswith("l") or not page.get_by_text(MONTHS).count():
                found.append(f"/{path} calendar: not Spanish from Monday: {' '.join(days)}")
            found += english_in(page, f"/{path} calendar")
            page.keyboard.press("Escape")

    site.stop()  # the server is gone: Streamlit's dialog comes, the Spanish banner covers it
    try:
        expect(page.get_by_test_id("cucuSinConexion")).to_be_visible(timeout=10_000)
        expect(page.locator('[role="dialog"]', has_text="Connection error")).to_have_count(1, timeout=20_000)
        found += english_in(page, "sin conexión")
    finally:
        site.start()
    assert found == [], "\n".join(dict.fromkeys(found))
