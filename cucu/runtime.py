"""Composition root: from settings to the objects a server process shares.

DEMO mode starts the simulator as a real HTTP server on loopback (cucu/simulator/demo.py), so
the dashboard always goes through the same client and HTTP code path as in production.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from cucu.alerts import Alerter
from cucu.alerts.delivery import apprise_send
from cucu.api.client import CucuClient
from cucu.api.models import Inventory
from cucu.collector import Collector
from cucu.events.actions import Actions
from cucu.events.policy import Policy
from cucu.inventory import DEMO_INVENTORY_PATH, load_inventory
from cucu.organization.scope import Scope, within
from cucu.reports.monthly import send_monthly_report
from cucu.settings import DEFAULT_DB_PATH, Settings, SettingsError
from cucu.store import Store
from cucu.store.scoped import LatestReads, ScopedStore
from cucu.views.shared_reads import SharedReads
from cucu.vocabulary import Mode
from cucu.workers import Workers

if TYPE_CHECKING:  # the server code is imported only in DEMO mode
    from cucu.simulator import Simulator, SimulatorServer
    from cucu.simulator.server import RemoteSimulator, SimulatorProcess

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    inventory: Inventory
    client: CucuClient
    store: Store
    collector: Collector
    actions: Actions
    alerter: Alerter
    policy: Policy
    simulator_server: SimulatorServer | SimulatorProcess | None = None  # DEMO mode only
    _temp_dir: str | None = field(default=None, repr=False)
    # Frames and figures shared by every session of the process (see cucu/views/shared_reads.py); a scoped view
    # has its own, so fifty scopes' small values never push the company's large ones out.
    shared: SharedReads = field(default_factory=lambda: SharedReads(max_entries=64), repr=False)
    scope: Scope = field(default_factory=Scope)  # the whole company, or the scope of a view (for_scope)
    _views: dict[Scope, Runtime] = field(default_factory=dict, repr=False)
    company: Runtime | None = field(default=None, repr=False)  # a scoped view's whole company (for_scope)
    _latest: LatestReads | None = field(default=None, repr=False)  # the POS tables read once for every scope
    _views_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Builds that take seconds of CPU (a chain's monthly report), out of the web server's interpreter; the
    # company's, shared by every scoped view.
    workers: Workers = field(default_factory=Workers, repr=False)

    @property
    def simulator(self) -> Simulator | RemoteSimulator | None:
        """The demo's simulator (DEMO only), for its fault switches: in this process, or a chain's in its own."""
        return self.simulator_server.simulator if self.simulator_server is not None else None

    def for_scope(self, scope: Scope) -> Runtime:
        """This runtime as a person scoped to ``scope`` sees it: the inventory cut to their branches, the store
        read through ``ScopedStore``, shared values of their own; the collector, the actions and the rest are
        the company's (an action checks its actor's scope). One view per scope, kept; never closed itself."""
        if scope.whole_company or not self.scope.whole_company:
            return self
        with self._views_lock:
            view = self._views.get(scope)
            if view is None:
                if self._latest is None:
                    self._latest = LatestReads(self.store)
                store = ScopedStore(self.store, self.inventory, scope, self._latest).as_store()
                shared = SharedReads(max_entries=64)  # shared by the people of this scope, never with anyone else
                view = self._views[scope] = dataclasses.replace(
                    self, inventory=within(self.inventory, scope), store=store, shared=shared, scope=scope,
                    _temp_dir=None, _views={}, company=self,
                )  # fmt: skip
            return view

    def start(self) -> Runtime:
        """Poll cucu (when this process holds the lease) and decide and send alerts."""
        self.collector.start()
        self.alerter.start()
        return self

    def close(self) -> None:
        """Idempotent: called when the cache drops the runtime and again at process exit."""
        self.collector.stop()  # first: a round in flight must not outlive the process's thread pools
        self.alerter.stop()
        self.actions.close()  # attempts still under verification are the collector's to settle
        self.client.close()
        self.workers.close()
        self.store.close()
        if self.simulator_server is not None:
            self.simulator_server.stop()
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)


def build_runtime(settings: Settings, *, start_collector: bool | None = None) -> Runtime:
    """Raises ``InventoryError`` for an unusable inventory. Starts the collector if settings say so."""
    max_connections = max(64, settings.concurrency + 4)
    temp_dir = None
    server: SimulatorServer | SimulatorProcess | None = None
    wait_for_cucu = None  # a chain demo's simulator process, until it answers
    if settings.mode is Mode.DEMO:
        from cucu.simulator.demo import start_demo  # only DEMO needs the simulator

        demo = start_demo(settings, lambda: inventory_for(settings), max_connections=max_connections)
        inventory, store, server, temp_dir, wait_for_cucu = (
            demo.inventory,
            demo.store,
            demo.server,
            demo.temp_dir,
            demo.wait_for_cucu,
        )
        client = CucuClient(
            server.base_url,
            server.simulator.api_key,
            timeout=settings.timeout_s,
            max_connections=max_connections,
            transport=demo.transport,
        )
    else:
        inventory = inventory_for(settings)
        if not (settings.base_url and settings.api_key):  # load_settings refuses this; a hand-made Settings may not
            raise SettingsError("Falta la dirección o la clave API de cucu.")
        client = CucuClient(settings.base_url, settings.api_key, timeout=settings.timeout_s, max_connections=max_connections)
        store = Store(settings.db or DEFAULT_DB_PATH)
    # One clock for every process (the database's): what is stamped and what it is compared with agree
    # even when this machine's clock is ahead, behind or stepped.
    collector = Collector.from_settings(client, store, inventory, settings, clock=store.now, wait_for_cucu=wait_for_cucu)
    actions = Actions(
        client,
        store,
        inventory,
        concurrency=settings.concurrency,
        settle_window_s=settings.settle_window_s,
        cufd_expiring_hours=settings.cufd_expiring_hours,
        renew_cooldown_s=settings.cufd_renew_cooldown_s,
        clock=store.now,
    )
    policy = Policy(store, inventory, actions, settings.policy, leading=collector.holds_lease)
    alerter = Alerter.from_settings(
        store,
        inventory,
        settings,
        leading=lambda: bool(collector.leading),
        polling=lambda: _polling(collector),
        holder=collector.holder,
        policy=policy,
        clock=store.now,
        # last month's compliance report on the 1st (cucu.reports.monthly), by the process that polls
        after_round=lambda now: send_monthly_report(
            store, inventory, settings.alerts, now, apprise_send, backfill_days=settings.backfill_days
        ),
    )
    collector.on_round.append(lambda job: alerter.wake() if job == "check" else None)
    runtime = Runtime(settings, inventory, client, store, collector, actions, alerter, policy, server, temp_dir)
    if settings.collector if start_collector is None else start_collector:
        runtime.start()
    elif not settings.collector:  # a web process that never polls still watches that someone does
        alerter.start()
    return runtime


def inventory_for(settings: Settings) -> Inventory:
    """The configured inventory, or the demo's generated one (``demo_size``; a chain's is made by ``start_demo``)."""
    if settings.demo_size is not None:
        from cucu.simulator.seed import synthetic_inventory  # DEMO only, like the simulator

        return synthetic_inventory(*settings.demo_size)
    return load_inventory(settings.inventory or DEMO_INVENTORY_PATH)


def _polling(collector: Collector) -> tuple[bool, datetime | None]:
    polling = collector.polling()
    return polling.active, polling.last_renewal
