"""Shared fixtures (a simulator on a free loopback port, clean Streamlit caches) and the markers each folder's
tests carry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from cucu.inventory import DEMO_INVENTORY_PATH
from cucu.runtime import build_runtime
from cucu.settings import ENV_PREFIX, load_settings
from cucu.simulator import DEFAULT_API_KEY, Simulator, SimulatorServer

# Hypothesis: a few hundred examples per property keeps tests/unit/test_properties.py within seconds;
# HYPOTHESIS_PROFILE=thorough searches far longer (by hand, after touching a parser).
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("fast", max_examples=100, deadline=None, suppress_health_check=_SLOW_IS_FINE)
settings.register_profile("thorough", max_examples=10_000, deadline=None, suppress_health_check=_SLOW_IS_FINE)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

# A folder's marker on every test in it: `-m "not browser"` runs without Chromium, `-m deploy` the shipped
# deployment alone. (test_deploy_oidc, _proxy and _replicas also carry `browser` themselves, as before: they
# run the dashboard behind nginx for Chromium.)
TESTS = Path(__file__).resolve().parent
FOLDER_MARKERS = {TESTS / "browser": pytest.mark.browser, TESTS / "deploy": pytest.mark.deploy}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by them
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for folder, marker in FOLDER_MARKERS.items():
            if item.path.resolve().is_relative_to(folder):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def postgres_server():
    """One private PostgreSQL cluster for the session (started on first use)."""
    from tests.support.postgres import postgres_cluster

    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """An empty database for a Store, on each backend the README supports: a SQLite path or a URL."""
    if request.param == "sqlite":
        return str(tmp_path / "contingencia.db")
    from tests.support.postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres_server"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright on Debian's chromium with the flags this closed network needs."""
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def sim_server():
    """One simulator HTTP server for the session; tests reset it through ``sim``."""
    with SimulatorServer(Simulator()) as server:
        yield server


@pytest.fixture
def sim(sim_server):
    """The session's simulator, reset to its seed data with no faults."""
    sim_server.simulator.reset()
    yield sim_server.simulator
    sim_server.simulator.reset()


@pytest.fixture
def clean_env(monkeypatch):
    """No CUCU_* variable (CUCU_ACCESS_* included) from the developer's shell leaks into a test."""
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def streamlit_caches(clean_env):
    """For AppTest modules: each test builds its own runtime (st.cache_resource is process-wide)."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def demo_inventory_path():
    return str(DEMO_INVENTORY_PATH)


@pytest.fixture
def app_secrets(tmp_path, sim, sim_server, demo_inventory_path):
    """``[cucu]`` secrets for AppTest: the session simulator, a fresh database, no background collector."""
    return {
        "base_url": sim_server.base_url,
        "api_key": DEFAULT_API_KEY,
        "inventory": demo_inventory_path,
        "db": str(tmp_path / "contingencia.db"),
        "collector": False,
    }


@pytest.fixture
def seeded_runtime(app_secrets):
    """A runtime on ``app_secrets`` whose store holds one connectivity check and one sweep.

    Tests drive ``runtime.collector.check_once()`` / ``sweep_once()`` for more; the app under
    AppTest reads the same database file.
    """
    runtime = build_runtime(load_settings(app_secrets, {}), start_collector=False)
    runtime.collector.check_once()
    runtime.collector.sweep_once()
    yield runtime
    runtime.close()
