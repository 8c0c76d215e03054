"""What every table group shares: the engine, the one clock, the migrations and the write counters.

``StoreBase`` opens the engine on a URL (``CUCU_DB`` may be a file path, meaning SQLite, or a database
URL such as ``postgresql+psycopg://...``), migrates the schema (table ``schema_version``) and reads the
write counters (table ``data_versions``) that every group raises in the transaction of its writes
(``_bump``). ``_rows_in`` is the one batched lookup: rows whose key is in a list, ``_BATCH`` at a time;
``_update_by_key`` the one batched update: many rows, each by its key, in one executemany.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cucu.lapaz import LA_PAZ
from cucu.store.schema import MIGRATIONS, NaiveDatetimeError, data_versions, schema_version

log = logging.getLogger(__name__)

CLOCK_RESYNC_S = 10.0  # how often ``Store.now`` reads the database's clock again
_BATCH = 500  # rows per statement: well under SQLite's and PostgreSQL's parameter limits


def database_url(value: str) -> str:
    """``CUCU_DB`` as a SQLAlchemy URL: a plain path means a SQLite file."""
    return value if "://" in value else f"sqlite:///{value}"


def database_failed(exc: BaseException) -> bool:
    """The database itself failed (gone, disk full, connection lost), as opposed to a query it refused."""
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)


class StoreBase:
    """The engine, the clock and the schema: the state every table group works with."""

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


def _bump(conn: Connection, table: str) -> None:
    conn.execute(data_versions.update().where(data_versions.c.name == table).values(version=data_versions.c.version + 1))


_T = TypeVar("_T")


def _batches(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``values`` ``_BATCH`` at a time: one statement's parameters each."""
    for at in range(0, len(values), _BATCH):
        yield values[at : at + _BATCH]


def _rows_in(conn: Connection, query: sa.Select[Any], key: sa.ColumnElement[Any], values: Sequence[Any]) -> Iterator[sa.Row[Any]]:
    """The rows of ``query`` whose ``key`` is in ``values``, asked ``_BATCH`` values at a time."""
    for batch in _batches(values):
        yield from conn.execute(query.where(key.in_(batch)))


def _update_by_key(conn: Connection, table: sa.Table, key: sa.Column[Any], rows: Sequence[Mapping[str, Any]]) -> None:
    """Update many rows of ``table`` in one executemany: each of ``rows`` names its row by ``"key"`` (the value
    of ``key``) and sets its other values. Every row sets the same columns: those of the first."""
    if rows:
        values: dict[str, Any] = {name: sa.bindparam(name) for name in rows[0] if name != "key"}
        conn.execute(table.update().where(key == sa.bindparam("key")).values(values), rows)


def _no_key() -> int:
    raise RuntimeError("the database returned no id for the new audit row")


_E = TypeVar("_E", bound=StrEnum)


def _lenient(kind: type[_E], value: str) -> _E | str:
    """The member for a stored ``value``, or the value itself when this version does not know it."""
    try:
        return kind(value)
    except ValueError:
        return value
