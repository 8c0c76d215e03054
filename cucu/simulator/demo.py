"""DEMO mode's back end: the simulator as a real HTTP server on loopback and the database it seeds.

The dashboard always goes through the same client and HTTP code path as in production
(``cucu.runtime`` builds the client); only where the base URL points differs. A generated chain's
simulator runs in its own process, the others in this one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

from cucu.api.models import Event, Inventory
from cucu.connectivity.checks import ConnectivityCheck
from cucu.lapaz import now_la_paz
from cucu.periods import date_range
from cucu.settings import Settings
from cucu.simulator.seed import story_checks, synthetic_inventory
from cucu.simulator.server import SimulatorProcess, SimulatorServer
from cucu.simulator.state import DEFAULT_HISTORY_DAYS, DEFAULT_SEED, Simulator
from cucu.store import DayEvents, Store
from cucu.vocabulary import Mode

# From this many generated POS the demo's simulator runs in its own process: in this one it shares
# the interpreter with Streamlit and the collector, and a chain's first sweep took minutes.
DEMO_PROCESS_POS = 1000


@dataclass(frozen=True)
class Demo:
    """What the runtime needs of the demo: its inventory, its database and where its cucu answers."""

    inventory: Inventory
    store: Store
    server: SimulatorServer | SimulatorProcess
    transport: httpx.BaseTransport | None  # a chain's: each call waits until the child answers
    wait_for_cucu: Callable[[], object] | None  # a chain demo's simulator process, until it answers
    temp_dir: str | None  # a throw-away database's directory, removed with the runtime


def is_chain(settings: Settings) -> bool:
    """A generated chain's simulator runs in its own process (``DEMO_PROCESS_POS``)."""
    size = settings.demo_size
    return settings.mode is Mode.DEMO and size is not None and size[0] * size[1] >= DEMO_PROCESS_POS


def start_demo(settings: Settings, inventory: Callable[[], Inventory], *, max_connections: int) -> Demo:
    """Start the demo's simulator and open (and, when fresh, seed) its database. ``inventory`` loads the
    configured one; a chain's is generated here instead, while its simulator process seeds the same."""
    size = settings.demo_size
    if size is None or not is_chain(settings):
        chosen = inventory()  # an unusable inventory fails before a database is made
        db, temp_dir = _database(settings.db)
        store = Store(db)
        fresh = store.latest_check() is None  # a fresh demo database (throw-away or CUCU_DB)
        server = SimulatorServer(Simulator(chosen), port=settings.simulator_port).start()
        if fresh:
            backfill_demo(store, server.simulator)
        return Demo(chosen, store, server, None, None, temp_dir)
    # A chain: the simulator seeds, serves and fills the fresh database in its own process, and
    # nothing here waits for it (the first page within 5 s): the client's calls wait instead.
    db, temp_dir = _database(settings.db)
    store = Store(db)
    fresh = store.latest_check() is None
    seed_time = now_la_paz().replace(microsecond=0)  # whole seconds, as the child reads it back
    if fresh:  # SIAT's seeded story, the one the child's events follow: the first page has a fresh check
        _backfill_demo_checks(store, story_checks(DEFAULT_SEED, seed_time, DEFAULT_HISTORY_DAYS))
    process = SimulatorProcess(size, port=settings.simulator_port, backfill_db=db if fresh else None, seed_time=seed_time)
    process.start()
    generated = synthetic_inventory(*size)  # while the child makes the same and seeds it
    return Demo(generated, store, process, process.transport(max_connections), process.wait_ready, temp_dir)


def _database(db: str | None) -> tuple[str, str | None]:
    """The demo's database, and the directory to remove with the runtime when it is a throw-away one."""
    if db is not None:
        return db, None
    # Demo data is regenerated at every start: so is its database.
    temp_dir = tempfile.mkdtemp(prefix="contingencia-demo-")
    return str(Path(temp_dir) / "demo.db"), temp_dir


def backfill_demo(store: Store, simulator: Simulator) -> None:
    """A fresh demo database gets the seeded history: the checks, then every POS-day."""
    _backfill_demo_connectivity(store, simulator)
    _backfill_demo_history(store, simulator, simulator.inventory)


def _backfill_demo_connectivity(store: Store, simulator: Simulator) -> None:
    """A fresh demo database gets the checks a collector would have made over the seeded history, unless
    a chain demo's web process already wrote them (``start_demo``)."""
    if store.latest_check() is None:
        _backfill_demo_checks(store, simulator.connectivity_history())


def _backfill_demo_checks(store: Store, history: Iterable[tuple[datetime, bool, float]]) -> None:
    store.add_checks(ConnectivityCheck(when, ok, latency) for when, ok, latency in history)


def _backfill_demo_history(store: Store, simulator: Simulator, inventory: Inventory) -> None:
    """A fresh demo database gets every POS-day of the seeded history, as the backfill would have read
    it (today's lists too): the demo's Historial is complete from the start, even for a generated chain."""
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
