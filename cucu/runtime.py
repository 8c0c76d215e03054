"""Composition root: from settings to the objects a server process shares.

DEMO mode starts the simulator as a real HTTP server on loopback inside this process, so
the dashboard always goes through the same client and HTTP code path as in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from cucu.client import CucuClient
from cucu.inventory import DEMO_INVENTORY_PATH, load_inventory
from cucu.models import Inventory
from cucu.settings import Mode, Settings


@dataclass
class Runtime:
    settings: Settings
    inventory: Inventory
    client: CucuClient
    simulator_server: object | None = None  # cucu.simulator.SimulatorServer in DEMO mode

    @property
    def simulator(self):
        """The in-process simulator (DEMO only), for the demo's fault switches."""
        return self.simulator_server.simulator if self.simulator_server is not None else None

    def close(self) -> None:
        self.client.close()
        if self.simulator_server is not None:
            self.simulator_server.stop()


def build_runtime(settings: Settings) -> Runtime:
    """Raises ``InventoryError`` for an unusable inventory; never talks to cucu itself."""
    inventory = load_inventory(settings.inventory or DEMO_INVENTORY_PATH)
    if settings.mode is not Mode.DEMO:
        client = CucuClient(settings.base_url, settings.api_key, timeout=settings.timeout_s)
        return Runtime(settings, inventory, client)

    from cucu.simulator import Simulator, SimulatorServer  # only DEMO needs the server code

    server = SimulatorServer(Simulator(inventory), port=settings.simulator_port)
    server.start()
    client = CucuClient(server.base_url, server.simulator.api_key, timeout=settings.timeout_s)
    return Runtime(settings, inventory, client, server)
