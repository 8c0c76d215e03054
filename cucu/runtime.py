"""Composition root: from settings to the objects a server process shares.

DEMO mode starts the simulator as a real HTTP server on loopback inside this process, so
the dashboard always goes through the same client and HTTP code path as in production.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cucu.alerts import Alerter
from cucu.api.client import CucuClient
from cucu.api.models import Inventory
from cucu.collector import Collector
from cucu.events.actions import Actions
from cucu.events.policy import Policy
from cucu.inventory import DEMO_INVENTORY_PATH, load_inventory
from cucu.settings import DEFAULT_DB_PATH, Settings, SettingsError
from cucu.store import Store
from cucu.views.shared_reads import SharedReads
from cucu.vocabulary import Mode

if TYPE_CHECKING:  # the server code is imported only in DEMO mode
    from cucu.simulator import Simulator, SimulatorServer
    from cucu.simulator.server import RemoteSimulator, SimulatorProcess

log = logging.getLogger(__name__)

# From this many generated POS the demo's simulator runs in its own process: in this one it shares
# the interpreter with Streamlit and the collector, and a chain's first sweep took minutes.
DEMO_PROCESS_POS = 1000


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
    # Frames and figures shared by every session of the process (see cucu/views/shared_reads.py).
    shared: SharedReads = field(default_factory=SharedReads, repr=False)

    @property
    def simulator(self) -> Simulator | RemoteSimulator | None:
        """The demo's simulator (DEMO only), for its fault switches: in this process, or a chain's in its own."""
        return self.simulator_server.simulator if self.simulator_server is not None else None

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
        self.store.close()
        if self.simulator_server is not None:
            self.simulator_server.stop()
        if self._temp_dir:
            shutil.rmtree(self._temp_dir, ignore_errors=True)


def backfill_demo(store: Store, simulator: Simulator) -> None:
    """A fresh demo database gets the seeded history: the checks, then every POS-day."""
    _backfill_demo_connectivity(store, simulator)
    _backfill_demo_history(store, simulator, simulator.inventory)


def _backfill_demo_connectivity(store: Store, simulator: Simulator) -> None:
    """A fresh demo database gets the checks a collector would have made over the seeded history, unless
    a chain demo's web process already wrote them (``build_runtime``)."""
    if store.latest_check() is None:
        _backfill_demo_checks(store, simulator.connectivity_history())


def _backfill_demo_checks(store: Store, history: Iterable[tuple[datetime, bool, float]]) -> None:
    from cucu.connectivity.checks import ConnectivityCheck

    store.add_checks(ConnectivityCheck(when, ok, latency) for when, ok, latency in history)


def _backfill_demo_history(store: Store, simulator: Simulator, inventory: Inventory) -> None:
    """A fresh demo database gets every POS-day of the seeded history, as the backfill would have read
    it (today's lists too): the demo's Historial is complete from the start, even for a generated chain."""
    from cucu.api.models import Event
    from cucu.lapaz import now_la_paz
    from cucu.periods import date_range
    from cucu.store import DayEvents

    now = now_la_paz()
    today = now.date()
    by_key: dict[tuple[str, date], list[Event]] = {}
    for raw in simulator.events():
        event = Event.from_api(raw)
        if event.fecha_inicio is not None:
            by_key.setdefault((raw["posId"], event.fecha_inicio.date()), []).append(event)
    store.put_days(
        DayEvents(
            pos.id,
            pos.branch_id,
            day,
            now,
            day < today and not any(e.active for e in by_key.get((pos.id, day), ())),
            tuple(by_key.get((pos.id, day), ())),
            verified=day < today,
        )
        for day in date_range(today - timedelta(days=simulator.history_days), today)
        for pos in inventory.all_pos
    )


