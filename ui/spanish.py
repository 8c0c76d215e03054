"""Spanish where Streamlit hard-codes English and no setting, parameter or layout reaches it.

The rest is avoided by design (README, "Español en toda la pantalla"): the top bar's "N more" by
sections (app.py), the date picker's English presets by its first day (``cucu.periods.EARLIEST_DAYS``),
the connection dialog by the watchdog's banner. What is left is done here, and the browser test
``tests/browser/test_browser_spanish.py`` walks every page for any of it:

- the calendar's language (Streamlit takes the browser's) is set to es-BO;
- ``spanish.js`` says in Spanish, by exact match, each fixed English text Streamlit draws: the toolbar over
  grids and charts (its buttons' labels and the tooltips shown on hover: "Buscar", "Pantalla completa",
  "Salir de pantalla completa", "Mostrar u ocultar columnas", "Limpiar selección", "Descargar como PNG",
  "Mostrar datos"), the grid's search bar ("Escriba para buscar", "3 de 12 resultados") and column chooser
  ("Seleccionar todas"), the keyboard's "Skip to main content" link, the unknown address's "Page not
  found" dialog and the dialogs' "Close". A MutationObserver does it as they appear (a tooltip on hover, a
  count as one types), before the page is painted. A chart's "Copy Vega-Lite spec" (a developer's tool) is
  hidden. The grids' own CSV download stays off (``client.disableDataExport``): each page's CSV button
  goes through ``cucu.views.export``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import streamlit as st

STYLE = """<style>
[data-testid="stElementContainer"]:has(#cucu-espanol) { display: none; }
[data-testid="stElementToolbarButton"]:has(button[aria-label^="Copy Vega-Lite spec"], button[aria-label="Copied!"]) {
  display: none;
}
/* Not Spanish, but drawn by the same element: a disabled widget's label (Iniciar's "Punto de venta" before a
   branch is chosen) is Streamlit's text at 40 % opacity, 2.6:1 on white (axe-core: serious). This grey is
   7.6:1, still lighter than an enabled label. */
label[data-testid="stWidgetLabel"][disabled] { color: #4b5563; }
</style>"""


@cache
def spanish_html() -> str:
    # installable.js rides along (one element on every page, not two): the page's language and what "add to
    # home screen" reads from its head.
    script = "\n".join(Path(__file__).with_name(name).read_text(encoding="utf-8") for name in ("spanish.js", "installable.js"))
    return f'{STYLE}<div hidden id="cucu-espanol"></div><script>{script}</script>'


def render_spanish() -> None:
    st.html(spanish_html(), unsafe_allow_javascript=True, width="content")
