"""Builds that cost seconds of CPU, run in a worker process instead of a thread of the web server.

Streamlit runs every session of a server in one Python process: a thread that computes for 6 s (a chain's
monthly report) holds the interpreter that long, and every other person's page and live refresh waits behind
it. In a worker process the same build takes another core and the web server only waits for its answer (a
wait that holds nothing). Two processes at most (``PROCESSES``), started as needed and kept (a start costs the
imports, about a second): one when the web server starts, a second only while the first is busy.

What runs there is a module-level function of plain arguments: ``read_apart`` gives it the database (its own
connection, as the collector service has) cut to the person's scope, and their inventory.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from cucu.api.models import Branch, Inventory
    from cucu.organization.scope import Scope
    from cucu.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
# Two: a chain's monthly report (6 s) must not hold back the invoices' rebuild that the supervisor who just ended an
# event waits for; the machine's two cores then serve the people looking and one build, or two builds.
PROCESSES = 2


class Workers:
    """The worker processes of heavy builds, started when first needed (or by ``start``); ``close`` stops them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def run(self, build: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``build(*args, **kwargs)`` in the worker process; its result (or its exception) as if called here. A
        worker that died (killed, out of memory) is replaced at the next build; this one raises ``BrokenProcessPool``."""
        pool = self._started()
        try:
            return pool.submit(build, *args, **kwargs).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            log.warning("trabajos: el proceso de cálculo terminó de forma inesperada; se inicia otro en la próxima vez")
            raise

    def start(self) -> None:
        """Start a worker now, in the background (its imports take about a second)."""
        self._started().submit(int)

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("workers closed")
            if self._pool is None:
                # spawn: the web server runs threads, and a forked child would inherit their locks mid-use.
                self._pool = ProcessPoolExecutor(max_workers=PROCESSES, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def close(self) -> None:
        """Idempotent; a build under way is abandoned (its caller gets an error, as on any failed build)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def read_apart(db: str, branches: tuple[Branch, ...], scope: Scope, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``read(store, inventory, *args, **kwargs)`` on a connection of its own to ``db``, as a person scoped to
    ``scope`` reads it: the store cut to their branches and the company's ``branches`` cut to their inventory.
    What ``Workers.run`` is given (plain, picklable arguments; a store and an inventory's caches are not)."""
    from cucu.api.models import Inventory
    from cucu.organization.scope import within
    from cucu.store import Store
    from cucu.store.scoped import ScopedStore

    store = Store(db)
    try:
        company = Inventory(branches)
        seen: Store = store if scope.whole_company else ScopedStore(store, company, scope).as_store()
        inventory: Inventory = within(company, scope)
        return read(seen, inventory, *args, **kwargs)
    finally:
        store.close()
