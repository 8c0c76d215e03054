"""The charts write numbers as the rest of the page does: "7 000", "37,5" (a chain's Historial axis read "7000")."""

from __future__ import annotations

from tests.support.browser import ROOT, streamlit_server, wait_for_app

SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from cucu.views.figures import NO_ENGLISH_ARIA
st.vega_lite_chart({{
    "config": NO_ENGLISH_ARIA,
    "data": {{"values": [{{"día": "01/12", "eventos": 7000, "horas": 37.5}}, {{"día": "02/12", "eventos": 6500, "horas": 12.25}}]}},
    "mark": "bar",
    "encoding": {{
        "x": {{"field": "día", "type": "ordinal"}},
        "y": {{"field": "eventos", "type": "quantitative", "axis": {{"format": ",d"}}}},
    }},
}})
st.vega_lite_chart({{
    "config": NO_ENGLISH_ARIA,
    "data": {{"values": [{{"día": "01/12", "horas": 37.5}}, {{"día": "02/12", "horas": 12.25}}]}},
    "mark": "text",
    "encoding": {{"x": {{"field": "día", "type": "ordinal"}}, "text": {{"field": "horas", "format": ",.1f"}}}},
}})
"""


def test_chart_numbers_have_a_thousands_space_and_a_decimal_comma(tmp_path, page):
    script = tmp_path / "grafico.py"
    script.write_text(SCRIPT, encoding="utf-8")
    with streamlit_server(script=script) as url:
        page.goto(url)
        wait_for_app(page)
        page.locator("svg text").filter(has_text="7 000").first.wait_for()
        texts = page.locator("svg text").evaluate_all("es => es.map((e) => e.textContent)")
        assert "7 000" in texts and "7000" not in texts, texts
        assert "37,5" in texts and "37.5" not in texts, texts
