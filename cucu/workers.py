"""Builds that cost seconds of CPU, run in a worker process instead of a thread of the web server.

Streamlit runs every session of a server in one Python process: a thread that computes for 6 s (a chain's
monthly report) holds the interpreter that long, and every other person's page and live refresh waits behind
it. In a worker process the same build takes the machine's other core and the web server only waits for its
answer (a wait that holds nothing). One process, started on the first build and kept (its start costs the
imports, about a second), so two heavy builds never take both cores from the people looking.

What runs there is a module-level function of plain arguments (a database URL, an inventory, dates): it reads
the database itself, as the collector service does.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Workers:
    """A worker process for heavy builds, started when first needed; ``close`` stops it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def run(self, build: Callable[..., T], *args: Any) -> T:
        """``build(*args)`` in the worker process; its result (or its exception) as if called here. A worker that
        died (killed, out of memory) is replaced at the next build; this one raises ``BrokenProcessPool``."""
        pool = self._started()
        try:
            return pool.submit(build, *args).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            log.warning("trabajos: el proceso de cálculo terminó de forma inesperada; se inicia otro en la próxima vez")
            raise

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("workers closed")
            if self._pool is None:
                # spawn: the web server runs threads, and a forked child would inherit their locks mid-use.
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def close(self) -> None:
        """Idempotent; a build under way is abandoned (its caller gets an error, as on any failed build)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
