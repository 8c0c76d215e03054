"""AppTest: a shared link is anyone's to edit. Every URL parameter a page reads, given hostile values,
leaves the page running (the filter falls back to its default or a Spanish explanation), never an
exception. The values themselves go through Streamlit's binding, then cucu.periods and the frame
filters, which tests/unit/test_properties.py covers with Hypothesis."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apptest import APP

HOSTILE = [
    "\x00\ufeff",
    "9" * 5000,
    "1e400",
    '<a href="http://x">y</a>[x](http://x):red[x]',
    "99999-01-01",
    "0001-01-01",
    ["2026-11-01", "2026-11-02", "2026-11-03"],
    ["9999-12-31", "Casa Matriz", "x" * 5000],
]
PARAMS = {
    "pages/estado.py": ["sucursal"],  # reads none itself: a link for Eventos pasted on Estado
    "pages/eventos.py": ["buscar", "sucursal", "estado", "motivo"],
    "pages/historial.py": ["fechas", "sucursal", "pos", "motivo"],
    "pages/conectividad.py": ["ventana"],
    "pages/caidas.py": ["caida", "sucursal"],
    "pages/pantalla.py": ["rotar", "region"],
}


@pytest.mark.parametrize("page", list(PARAMS))
def test_hostile_url_parameters_never_break_a_page(seeded_runtime, app_secrets, page):
    for value in HOSTILE:  # every parameter of the page at once: one run per value keeps this quick
        at = AppTest.from_file(str(APP), default_timeout=30)
        at.secrets["cucu"] = app_secrets
        for name in PARAMS[page]:
            at.query_params[name] = value
        at.switch_page(page).run()
        assert not at.exception, (page, value, [e.value for e in at.exception])
        assert at.title, (page, value)  # the page drew, not only the shell
