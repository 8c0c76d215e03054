"""The collector: one per server process, it polls cucu and writes what it learns to the store.

Pages render from the store, so the load on cucu does not depend on how many dashboards are
open. Three loops run in background threads: connectivity (``check-connection``); the sweep of
every POS's active event with bounded concurrency, which records every event it sees and reads
again the start day of each one that ended (for Historial and the 48 h registration-window KPI);
and the backfill, which reads the completed days the store has not verified, newest first,
within a budget of calls per minute. Every failure is recorded, never raised. Two more loops serve invoicing (:mod:`cucu.invoicing`):
each POS's CUFD on its own interval, and the walk of cucu's invoice list with its status follow-ups.

Processes sharing one database (web replicas, the collector service ``python -m
cucu.collector_service``) each run a collector, but only the holder of the database lease
``collector`` polls cucu; the others stand by and take over when it stops or its lease lapses.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from cucu.api.client import CucuClient
from cucu.api.errors import recorded
from cucu.api.models import Inventory, PointOfSale
from cucu.connectivity.checks import ConnectivityCheck, check_connectivity
from cucu.events.actions import reconcile_open_attempts
from cucu.events.history import BackfillRound, backfill, load_days
from cucu.invoicing import INVOICE_JOB, InvoiceRound, InvoiceWalk, cufd_round, invoice_round
from cucu.lapaz import now_la_paz
from cucu.settings import Settings
from cucu.store import REPORT_RETENTION, CufdFetch, PosFetch, PosStatus, Store

log = logging.getLogger(__name__)

CUFD_ROUND_S = 60.0  # at most: a round reads only the CUFDs due, so one that cannot invoice waits a minute at most
BACKFILL_INTERVAL_S = 60.0  # at most; with a faster sweep the backfill runs as often, with its share of the budget
LEASE = "collector"
FIRST_SWEEP_SAVE_EVERY = 500  # POS a first sweep saves at a time
REQUEST_EVERY_S = 10.0  # "Comprobar ahora": at most one call to cucu per this many seconds per process


@dataclass(frozen=True)
class Polling:
    """Is anyone polling cucu for this database? ``last_renewal``: when a lease was last renewed, if any."""

    active: bool
    last_renewal: datetime | None


class Collector:
    def __init__(
        self,
        client: CucuClient,
        store: Store,
        inventory: Inventory,
        *,
        check_interval_s: float = Settings.check_interval_s,
        sweep_interval_s: float = Settings.sweep_interval_s,
        concurrency: int = Settings.concurrency,
        backfill_per_minute: int = Settings.backfill_per_minute,
        backfill_days: int = Settings.backfill_days,
        lease_ttl_s: float | None = None,
        cufd_interval_s: float = Settings.cufd_interval_s,
        invoice_interval_s: float = Settings.invoice_interval_s,
        invoice_window_hours: float = Settings.invoice_window_hours,
        invoice_pages_per_round: int = Settings.invoice_pages_per_round,
        invoice_statuses_per_round: int = Settings.invoice_statuses_per_round,
        invoice_max_open: int = Settings.invoice_max_open,
        clock: Callable[[], datetime] = now_la_paz,
        wait_for_cucu: Callable[[], object] | None = None,
    ):
        self.client = client
        # Waited for before a round (a chain demo's simulator process still seeding): the wait is not cucu's
        # latency, so the first check must not time it.
        self.wait_for_cucu = wait_for_cucu
        self.store = store
        self.inventory = inventory
        self.check_interval_s = check_interval_s
        self.sweep_interval_s = sweep_interval_s
        self.concurrency = concurrency
        self.backfill_per_minute = backfill_per_minute
        self.backfill_days = backfill_days
        self.backfill_interval_s = min(BACKFILL_INTERVAL_S, sweep_interval_s)
        self.cufd_interval = timedelta(seconds=cufd_interval_s)
        self.cufd_round_s = min(CUFD_ROUND_S, cufd_interval_s)
        self.invoice_interval_s = invoice_interval_s
        self.invoice_window = timedelta(hours=invoice_window_hours)
        self.invoice_pages_per_round = invoice_pages_per_round
        self.invoice_statuses_per_round = invoice_statuses_per_round
        self.invoice_max_open = invoice_max_open
        self.invoice_walk = InvoiceWalk()
        self.clock = clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="collector")
        self._today_listed: dict[str, datetime] = {}  # POS id -> when the backfill last read its list for today
        # Renewed every round of every loop; lapses after three missed rounds of the faster of check and sweep.
        self.lease_ttl = timedelta(seconds=lease_ttl_s or max(60.0, 3 * min(check_interval_s, sweep_interval_s)))
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leading: bool | None = None  # None until the first round asked
        self._lease_lock = threading.Lock()
        # Rounds each loop has finished (led or stood by), so a test waits on rounds, not on time.
        self.rounds: Counter[str] = Counter()
        # Called with the job's name after each round it ran (the alerts decide right after a check).
        self.on_round: list[Callable[[str], object]] = []
        self._request_lock = threading.Lock()
        self._last_request: float | None = None  # monotonic time of the last check a person asked for

    @classmethod
    def from_settings(
        cls,
        client: CucuClient,
        store: Store,
        inventory: Inventory,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = now_la_paz,
        wait_for_cucu: Callable[[], object] | None = None,
    ) -> Collector:
        """The collector the settings describe (what ``cucu.runtime`` builds); the keywords stay for tests."""
        return cls(
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
            clock=clock,
            wait_for_cucu=wait_for_cucu,
        )

    # ---- one round of each job (also what tests and benchmarks call) -----------------

    def check_once(self) -> ConnectivityCheck:
        check = check_connectivity(self.client, self.clock)
        self.store.add_check(check)
        return check

    def holds_lease(self) -> bool:
        """Whether this process holds the lease now, by the database (not the cached ``leading``)."""
        lease = self.store.lease(LEASE)
        return lease is not None and lease.holder == self.holder and lease.live(self.store.db_now())

    def check_on_request(self) -> ConnectivityCheck:
        """A check a person asked for ("Comprobar ahora"): stored and shown, but counted by no rule
        (``ConnectivityCheck.on_request``); at most one per ``REQUEST_EVERY_S`` in this process, so
        clicks from every tablet cost cucu one call (the others get the latest check)."""
        with self._request_lock:
            now = time.monotonic()
            if self._last_request is not None and now - self._last_request < REQUEST_EVERY_S:
                latest = self.store.latest_check()
                if latest is not None:
                    return latest
            self._last_request = now
        check = dataclasses.replace(check_connectivity(self.client, self.clock), on_request=True)
        self.store.add_check(check)
        return check

    def sweep_once(self) -> list[PosFetch]:
        """Fetch every POS's active event (bounded concurrency) and record the results."""
        before = self.store.pos_statuses()
        everyone = self.inventory.all_pos
        # While some POS were never asked (a chain's first sweep takes minutes), save as the answers come,
        # so Estado says "primer barrido: 3 200 de 10 000 consultados" instead of 0 until the end.
        step = FIRST_SWEEP_SAVE_EVERY if len(before) < len(everyone) else max(1, len(everyone))
        fetches: list[PosFetch] = []
        for start in range(0, len(everyone), step):
            part = list(self._pool.map(self._fetch_active, everyone[start : start + step]))
            self.store.save_pos_fetches(part)
            fetches += part
        self.store.observe_events(fetches)
        self._settle_ended_events(before, fetches)
        try:  # starts and ends whose answer never came: what this sweep saw settles them
            reconcile_open_attempts(self.store, fetches)
        except Exception:
            log.exception("colector: no se pudieron verificar las acciones abiertas")
        return fetches

    def cufd_once(self) -> list[CufdFetch]:
        """Read the CUFD of every POS that is due (see :func:`cucu.invoicing.cufd.cufd_due`) and record it."""
        # Twice a round's fair share of the interval: the reads spread out, and a backlog clears.
        share = math.ceil(2 * len(self.inventory.all_pos) * self.cufd_round_s / self.cufd_interval.total_seconds())
        return cufd_round(
            self.client,
            self.store,
            self.inventory,
            self._pool,
            now=self.clock(),
            interval=self.cufd_interval,
            limit=share,
            clock=self.clock,
            stopping=self._stop.is_set,
        )

    def invoices_once(self) -> InvoiceRound:
        """One round of the invoice walk and its status follow-ups, within the per-round budgets."""
        now = self.clock()
        done = invoice_round(
            self.client,
            self.store,
            self.invoice_walk,
            self._pool,
            now=now,
            window=self.invoice_window,
            page_budget=self.invoice_pages_per_round,
            status_budget=self.invoice_statuses_per_round,
            clock=self.clock,
            stopping=self._stop.is_set,
            max_open=self.invoice_max_open,
        )
        self.store.record_job(
            INVOICE_JOB, now, done.error, done.notes, pass_pages=self.invoice_walk.pass_pages, passed=done.pass_done
        )
        if done.pass_done:
            # Settled invoices older than the window (and a margin) are no longer shown anywhere.
            self.store.prune_invoices(now - self.invoice_window - timedelta(days=1), reported_before=now - REPORT_RETENTION)
        if done.error is not None:
            log.warning("colector: lectura de facturas interrumpida: %s", done.error)
        return done

    def backfill_once(self, budget: int | None = None) -> BackfillRound:
        """Read up to ``budget`` (default: one round's share of the per-minute budget) POS-days from
        cucu: today's lists, then the completed days not verified yet (see :func:`cucu.events.history.backfill`)."""
        return self._backfill(
            max(1, round(self.backfill_per_minute * self.backfill_interval_s / 60)) if budget is None else budget
        )

    def backfill_everything(self) -> BackfillRound:
        """Every POS-day that is due, whatever the budget (tests, benchmarks, a first fill by hand)."""
        return self._backfill(None)

    def _backfill(self, budget: int | None) -> BackfillRound:
        now = self.clock()
        done = backfill(
            self.client,
            self.store,
            self.inventory,
            now=now,
            horizon_days=self.backfill_days,
            budget=budget,
            today_listed=self._today_listed,
            concurrency=self.concurrency,
            clock=self.clock,
            stopping=self._stop.is_set,
        )
        self._today_listed.update(dict.fromkeys(done.listed_today, now))
        if done.fetched:
            log.info(
                "colector: %d días de punto de venta leídos de cucu (%d sin respuesta); faltan %d",
                done.fetched,
                done.errors,
                done.remaining,
            )
        return done

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> Collector:
        if self._threads:
            return self
        self._stop.clear()
        loops: list[tuple[str, float, Callable[[], object], bool]] = [
            ("check", self.check_interval_s, self.check_once, True),
            ("sweep", self.sweep_interval_s, self.sweep_once, True),
            ("cufd", self.cufd_round_s, self.cufd_once, True),
            ("invoices", self.invoice_interval_s, self.invoices_once, self.invoice_pages_per_round > 0),
            ("backfill", self.backfill_interval_s, self.backfill_once, self.backfill_per_minute > 0),
        ]
        self._threads = [
            threading.Thread(target=self._loop, args=(name, interval, job), name=f"collector-{name}", daemon=True)
            for name, interval, job, enabled in loops
            if enabled
        ]
        for thread in self._threads:
            thread.start()
        log.info("colector iniciado: %d puntos de venta, concurrencia %d", len(self.inventory.all_pos), self.concurrency)
        return self

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def polling(self) -> Polling:
        """Whether anyone polls cucu for this database: this process's collector (leading or standing
        by), or else a live lease of another process (the collector service, another replica)."""
        if self.running:
            return Polling(True, None)
        lease = self.store.lease(LEASE)  # live by the database's clock, not by this machine's ``now``
        return Polling(lease is not None and lease.live(self.store.db_now()), lease.renewed_at if lease is not None else None)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every loop (idempotent), waiting at most ``timeout`` in all for the rounds in flight to finish
        their current calls: a server asked to stop mid-way through a chain's first sweep and backfill waited
        that long for each loop in turn (40 s). A round still running then ends by itself (see
        ``test_a_round_that_outlives_the_stop_ends_quietly``)."""
        was_running = bool(self._threads)
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.leading is not None:  # also after a database error: the row may still be ours
            self.leading = None
            try:
                self.store.release_lease(LEASE, self.holder)  # deletes only our own row
            except Exception:  # the lease then lapses by itself
                log.exception("colector: no se pudo liberar el turno")
        if was_running:
            log.info("colector detenido")

    def lead(self) -> bool:
        """Take or renew the lease; True when this process is the one polling cucu (logged on each change)."""
        with self._lease_lock:
            was = self.leading
            try:
                self.leading = self.store.acquire_lease(LEASE, self.holder, None, self.lease_ttl)  # the database's clock
            except Exception:  # the database is unreachable: nobody can record results anyway
                log.exception("colector %s: sin acceso a la base de datos, no consulta cucu", self.holder)
                self.leading = False
                return False
            if self.leading != was:
                log.info("colector %s: %s", "activo" if self.leading else "en espera (otro proceso consulta cucu)", self.holder)
            return self.leading

    # ---- internals -------------------------------------------------------------------

    def _loop(self, name: str, interval_s: float, job: Callable[[], object]) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                if self.lead():
                    if self.wait_for_cucu is not None:
                        self.wait_for_cucu()
                    job()
                    for listener in self.on_round:
                        listener(name)
            except Exception as exc:  # the collector outlives every fault; the log keeps the detail
                if self._stop.is_set() or (isinstance(exc, RuntimeError) and "cannot schedule new futures" in str(exc)):
                    # Stopping: a round that outlived stop()'s wait meets a shut pool, a closed client or
                    # store. Or the process exits on SIGTERM: Python shuts every thread pool before the atexit
                    # hook stops this collector, and a worker that sees it marks our pool shut ("after
                    # shutdown", not "after interpreter shutdown"). Nothing is wrong either way.
                    log.info("colector: %s se detiene con el proceso (%s)", name, type(exc).__name__)
                    return
                log.exception("colector: %s falló", name)
            self.rounds[name] += 1
            self._stop.wait(max(0.0, interval_s - (time.monotonic() - started)))

    def _fetch_active(self, pos: PointOfSale) -> PosFetch:
        fetched_at = self.clock()
        return recorded(
            lambda: PosFetch(pos.id, pos.branch_id, fetched_at, event=self.client.get_active_event(pos.id)),
            lambda error: PosFetch(pos.id, pos.branch_id, fetched_at, error=error),
            unexpected="Error inesperado al consultar este punto de venta.",
            log=log,
            what="colector: error inesperado con el punto de venta %s",
            about=pos.id,
        )

    def _settle_ended_events(self, before: Mapping[str, PosStatus], fetches: list[PosFetch]) -> None:
        """An event that was active and is gone has ended: fetch its start day to learn its end."""
        ended = []
        for fetch in fetches:
            old = before.get(fetch.pos_id)
            if fetch.error is not None or old is None or old.event is None or old.event.fecha_inicio is None:
                continue
            if fetch.event is None or fetch.event.id != old.event.id:
                ended.append((self.inventory.pos(fetch.pos_id), old.event.fecha_inicio.date()))
        for pos, day in ended:
            try:
                load_days(self.client, self.store, [pos], [day], concurrency=1, clock=self.clock)
            except Exception:
                log.exception("colector: no se pudo leer el evento finalizado de %s", pos.id)
