"""The one module that runs SQL: connectivity checks, latest POS status, cached events, audit log, leases.

SQLAlchemy Core on a URL (``CUCU_DB`` may be a file path, meaning SQLite, or a database URL
such as ``postgresql+psycopg://...``) so several Streamlit processes can share one PostgreSQL.
The tables and their migrations are in :mod:`cucu.store.schema`; its column type stores times in UTC
and gives them back as aware La Paz datetimes.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cucu.api.models import Cufd, Event, Invoice, InvoiceStatus
from cucu.lapaz import LA_PAZ
from cucu.store.checks import ConnectivityCheck
from cucu.store.schema import (
    MIGRATIONS,
    NaiveDatetimeError,
    UtcDateTime,
    alert_outbox,
    audit_log,
    connectivity_checks,
    data_versions,
    day_events,
    incidents,
    invoices,
    job_runs,
    leases,
    policy_state,
    pos_cufd,
    pos_status,
    schema_version,
)
from cucu.vocabulary import ActionKind, AlertKind, AlertRule, Delivery, ErrorKind, InvoiceState, Outcome, Role

CHECK_RETENTION = timedelta(days=35)  # uptime is shown over 30 days at most
PRUNE_EVERY = 200  # inserts between two retention sweeps

log = logging.getLogger(__name__)


def database_url(value: str) -> str:
    """``CUCU_DB`` as a SQLAlchemy URL: a plain path means a SQLite file."""
    return value if "://" in value else f"sqlite:///{value}"


@dataclass(frozen=True)
class PosStatus:
    """What the collector last learned about one POS."""

    pos_id: str
    branch_id: str
    fetched_at: datetime
    ok_at: datetime | None
    event: Event | None
    error: str | None

    @property
    def stale(self) -> bool:
        """The last attempt failed: what is shown is the last known state (or nothing)."""
        return self.error is not None

    @property
    def known(self) -> bool:
        return self.ok_at is not None


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        return self.expires_at > now


@dataclass(frozen=True)
class PosFetch:
    """One collector answer for one POS: ``error`` set means the call failed."""

    pos_id: str
    branch_id: str
    fetched_at: datetime
    event: Event | None = None
    error: str | None = None


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


@dataclass(frozen=True)
class CufdFetch:
    """One read of a POS's active CUFD: ``cufd`` None with no ``error`` means cucu has none for it."""

    pos_id: str
    branch_id: str
    fetched_at: datetime
    cufd: Cufd | None = None
    error: str | None = None


@dataclass(frozen=True)
class StoredCufd:
    """A POS's CUFD as last read: ``cufd`` from the last answer (``ok_at``), ``error`` from the last attempt."""

    pos_id: str
    branch_id: str
    fetched_at: datetime
    ok_at: datetime | None
    cufd: Cufd | None
    error: str | None


@dataclass(frozen=True)
class StoredInvoice:
    """An invoice as the list and the last status call left it."""

    id: str
    invoice_number: str | None
    cuf: str | None
    pos_id: str | None
    state: InvoiceState | str
    client_name: str | None
    amount_total: float | None
    emission_date: datetime | None
    listed_at: datetime
    status_at: datetime | None = None
    siat_code: int | None = None
    siat_description: str | None = None
    emission_type: str | None = None
    status_error: str | None = None


@dataclass(frozen=True)
class JobRun:
    """A collector job's last round: ``error`` None when it succeeded (``ok_at`` is the last success)."""

    name: str
    ran_at: datetime
    ok_at: datetime | None
    error: str | None
    notes: JobNotes = dataclasses.field(default_factory=lambda: JobNotes())
    passed_at: datetime | None = None  # the last full pass over the window; None: never, what was read is partial
    pass_pages: int = 0  # pages read so far in the pass under way


@dataclass(frozen=True)
class JobNotes:
    """What the invoice walk left out of the store (rows of cucu's list it did not keep as invoices)."""

    future: int = 0  # emission date later than now: set aside
    undated: int = 0  # no emission date: set aside
    over_cap: int = 0  # new open invoices not stored: the store held its maximum


@dataclass(frozen=True)
class StatusRead:
    """One status call's outcome for an invoice: its answer, or the error."""

    invoice_id: str
    read_at: datetime
    status: InvoiceStatus | None = None
    error: str | None = None


class ActionInProgress(Exception):
    """Another start or end for this POS is in flight (this or another session or process)."""


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """A start or end attempt as the audit log records it before the call (``outcome`` pending), or
    already decided (skipped, refused, duplicate) when nothing is sent."""

    requested_at: datetime
    actor: str
    actor_name: str | None
    role: Role | None
    action: ActionKind
    branch_id: str
    pos_id: str
    motive: int | None = None
    description: str | None = None
    event_id: str | None = None
    outcome: Outcome = Outcome.PENDING
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """An audit row as read back: the attempt, its id, and when it was completed.

    Its stored vocabulary is read leniently: a value this version does not know (written by a newer
    process, or by hand) comes back as the raw string instead of the member, so one odd row cannot
    keep the whole log from being read (``cucu.vocabulary.stored_label`` shows it marked unknown).
    """

    id: int
    requested_at: datetime
    completed_at: datetime | None
    actor: str
    actor_name: str | None
    role: Role | str | None
    action: ActionKind | str
    branch_id: str
    pos_id: str
    motive: int | None
    description: str | None
    event_id: str | None
    outcome: Outcome | str
    message: str | None


AUDIT_PAGE_SIZE = 200  # Bitácora's rows per page: a few screens on a tablet, one quick query
AUDIT_CHUNK = 5000  # rows per query when every row of a filter is read (the CSV)


