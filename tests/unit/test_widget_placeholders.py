"""Every select box and multiselect of the pages says its placeholder in Spanish.

Streamlit's default is English ("Choose an option", "Choose options"), and it is written on the box's input
even while a value is chosen, where a screen reader reads it: the Spanish walk in Chromium sees only the
states its demo reaches (Alertas's boxes show only while an alert exists), so each call is read here.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SELECTS = {"selectbox", "multiselect"}


def select_calls() -> list[tuple[str, int, ast.Call]]:
    found = []
    for path in sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SELECTS:
                found.append((path.relative_to(ROOT).as_posix(), node.lineno, node))
    return found


def test_the_pages_have_select_boxes_to_read():
    assert len(select_calls()) >= 10  # the reading below reads something


def test_every_select_box_names_its_placeholder():
    missing = [
        f"{path}:{line}"
        for path, line, call in select_calls()
        if not any(keyword.arg in ("placeholder", None) for keyword in call.keywords)  # None: **kwargs passed on
    ]
    assert missing == []
