"""Maintenance windows as stored (table ``maintenance_windows``): scheduled and cancelled by supervisors, each
change audited in its transaction. What a window means is in :mod:`cucu.events.maintenance`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from cucu.store.audit import Attempt, _audit_decided
from cucu.store.base import StoreBase, _no_key
from cucu.store.schema import maintenance_windows


@dataclass(frozen=True)
class MaintenanceWindow:
    """From ``starts_at`` to ``ends_at``, for ``branch_ids`` (empty: the whole company): the alert rules in
    ``silenced`` open nothing, for the ``reason`` given."""

    id: int
    starts_at: datetime
    ends_at: datetime
    branch_ids: tuple[str, ...]
    silenced: tuple[str, ...]  # AlertRule values (kept as text: one written by a newer version stays readable)
    reason: str
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None = None
    hidden_branches: int = 0  # how many of its branches are outside the reader's scope (cucu.store.scoped)

    def covers(self, when: datetime) -> bool:
        return self.cancelled_at is None and self.starts_at <= when < self.ends_at

    @property
    def marked_after(self) -> bool:
        """A past period marked as maintenance after the fact (it only leaves availability), not a scheduled window."""
        return self.created_at >= self.ends_at


class MaintenanceTables(StoreBase):
    """Maintenance windows."""

    def maintenance_add(
        self, *, starts_at: datetime, ends_at: datetime, branch_ids: Sequence[str], silenced: Sequence[str], reason: str,
        attempt: Attempt,
    ) -> int:  # fmt: skip
        """Schedule a window and audit it (``attempt``, decided) in one transaction; returns its id."""
        with self.engine.begin() as conn:
            row = conn.execute(
                maintenance_windows.insert().values(
                    starts_at=starts_at,
                    ends_at=ends_at,
                    branch_ids=json.dumps(sorted(branch_ids)),
                    silenced=json.dumps(sorted(silenced)),
                    reason=reason,
                    created_by=attempt.actor_name or attempt.actor,
                    created_at=attempt.requested_at,
                )
            ).inserted_primary_key
            _audit_decided(conn, attempt)
            return int(row[0]) if row is not None else _no_key()

    def maintenance_cancel(self, window_id: int, attempt: Attempt) -> bool:
        """Cancel a window not cancelled yet, audited in the same transaction; False when there is none."""
        with self.engine.begin() as conn:
            done = conn.execute(
                maintenance_windows.update()
                .where(maintenance_windows.c.id == window_id, maintenance_windows.c.cancelled_at.is_(None))
                .values(cancelled_at=attempt.requested_at)
            ).rowcount
            if done:
                _audit_decided(conn, attempt)
            return bool(done)

    def maintenance_windows(self, *, ending_after: datetime, cancelled: bool = False) -> list[MaintenanceWindow]:
        """The windows that end after ``ending_after`` (current and upcoming, or recent too), soonest first."""
        query = sa.select(maintenance_windows).where(maintenance_windows.c.ends_at > ending_after)
        if not cancelled:
            query = query.where(maintenance_windows.c.cancelled_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(maintenance_windows.c.starts_at, maintenance_windows.c.id))
            return [_window(row) for row in rows]

    def maintenance_window(self, window_id: int) -> MaintenanceWindow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(maintenance_windows).where(maintenance_windows.c.id == window_id)).first()
        return _window(row) if row is not None else None


def _window(row: sa.Row[Any]) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=row.id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        branch_ids=tuple(json.loads(row.branch_ids)),
        silenced=tuple(json.loads(row.silenced)),
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
    )
