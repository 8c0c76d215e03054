"""Text nobody here wrote is drawn as text in real Chromium: no link, image, icon or colour from it."""

from __future__ import annotations

import pytest

from tests.browser_support import ROOT, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser

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
