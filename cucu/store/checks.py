"""Connectivity checks (table ``connectivity_checks``): the record every SIAT rule reads (``cucu.connectivity``),
and how the store writes, prunes and reads it back (by time for charts and uptime, by id for the rules).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cucu.store.base import StoreBase, _bump
from cucu.store.schema import connectivity_checks
from cucu.vocabulary import CheckState, ErrorKind

CHECK_RETENTION = timedelta(days=35)  # uptime is shown over 30 days at most
PRUNE_EVERY = 200  # inserts between two retention sweeps


@dataclass(frozen=True)
class ConnectivityCheck:
    """``siat_ok``: True SIAT answers, False SIAT does not, None cucu itself could not be asked."""

    checked_at: datetime
    siat_ok: bool | None
    latency_ms: float | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    # Asked by a person ("Comprobar ahora"): shown, but counted by no rule (SIAT down, the policy's
    # up_checks, the alerts), so nobody steers the automatic policy with clicks.
    on_request: bool = False
    id: int | None = None  # the store's id: the order checks were made in (None until stored)

    @property
    def state(self) -> CheckState:
        return CheckState.of(self.siat_ok)

    @property
    def label(self) -> str:
        return self.state.label

    @property
    def failed(self) -> bool:
        """SIAT could not be used: it did not answer, or cucu could not be asked."""
        return self.siat_ok is not True


class CheckTables(StoreBase):
    """Connectivity checks, with their retention."""

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


def _error_kind(value: str | None) -> ErrorKind | None:
    if not value:
        return None
    try:
        return ErrorKind(value)
    except ValueError:  # a value this version does not know (a newer process wrote it)
        return ErrorKind.OTHER
