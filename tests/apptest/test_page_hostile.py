"""AppTest: with the simulator's hostile bodies on, Estado, Eventos activos, Historial and Conectividad
run without an exception, say in Spanish what failed, and show cucu's Markdown as text."""

from __future__ import annotations

import re

import pytest

from cucu.runtime import build_runtime
from cucu.settings import load_settings
from cucu.simulator import HOSTILE_KINDS
from tests.support.apptest import run_app, texts

PAGES = ["pages/estado.py", "pages/eventos.py", "pages/historial.py", "pages/conectividad.py"]


@pytest.fixture
def hostile(app_secrets, sim):
    """A store the collector filled while cucu answered well, then through every kind of hostile body."""
    # One call at a time: the kinds rotate call by call, so which POS gets which kind must not depend
    # on how 32 concurrent calls happen to reach the simulator.
    runtime = build_runtime(load_settings({**app_secrets, "concurrency": 1}, {}), start_collector=False)
    runtime.client.max_retries = 0  # what is recorded matters here, not the backoff before it
    collector = runtime.collector
    collector.check_once()
    collector.sweep_once()
    collector.backfill_once(budget=44)
    sim.update_faults({"hostile_rate": 1.0})
    for _ in HOSTILE_KINDS:
        collector.check_once()
    collector.sweep_once()
    collector.sweep_once()
    collector.backfill_once(budget=2 * len(HOSTILE_KINDS))
    yield runtime
    runtime.close()


def test_pages_keep_working_under_hostile_bodies(hostile, app_secrets):
    at = run_app(app_secrets)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        check_page(at, page)


def check_page(at, page):
    shown = [str(e.value) for kind in (at.markdown, at.error, at.warning, at.info, at.caption, at.success) for e in kind]
    # cucu's Markdown reached the store (as an event's description, as a check's error): never a link or a
    # tag here, only their escaped text (md_text puts a backslash before each).
    unescaped = re.compile(r"\]\(http|(?<!\\)<a href|(?<!\\)<img")
    assert not any(unescaped.search(text) for text in shown), [t for t in shown if "http" in t]
    if page == "pages/eventos.py":
        assert "no respondieron en la última consulta" in texts(at)
        table = at.dataframe[-1].value
        assert table["Descripción"].astype(str).str.contains("Pulse aquí", regex=False).any()  # as text, in a cell
