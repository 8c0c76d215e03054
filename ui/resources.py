"""Process-wide resources (one per server process, shared by every browser session)."""

from __future__ import annotations

import logging
import os

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from cucu.connectivity import ConnectivityCheck, check_connectivity
from cucu.runtime import Runtime, build_runtime
from cucu.settings import Settings, SettingsError, load_settings

log = logging.getLogger("contingencia")

CONNECTIVITY_TTL_S = 15


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


def _inventory_stamp(settings: Settings) -> str:
    # Part of the cache key, so an edited inventory file is picked up without a restart.
    try:
        return str(os.stat(settings.inventory).st_mtime_ns) if settings.inventory else "demo"
    except OSError:
        return "missing"


@st.cache_resource(show_spinner=False, max_entries=2, on_release=lambda runtime: runtime.close())
def _runtime(cache_key: str, inventory_stamp: str, _settings: Settings) -> Runtime:
    log.info("iniciando el tablero en modo %s", _settings.mode.label)
    return build_runtime(_settings)  # an exception is not cached: the next rerun tries again


def get_runtime(settings: Settings) -> Runtime:
    """Raises ``InventoryError`` when the inventory is unusable."""
    return _runtime(settings.cache_key(), _inventory_stamp(settings), settings)


@st.cache_data(ttl=CONNECTIVITY_TTL_S, show_spinner=False, max_entries=4)
def _cached_connectivity(cache_key: str, _runtime: Runtime) -> ConnectivityCheck:
    return check_connectivity(_runtime.client)


def connectivity(runtime: Runtime, *, fresh: bool = False) -> ConnectivityCheck:
    """The latest check, shared by all sessions for a few seconds so viewers don't multiply calls."""
    if fresh:
        _cached_connectivity.clear()
    return _cached_connectivity(runtime.settings.cache_key(), runtime)


def current_runtime() -> Runtime:
    """For pages: app.py has already validated settings and inventory before running a page."""
    return get_runtime(read_settings())
