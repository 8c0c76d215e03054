"""Events per POS and day, served from the store when the day is complete, else fetched.

A day is *complete* when it is over in La Paz and none of its events is still open: its
events can no longer change, so it is cached for good. Today, and any day with an open
event, is always fetched fresh. Fetches run concurrently with a bounded pool.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime

from cucu.client import CucuClient
from cucu.errors import CucuError
from cucu.lapaz import now_la_paz
from cucu.models import PointOfSale
from cucu.settings import DEFAULT_CONCURRENCY
from cucu.store import DayEvents, Store

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class DayError:
    pos_id: str
    day: date
    message: str


@dataclass
class HistoryResult:
    days: list[DayEvents] = field(default_factory=list)
    errors: list[DayError] = field(default_factory=list)
    fetched: int = 0  # API calls made
    from_cache: int = 0  # days served from the store without a call
    stale: int = 0  # days that failed to fetch and were served from an older cached copy


RELOAD_AFTER_S = 300.0  # a range that includes today (or open events) is read again after this


@dataclass(frozen=True)
class LoadedRange:
    """What Historial loaded for one range and set of POS (``key``), kept in the viewer's session."""

    key: tuple[object, ...]
    result: HistoryResult
    loaded_at: datetime
    monotonic: float  # time.monotonic() when loaded

    def fresh_enough(self, now_monotonic: float | None = None) -> bool:
        """Reuse it: every day came from the store (they cannot change), or it is recent enough."""
        settled = self.result.fetched == 0 and not self.result.errors
        elapsed = (time.monotonic() if now_monotonic is None else now_monotonic) - self.monotonic
        return settled or elapsed < RELOAD_AFTER_S


def load_days(
    client: CucuClient,
    store: Store,
    pos_list: Sequence[PointOfSale],
    days: Iterable[date],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = now_la_paz,
) -> HistoryResult:
    days = sorted(set(days))
    keys = [(pos, day) for pos in pos_list for day in days]
    cached = store.get_days([(pos.id, day) for pos, day in keys])
    result = HistoryResult()
    todo: list[tuple[PointOfSale, date]] = []
    for pos, day in keys:
        hit = cached.get((pos.id, day))
        if hit is not None and hit.complete:
            result.days.append(hit)
            result.from_cache += 1
        else:
            todo.append((pos, day))

    total = len(todo)
    if progress:
        progress(0, total)
    if not todo:
        return result

    fresh: list[DayEvents] = []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, total)), thread_name_prefix="historial") as pool:
        futures = {pool.submit(_fetch_day, client, pos, day, clock): (pos, day) for pos, day in todo}
        for done, future in enumerate(as_completed(futures), start=1):
            pos, day = futures[future]
            try:
                fresh.append(future.result())
            except CucuError as exc:
                result.errors.append(DayError(pos.id, day, exc.message))
                older = cached.get((pos.id, day))
                if older is not None:
                    result.days.append(older)
                    result.stale += 1
            except Exception:  # a malformed event, a bug: record it, keep the rest
                log.exception("historial: error inesperado en %s %s", pos.id, day)
                result.errors.append(DayError(pos.id, day, "Error inesperado al leer los eventos de ese día."))
            if progress:
                progress(done, total)
    result.fetched = len(todo)
    store.put_days(fresh)
    result.days.extend(fresh)
    return result


def _fetch_day(client: CucuClient, pos: PointOfSale, day: date, clock: Callable[[], datetime]) -> DayEvents:
    fetched_at = clock()
    events = tuple(client.list_events(pos.id, pos.branch_id, day))
    complete = day < fetched_at.date() and not any(e.active for e in events)
    return DayEvents(pos.id, pos.branch_id, day, fetched_at, complete, events)
