"""Spanish where Streamlit hard-codes English and no setting, parameter or layout reaches it.

The rest is avoided by design (README, "Español en toda la pantalla"): the top bar's "N more" by
sections (app.py), the date picker's English presets by its first day (``cucu.periods.EARLIEST_DAYS``),
the connection dialog by the watchdog's banner. What is left is done here, and the browser test
``tests/test_browser_spanish.py`` walks every page for any of it:

- the toolbar Streamlit puts over grids and charts ("Search", "Fullscreen", "Show/hide columns",
  "Download as PNG", "Clear selection", in buttons and tooltips) is hidden with CSS: each page's filters
  and CSV button stand in for it, and a selection is cleared in its checkboxes;
- the calendar's language (Streamlit takes the browser's) is set to es-BO, and the keyboard's "Skip to
  main content" link, the unknown address's "Page not found" dialog and the dialogs' "Close" are said
  in Spanish, by ``spanish.js``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

STYLE = """<style>
[data-testid="stElementContainer"]:has(#cucu-espanol) { display: none; }
[data-testid="stElementToolbar"] { display: none; }
</style>"""


@cache
def spanish_html() -> str:
    script = Path(__file__).with_name("spanish.js").read_text(encoding="utf-8")
    return f'{STYLE}<div hidden id="cucu-espanol"></div><script>{script}</script>'


def render_spanish() -> None:
    st.html(spanish_html(), unsafe_allow_javascript=True, width="content")
