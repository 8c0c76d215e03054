"""Text nobody here wrote is drawn as text in real Chromium: no link, image, icon or colour from it."""

from __future__ import annotations

from tests.support.browser import ROOT, streamlit_server, wait_for_app

HOSTILE = [
    "[clic](http://malo.example) ![x](http://malo.example/x.png) <https://malo.example> www.malo.example",
    ":red[rojo] :material/home: :smile: **negrita** `código` $x^2$ <b>b</b> malo@malo.example",
]
SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from cucu.formatting import md_text
for text in {HOSTILE!r}:
    st.error(md_text(text))
    st.badge(md_text(text))
"""


def test_hostile_text_renders_literally(tmp_path, page):
    script = tmp_path / "hostil.py"
    script.write_text(SCRIPT, encoding="utf-8")
    with streamlit_server(script=script) as url:
        page.goto(url)
        wait_for_app(page)
        main = page.get_by_test_id("stMain")
        assert main.locator("a, img, [data-testid='stIconMaterial'], .stMarkdownColoredText, strong, code, b").count() == 0
        text = main.inner_text().replace("\u200b", "")
        for fragment in ("[clic](http://malo.example)", ":red[rojo]", "**negrita**", "malo@malo.example"):
            assert fragment in text, fragment


FIGURE_SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from datetime import date, datetime
import streamlit as st
from cucu.views.figures.timeline import timeline_figure
from cucu.views.historial import events_frame, lanes
from cucu.lapaz import LA_PAZ
from cucu.api.models import Branch, Event, Inventory, PointOfSale
from cucu.store import DayEvents

HOSTILE = '<a href="http://malo.example">enlace</a><b>negrita</b><img src="http://malo.example/x.png">'
B, P = "11111111-1111-4111-8111-111111111111", "11111111-0000-4000-8000-000000000001"
inventory = Inventory(branches=(Branch(B, HOSTILE, (PointOfSale(P, HOSTILE, B),)),))
now = datetime(2026, 11, 20, 15, 0, tzinfo=LA_PAZ)
event = Event("e1", P, 2, HOSTILE, datetime(2026, 11, 20, 8, tzinfo=LA_PAZ), datetime(2026, 11, 20, 9, tzinfo=LA_PAZ),
              "CUFD", "1", True, datetime(2026, 11, 20, 8, tzinfo=LA_PAZ), HOSTILE)
frame = events_frame([DayEvents(P, B, date(2026, 11, 20), now, True, (event,))], inventory, now)
st.plotly_chart(timeline_figure(frame, now, date(2026, 11, 20), date(2026, 11, 20), lanes=lanes(inventory)))
"""


def test_names_and_motives_in_a_chart_render_as_text(tmp_path, page):
    script = tmp_path / "grafico.py"
    script.write_text(FIGURE_SCRIPT, encoding="utf-8")
    with streamlit_server(script=script) as url:
        page.goto(url)
        wait_for_app(page)
        chart = page.locator(".js-plotly-plot")
        chart.locator(".legendtext").first.wait_for()
        # plotly draws <a href> as an SVG link, <b> as bold and <img> not at all: none of them here.
        assert chart.locator("a").count() == 0
        assert chart.locator(".legendtext").first.text_content() == (
            '<a href="http://malo.example">enlace</a><b>negrita</b><img src="http://malo.example/x.png">'
        )
        assert '<a href="http://malo.example">' in chart.locator(".ytick").first.text_content()
