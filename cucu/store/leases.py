"""Leases (table ``leases``): who holds a named role, such as the collector's polling, until when by the
database's clock; taken, renewed and released atomically, so two processes never both hold one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from cucu.store.base import StoreBase
from cucu.store.schema import UtcDateTime, leases


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        return self.expires_at > now


class LeaseTables(StoreBase):
    """Named leases on the database's clock."""

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

    def lease(self, name: str) -> Lease | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(leases).where(leases.c.name == name)).first()
        if row is None:
            return None
        return Lease(row.name, row.holder, row.acquired_at, row.renewed_at, row.expires_at)