def build_runtime(settings: Settings, *, start_collector: bool | None = None) -> Runtime:
    """Raises ``InventoryError`` for an unusable inventory. Starts the collector if settings say so."""
    if settings.demo_size is not None:
        from cucu.simulator.seed import synthetic_inventory  # DEMO only, like the simulator
    # A generated chain's simulator runs in its own process (DEMO_PROCESS_POS); its inventory is made below.
    size = settings.demo_size
    chain = settings.mode is Mode.DEMO and size is not None and size[0] * size[1] >= DEMO_PROCESS_POS
    if settings.demo_size is not None and not chain:
        inventory = synthetic_inventory(*settings.demo_size)
    elif settings.demo_size is None:
        inventory = load_inventory(settings.inventory or DEMO_INVENTORY_PATH)
    max_connections = max(64, settings.concurrency + 4)
    temp_dir = None
    db = settings.db
    server: SimulatorServer | SimulatorProcess | None = None
    wait_for_cucu = None  # a chain demo's simulator process, until it answers
    if settings.mode is Mode.DEMO:
        from cucu.lapaz import now_la_paz
        from cucu.simulator import Simulator, SimulatorServer  # only DEMO needs the server code
        from cucu.simulator.seed import story_checks
        from cucu.simulator.server import SimulatorProcess
        from cucu.simulator.state import DEFAULT_HISTORY_DAYS, DEFAULT_SEED

        if db is None:  # demo data is regenerated at every start: so is its database
            temp_dir = tempfile.mkdtemp(prefix="contingencia-demo-")
            db = str(Path(temp_dir) / "demo.db")
        store = Store(db)
        fresh = store.latest_check() is None  # a fresh demo database (throw-away or CUCU_DB)
        transport = None
        if chain and settings.demo_size is not None:
            # A chain: the simulator seeds, serves and fills the fresh database in its own process, and
            # nothing here waits for it (the first page within 5 s): the client's calls wait instead.
            seed_time = now_la_paz().replace(microsecond=0)  # whole seconds, as the child reads it back
            if fresh:  # SIAT's seeded story, the one the child's events follow: the first page has a fresh check
                _backfill_demo_checks(store, story_checks(DEFAULT_SEED, seed_time, DEFAULT_HISTORY_DAYS))
            server = SimulatorProcess(
                settings.demo_size, port=settings.simulator_port, backfill_db=db if fresh else None, seed_time=seed_time
            ).start()
            transport, wait_for_cucu = server.transport(max_connections), server.wait_ready
            inventory = synthetic_inventory(*settings.demo_size)  # while the child makes the same and seeds it
        else:
            server = in_process = SimulatorServer(Simulator(inventory), port=settings.simulator_port).start()
            if fresh:
                backfill_demo(store, in_process.simulator)
        client = CucuClient(
            server.base_url,
            server.simulator.api_key,
            timeout=settings.timeout_s,
            max_connections=max_connections,
            transport=transport,
        )
    else:
        if not (settings.base_url and settings.api_key):  # load_settings refuses this; a hand-made Settings may not
            raise SettingsError("Falta la dirección o la clave API de cucu.")
        client = CucuClient(settings.base_url, settings.api_key, timeout=settings.timeout_s, max_connections=max_connections)
        store = Store(db or DEFAULT_DB_PATH)
    collector = Collector(
        client,
        store,
        inventory,
        check_interval_s=settings.check_interval_s,
        sweep_interval_s=settings.sweep_interval_s,
        concurrency=settings.concurrency,
        backfill_per_minute=settings.backfill_per_minute,
        backfill_days=settings.backfill_days,
        cufd_interval_s=settings.cufd_interval_s,
        invoice_interval_s=settings.invoice_interval_s,
        invoice_window_hours=settings.invoice_window_hours,
        invoice_pages_per_round=settings.invoice_pages_per_round,
        invoice_statuses_per_round=settings.invoice_statuses_per_round,
        invoice_max_open=settings.invoice_max_open,
        clock=store.now,
        wait_for_cucu=wait_for_cucu,
    )
    # One clock for every process (the database's): what is stamped and what it is compared with agree
    # even when this machine's clock is ahead, behind or stepped.
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
    alerter = Alerter(
        store,
        inventory,
        settings.alerts,
        leading=lambda: bool(collector.leading),
        polling=lambda: _polling(collector),
        holder=collector.holder,
        long_open_hours=settings.long_open_hours,
        check_interval_s=settings.check_interval_s,
        policy=policy,
        cufd_expiring_hours=settings.cufd_expiring_hours,
        invoice_window_hours=settings.invoice_window_hours,
        clock=store.now,
    )
    collector.on_round.append(lambda job: alerter.wake() if job == "check" else None)
    runtime = Runtime(settings, inventory, client, store, collector, actions, alerter, policy, server, temp_dir)
    if settings.collector if start_collector is None else start_collector:
        runtime.start()
    elif not settings.collector:  # a web process that never polls still watches that someone does
        alerter.start()
    return runtime


def _polling(collector: Collector) -> tuple[bool, datetime | None]:
    polling = collector.polling()
    return polling.active, polling.last_renewal
