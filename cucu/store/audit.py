"""The audit log (table ``audit_log``) and the automatic policy's pause (table ``policy_state``).

Every start, end or CUFD renewal is written before its call and completed after it, at most one open
per POS; Bitácora counts a filter, reads a page or chunks of it. Pausing or resuming the policy is an
attempt too, written with the pause in one transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cucu.store.base import StoreBase, _lenient, _no_key
from cucu.store.schema import UtcDateTime, audit_log, policy_state
from cucu.vocabulary import ActionKind, Outcome, Role


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


class AuditTables(StoreBase):
    """The audit log, its open attempts, and the policy's pause."""

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

    def audit_actors(self, *, branch_ids: Collection[str] | None = None) -> list[str]:
        """Everyone in the log (who acted on one of ``branch_ids``, when given), sorted: one index seek per
        person (a DISTINCT would read every row, on every load of Bitácora), the next name after the last one
        found, until there is none."""
        mine = sa.true() if branch_ids is None else audit_log.c.branch_id.in_(list(branch_ids))
        found = sa.select(sa.func.min(audit_log.c.actor).label("actor")).where(mine).cte("actors", recursive=True)
        after = sa.select(sa.func.min(audit_log.c.actor)).where(audit_log.c.actor > found.c.actor, mine).scalar_subquery()
        found = found.union_all(sa.select(after).where(found.c.actor.is_not(None)))
        with self.engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(sa.select(found.c.actor).where(found.c.actor.is_not(None))))

    # ---- the automatic policy's pause ---------------------------------------------------------

    def policy_paused_by(self) -> str | None:
        """Who paused the automatic policy, or None while it runs."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(policy_state).where(policy_state.c.name == _POLICY)).first()
        return (row.changed_by or "?") if row is not None and row.paused else None

    def set_policy_paused(self, paused: bool, attempt: Attempt) -> None:
        """Pause or resume the policy and audit it (``attempt``: who, decided) in one transaction."""
        with self.engine.begin() as conn:
            values = {
                "paused": paused,
                "changed_by": attempt.actor_name or attempt.actor,
                "changed_at": attempt.requested_at,
                "audit_id": _audit_decided(conn, attempt),
            }
            if conn.execute(policy_state.update().where(policy_state.c.name == _POLICY).values(**values)).rowcount == 0:
                conn.execute(policy_state.insert().values(name=_POLICY, **values))

    def policy_resumed_after(self) -> int:
        """The audit id of the last "Reanudar política" (0: never resumed): the policy counts its
        refusals after it."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(policy_state).where(policy_state.c.name == _POLICY)).first()
        return int(row.audit_id or 0) if row is not None and not row.paused else 0


def _audit_decided(conn: Connection, attempt: Attempt) -> int:
    """Audit what was decided and done in the caller's transaction (a pause, an acknowledgment, a note):
    complete at once. Returns its id."""
    row = {f.name: getattr(attempt, f.name) for f in dataclasses.fields(Attempt)}
    inserted = conn.execute(audit_log.insert().values(**row, completed_at=attempt.requested_at)).inserted_primary_key
    return int(inserted[0]) if inserted is not None else _no_key()


_POLICY = "policy"  # policy_state's one row
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
