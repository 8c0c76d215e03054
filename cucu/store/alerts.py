"""Alerts as stored: incidents (table ``incidents``: a condition an alert rule found, open until it no
longer holds, one per key; who acknowledged it, and the notes people wrote on it, table ``incident_notes``)
and the outbox (table ``alert_outbox``: one message per channel, claimed by
one sender at a time, retried, delivered or given up). An incident's messages are queued in the
transaction that decides it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cucu.organization.scope import SHARED_RULES
from cucu.store.audit import Attempt, _audit_decided
from cucu.store.base import StoreBase, _lenient, _no_key
from cucu.store.schema import alert_outbox, incident_notes, incidents
from cucu.vocabulary import AlertKind, AlertRule, Delivery


@dataclass(frozen=True)
class Incident:
    """A condition an alert rule found, open until the rule no longer holds (see cucu/alerts/rules.py)."""

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
    acknowledged_by: str | None = None  # who said "Lo atiendo" (the last one to say it)
    acknowledged_at: datetime | None = None
    quiet_until: datetime | None = None  # no reminder before this
    alerted_at: datetime | None = None  # its opening message (None: opened before v16; escalation counts from opened_at)
    escalations: int = 0  # steps of [alerts.escalation] it went through

    def quiet(self, now: datetime) -> bool:
        """Its reminders wait: someone acknowledged it for a while that has not passed."""
        return self.quiet_until is not None and now < self.quiet_until


@dataclass(frozen=True)
class IncidentNote:
    """What a person wrote on an incident: with "Lo atiendo" (``acknowledging``), or a note of their own."""

    id: int
    incident_id: int
    written_at: datetime
    author: str
    acknowledging: bool
    text: str


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


class AlertTables(StoreBase):
    """Incidents and the outbox."""

    def open_incidents(self) -> list[Incident]:
        query = sa.select(incidents).where(incidents.c.closed_at.is_(None)).order_by(incidents.c.opened_at, incidents.c.id)
        with self.engine.connect() as conn:
            return [_incident(row) for row in conn.execute(query)]

    def open_incident_counts(self) -> tuple[int, int]:
        """How many incidents are open, and how many of them nobody acknowledged: the header of every page."""
        query = sa.select(sa.func.count(), sa.func.count().filter(incidents.c.acknowledged_by.is_(None))).where(
            incidents.c.closed_at.is_(None)
        )
        with self.engine.connect() as conn:
            total, unowned = conn.execute(query).one()
        return int(total), int(unowned)

    def open_incidents_handled(self, limit: int) -> list[Incident]:
        """The first ``limit`` open incidents someone acknowledged, longest handled first: the header names who
        handles them (a few rows, whatever the chain's size)."""
        query = (
            sa.select(incidents)
            .where(incidents.c.closed_at.is_(None), incidents.c.acknowledged_by.is_not(None))
            .order_by(incidents.c.acknowledged_at, incidents.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_incident(row) for row in conn.execute(query)]

    def recent_incidents(
        self, limit: int, *, branch_ids: Collection[str] | None = None, chosen: Collection[str] = ()
    ) -> list[Incident]:
        """The last ``limit`` incidents opened, open or closed, newest first (those a person scoped to
        ``branch_ids`` sees: :func:`seen_from`). With ``chosen``, the branches a page's filter chose: only their
        incidents and those naming no branch (SIAT's, the company's), the last ``limit`` of those: another
        region's alerts do not crowd them out of the list."""
        query = (
            sa.select(incidents)
            .where(seen_from(branch_ids))
            .order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
            .limit(limit)
        )
        if chosen:
            no_branch = sa.func.coalesce(incidents.c.branch_id, "") == ""
            query = query.where(sa.or_(no_branch, incidents.c.branch_id.in_(list(chosen))))
        with self.engine.connect() as conn:
            return [_incident(row) for row in conn.execute(query)]

    def incidents_between(self, since: datetime, until: datetime) -> list[Incident]:
        """The incidents opened in ``[since, until)``, oldest first (an outage's: its dossier)."""
        query = (
            sa.select(incidents)
            .where(incidents.c.opened_at >= since, incidents.c.opened_at < until)
            .order_by(incidents.c.opened_at, incidents.c.id)
        )
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
                        alerted_at=now,
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

    def incident_escalate(self, incident: Incident, *, messages: Sequence[OutboxMessage]) -> bool:
        """Its next escalation step, once, with its messages: False when, meanwhile, someone acknowledged it,
        it closed, or another process escalated it."""
        queued_at = self.db_now()
        with self.engine.begin() as conn:
            done = conn.execute(
                incidents.update()
                .where(
                    incidents.c.id == incident.id,
                    incidents.c.closed_at.is_(None),
                    incidents.c.acknowledged_by.is_(None),
                    incidents.c.escalations == incident.escalations,
                )
                .values(escalations=incident.escalations + 1)
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

    def incident(self, incident_id: int) -> Incident | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).first()
        return _incident(row) if row is not None else None

    def incidents_by_key(self, key: str, limit: int = 1) -> list[Incident]:
        """The incidents of ``key`` (an alert's link names its key), the open one first, then newest first."""
        query = (
            sa.select(incidents)
            .where(incidents.c.key == key)
            .order_by(incidents.c.closed_at.is_not(None), incidents.c.opened_at.desc(), incidents.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_incident(row) for row in conn.execute(query)]

    def incident_acknowledge(self, incident_id: int, attempt: Attempt, *, note: str, quiet_until: datetime) -> bool:
        """Someone said "Lo atiendo": the incident records who and since when, its reminders wait until
        ``quiet_until``, the note is kept with it and the audit log has the row (``attempt``, decided), in
        one transaction. False when it is closed meanwhile (or unknown): nothing is written."""
        author = attempt.actor_name or attempt.actor
        with self.engine.begin() as conn:
            done = conn.execute(
                incidents.update()
                .where(incidents.c.id == incident_id, incidents.c.closed_at.is_(None))
                .values(acknowledged_by=author, acknowledged_at=attempt.requested_at, quiet_until=quiet_until)
            ).rowcount
            if done:
                _note(conn, incident_id, attempt, note, acknowledging=True)
            return bool(done)

    def incident_note_add(self, incident_id: int, attempt: Attempt, *, note: str) -> bool:
        """A note on an incident, open or closed, audited in the same transaction; False for an unknown one."""
        with self.engine.begin() as conn:
            if conn.execute(sa.select(incidents.c.id).where(incidents.c.id == incident_id)).first() is None:
                return False
            _note(conn, incident_id, attempt, note, acknowledging=False)
            return True

    def incident_notes(self, incident_id: int) -> list[IncidentNote]:
        """Oldest first: the incident's story as it was written."""
        query = (
            sa.select(incident_notes)
            .where(incident_notes.c.incident_id == incident_id)
            .order_by(incident_notes.c.written_at, incident_notes.c.id)
        )
        with self.engine.connect() as conn:
            return [IncidentNote(**row._mapping) for row in conn.execute(query)]

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

    def outbox_entries(
        self, limit: int, *, incident_id: int | None = None, branch_ids: Collection[str] | None = None
    ) -> list[OutboxEntry]:
        """The last ``limit`` messages queued (of one incident), newest first; with ``branch_ids``, only those
        of the incidents a person scoped to them sees (no test message: it is the company's)."""
        query = sa.select(alert_outbox).order_by(alert_outbox.c.created_at.desc(), alert_outbox.c.id.desc()).limit(limit)
        if incident_id is not None:
            query = query.where(alert_outbox.c.incident_id == incident_id)
        if branch_ids is not None:
            query = query.where(alert_outbox.c.incident_id.in_(sa.select(incidents.c.id).where(seen_from(branch_ids))))
        with self.engine.connect() as conn:
            return [_outbox(row) for row in conn.execute(query)]


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


def _note(conn: Connection, incident_id: int, attempt: Attempt, note: str, *, acknowledging: bool) -> None:
    conn.execute(
        incident_notes.insert().values(
            incident_id=incident_id,
            written_at=attempt.requested_at,
            author=attempt.actor_name or attempt.actor,
            acknowledging=acknowledging,
            text=note,
        )
    )
    _audit_decided(conn, attempt)


def seen_from(branch_ids: Collection[str] | None) -> sa.ColumnElement[bool]:
    """The incidents a person scoped to ``branch_ids`` sees (None: the whole company, every one): their
    branches', and the company's that name no branch (``cucu.organization.scope.SHARED_RULES``)."""
    if branch_ids is None:
        return sa.true()
    return sa.or_(
        incidents.c.branch_id.in_(list(branch_ids)),
        sa.and_(sa.func.coalesce(incidents.c.branch_id, "") == "", incidents.c.rule.in_([str(r) for r in SHARED_RULES])),
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
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        quiet_until=row.quiet_until,
        alerted_at=row.alerted_at,
        escalations=row.escalations,
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
