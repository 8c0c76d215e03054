"""Each POS's latest reads, side by side: its state (table ``pos_status``: the active event, from the
collector's sweeps) and its CUFD (table ``pos_cufd``, from the CUFD reads). Both keep one row per POS,
written by ``_save_latest``: an answer replaces what is kept, a failure keeps the last answer and says
why; ``ok_at`` is the last answer, ``fetched_at`` the last attempt. They differ in one rule: every sweep
raises ``pos_status``'s write counter, a CUFD read only when what it found changed (and a sweep
raises ``pos_events``' only when a POS's active event changed).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cucu.api.models import Cufd, Event
from cucu.store.base import StoreBase, _bump, _rows_in, _update_by_key
from cucu.store.schema import POS_EVENTS, pos_cufd, pos_status

log = logging.getLogger(__name__)


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
class PosFetch:
    """One collector answer for one POS: ``error`` set means the call failed."""

    pos_id: str
    branch_id: str
    fetched_at: datetime
    event: Event | None = None
    error: str | None = None


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


class PosTables(StoreBase):
    """What the collector last learned about each POS: its state and its CUFD."""

    def save_pos_fetches(self, fetches: Iterable[PosFetch]) -> None:
        """Record a sweep. A failed fetch keeps the last known event and ``ok_at``, and sets ``error``.

        In three statements whatever the size (a chain's sweep is 10 000 rows): new POS are inserted,
        answered and failed ones are updated each with one executemany.
        """
        reads = {f.pos_id: _latest_read(f, {"event_json": _event_json(f.event) if f.event else None}) for f in fetches}
        if not reads:
            return
        with self.engine.begin() as conn:
            changed = _save_latest(conn, pos_status, reads, answer=_POS_ANSWER, content=_POS_ANSWER)
            # Every sweep is news, even one that finds what the last one did: Estado shows when each POS
            # was last asked ("Consultado") and how fresh the whole picture is. A changed event (one that
            # began, ended or changed, or a POS seen for the first time) is news to what reads events only.
            _bump(conn, pos_status.name)
            if changed:
                _bump(conn, POS_EVENTS)

    def pos_statuses(self) -> dict[str, PosStatus]:
        return self._statuses(sa.select(pos_status))

    def statuses_with_events(self) -> dict[str, PosStatus]:
        """The POS whose last answer named an active event: what reads the events alone asks (the invoices'
        attribution, the outages), a chain's 2 500 rows instead of 10 000."""
        return self._statuses(sa.select(pos_status).where(pos_status.c.event_json.is_not(None)))

    def _statuses(self, query: sa.Select[Any]) -> dict[str, PosStatus]:
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return {
            row.pos_id: PosStatus(
                pos_id=row.pos_id,
                branch_id=row.branch_id,
                fetched_at=row.fetched_at,
                ok_at=row.ok_at,
                event=_latest_event(row.event_json) if row.event_json else None,
                error=row.error,
            )
            for row in rows
        }

    def save_cufds(self, fetches: Iterable[CufdFetch]) -> int:
        """Record CUFD reads; a failed one keeps the last answer and sets ``error``. Returns the rows whose
        content changed (the counter moves only then: a read that finds the same CUFD is not a change)."""
        reads = {
            f.pos_id: _latest_read(
                f,
                {
                    "cufd": f.cufd.cufd if f.cufd else None,
                    "vigencia": f.cufd.vigencia if f.cufd else None,
                    "activo": f.cufd.activo if f.cufd else None,
                },
            )
            for f in fetches
        }
        if not reads:
            return 0
        with self.engine.begin() as conn:
            # Only a change is news: no page shows when a CUFD was last read, so a read that finds the same
            # CUFD (every interval, for every POS) must not rebuild Estado for everyone.
            changed = _save_latest(conn, pos_cufd, reads, answer=_CUFD_ANSWER, content=_CUFD_CONTENT)
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


_POS_ANSWER = ("event_json",)  # what an answer of the sweep sets
_CUFD_ANSWER = ("cufd", "vigencia", "activo")  # what an answer of a CUFD read sets
_CUFD_CONTENT = ("branch_id", "cufd", "vigencia", "activo", "error")  # ``fetched_at`` and ``ok_at`` are not a change


def _latest_read(fetched: PosFetch | CufdFetch, answer: dict[str, Any]) -> dict[str, Any]:
    """A read's row as ``_save_latest`` takes it: with ``ok_at`` and the ``answer``'s columns only when it was answered."""
    row: dict[str, Any] = {"branch_id": fetched.branch_id, "fetched_at": fetched.fetched_at, "error": fetched.error}
    return row if fetched.error is not None else row | {"ok_at": fetched.fetched_at} | answer


def _save_latest(
    conn: Connection, table: sa.Table, reads: Mapping[str, dict[str, Any]], *, answer: Sequence[str], content: Sequence[str] = ()
) -> int:
    """Keep each POS's latest read in ``table`` (a row per ``pos_id``; ``reads`` by POS id, from ``_latest_read``).

    An answer replaces the row's ``answer`` columns and sets ``ok_at``; a failure sets ``error`` and keeps
    the last answer. In three statements whatever the size: new POS are inserted, answered and failed
    ones are updated each with one executemany. Returns the new rows and the rows whose ``content``
    columns changed (only those columns are read back).
    """
    lookup = sa.select(table.c.pos_id, *(table.c[name] for name in content))
    old = {row.pos_id: row._mapping for row in _rows_in(conn, lookup, table.c.pos_id, list(reads))}
    new = [
        {"pos_id": pos_id, "ok_at": None, **dict.fromkeys(answer), **read} for pos_id, read in reads.items() if pos_id not in old
    ]
    answered = [{"key": pos_id, **read} for pos_id, read in reads.items() if pos_id in old and read["error"] is None]
    failed = [{"key": pos_id, **read} for pos_id, read in reads.items() if pos_id in old and read["error"] is not None]
    if new:
        conn.execute(table.insert(), new)
    _update_by_key(conn, table, table.c.pos_id, answered)
    _update_by_key(conn, table, table.c.pos_id, failed)
    return len(new) + sum(
        any(read.get(name, old[pos_id][name]) != old[pos_id][name] for name in content)
        for pos_id, read in reads.items()
        if pos_id in old
    )


# Each POS's active event as last stored, kept read by its text (an Event never changes): every POS's state is
# read again at each sweep for Estado, Eventos activos and Facturas, and parsing 2 500 events of a chain again
# (JSON, then each event's checks) was most of it. One entry per POS in contingency, at most.
@functools.lru_cache(maxsize=16_384)
def _latest_event(event_json: str) -> Event | None:
    return _stored_event(event_json)


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
