"""Events per POS and day: read from cucu into the store, and read back from the store for Historial.

Historial never asks cucu: it reads what the store holds (:func:`stored_history`) and says how
complete each day is. The store is filled by the collector: its sweeps record every active event
they see (:meth:`cucu.store.Store.observe_events`), the start day of an event that ended is read
again, and :func:`backfill` reads cucu's list of each completed day, newest first, within a call
budget. A day is *complete* when it is over in La Paz and none of its events is still open: it
cannot change, so it is never read again. Reads run concurrently with a bounded pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from cucu.api.client import CucuClient
from cucu.api.errors import CucuError
from cucu.api.models import Inventory, PointOfSale
from cucu.lapaz import now_la_paz
from cucu.periods import MAX_RANGE_DAYS, date_range, day_bounds
from cucu.settings import Settings
from cucu.store import DayEvents, Store

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)
# How far before a range Historial looks for events still running into it: as many days as the
# backfill keeps (an event that began earlier still is left out).
LOOKBACK_DAYS = MAX_RANGE_DAYS


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


def load_days(
    client: CucuClient,
    store: Store,
    pos_list: Sequence[PointOfSale],
    days: Iterable[date],
    *,
    concurrency: int = Settings.concurrency,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = now_la_paz,
) -> HistoryResult:
    """Every day of ``days`` for every POS of ``pos_list``: complete days from the store, the rest from cucu."""
    days = sorted(set(days))
    return load_pos_days(
        client,
        store,
        [(pos, day) for pos in pos_list for day in days],
        concurrency=concurrency,
        progress=progress,
        clock=clock,
    )


def load_pos_days(
    client: CucuClient,
    store: Store,
    keys: Sequence[tuple[PointOfSale, date]],
    *,
    concurrency: int = Settings.concurrency,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = now_la_paz,
) -> HistoryResult:
    """The given (POS, day) pairs: complete days from the store, the rest read from cucu and stored."""
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
    over = day < fetched_at.date()
    return DayEvents(pos.id, pos.branch_id, day, fetched_at, over and not any(e.active for e in events), events, verified=over)


# ---- the backfill: completed days, newest first, within a budget ----------------------


@dataclass(frozen=True)
class BackfillRound:
    """One round of :func:`backfill`: calls made, how many failed, POS-days still to verify, and
    the POS whose list for today was read (the caller remembers when, for the next round)."""

    fetched: int
    errors: int
    remaining: int  # completed days in the horizon not verified yet, after this round
    listed_today: tuple[str, ...] = ()


TODAY_SHARE = 3  # up to a third of each round re-reads today's lists (short events the sweeps missed)
RELIST_TODAY_AFTER = timedelta(minutes=10)


def backfill(
    client: CucuClient,
    store: Store,
    inventory: Inventory,
    *,
    now: datetime,
    horizon_days: int,
    budget: int | None,
    today_listed: Mapping[str, datetime] | None = None,
    concurrency: int = Settings.concurrency,
    clock: Callable[[], datetime] = now_la_paz,
    stopping: Callable[[], bool] = lambda: False,
) -> BackfillRound:
    """Read from cucu at most ``budget`` (None: all) POS-days, in batches (``stopping`` is asked
    between them, so a collector that stops does not wait for the whole round).

    First today's lists not read in the last ten minutes (``today_listed``: POS id -> when its
    list for today was last read), with up to a third of the budget: the sweeps see every event
    that lasts longer than their interval, the list also those that came and went between two.
    Then the completed days of the ``horizon_days`` before today that the store has not verified,
    newest first (the days a supervisor opens most); then today again with what is left.
    """
    all_pos = inventory.all_pos
    today = now.date()
    listed = {pos_id: at for pos_id, at in (today_listed or {}).items() if at.date() == today}
    due_today = sorted(
        (p for p in all_pos if p.id not in listed or now - listed[p.id] >= RELIST_TODAY_AFTER),
        key=lambda p: listed.get(p.id, datetime.min.replace(tzinfo=now.tzinfo)),
    )
    share = len(due_today) if budget is None else min(len(due_today), -(-budget // TODAY_SHARE))
    todo: list[tuple[PointOfSale, date]] = [(p, today) for p in due_today[:share]]

    first, last = today - timedelta(days=horizon_days), today - timedelta(days=1)
    verified = store.verified_per_day(first, last)
    missing = {day: len(all_pos) - verified.get(day, 0) for day in date_range(first, last)}
    past: list[tuple[PointOfSale, date]] = []
    room = None if budget is None else budget - len(todo)
    for day in sorted((d for d, n in missing.items() if n > 0), reverse=True):
        if room is not None and len(past) >= room:
            break
        done = store.verified_pos(day)
        past.extend((pos, day) for pos in all_pos if pos.id not in done)
    todo += past if room is None else past[:room]
    if budget is not None and len(todo) < budget:
        todo += [(p, today) for p in due_today[share : share + budget - len(todo)]]
    batch = 4 * max(1, concurrency)
    fetched, failed, read = 0, set(), []
    for at in range(0, len(todo), batch):
        if stopping():
            break
        part = todo[at : at + batch]
        result = load_pos_days(client, store, part, concurrency=concurrency, clock=clock)
        fetched += result.fetched
        failed |= {(e.pos_id, e.day) for e in result.errors}
        read += [(p, d) for p, d in part if (p.id, d) not in failed]
    read_past = sum(1 for _, d in read if d != today)
    return BackfillRound(
        fetched,
        len(failed),
        max(0, sum(missing.values()) - read_past),
        tuple(p.id for p, d in read if d == today),
    )


# ---- what Historial reads --------------------------------------------------------------


@dataclass(frozen=True)
class DayCoverage:
    """How much of one completed day the store has verified with cucu, for the POS shown."""

    day: date
    verified: int
    total: int

    @property
    def complete(self) -> bool:
        return self.verified >= self.total


@dataclass(frozen=True)
class StoredHistory:
    """The events Historial shows for a range, and how complete each completed day of it is."""

    days: list[DayEvents]
    coverage: list[DayCoverage]  # each day of the range before today, oldest first
    includes_today: bool
    read_at: datetime
    first: date | None = None  # the range; events of ``days`` outside it are left out by Historial's frame
    last: date | None = None

    @property
    def bounds(self) -> tuple[datetime, datetime] | None:
        """The range as La Paz moments (its first midnight to the one after its last day)."""
        return None if self.first is None or self.last is None else day_bounds(self.first, self.last)

    @property
    def incomplete(self) -> list[DayCoverage]:
        return [c for c in self.coverage if not c.complete]


def stored_history(
    store: Store, inventory: Inventory, pos_ids: Collection[str], first: date, last: date, now: datetime
) -> StoredHistory:
    """From the store alone: the days with events of ``pos_ids`` and each completed day's coverage."""
    selected = None if len(set(pos_ids)) >= len(inventory.all_pos) else pos_ids  # no list of 10 000 ids
    # An event is stored in its start day's row: one that began before the range and runs into it
    # is in an earlier row, found by its end (or its day not being complete, while it may be open).
    before = store.days_reaching(
        first - timedelta(days=LOOKBACK_DAYS), first - timedelta(days=1), day_bounds(first, first)[0], pos_ids=selected
    )
    days = before + store.days_with_events(first, last, pos_ids=selected)
    today = now.date()
    verified = store.verified_per_day(first, min(last, today - timedelta(days=1)), pos_ids=selected)
    total = len(set(pos_ids))
    coverage = [DayCoverage(day, min(total, verified.get(day, 0)), total) for day in date_range(first, last) if day < today]
    return StoredHistory(days, coverage, last >= today, now, first, last)
