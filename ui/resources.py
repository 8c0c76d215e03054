"""Process-wide resources (one per server process, shared by every browser session)."""

from __future__ import annotations

import atexit
import logging
import os
import time
from collections.abc import Callable
from typing import TypeVar

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from cucu.connectivity import ConnectivityCheck
from cucu.frames import REGISTRATION_WINDOW, Overview, overview, pos_frame
from cucu.inventory import inventory_stamp
from cucu.lapaz import now_la_paz
from cucu.logs import configure_logging
from cucu.runtime import Runtime, build_runtime
from cucu.settings import Settings, SettingsError, load_settings

log = logging.getLogger("contingencia")
configure_logging(os.environ)

LIVE_REFRESH_S = 10  # live fragments re-read the store this often (cheap: no call to cucu)
OPEN_REFRESH_S = 2  # results and Bitácora rows still "en verificación" are re-read this often, until settled


def read_settings() -> Settings:
    """Settings from ``st.secrets["cucu"]`` and the environment. Raises ``SettingsError``."""
    try:
        section = st.secrets.get("cucu", {})
    except StreamlitSecretNotFoundError as exc:
        if getattr(exc, "error_id", None) != "no-secrets-found":
            raise SettingsError(
                "El archivo .streamlit/secrets.toml no se pudo leer (¿TOML mal escrito?). "
                "Corríjalo o bórrelo; vea .streamlit/secrets.toml.example."
            ) from None
        section = {}
    if not hasattr(section, "keys"):
        raise SettingsError("En .streamlit/secrets.toml, «cucu» debe ser una tabla [cucu].")
    return load_settings(dict(section), os.environ)


# max_entries=1: a changed configuration (an edited inventory, new secrets) releases the old
# runtime, whose collector and DEMO simulator stop, instead of leaving two of them polling.
@st.cache_resource(show_spinner=False, max_entries=1, on_release=lambda runtime: runtime.close())
def _runtime(cache_key: str, inventory_stamp: str, _settings: Settings) -> Runtime:
    log.info("iniciando el tablero en modo %s", _settings.mode.label)
    runtime = build_runtime(_settings)  # an exception is not cached: the next rerun tries again
    atexit.register(runtime.close)  # the collector stops with the server (close is idempotent)
    return runtime


def get_runtime(settings: Settings) -> Runtime:
    """Raises ``InventoryError`` when the inventory is unusable."""
    return _runtime(settings.cache_key(), inventory_stamp(settings.inventory), settings)


def connectivity(runtime: Runtime, *, fresh: bool = False) -> ConnectivityCheck:
    """The collector's latest check from the store.

    ``fresh`` asks cucu right now (one call, for "Comprobar ahora"); so does the very first
    view before the collector has stored anything, so no page starts on "no data".
    """
    latest = None if fresh else runtime.store.latest_check()
    return latest if latest is not None else runtime.collector.check_once()


# ---- frames shared by every session of the process ---------------------------------------
# Computed once per version of the data they read (the store's write counters) and per minute (ages
# and staleness move with the clock even when nothing is written), then the same object is served to
# every tablet: 30 tablets refreshing every 10 s cost one computation a minute, not 180. Held by
# cache_resource, not cache_data: no pickling per read (a 10 000-row frame costs ~80 ms to unpickle).
# What it returns is shared: callers must not change it in place.

T = TypeVar("T")


def _minute() -> int:
    return int(time.time() // 60)


@st.cache_resource(show_spinner=False, max_entries=32)
def _shared(key: tuple[object, ...], _build: Callable[[], T]) -> T:
    return _build()


def per_version(runtime: Runtime, name: str, tables: tuple[str, ...], build: Callable[[], T]) -> T:
    """``build()``, computed once per version of ``tables`` (and per minute) for the whole process."""
    key = (runtime.settings.cache_key(), name, runtime.store.data_version(*tables), _minute())
    return _shared(key, build)


def current_pos_frame(runtime: Runtime) -> pd.DataFrame:
    """Every POS's state (see :func:`cucu.frames.pos_frame`), shared across sessions; read-only."""
    return per_version(
        runtime,
        "pos_frame",
        ("pos_status",),
        lambda: pos_frame(runtime.inventory, runtime.store.pos_statuses(), now_la_paz(), runtime.settings.long_open_hours),
    )


def current_overview(runtime: Runtime) -> Overview:
    """Estado's rollup of every POS and branch, shared across sessions; read-only."""

    def build() -> Overview:
        now = now_la_paz()
        recent = runtime.store.days_with_ends_since(now - REGISTRATION_WINDOW)
        return overview(current_pos_frame(runtime), runtime.inventory, recent, now)

    return per_version(runtime, "overview", ("pos_status", "day_events"), build)
