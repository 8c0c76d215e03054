"""An in-memory window of connectivity checks for the Conectividad page, topped up incrementally.

Reading 30 days of checks (≈ 86 000 rows) takes the better part of a second; a page that
refreshes every few seconds asks this object instead, which only reads what is new since its
last refresh.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from operator import attrgetter

from cucu.connectivity.checks import ConnectivityCheck


class CheckHistory:
    """The last ``keep`` of checks, oldest first. ``load(since)`` is ``Store.checks_since``.

    Thread-safe: one instance may be shared by every session of a server process. The last
    ``overlap`` is read again on every refresh, so a check written slightly out of order (two
    writers) is not lost.
    """

    def __init__(
        self,
        load: Callable[[datetime], Iterable[ConnectivityCheck]],
        *,
        keep: timedelta = timedelta(days=30),
        overlap: timedelta = timedelta(minutes=5),
    ):
        self._load = load
        self.keep = keep
        self.overlap = overlap
        self._checks: list[ConnectivityCheck] = []
        self._loaded = False
        self._lock = threading.Lock()

    def refresh(self, now: datetime) -> list[ConnectivityCheck]:
        """Every check from ``now - keep`` on, oldest first (a copy: the caller may keep it)."""
        with self._lock:
            start = now - self.keep
            if not self._loaded or not self._checks:
                self._checks = list(self._load(start))
                self._loaded = True
            else:
                since = max(start, self._checks[-1].checked_at - self.overlap)
                fresh = list(self._load(since))
                del self._checks[bisect.bisect_left(self._checks, since, key=attrgetter("checked_at")) :]
                self._checks.extend(fresh)
                del self._checks[: bisect.bisect_left(self._checks, start, key=attrgetter("checked_at"))]
            return list(self._checks)
