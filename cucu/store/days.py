"""Events per POS and day (table ``day_events``): the events of one POS that started on one day, as last
read from cucu or observed by a sweep, with whether the day is complete and verified. Historial reads
them back; a day's stored text is parsed once (``_stored_events``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from cucu.api.models import Event
from cucu.store.base import StoreBase, _batches, _bump, _rows_in
from cucu.store.pos import PosFetch, _stored_event
from cucu.store.schema import day_events


@dataclass(frozen=True)
class DayEvents:
    """The events of one POS that started on one day, as last read from cucu or observed by a sweep.

    ``complete``: the day was over and none was open (it cannot change; never asked again).
    ``verified``: this is cucu's list for the day, read after the day was over; False for today's
    list and for what only the collector's sweeps observed (an event that came and went between two
    sweeps may be missing). Historial's completeness counts verified days.
    """

    pos_id: str
    branch_id: str
    day: date
    fetched_at: datetime
    complete: bool
    events: tuple[Event, ...]
    verified: bool = False

    def __post_init__(self) -> None:
        if self.complete and not self.verified:  # complete implies read after the day
            object.__setattr__(self, "verified", True)


class DayTables(StoreBase):
    """Events per POS and day: the backfill's reads, the sweeps' observations, Historial's queries."""

    def get_days(self, keys: Sequence[tuple[str, date]]) -> dict[tuple[str, date], DayEvents]:
        """Cached days among ``keys`` (pairs of POS id and day)."""
        wanted = set(keys)
        if not wanted:
            return {}
        pos_ids = sorted({p for p, _ in wanted})
        days = sorted({d for _, d in wanted})
        query = sa.select(day_events).where(
            day_events.c.pos_id.in_(pos_ids), day_events.c.day >= days[0], day_events.c.day <= days[-1]
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        found = {}
        for row in rows:
            key = (row.pos_id, row.day)
            if key in wanted:
                found[key] = _day(row)
        return found

    def put_days(self, items: Iterable[DayEvents]) -> int:
        """Write (or replace) each POS-day, in batches: a backfill round or a demo's history is many rows.

        A POS-day whose stored row already says the same (events, completeness, verification) is
        left alone, with the time that copy was first read: the backfill re-reads today's lists
        all day, and a round that learns nothing must not count as a change, or every shared
        Historial read would be rebuilt after every round. Returns the rows written.
        """
        rows = {
            (item.pos_id, item.day): {
                "pos_id": item.pos_id,
                "day": item.day,
                "branch_id": item.branch_id,
                "fetched_at": item.fetched_at,
                "complete": item.complete,
                "verified": item.verified,
                "last_end": max((e.fecha_fin for e in item.events if e.fecha_fin is not None), default=None),
                "events_json": json.dumps([dict(e.raw) for e in item.events], ensure_ascii=False),
            }
            for item in items
        }
        if not rows:
            return 0
        by_day: dict[date, list[str]] = {}
        for pos_id, day in rows:
            by_day.setdefault(day, []).append(pos_id)
        with self.engine.begin() as conn:
            for day, pos_ids in by_day.items():
                query = sa.select(*(day_events.c[name] for name in ("pos_id", "day", *_DAY_CONTENT))).where(
                    day_events.c.day == day
                )
                for row in _rows_in(conn, query, day_events.c.pos_id, list(pos_ids)):  # a copy: the loop edits pos_ids
                    new = rows.get((row.pos_id, row.day))
                    if new is not None and all(new[name] == getattr(row, name) for name in _DAY_CONTENT):
                        del rows[(row.pos_id, row.day)]
                        by_day[day].remove(row.pos_id)
            if not rows:
                return 0
            values = list(rows.values())
            for day, pos_ids in by_day.items():  # one day and a list of POS: the primary key's index serves it
                for chunk in _batches(pos_ids):
                    conn.execute(day_events.delete().where(day_events.c.day == day, day_events.c.pos_id.in_(chunk)))
            for batch in _batches(values):
                conn.execute(day_events.insert(), batch)
            _bump(conn, day_events.name)
        return len(values)

    def observe_events(self, fetches: Iterable[PosFetch]) -> int:
        """Record the active events a sweep saw, in their start day's row; returns the rows written.

        A new event, or a known one that changed, is written with the time it was seen, so its copy
        is the newest; a row that already holds the same copy is left alone (a steady sweep writes
        nothing).
        """
        by_key: dict[tuple[str, date], PosFetch] = {}
        for fetch in fetches:
            if fetch.event is not None and fetch.event.fecha_inicio is not None:
                by_key[(fetch.pos_id, fetch.event.fecha_inicio.date())] = fetch
        if not by_key:
            return 0
        stored = self.get_days(list(by_key))
        changed = []
        for (pos_id, day), fetch in by_key.items():
            event, seen_at = fetch.event, fetch.fetched_at
            assert event is not None
            row = stored.get((pos_id, day))
            if row is None:
                changed.append(DayEvents(pos_id, fetch.branch_id, day, seen_at, False, (event,)))
                continue
            known = next((e for e in row.events if e.id == event.id), None)
            if known is not None and dict(known.raw) == dict(event.raw):
                continue
            others = tuple(e for e in row.events if e.id != event.id)
            changed.append(DayEvents(pos_id, row.branch_id, day, seen_at, False, (*others, event), verified=row.verified))
        self.put_days(changed)
        return len(changed)

    def days_with_events(self, first: date, last: date, *, pos_ids: Collection[str] | None = None) -> list[DayEvents]:
        """Stored days from ``first`` to ``last`` that hold at least one event (of ``pos_ids`` if given)."""
        query = sa.select(day_events).where(
            day_events.c.day >= first, day_events.c.day <= last, day_events.c.events_json != _NO_EVENTS
        )
        if pos_ids is not None:
            query = query.where(day_events.c.pos_id.in_(sorted(pos_ids)))
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [_day(row) for row in rows]

    def days_reaching(
        self, first: date, last: date, when: datetime, *, pos_ids: Collection[str] | None = None
    ) -> list[DayEvents]:
        """Stored days from ``first`` to ``last`` whose events may still run at ``when``: one of them
        ended at or after it, or the day is not complete (an event may be open). Historial reads the
        days before its range with this, for the events that started before it and overlap it."""
        query = sa.select(day_events).where(
            day_events.c.day >= first,
            day_events.c.day <= last,
            day_events.c.events_json != _NO_EVENTS,
            sa.or_(day_events.c.last_end >= when, sa.not_(day_events.c.complete)),
        )
        if pos_ids is not None:
            query = query.where(day_events.c.pos_id.in_(sorted(pos_ids)))
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [_day(row) for row in rows]

    def verified_per_day(self, first: date, last: date, *, pos_ids: Collection[str] | None = None) -> dict[date, int]:
        """How many POS have a verified row, per day from ``first`` to ``last`` (days without one are absent)."""
        return self._verified_by(day_events.c.day, first, last, pos_ids)

    def verified_per_pos(self, first: date, last: date, *, pos_ids: Collection[str] | None = None) -> dict[str, int]:
        """How many days from ``first`` to ``last`` each POS has a verified row for (POS without one are absent)."""
        return self._verified_by(day_events.c.pos_id, first, last, pos_ids)

    def _verified_by(self, key: sa.Column[Any], first: date, last: date, pos_ids: Collection[str] | None) -> dict[Any, int]:
        """Verified rows from ``first`` to ``last`` counted by ``key`` (a day, or a POS)."""
        query = (
            sa.select(key, sa.func.count())
            .where(day_events.c.day >= first, day_events.c.day <= last, day_events.c.verified)
            .group_by(key)
        )
        if pos_ids is not None:
            query = query.where(day_events.c.pos_id.in_(sorted(pos_ids)))
        with self.engine.connect() as conn:
            return {row[0]: int(row[1]) for row in conn.execute(query)}

    def verified_pos(self, day: date) -> set[str]:
        with self.engine.connect() as conn:
            query = sa.select(day_events.c.pos_id).where(day_events.c.day == day, day_events.c.verified)
            return set(conn.execute(query).scalars())

    def days_with_ends_since(self, when: datetime) -> list[DayEvents]:
        """Stored days holding an event that ended at or after ``when``, whatever day it started.

        An event that ended in the last 48 h is stored with its end even when it started long before:
        the collector and the actions read its start day again when it ends.
        """
        query = sa.select(day_events).where(day_events.c.last_end >= when)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [_day(row) for row in rows]


# What a POS-day says; put_days leaves a row alone when these are unchanged (``fetched_at`` is not among them)
_DAY_CONTENT = ("branch_id", "complete", "verified", "events_json")
_NO_EVENTS = "[]"  # how put_days stores a day without events (most days of most POS)


def _day(row: sa.Row[Any]) -> DayEvents:
    return DayEvents(
        pos_id=row.pos_id,
        branch_id=row.branch_id,
        day=row.day,
        fetched_at=row.fetched_at,
        complete=row.complete,
        verified=row.verified,
        events=_stored_events(row.events_json),
    )


# Distinct days' texts kept read (an Event never changes): Historial's shared week is rebuilt whenever a sweep
# changes a day, and parsing every row again (JSON, then each event's checks) was most of a chain's rebuild,
# on the same processor as the pages. Sized for what a chain's rebuilds read over and over (Historial's week,
# the six days Facturas attributes invoices from): 1 000 x 10 POS hold ~19 000 days with events in six days,
# and a cache smaller than that kept nothing (each pass evicted what the next one needed first). A day
# parsed is ~2 KB with its text: ~40 MB at that chain, 150 MB at the very most.
@functools.lru_cache(maxsize=65_536)
def _stored_events(events_json: str) -> tuple[Event, ...]:
    return tuple(e for e in map(_stored_event, json.loads(events_json)) if e is not None)