def page_count(total: int, size: int = AUDIT_PAGE_SIZE) -> int:
    """Pages of ``size`` rows that ``total`` rows fill; at least one (an empty filter still has its page)."""
    return max(1, -(-total // size))


@dataclass(frozen=True, kw_only=True)
class AuditFilter:
    """Which attempts Bitácora shows: requested in ``[since, until)``, and in each non-empty list (empty means all)."""

    since: datetime | None = None
    until: datetime | None = None
    branch_ids: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Incident:
    """A condition an alert rule found, open until the rule no longer holds (see cucu/alerts.py)."""

    id: int
    key: str
    rule: AlertRule | str  # a str: written by a newer version (read leniently)
    branch_id: str | None
    opened_at: datetime
    notified_at: datetime  # its last message (opening or reminder)
    reminders: int
    closed_at: datetime | None
    title: str
    body: str


@dataclass(frozen=True)
class OutboxMessage:
    """One message to one channel, as the decision writes it to the outbox."""

    kind: AlertKind
    channel: str  # the channel's fingerprint
    channel_label: str  # its URL with the secrets masked
    title: str
    body: str


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    incident_id: int | None
    kind: AlertKind | str
    channel: str
    channel_label: str
    title: str
    body: str
    created_at: datetime
    due_at: datetime
    attempts: int
    delivered_at: datetime | None
    gave_up_at: datetime | None
    last_error: str | None

    @property
    def delivery(self) -> Delivery:
        if self.delivered_at is not None:
            return Delivery.DELIVERED
        return Delivery.GAVE_UP if self.gave_up_at is not None else Delivery.WAITING


CLOCK_RESYNC_S = 10.0  # how often ``Store.now`` reads the database's clock again


class Store:
    def __init__(self, db: str, *, clock: Callable[[], datetime] | None = None):
        """``clock`` stands in for the database's clock (tests: a skewed or stepped database)."""
        self.url = database_url(db)
        self.engine: Engine = _make_engine(self.url)
        self._inserts = 0
        self._lock = threading.Lock()
        self._clock = clock
        self._clock_base: tuple[datetime, float] | None = None  # (database time, monotonic) at the last read
        self._clock_lock = threading.Lock()
        self._clock_retry_at = 0.0  # monotonic: after a failed read, when to try the database again
        self.migrate()

    def close(self) -> None:
        self.engine.dispose()

    def db_now(self) -> datetime:
        """The database's clock (UTC, aware): the one clock every process sharing it agrees on.

        Leases and the age of open attempts are measured with it, never with a process's own clock.
        """
        if self._clock is not None:
            return self._clock().astimezone(UTC)
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "sqlite":
                text = conn.execute(sa.text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
                return datetime.fromisoformat(text).replace(tzinfo=UTC)
            value: datetime = conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def now(self) -> datetime:
        """The one clock of every process (La Paz time): the database's, read at most every
        ``CLOCK_RESYNC_S`` and carried forward on the monotonic clock in between.

        Every time written to the store and every comparison with one uses it, so a process whose
        own clock is ahead, behind or stepped neither reorders checks, nor acts early, nor forgets
        what it did (a sweep of 10 000 POS stamps each fetch without 10 000 queries). It never
        raises: while the database cannot be read, the last reading goes on (the process's clock
        before any), so the threads that need a time to say the database failed still get one.
        """
        if self._clock is not None:
            return self._clock().astimezone(LA_PAZ)
        base, mono = self._clock_base, time.monotonic()
        if base is None or (mono - base[1] >= CLOCK_RESYNC_S and mono >= self._clock_retry_at):
            base = self._resync_clock(base)
        return (base[0] + timedelta(seconds=time.monotonic() - base[1])).astimezone(LA_PAZ)

    def _resync_clock(self, seen: tuple[datetime, float] | None) -> tuple[datetime, float]:
        with self._clock_lock:  # one reader at a time: 32 sweep workers do not all query at once
            base = self._clock_base
            if base is not seen and base is not None:
                return base  # another thread read it meanwhile
            before = time.monotonic()
            try:
                db_time = self.db_now()
            except Exception:
                self._clock_retry_at = time.monotonic() + CLOCK_RESYNC_S  # not a query per call while it fails
                if base is None:
                    log.warning("reloj: no se pudo leer la hora de la base de datos; se usa la del proceso", exc_info=True)
                    base = (datetime.now(UTC), time.monotonic())
                    self._clock_base = base
                    return base
                log.warning("reloj: no se pudo leer la hora de la base de datos; sigue la última lectura", exc_info=True)
                return base
            # The database read its clock somewhere within the query: pair it with the middle.
            base = (db_time, (before + time.monotonic()) / 2)
            self._clock_base = base
            return base

    # ---- schema --------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version.

        Processes starting together (the collector service and a web replica) may race: the loser's
        CREATE fails, and it finds the schema already up to date on its second look.
        """
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                return self._migrate_once()
            except sa.exc.DBAPIError:
                if self.version() >= MIGRATIONS[-1][0]:
                    return self.version()  # another process migrated meanwhile
                if attempt == attempts:
                    raise
                time.sleep(0.2 * attempt)
        raise AssertionError("unreachable")

    def _migrate_once(self) -> int:
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # one migrating process at a time, until commit
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('contingencia-migrations'))"))
            schema_version.create(conn, checkfirst=True)
            current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
            for version, step in MIGRATIONS:
                if version > current:
                    step(conn)
                    conn.execute(schema_version.insert().values(version=version))
                    current = version
        return current

    def version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0

    def data_version(self, *tables: str) -> tuple[int, ...]:
        """The write counters of ``tables`` (see ``cucu.store.schema.VERSIONED``): equal means nothing was written."""
        with self.engine.connect() as conn:
            found: dict[str, int] = dict(conn.execute(sa.select(data_versions.c.name, data_versions.c.version)).all())
        return tuple(int(found.get(t, 0)) for t in tables)

    # ---- connectivity ----------------------------------------------------------------

    def add_check(self, check: ConnectivityCheck) -> None:
        self.add_checks([check])
        with self._lock:
            self._inserts += 1
            prune = self._inserts % PRUNE_EVERY == 1
        if prune:
            self.prune_checks(check.checked_at - CHECK_RETENTION)

    def add_checks(self, checks: Iterable[ConnectivityCheck]) -> None:
        """Insert many checks in one transaction (no retention sweep)."""
        rows = [
            {
                "checked_at": c.checked_at,
                "siat_ok": c.siat_ok,
                "latency_ms": c.latency_ms,
                "error": c.error,
                "error_kind": c.error_kind,
                "on_request": c.on_request,
            }
            for c in checks
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(connectivity_checks.insert(), rows)
                _bump(conn, connectivity_checks.name)

    def prune_checks(self, before: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(connectivity_checks.delete().where(connectivity_checks.c.checked_at < before)).rowcount

    def checks_since(self, since: datetime) -> list[ConnectivityCheck]:
        """Checks at or after ``since``, oldest first."""
        query = (
            sa.select(connectivity_checks)
            .where(connectivity_checks.c.checked_at >= since)
            # A history for charts and uptime, by time (the rules read recent_checks, by id).
            .order_by(connectivity_checks.c.checked_at, connectivity_checks.c.id)
        )
        with self.engine.connect() as conn:
            return [_check(row) for row in conn.execute(query)]

    def recent_checks(self, limit: int) -> list[ConnectivityCheck]:
        """The last ``limit`` checks in the order they were made (by id, so a clock step cannot reorder
        them): what every rule reads (SIAT down, the policy's streak, the alerts)."""
        query = sa.select(connectivity_checks).order_by(connectivity_checks.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [_check(row) for row in reversed(rows)]

    def checks_before(self, before_id: int, limit: int) -> list[ConnectivityCheck]:
        """The ``limit`` checks made just before the one with ``before_id``, in the order they were made."""
        query = (
            sa.select(connectivity_checks)
            .where(connectivity_checks.c.id < before_id)
            .order_by(connectivity_checks.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [_check(row) for row in reversed(rows)]

    def latest_check(self) -> ConnectivityCheck | None:
        checks = self.recent_checks(1)
        return checks[0] if checks else None

    # ---- POS status --------------------------------------------------------------------

    def save_pos_fetches(self, fetches: Iterable[PosFetch]) -> None:
        """Record a sweep. A failed fetch keeps the last known event and ``ok_at``, and sets ``error``.

        In three statements whatever the size (a chain's sweep is 10 000 rows): new POS are inserted,
        answered and failed ones are updated each with one executemany.
        """
        fetches = list({f.pos_id: f for f in fetches}.values())
        if not fetches:
            return
        with self.engine.begin() as conn:
            existing: set[str] = set()
            ids = [f.pos_id for f in fetches]
            for at in range(0, len(ids), _BATCH):
                query = sa.select(pos_status.c.pos_id).where(pos_status.c.pos_id.in_(ids[at : at + _BATCH]))
                existing.update(conn.execute(query).scalars())
            new = [f for f in fetches if f.pos_id not in existing]
            if new:
                conn.execute(
                    pos_status.insert(),
                    [
                        {
                            "pos_id": f.pos_id,
                            "branch_id": f.branch_id,
                            "fetched_at": f.fetched_at,
                            "error": f.error,
                            "ok_at": f.fetched_at if f.error is None else None,
                            "event_json": _event_json(f.event) if f.error is None and f.event else None,
                        }
                        for f in new
                    ],
                )
            answered = [f for f in fetches if f.pos_id in existing and f.error is None]
            failed = [f for f in fetches if f.pos_id in existing and f.error is not None]
            key = pos_status.c.pos_id == sa.bindparam("key")
            if answered:
                conn.execute(
                    pos_status.update()
                    .where(key)
                    .values(
                        branch_id=sa.bindparam("branch"),
                        fetched_at=sa.bindparam("at"),
                        ok_at=sa.bindparam("at"),
                        error=None,
                        event_json=sa.bindparam("event"),
                    ),
                    [
                        {
                            "key": f.pos_id,
                            "branch": f.branch_id,
                            "at": f.fetched_at,
                            "event": _event_json(f.event) if f.event else None,
                        }
                        for f in answered
                    ],
                )
            if failed:
                conn.execute(
                    pos_status.update()
                    .where(key)
                    .values(branch_id=sa.bindparam("branch"), fetched_at=sa.bindparam("at"), error=sa.bindparam("error")),
                    [{"key": f.pos_id, "branch": f.branch_id, "at": f.fetched_at, "error": f.error} for f in failed],
                )
            _bump(conn, pos_status.name)

    def pos_statuses(self) -> dict[str, PosStatus]:
        with self.engine.connect() as conn:
            rows = list(conn.execute(sa.select(pos_status)))
        return {
            row.pos_id: PosStatus(
                pos_id=row.pos_id,
                branch_id=row.branch_id,
                fetched_at=row.fetched_at,
                ok_at=row.ok_at,
                event=_stored_event(row.event_json) if row.event_json else None,
                error=row.error,
            )
            for row in rows
        }

    # ---- events per POS and day ----------------------------------------------------

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
                for at in range(0, len(pos_ids), _BATCH):
                    chunk = pos_ids[at : at + _BATCH]
                    stored = conn.execute(
                        sa.select(*(day_events.c[name] for name in ("pos_id", "day", *_DAY_CONTENT))).where(
                            day_events.c.day == day, day_events.c.pos_id.in_(chunk)
                        )
                    )
                    for row in stored:
                        new = rows.get((row.pos_id, row.day))
                        if new is not None and all(new[name] == getattr(row, name) for name in _DAY_CONTENT):
                            del rows[(row.pos_id, row.day)]
                            by_day[day].remove(row.pos_id)
            if not rows:
                return 0
            values = list(rows.values())
            for day, pos_ids in by_day.items():  # one day and a list of POS: the primary key's index serves it
                for at in range(0, len(pos_ids), _BATCH):
                    chunk = pos_ids[at : at + _BATCH]
                    if chunk:
                        conn.execute(day_events.delete().where(day_events.c.day == day, day_events.c.pos_id.in_(chunk)))
            for at in range(0, len(values), _BATCH):
                conn.execute(day_events.insert(), values[at : at + _BATCH])
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
        query = (
            sa.select(day_events.c.day, sa.func.count())
            .where(day_events.c.day >= first, day_events.c.day <= last, day_events.c.verified)
            .group_by(day_events.c.day)
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

    # ---- leases ------------------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, now: datetime | None, ttl: timedelta) -> bool:
        """Take or renew ``name`` for ``holder`` until ``now + ttl``; False while another holds it.

        ``now`` None (what the collector passes) is the database's clock: processes on machines
        whose clocks disagree still agree on when a lease lapses.

        One conditional UPDATE (ours, or lapsed) or, when there is no row, one INSERT: atomic in
        SQLite and PostgreSQL, so two processes never both believe they hold it. A standby finds
        the row held and writes nothing.
        """
        now = now or self.db_now()
        until = now + ttl
        with self.engine.begin() as conn:
            renewed = conn.execute(
                leases.update()
                .where(leases.c.name == name, sa.or_(leases.c.holder == holder, leases.c.expires_at <= now))
                .values(
                    holder=holder,
                    renewed_at=now,
                    expires_at=until,
                    acquired_at=sa.case((leases.c.holder == holder, leases.c.acquired_at), else_=sa.literal(now, UtcDateTime())),
                )
            ).rowcount
            if renewed:
                return True
            if conn.execute(sa.select(leases.c.name).where(leases.c.name == name)).first() is not None:
                return False  # held, and live
        try:
            with self.engine.begin() as conn:
                conn.execute(leases.insert().values(name=name, holder=holder, acquired_at=now, renewed_at=now, expires_at=until))
            return True
        except sa.exc.IntegrityError:  # someone else holds it (or took it a moment ago)
            return False

    def release_lease(self, name: str, holder: str) -> None:
        """Give ``name`` up at once (a clean stop), so a standby need not wait for it to lapse."""
        with self.engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))

    def lease_live(self, name: str) -> bool:
        """Whether someone holds ``name`` now, by the database's clock."""
        lease = self.lease(name)
        return lease is not None and lease.live(self.db_now())

    def lease(self, name: str) -> Lease | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(leases).where(leases.c.name == name)).first()
        if row is None:
            return None
        return Lease(row.name, row.holder, row.acquired_at, row.renewed_at, row.expires_at)

    # ---- audit log ----------------------------------------------------------------------

    def audit_begin(self, attempt: Attempt) -> int:
        """Write an attempt before the call. Raises ``ActionInProgress`` if one is open for the POS.

        A pending attempt is stamped with the database's clock, whatever ``requested_at`` says: its
        age decides when another process may hand it over (:meth:`age_open_attempts`).
        """
        values: dict[str, Any] = {f.name: getattr(attempt, f.name) for f in dataclasses.fields(Attempt)}
        if attempt.outcome == Outcome.PENDING:
            values["requested_at"] = self.db_now()
        else:  # a decided attempt (skipped, refused): complete at once
            values["completed_at"] = attempt.requested_at
        try:
            with self.engine.begin() as conn:
                key = conn.execute(audit_log.insert().values(**values)).inserted_primary_key
                return int(key[0]) if key is not None else _no_key()
        except sa.exc.IntegrityError:
            raise ActionInProgress(attempt.pos_id) from None

    def audit_finish(
        self,
        entry_id: int,
        *,
        completed_at: datetime | None,
        outcome: Outcome,
        event_id: str | None = None,
        message: str | None = None,
    ) -> None:
        """Complete an attempt after the call (``completed_at`` None: it stays open, under verification)."""
        values = {"completed_at": completed_at, "outcome": outcome, "message": message}
        if event_id is not None:
            values["event_id"] = event_id
        with self.engine.begin() as conn:
            conn.execute(audit_log.update().where(audit_log.c.id == entry_id).values(**values))

    def audit_settle(
        self,
        entry_id: int,
        *,
        outcome: Outcome,
        message: str,
        event_id: str | None = None,
        completed_at: datetime | None = None,
        was: Outcome = Outcome.VERIFYING,
    ) -> bool:
        """Settle an attempt under verification (or given up, ``was``), once: False when another
        process already did."""
        values: dict[str, Any] = {"outcome": outcome, "message": message, "completed_at": completed_at or self.db_now()}
        if event_id is not None:
            values["event_id"] = event_id
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    audit_log.update().where(audit_log.c.id == entry_id, audit_log.c.outcome == was).values(**values)
                ).rowcount
            )

    def age_open_attempts(
        self, *, pending_after: timedelta, verify_for: timedelta, pending_message: str, given_up_message: str
    ) -> tuple[int, int]:
        """Hand over open attempts by their age on the database's clock; returns (handed over, given up).

        A 'pendiente' attempt older than ``pending_after`` was cut off mid-call (its process died):
        it goes to 'verificando', for the collector to settle with what cucu shows. One still
        unsettled ``verify_for`` after it was requested becomes 'incierto' and frees its POS.
        """
        now = self.db_now()
        with self.engine.begin() as conn:
            handed = conn.execute(
                audit_log.update()
                .where(audit_log.c.outcome == Outcome.PENDING, audit_log.c.requested_at < now - pending_after)
                .values(outcome=Outcome.VERIFYING, message=pending_message)
            ).rowcount
            given_up = conn.execute(
                audit_log.update()
                .where(audit_log.c.outcome == Outcome.VERIFYING, audit_log.c.requested_at < now - verify_for)
                .values(outcome=Outcome.UNCERTAIN, message=given_up_message, completed_at=now)
            ).rowcount
        return handed, given_up

    def open_attempts(self, outcome: Outcome = Outcome.VERIFYING) -> list[AuditEntry]:
        """Attempts still open with ``outcome``, oldest first."""
        query = sa.select(audit_log).where(audit_log.c.outcome == outcome).order_by(audit_log.c.id)
        with self.engine.connect() as conn:
            return [_audit_entry(r) for r in conn.execute(query)]

    def audit_rows(self, ids: Collection[int]) -> dict[int, AuditEntry]:
        """The audit rows with these ids (the results of one action, re-read while they settle)."""
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = list(conn.execute(sa.select(audit_log).where(audit_log.c.id.in_(list(ids)))))
        return {r.id: _audit_entry(r) for r in rows}

    def audit_count(self, where: AuditFilter = AuditFilter()) -> int:
        """How many attempts match ``where`` (an index range scan: see ``cucu.store.schema.audit_newest_first``)."""
        query = sa.select(sa.func.count()).select_from(audit_log).where(*_audit_conditions(where))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def audit_page(self, where: AuditFilter = AuditFilter(), *, page: int = 1, size: int = AUDIT_PAGE_SIZE) -> list[AuditEntry]:
        """Page ``page`` (from 1) of ``size`` attempts matching ``where``, newest first; a page past the end is empty.

        The OFFSET is taken over ids alone (the index holds them), and only the page's rows are read
        whole: a deep page skips index entries, not table rows.
        """
        if page < 1 or size < 1:
            return []
        ids = (
            sa.select(audit_log.c.id)
            .where(*_audit_conditions(where))
            .order_by(*_NEWEST_FIRST)
            .limit(size)
            .offset((page - 1) * size)
            .subquery("page_ids")
        )
        query = sa.select(audit_log).join(ids, audit_log.c.id == ids.c.id)
        with self.engine.connect() as conn:
            entries = [_audit_entry(row) for row in conn.execute(query)]
        return sorted(entries, key=lambda e: (e.requested_at, e.id), reverse=True)  # the page's rows only

    def audit_chunks(self, where: AuditFilter = AuditFilter(), *, size: int = AUDIT_CHUNK) -> Iterator[list[AuditEntry]]:
        """Every attempt matching ``where``, newest first, ``size`` at a time (for a CSV of any length).

        Each chunk is one short query that continues after the last row of the one before (keyset on
        the newest-first order), so no transaction stays open between chunks and an attempt written
        meanwhile (always newer) is neither repeated nor makes a row be skipped.
        """
        after: tuple[datetime, int] | None = None
        while True:
            query = sa.select(audit_log).where(*_audit_conditions(where)).order_by(*_NEWEST_FIRST).limit(size)
            if after is not None:
                query = query.where(_after(*after))
            with self.engine.connect() as conn:
                chunk = [_audit_entry(row) for row in conn.execute(query)]
            if chunk:
                yield chunk
            if len(chunk) < size:
                return
            after = (chunk[-1].requested_at, chunk[-1].id)

    def audit_entries(self, where: AuditFilter = AuditFilter()) -> list[AuditEntry]:
        """Every attempt matching ``where``, newest first (a short log, or a test's)."""
        return [entry for chunk in self.audit_chunks(where) for entry in chunk]

    def audit_actors(self) -> list[str]:
        """Everyone in the log, sorted: one index seek per person (a DISTINCT would read every row, on every
        load of Bitácora), the next name after the last one found, until there is none."""
        found = sa.select(sa.func.min(audit_log.c.actor).label("actor")).cte("actors", recursive=True)
        after = sa.select(sa.func.min(audit_log.c.actor)).where(audit_log.c.actor > found.c.actor).scalar_subquery()
        found = found.union_all(sa.select(after).where(found.c.actor.is_not(None)))
        with self.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(sa.select(found.c.actor).where(found.c.actor.is_not(None))))

    # ---- alerts: incidents and the outbox -------------------------------------------------

    def open_incidents(self) -> list[Incident]:
        query = sa.select(incidents).where(incidents.c.closed_at.is_(None)).order_by(incidents.c.opened_at, incidents.c.id)
        with self.engine.connect() as conn:
            return [_incident(row) for row in conn.execute(query)]

    def open_incident_count(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(incidents).where(incidents.c.closed_at.is_(None))
                ).scalar_one()
            )

    def recent_incidents(self, limit: int) -> list[Incident]:
        """The last ``limit`` incidents opened, open or closed, newest first."""
        query = sa.select(incidents).order_by(incidents.c.opened_at.desc(), incidents.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_incident(row) for row in conn.execute(query)]

    def incident_open(
        self,
        *,
        key: str,
        rule: AlertRule,
        branch_id: str | None,
        opened_at: datetime,
        now: datetime,
        title: str,
        body: str,
        messages: Sequence[OutboxMessage],
    ) -> int | None:
        """Open an incident and queue its messages, in one transaction; None when one is already open
        under ``key`` (another process decided it first: the database refuses a second)."""
        queued_at = self.db_now()
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    incidents.insert().values(
                        key=key,
                        rule=rule,
                        branch_id=branch_id,
                        opened_at=opened_at,
                        notified_at=now,
                        reminders=0,
                        title=title,
                        body=body,
                    )
                ).inserted_primary_key
                incident_id = int(row[0]) if row is not None else _no_key()
                _queue(conn, incident_id, messages, queued_at)
                return incident_id
        except sa.exc.IntegrityError:
            return None

    def incident_remind(
        self, incident: Incident, *, now: datetime, title: str, body: str, messages: Sequence[OutboxMessage]
    ) -> bool:
        """Record a reminder and queue it, once: False when the incident moved on meanwhile (closed, or
        reminded by another process)."""
        queued_at = self.db_now()
        with self.engine.begin() as conn:
            done = conn.execute(
                incidents.update()
                .where(
                    incidents.c.id == incident.id, incidents.c.closed_at.is_(None), incidents.c.reminders == incident.reminders
                )
                .values(notified_at=now, reminders=incident.reminders + 1, title=title, body=body)
            ).rowcount
            if done:
                _queue(conn, incident.id, messages, queued_at)
            return bool(done)

    def incident_update(self, incident: Incident, *, title: str, body: str) -> bool:
        """Bring an open incident's text to its condition's current figure, with no message (a reminder
        carries it when due): False when it is closed meanwhile or already says so."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    incidents.update()
                    .where(
                        incidents.c.id == incident.id,
                        incidents.c.closed_at.is_(None),
                        sa.or_(incidents.c.title != title, incidents.c.body != body),
                    )
                    .values(title=title, body=body)
                ).rowcount
            )

    def incident_close(
        self, incident_id: int, *, now: datetime, title: str, body: str, messages: Sequence[OutboxMessage]
    ) -> bool:
        """Close an incident and queue its recovery message, once: False when it was already closed."""
        queued_at = self.db_now()
        with self.engine.begin() as conn:
            done = conn.execute(
                incidents.update()
                .where(incidents.c.id == incident_id, incidents.c.closed_at.is_(None))
                .values(closed_at=now, title=title, body=body)
            ).rowcount
            if done:
                _queue(conn, incident_id, messages, queued_at)
            return bool(done)

    def outbox_add(self, messages: Sequence[OutboxMessage], now: datetime) -> None:
        """Queue messages that belong to no incident (a supervisor's test)."""
        queued_at = self.db_now()
        with self.engine.begin() as conn:
            _queue(conn, None, messages, queued_at)

    def outbox_claim(
        self,
        holder: str,
        *,
        for_: timedelta,
        limit: int,
        channels: Collection[str] | None = None,
        other_than: Collection[str] = (),
        after_id: int | None = None,
    ) -> list[OutboxEntry]:
        """Take up to ``limit`` messages that are due and nobody else is sending, for ``for_`` by the
        database's clock: a sender that dies mid-send leaves them to the next one when it lapses.
        ``channels``: only these fingerprints; ``other_than``: none of these; ``after_id``: rows after it only."""
        now = self.db_now()
        free = sa.or_(alert_outbox.c.claimed_until.is_(None), alert_outbox.c.claimed_until < now)
        waiting = sa.and_(alert_outbox.c.delivered_at.is_(None), alert_outbox.c.gave_up_at.is_(None))
        which: list[sa.ColumnElement[bool]] = []
        if channels is not None:
            which.append(alert_outbox.c.channel.in_(list(channels)))
        if other_than:
            which.append(alert_outbox.c.channel.not_in(list(other_than)))
        if after_id is not None:
            which.append(alert_outbox.c.id > after_id)
        with self.engine.begin() as conn:
            ids = list(
                conn.execute(
                    sa.select(alert_outbox.c.id)
                    .where(waiting, alert_outbox.c.due_at <= now, free, *which)
                    .order_by(alert_outbox.c.due_at, alert_outbox.c.id)
                    .limit(limit)
                ).scalars()
            )
            if not ids:
                return []
            until = now + for_
            conn.execute(
                alert_outbox.update()
                .where(alert_outbox.c.id.in_(ids), waiting, free)  # again: another sender may have won a row
                .values(claimed_by=holder, claimed_until=until)
            )
            rows = conn.execute(
                sa.select(alert_outbox)
                .where(alert_outbox.c.id.in_(ids), alert_outbox.c.claimed_by == holder, alert_outbox.c.claimed_until == until)
                .order_by(alert_outbox.c.id)
            )
            return [_outbox(row) for row in rows]

    def outbox_delivered(self, entry_id: int, holder: str) -> bool:
        return self._outbox_settle(entry_id, holder, delivered_at=self.db_now(), attempts=alert_outbox.c.attempts + 1)

    def outbox_retry(self, entry_id: int, holder: str, *, after: timedelta, error: str) -> bool:
        return self._outbox_settle(
            entry_id, holder, due_at=self.db_now() + after, attempts=alert_outbox.c.attempts + 1, last_error=error
        )

    def outbox_give_up(self, entry_id: int, holder: str, *, error: str) -> bool:
        return self._outbox_settle(
            entry_id, holder, gave_up_at=self.db_now(), attempts=alert_outbox.c.attempts + 1, last_error=error
        )

    def _outbox_settle(self, entry_id: int, holder: str, **values: Any) -> bool:
        """Only the holder of the claim writes the outcome of its attempt (False: the claim lapsed and
        another sender took the row)."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    alert_outbox.update()
                    .where(alert_outbox.c.id == entry_id, alert_outbox.c.claimed_by == holder)
                    .values(claimed_by=None, claimed_until=None, **values)
                ).rowcount
            )

    def outbox_relabel(self, label: Callable[[str, str], str], rekey: Mapping[str, tuple[str, str]] = {}) -> int:
        """Move the rows of each fingerprint in ``rekey`` to its new (fingerprint, label), then rewrite every
        other stored label as ``label(label, fingerprint)`` says; returns the rows changed."""
        changed = 0
        with self.engine.begin() as conn:
            for old_key, (key, key_label) in rekey.items():
                changed += conn.execute(
                    alert_outbox.update().where(alert_outbox.c.channel == old_key).values(channel=key, channel_label=key_label)
                ).rowcount
            pairs = conn.execute(sa.select(alert_outbox.c.channel_label, alert_outbox.c.channel).distinct()).all()
            for old, fingerprint in pairs:
                new = label(old, fingerprint)
                if new != old:
                    changed += conn.execute(
                        alert_outbox.update()
                        .where(alert_outbox.c.channel_label == old, alert_outbox.c.channel == fingerprint)
                        .values(channel_label=new)
                    ).rowcount
        return changed

    def outbox_entries(self, limit: int, *, incident_id: int | None = None) -> list[OutboxEntry]:
        """The last ``limit`` messages queued (of one incident), newest first."""
        query = sa.select(alert_outbox).order_by(alert_outbox.c.created_at.desc(), alert_outbox.c.id.desc()).limit(limit)
        if incident_id is not None:
            query = query.where(alert_outbox.c.incident_id == incident_id)
        with self.engine.connect() as conn:
            return [_outbox(row) for row in conn.execute(query)]

    # ---- the automatic policy's pause ---------------------------------------------------------

    def policy_paused_by(self) -> str | None:
        """Who paused the automatic policy, or None while it runs."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(policy_state).where(policy_state.c.name == _POLICY)).first()
        return (row.changed_by or "?") if row is not None and row.paused else None

    def set_policy_paused(self, paused: bool, attempt: Attempt) -> None:
        """Pause or resume the policy and audit it (``attempt``: who, decided) in one transaction."""
        with self.engine.begin() as conn:
            row = {f.name: getattr(attempt, f.name) for f in dataclasses.fields(Attempt)}
            inserted = conn.execute(audit_log.insert().values(**row, completed_at=attempt.requested_at)).inserted_primary_key
            values = {
                "paused": paused,
                "changed_by": attempt.actor_name or attempt.actor,
                "changed_at": attempt.requested_at,
                "audit_id": int(inserted[0]) if inserted is not None else _no_key(),
            }
            if conn.execute(policy_state.update().where(policy_state.c.name == _POLICY).values(**values)).rowcount == 0:
                conn.execute(policy_state.insert().values(name=_POLICY, **values))

    def policy_resumed_after(self) -> int:
        """The audit id of the last "Reanudar política" (0: never resumed): the policy counts its
        refusals after it."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(policy_state).where(policy_state.c.name == _POLICY)).first()
        return int(row.audit_id or 0) if row is not None and not row.paused else 0

    # ---- helpers ------------------------------------------------------------------------

    # ---- CUFD per POS and invoices (cucu/invoicing.py) -------------------------------

    def save_cufds(self, fetches: Iterable[CufdFetch]) -> int:
        """Record CUFD reads; a failed one keeps the last answer and sets ``error``. Returns the rows whose
        content changed (the counter moves only then: a read that finds the same CUFD is not a change)."""
        fetches = list({f.pos_id: f for f in fetches}.values())
        if not fetches:
            return 0
        changed = 0
        with self.engine.begin() as conn:
            old: dict[str, sa.Row[Any]] = {}
            ids = [f.pos_id for f in fetches]
            for at in range(0, len(ids), _BATCH):
                query = sa.select(pos_cufd).where(pos_cufd.c.pos_id.in_(ids[at : at + _BATCH]))
                old.update((row.pos_id, row) for row in conn.execute(query))
            inserts, updates = [], []
            for f in fetches:
                row = old.get(f.pos_id)
                values: dict[str, Any] = {"branch_id": f.branch_id, "fetched_at": f.fetched_at, "error": f.error}
                if f.error is None:
                    values |= {
                        "ok_at": f.fetched_at,
                        "cufd": f.cufd.cufd if f.cufd else None,
                        "vigencia": f.cufd.vigencia if f.cufd else None,
                        "activo": f.cufd.activo if f.cufd else None,
                    }
                if row is None:
                    inserts.append({"pos_id": f.pos_id, "ok_at": None, "cufd": None, "vigencia": None, "activo": None} | values)
                    changed += 1
                    continue
                updates.append({"key": f.pos_id, **{k: row._mapping[k] for k in _CUFD_WRITTEN}, **values})
                if any(updates[-1][k] != row._mapping[k] for k in _CUFD_CONTENT):
                    changed += 1
            if inserts:
                conn.execute(pos_cufd.insert(), inserts)
            if updates:
                conn.execute(
                    pos_cufd.update()
                    .where(pos_cufd.c.pos_id == sa.bindparam("key"))
                    .values({k: sa.bindparam(k) for k in _CUFD_WRITTEN}),
                    updates,
                )
            if changed:
                _bump(conn, pos_cufd.name)
        return changed

    def cufds(self) -> dict[str, StoredCufd]:
        with self.engine.connect() as conn:
            rows = list(conn.execute(sa.select(pos_cufd)))
        return {
            row.pos_id: StoredCufd(
                pos_id=row.pos_id,
                branch_id=row.branch_id,
                fetched_at=row.fetched_at,
                ok_at=row.ok_at,
                cufd=Cufd(row.cufd, None, row.vigencia, bool(row.activo)) if row.cufd is not None else None,
                error=row.error,
            )
            for row in rows
        }

    def save_invoices(self, items: Iterable[Invoice], listed_at: datetime) -> tuple[int, int]:
        """Record what the list showed. Returns (invoices not seen before, known ones whose content changed);
        an unchanged invoice is not written."""
        items = list({i.id: i for i in items}.values())
        if not items:
            return 0, 0
        with self.engine.begin() as conn:
            old: dict[str, sa.Row[Any]] = {}
            ids = [i.id for i in items]
            for at in range(0, len(ids), _BATCH):
                query = sa.select(invoices).where(invoices.c.id.in_(ids[at : at + _BATCH]))
                old.update((row.id, row) for row in conn.execute(query))
            inserts, updates = [], []
            for item in items:
                values = {
                    "invoice_number": item.invoice_number,
                    "cuf": item.cuf,
                    "pos_id": item.pos_id,
                    "state": str(item.state),
                    "client_name": item.client_name,
                    "amount_total": item.amount_total,
                    "emission_date": item.emission_date,
                }
                row = old.get(item.id)
                if row is None:
                    inserts.append({"id": item.id, "listed_at": listed_at, **values})
                elif any(values[k] != row._mapping[k] for k in values):
                    # A new state makes the last status answer stale: forget it, so a rejection is read anew.
                    fresh = row.state == values["state"]
                    stale = {"siat_code": row.siat_code, "siat_description": row.siat_description, "status_at": row.status_at}
                    updates.append(
                        {"key": item.id, "listed_at": listed_at, **values} | (stale if fresh else dict.fromkeys(stale))
                    )
            if inserts:
                conn.execute(invoices.insert(), inserts)
            if updates:
                conn.execute(
                    invoices.update()
                    .where(invoices.c.id == sa.bindparam("key"))
                    .values({k: sa.bindparam(k) for k in updates[0] if k != "key"}),
                    updates,
                )
            if inserts or updates:
                _bump(conn, invoices.name)
        return len(inserts), len(updates)

    def known_invoice_ids(self, ids: Collection[str]) -> set[str]:
        found: set[str] = set()
        listed = list(ids)
        with self.engine.connect() as conn:
            for at in range(0, len(listed), _BATCH):
                found.update(conn.execute(sa.select(invoices.c.id).where(invoices.c.id.in_(listed[at : at + _BATCH]))).scalars())
        return found

    def unsettled_invoices(self, states: Collection[str]) -> list[tuple[str, str | None, datetime | None]]:
        """(id, POS id, last status read) of every invoice in ``states``: the follow-ups choose among them."""
        query = sa.select(invoices.c.id, invoices.c.pos_id, invoices.c.status_at).where(invoices.c.state.in_(list(states)))
        with self.engine.connect() as conn:
            return [(row.id, row.pos_id, row.status_at) for row in conn.execute(query)]

    def save_invoice_statuses(self, reads: Iterable[StatusRead]) -> int:
        """Record status calls. An answer sets the state and SIAT's code and description; an error keeps
        them. Returns the invoices whose state or SIAT answer changed (the counter moves only then)."""
        reads = list({r.invoice_id: r for r in reads}.values())
        if not reads:
            return 0
        changed = 0
        with self.engine.begin() as conn:
            old: dict[str, sa.Row[Any]] = {}
            ids = [r.invoice_id for r in reads]
            for at in range(0, len(ids), _BATCH):
                query = sa.select(invoices).where(invoices.c.id.in_(ids[at : at + _BATCH]))
                old.update((row.id, row) for row in conn.execute(query))
            updates = []
            for read in reads:
                row = old.get(read.invoice_id)
                if row is None:  # a status for an invoice the list never showed: nothing to attach it to
                    continue
                values = {k: row._mapping[k] for k in _STATUS_CONTENT}
                if read.status is not None:
                    values |= {
                        "state": str(read.status.state),
                        "siat_code": read.status.siat_code,
                        "siat_description": read.status.siat_description,
                        "emission_type": read.status.emission_type,
                    }
                if any(values[k] != row._mapping[k] for k in _STATUS_CONTENT) or (row.status_error is None) != (
                    read.error is None
                ):
                    changed += 1
                updates.append({"key": read.invoice_id, "status_at": read.read_at, "status_error": read.error, **values})
            if updates:
                conn.execute(
                    invoices.update()
                    .where(invoices.c.id == sa.bindparam("key"))
                    .values({k: sa.bindparam(k) for k in updates[0] if k != "key"}),
                    updates,
                )
            if changed:
                _bump(conn, invoices.name)
        return changed

    def invoices_since(self, when: datetime, *, states: Collection[str] | None = None) -> list[StoredInvoice]:
        """Invoices emitted at or after ``when`` and every unsettled one (offline or rejected) of any age,
        newest first; an invoice without an emission date counts as recent. ``states``: only those."""
        query = sa.select(invoices).where(
            sa.or_(
                invoices.c.emission_date >= when,
                invoices.c.emission_date.is_(None),
                invoices.c.state.in_([InvoiceState.CONTINGENCY.value, InvoiceState.REJECTED.value]),
            )
        )
        if states is not None:
            query = query.where(invoices.c.state.in_(list(states)))
        query = query.order_by(invoices.c.emission_date.desc())
        with self.engine.connect() as conn:
            return [_stored_invoice(row) for row in conn.execute(query)]

    def record_job(
        self,
        name: str,
        ran_at: datetime,
        error: str | None,
        notes: JobNotes | None = None,
        *,
        pass_pages: int = 0,
        passed: bool = False,
    ) -> None:
        """A collector round of ``name`` ran; ``error`` None when it succeeded; ``passed`` when it completed a
        full pass (``pass_pages``: the pages read in the pass under way)."""
        counts: dict[str, object] = {**dataclasses.asdict(notes or JobNotes()), "pass_pages": pass_pages}
        if passed:
            counts["passed_at"] = ran_at
        with self.engine.begin() as conn:
            done = conn.execute(
                job_runs.update()
                .where(job_runs.c.name == name)
                .values(ran_at=ran_at, error=error, **counts, **({"ok_at": ran_at} if error is None else {}))
            ).rowcount
            if not done:
                conn.execute(
                    job_runs.insert().values(
                        name=name, ran_at=ran_at, error=error, ok_at=ran_at if error is None else None, **counts
                    )
                )

    def job_run(self, name: str) -> JobRun | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(job_runs).where(job_runs.c.name == name)).first()
        if row is None:
            return None
        notes = JobNotes(row.future, row.undated, row.over_cap)
        return JobRun(row.name, row.ran_at, row.ok_at, row.error, notes, row.passed_at, row.pass_pages)

    def count_invoices(self, states: Collection[str]) -> int:
        """How many stored invoices are in ``states`` (the walk's cap on open ones)."""
        query = sa.select(sa.func.count()).select_from(invoices).where(invoices.c.state.in_(list(states)))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def prune_invoices(self, before: datetime) -> int:
        """Forget settled invoices emitted before ``before`` (offline and rejected ones stay until settled)."""
        with self.engine.begin() as conn:
            gone = conn.execute(
                invoices.delete()
                .where(invoices.c.emission_date < before)
                .where(invoices.c.state.not_in([InvoiceState.CONTINGENCY.value, InvoiceState.REJECTED.value]))
            ).rowcount
            if gone:
                _bump(conn, invoices.name)
        return gone


def _make_engine(url: str) -> Engine:
    engine = _new_engine(url)

    @sa.event.listens_for(engine, "handle_error")
    def _our_errors_as_they_are(context: sa.engine.ExceptionContext) -> None:
        # A naive datetime refused by UtcDateTime is a caller's bug, not a database error: raise it as the
        # ValueError it is instead of SQLAlchemy's StatementError wrapper.
        if isinstance(context.original_exception, NaiveDatetimeError):
            raise context.original_exception

    return engine


def _new_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:  # readers don't block the collector's writes
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _check(row: sa.Row[Any]) -> ConnectivityCheck:
    return ConnectivityCheck(
        checked_at=row.checked_at,
        siat_ok=row.siat_ok,
        latency_ms=row.latency_ms,
        error=row.error,
        error_kind=_error_kind(row.error_kind),
        on_request=bool(row.on_request),
        id=row.id,
    )


def _no_key() -> int:
    raise RuntimeError("the database returned no id for the new audit row")


def _error_kind(value: str | None) -> ErrorKind | None:
    if not value:
        return None
    try:
        return ErrorKind(value)
    except ValueError:  # a value this version does not know (a newer process wrote it)
        return ErrorKind.OTHER


_E = TypeVar("_E", bound=StrEnum)
_NEWEST_FIRST = (audit_log.c.requested_at.desc(), audit_log.c.id.desc())  # the order audit_newest_first serves


def _audit_conditions(where: AuditFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if where.since is not None:
        conditions.append(audit_log.c.requested_at >= where.since)
    if where.until is not None:
        conditions.append(audit_log.c.requested_at < where.until)
    for column, values in (
        (audit_log.c.branch_id, where.branch_ids),
        (audit_log.c.action, where.actions),
        (audit_log.c.outcome, where.outcomes),
        (audit_log.c.actor, where.actors),
    ):
        if values:
            conditions.append(column.in_(list(values)))
    return conditions


def _after(requested_at: datetime, entry_id: int) -> sa.ColumnElement[bool]:
    """Rows that come after (``requested_at``, ``entry_id``) newest first: one row-value comparison the index serves."""
    return sa.tuple_(audit_log.c.requested_at, audit_log.c.id) < sa.tuple_(
        sa.literal(requested_at, UtcDateTime()), sa.literal(entry_id, sa.Integer())
    )


def _lenient(kind: type[_E], value: str) -> _E | str:
    """The member for a stored ``value``, or the value itself when this version does not know it."""
    try:
        return kind(value)
    except ValueError:
        return value


def _audit_entry(row: sa.Row[Any]) -> AuditEntry:
    values = row._mapping
    return AuditEntry(
        **{
            **values,
            "role": _lenient(Role, values["role"]) if values["role"] else None,
            "action": _lenient(ActionKind, values["action"]),
            "outcome": _lenient(Outcome, values["outcome"]),
        }
    )


def _bump(conn: Connection, table: str) -> None:
    conn.execute(data_versions.update().where(data_versions.c.name == table).values(version=data_versions.c.version + 1))


_POLICY = "policy"  # policy_state's one row
_CUFD_WRITTEN = ("branch_id", "fetched_at", "ok_at", "cufd", "vigencia", "activo", "error")
_CUFD_CONTENT = ("branch_id", "cufd", "vigencia", "activo", "error")  # ``fetched_at`` and ``ok_at`` are not a change
_STATUS_CONTENT = ("state", "siat_code", "siat_description", "emission_type")
_BATCH = 500  # rows per statement: well under SQLite's and PostgreSQL's parameter limits
# What a POS-day says; put_days leaves a row alone when these are unchanged (``fetched_at`` is not among them)
_DAY_CONTENT = ("branch_id", "complete", "verified", "events_json")
_NO_EVENTS = "[]"  # how put_days stores a day without events (most days of most POS)


def _stored_invoice(row: sa.Row[Any]) -> StoredInvoice:
    return StoredInvoice(
        id=row.id,
        invoice_number=row.invoice_number,
        cuf=row.cuf,
        pos_id=row.pos_id,
        state=_lenient(InvoiceState, row.state),
        client_name=row.client_name,
        amount_total=row.amount_total,
        emission_date=row.emission_date,
        listed_at=row.listed_at,
        status_at=row.status_at,
        siat_code=row.siat_code,
        siat_description=row.siat_description,
        emission_type=row.emission_type,
        status_error=row.status_error,
    )


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
# on the same processor as the pages. A day holds a few events, so this is a few tens of MB at most.
@functools.lru_cache(maxsize=16_384)
def _stored_events(events_json: str) -> tuple[Event, ...]:
    return tuple(e for e in map(_stored_event, json.loads(events_json)) if e is not None)


def _stored_event(raw: str | dict[str, Any]) -> Event | None:
    """An event as the store kept it; ``None`` for one that today's checks refuse (written before them,
    from a cucu that sent odd data): one unreadable row must not break the page of everyone."""
    try:
        return Event.from_api(json.loads(raw) if isinstance(raw, str) else raw)
    except ValueError as exc:
        log.warning("almacén: evento guardado ilegible, se omite: %s", exc)
        return None


def _event_json(event: Event) -> str:
    return json.dumps(dict(event.raw), ensure_ascii=False)


def database_failed(exc: BaseException) -> bool:
    """The database itself failed (gone, disk full, connection lost), as opposed to a query it refused."""
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)


def _queue(conn: Connection, incident_id: int | None, messages: Sequence[OutboxMessage], now: datetime) -> None:
    """``now``: the database's clock, which claims and give-ups compare ``due_at`` and ``created_at`` with."""
    if messages:
        conn.execute(
            alert_outbox.insert(),
            [
                {
                    "incident_id": incident_id,
                    "kind": m.kind,
                    "channel": m.channel,
                    "channel_label": m.channel_label,
                    "title": m.title,
                    "body": m.body,
                    "created_at": now,
                    "due_at": now,
                    "attempts": 0,
                }
                for m in messages
            ],
        )


def _incident(row: sa.Row[Any]) -> Incident:
    return Incident(
        id=row.id,
        key=row.key,
        rule=_lenient(AlertRule, row.rule),
        branch_id=row.branch_id,
        opened_at=row.opened_at,
        notified_at=row.notified_at,
        reminders=row.reminders,
        closed_at=row.closed_at,
        title=row.title,
        body=row.body,
    )


def _outbox(row: sa.Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        incident_id=row.incident_id,
        kind=_lenient(AlertKind, row.kind),
        channel=row.channel,
        channel_label=row.channel_label,
        title=row.title,
        body=row.body,
        created_at=row.created_at,
        due_at=row.due_at,
        attempts=row.attempts,
        delivered_at=row.delivered_at,
        gave_up_at=row.gave_up_at,
        last_error=row.last_error,
    )
