"""The browser's watchdog: when the server stops answering, every page says so in Spanish and greys.

Streamlit runs the page's script on the server, so a page whose server (or network path) is gone
keeps its last figures, green included, and Streamlit's only sign is an English dialog that can be
closed. The script in ``watchdog.js`` runs in the browser: it polls ``/_stcore/health`` and reads
Streamlit's connection state, and within one poll (plus its timeout) of the server going silent it
greys the page and shows a banner with the time of the last data and its counting age; when the
server is back and fresh data arrived it lifts both, or reloads the page if none arrives.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path

import streamlit as st

from cucu.formatting import fmt_time

POLL_S = 3  # one health request every POLL_S seconds: cheap, and within 10 s of a loss with the timeout
TIMEOUT_S = 4  # a health request that takes longer counts as a lost server
RELOAD_AFTER_POLLS = 2  # server healthy again but Streamlit still disconnected: reload after this many polls


@cache
def _script() -> str:
    return (Path(__file__).with_name("watchdog.js")).read_text(encoding="utf-8")


def watchdog_html(data_time: datetime, live_refresh_s: float, base_path: str = "") -> str:
    """The HTML drawn by every run of the live header: the mark of this run's data, and the watchdog."""
    config = {
        "health": "/" + "/".join(p for p in (base_path.strip("/"), "_stcore/health") if p),
        "pollMs": POLL_S * 1000,
        "timeoutMs": TIMEOUT_S * 1000,
        "reloadAfterPolls": RELOAD_AFTER_POLLS,
        # Connected again yet no live header rerun in twice its period plus a poll: reload.
        "reloadConnectedAfterPolls": int((2 * live_refresh_s) // POLL_S) + 1,
    }
    mark = f'<div hidden data-cucu-datos="{fmt_time(data_time)}" data-cucu-corrida="{uuid.uuid4().hex}"></div>'
    return f"{mark}<script>{_script().replace('__CONFIG__', json.dumps(config))}</script>"


def render_watchdog(data_time: datetime, live_refresh_s: float) -> None:
    base_path = str(st.get_option("server.baseUrlPath") or "")
    st.html(watchdog_html(data_time, live_refresh_s, base_path), unsafe_allow_javascript=True, width="content")
