"""A local simulator of the cucu events API, faults included.

It is the dashboard's demo back end and the peer the tests talk to::

    from cucu.simulator import Simulator, SimulatorServer

    with SimulatorServer(Simulator()) as server:
        ...  # talk HTTP to server.base_url with X-API-Key: sk_test_demo
        server.simulator.update_faults({"siat_down": True})

Run standalone with ``python -m cucu.simulator --port 8765``.
"""

from cucu.simulator.app import create_app
from cucu.simulator.faults import MALFORMED_KINDS, NO_ACTIVE_SHAPES, Faults, FaultsError
from cucu.simulator.hostile import HOSTILE_KINDS
from cucu.simulator.seed import synthetic_inventory
from cucu.simulator.server import SimulatorServer
from cucu.simulator.state import DEFAULT_API_KEY, DEFAULT_SEED, ApiError, Simulator

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_SEED",
    "HOSTILE_KINDS",
    "MALFORMED_KINDS",
    "NO_ACTIVE_SHAPES",
    "ApiError",
    "Faults",
    "FaultsError",
    "Simulator",
    "SimulatorServer",
    "create_app",
    "synthetic_inventory",
]
