"""Each POS's latest reads, side by side: its state (table ``pos_status``: the active event, from the
collector's sweeps) and its CUFD (table ``pos_cufd``, from the CUFD reads). Both keep one row per POS:
an answer replaces what is kept, a failure keeps the last answer and says why; ``ok_at`` is the last
answer, ``fetched_at`` the last attempt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cucu.api.models import Cufd, Event
from cucu.store.base import StoreBase, _bump, _rows_in
from cucu.store.schema import pos_cufd, pos_status

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
        fetches = list({f.pos_id: f for f in fetches}.values())
        if not fetches:
            return
        with self.engine.begin() as conn:
            ids = [f.pos_id for f in fetches]
            existing = {row.pos_id for row in _rows_in(conn, sa.select(pos_status.c.pos_id), pos_status.c.pos_id, ids)}
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

    def save_cufds(self, fetches: Iterable[CufdFetch]) -> int:
        """Record CUFD reads; a failed one keeps the last answer and sets ``error``. Returns the rows whose
        content changed (the counter moves only then: a read that finds the same CUFD is not a change)."""
        fetches = list({f.pos_id: f for f in fetches}.values())
        if not fetches:
            return 0
        changed = 0
        with self.engine.begin() as conn:
            ids = [f.pos_id for f in fetches]
            old = {row.pos_id: row for row in _rows_in(conn, sa.select(pos_cufd), pos_cufd.c.pos_id, ids)}
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


_CUFD_WRITTEN = ("branch_id", "fetched_at", "ok_at", "cufd", "vigencia", "activo", "error")
_CUFD_CONTENT = ("branch_id", "cufd", "vigencia", "activo", "error")  # ``fetched_at`` and ``ok_at`` are not a change


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
