"""Shared fixtures: a simulator on a free loopback port, clean Streamlit caches."""

from __future__ import annotations

import pytest

from cucu.inventory import DEMO_INVENTORY_PATH
from cucu.simulator import Simulator, SimulatorServer


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
    """No CUCU_* variable from the developer's shell leaks into a test."""
    for name in ("CUCU_BASE_URL", "CUCU_API_KEY", "CUCU_INVENTORY", "CUCU_DB", "CUCU_TIMEOUT_S", "CUCU_SIMULATOR_PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def demo_inventory_path():
    return str(DEMO_INVENTORY_PATH)
