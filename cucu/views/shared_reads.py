"""Values built once per version of the data and shared by every session of a server process.

A page's frames at a chain's size take from a fraction of a second (every POS's state) to several
seconds (Historial's week of 10 000 POS). Built per viewer they would be paid 30 times; built
once per version, the first viewer after every change would still wait for all of it. So a value
whose version moved on is rebuilt in the background while the last one is served (stale while
revalidate): nobody waits for a rebuild but the very first viewer of a value, and what is shown is
at most one build behind the store. ``now()`` is for values derived from another one, which must
match it: built at once when their source changed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")

# A value that builds faster than this is rebuilt at once when its version moves (what a person waits
# for is then imperceptible, and a small chain, the demo and the tests always see the exact version).
SYNC_BELOW_S = 0.25

log = logging.getLogger(__name__)


class Shared(NamedTuple, Generic[T]):
    version: Hashable  # what the value was built from: derived values are keyed by it
    value: T


class SharedReads:
    """Up to ``max_entries`` named values, least recently used dropped first; thread-safe."""

    def __init__(self, max_entries: int = 48) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._held: OrderedDict[str, Shared[Any]] = OrderedDict()
        self._building: set[str] = set()  # names rebuilt in the background right now
        self._first: dict[str, threading.Lock] = {}  # one synchronous build per name at a time
        self._cost: dict[str, float] = {}  # seconds the last build of each name took
        self._seq = 0  # builds started, in order
        self._stored: dict[str, int] = {}  # the start order of the build each held value came from
        self._since: dict[str, float] = {}  # time.monotonic() a background build of each name started
        self._failed: dict[str, str] = {}  # why the last background build of a name failed
        self.builds = 0  # how many builds ran (tests and benchmarks count them)

    def behind(self, name: str, version: Hashable, build: Callable[[], T]) -> Shared[T]:
        """The value of ``name`` at ``version``, or, when building it takes long (``SYNC_BELOW_S``), the last
        one built while that one builds in the background; built here when there is none yet."""
        with self._lock:
            held = self._held.get(name)
            slow = self._cost.get(name, 0.0) >= SYNC_BELOW_S
            if held is not None and (held.version == version or slow):
                self._held.move_to_end(name)
                if held.version != version and name not in self._building:
                    self._building.add(name)
                    threading.Thread(
                        target=self._rebuild, args=(name, version, build), name=f"shared-{name[:40]}", daemon=True
                    ).start()
                return held
        return self.now(name, version, build)

    def soon(self, name: str, version: Hashable, build: Callable[[], T]) -> Shared[T] | None:
        """As :meth:`behind`, but never built here: with nothing held yet the first build starts in the background
        and None says it is under way (:meth:`building_for`), so a page shows its progress instead of waiting."""
        with self._lock:
            if name not in self._held:
                if name not in self._building:
                    self._building.add(name)
                    self._since[name] = time.monotonic()
                    threading.Thread(
                        target=self._rebuild, args=(name, version, build), name=f"shared-{name[:40]}", daemon=True
                    ).start()
                return None
        return self.behind(name, version, build)

    def building_for(self, name: str) -> tuple[float, str | None]:
        """Seconds the background build of ``name`` has run, and why the last one failed (None: it did not)."""
        with self._lock:
            since = self._since.get(name)
            return (time.monotonic() - since if since is not None else 0.0), self._failed.get(name)

    def now(self, name: str, version: Hashable, build: Callable[[], T]) -> Shared[T]:
        """The value of ``name`` at exactly ``version``, built here if needed (once, whoever else asks)."""
        with self._lock:
            lock = self._first.setdefault(name, threading.Lock())
        with lock:
            with self._lock:
                held = self._held.get(name)
                if held is not None and held.version == version:
                    self._held.move_to_end(name)
                    return held
            return self._build(name, version, build)

    def _build(self, name: str, version: Hashable, build: Callable[[], T]) -> Shared[T]:
        with self._lock:
            self._seq += 1
            seq = self._seq
        started = time.perf_counter()
        fresh = Shared(version, build())
        seconds = time.perf_counter() - started
        log.debug("%s construido en %.3f s (versión %s)", name, seconds, version)
        with self._lock:
            self.builds += 1
            self._cost[name] = seconds
            if seq < self._stored.get(name, 0):  # a build that started later was kept already
                return fresh
            self._stored[name] = seq
            self._held[name] = fresh
            self._held.move_to_end(name)
            while len(self._held) > self.max_entries:
                dropped, _ = self._held.popitem(last=False)
                self._first.pop(dropped, None)
                self._cost.pop(dropped, None)
                self._stored.pop(dropped, None)
        return fresh

    def _rebuild(self, name: str, version: Hashable, build: Callable[[], Any]) -> None:
        try:
            self._build(name, version, build)
            with self._lock:
                self._failed.pop(name, None)
        except Exception as exc:  # the last value keeps being served; the next look tries again
            log.exception("no se pudo actualizar %s; se sigue mostrando la versión anterior", name)
            with self._lock:
                self._failed[name] = type(exc).__name__
        finally:
            with self._lock:
                self._building.discard(name)
                self._since.pop(name, None)
