"""The page benchmarks' clock stops when the page is drawn, not when its heading first shows (benchmarks.pages)."""

from __future__ import annotations

import math

from benchmarks.pages import timed_load
from tests.support.browser import streamlit_server

SLOW_PAGE = """
import time
import streamlit as st
st.title("Medida")
time.sleep(1.5)
st.markdown("Terminada")
"""


def test_a_load_is_timed_until_the_run_is_over_with_its_heading_drawn(tmp_path, page):
    script = tmp_path / "lenta.py"
    script.write_text(SLOW_PAGE, encoding="utf-8")
    with streamlit_server(script=script) as url:
        seconds = timed_load(page, url, "Medida")
        assert 1.5 <= seconds < math.inf  # the heading is there 1.5 s before the run ends
        assert page.get_by_text("Terminada").is_visible()
