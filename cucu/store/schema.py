"""The database schema and its migrations: every table, index and column type, in one place.

``MIGRATIONS`` is an ordered list applied at start-up by :meth:`cucu.store.Store.migrate`; a
shipped step never changes, a new one is appended. Enumerated columns hold the values of
:mod:`cucu.vocabulary` (those values never change, so no migration follows a new wording).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from cucu.lapaz import to_la_paz
from cucu.vocabulary import OPEN_OUTCOMES, Outcome


class NaiveDatetimeError(ValueError):
    """A datetime without a zone reached the database: its moment would be a guess (a caller's bug)."""


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetimes in, aware La Paz datetimes out, UTC in the database.

    SQLite keeps no zone (it gives back what was stored, naive), PostgreSQL converts to the
    session's zone: storing UTC and attaching it on the way out makes both behave the same.
    A naive datetime is refused: its zone would be a guess.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise NaiveDatetimeError(f"naive datetime: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return to_la_paz(value)


metadata = sa.MetaData()

schema_version = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))

connectivity_checks = sa.Table(
    "connectivity_checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("checked_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("siat_ok", sa.Boolean, nullable=True),  # NULL: cucu itself could not be asked
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("error_kind", sa.String(32), nullable=True),  # an ErrorKind
    # v13: a check a person asked for ("Comprobar ahora"): shown, but counted by no rule.
    sa.Column("on_request", sa.Boolean, nullable=False, server_default=sa.false()),
)

pos_status = sa.Table(
    "pos_status",
    metadata,
    sa.Column("pos_id", sa.String(36), primary_key=True),
    sa.Column("branch_id", sa.String(36), nullable=False),
    sa.Column("fetched_at", UtcDateTime(), nullable=False),  # last attempt
    sa.Column("ok_at", UtcDateTime(), nullable=True),  # last successful answer
    sa.Column("event_json", sa.Text, nullable=True),  # active event at ok_at, as the API sent it
    sa.Column("error", sa.Text, nullable=True),  # last attempt's error; NULL when it succeeded
)

day_events = sa.Table(
    "day_events",
    metadata,
    sa.Column("pos_id", sa.String(36), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("branch_id", sa.String(36), nullable=False),
    sa.Column("fetched_at", UtcDateTime(), nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False),  # the day was over and nothing was open
    sa.Column("events_json", sa.Text, nullable=False),
    # cucu's list for the day, read after the day was over (False: today's list, or only what the
    # collector's sweeps observed). Historial's completeness and the backfill count these.
    sa.Column("verified", sa.Boolean, nullable=False),
    # The latest end among its events: Estado's 48 h registration window asks for rows by it.
    sa.Column("last_end", UtcDateTime(), nullable=True),
    sa.Index("ix_day_events_day", "day"),
    sa.Index("ix_day_events_last_end", "last_end"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # Indexed by audit_newest_first (v5; v1's index on this column alone was dropped then).
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    sa.Column("completed_at", UtcDateTime(), nullable=True),
    # Since v11 (v1 made it 200): any user a sign-in may carry, cucu.access.MAX_USER_LENGTH.
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("actor_name", sa.String(200), nullable=True),  # cut to it at sign-in: cucu.access.MAX_NAME_LENGTH
    sa.Column("role", sa.String(32), nullable=True),  # a Role
    sa.Column("action", sa.String(32), nullable=False),  # an ActionKind (v1 made it 16: "reanudar_politica" is 17)
    sa.Column("branch_id", sa.String(36), nullable=False),
    sa.Column("pos_id", sa.String(36), nullable=False),
    sa.Column("motive", sa.Integer, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("event_id", sa.String(64), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),  # an Outcome
    sa.Column("message", sa.Text, nullable=True),
)


# Who runs the collector: one holder at a time across the processes sharing this database
# (web replicas, the collector service), renewed every round; another takes over when it lapses.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired_at", UtcDateTime(), nullable=False),
    sa.Column("renewed_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
)


# Alerts (cucu/alerts/). An incident is one condition a rule found (SIAT down, a branch in
# contingency too long…), open until the rule no longer holds; at most one open per key, enforced by
# the database, so two processes that both decide cannot open it twice.
incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "key", sa.String(120), nullable=False
    ),  # the rule and what it is about: "siat_caido", "contingencia_larga:<branch id>"
    sa.Column("rule", sa.String(32), nullable=False),  # an AlertRule
    sa.Column("branch_id", sa.String(36), nullable=True),  # a branch's incident goes to its channels (tags)
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("notified_at", UtcDateTime(), nullable=False),  # its last message (opening or reminder)
    sa.Column("reminders", sa.Integer, nullable=False, server_default="0"),
    sa.Column("closed_at", UtcDateTime(), nullable=True),
    sa.Column("title", sa.Text, nullable=False),  # the latest wording, as the Alertas page shows it
    sa.Column("body", sa.Text, nullable=False),
    # v15: who said "Lo atiendo" (name, else id) and when; its reminders wait until quiet_until.
    sa.Column("acknowledged_by", sa.String(320), nullable=True),
    sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
    sa.Column("quiet_until", UtcDateTime(), nullable=True),
    # v16: when its opening message was queued (escalation counts from it), and how many steps it escalated.
    sa.Column("alerted_at", UtcDateTime(), nullable=True),
    sa.Column("escalations", sa.Integer, nullable=False, server_default="0"),
)
one_open_incident_per_key = sa.Index(
    "ux_incidents_open_key",
    incidents.c.key,
    unique=True,
    sqlite_where=incidents.c.closed_at.is_(None),
    postgresql_where=incidents.c.closed_at.is_(None),
)
incidents_newest_first = sa.Index("ix_incidents_opened_at", incidents.c.opened_at)

# Every message to every channel is written here, in the transaction that decides it, before it is
# sent; a sender claims a row for a while (so two processes never send it both), sends it, and marks
# it delivered, or puts it off with a backoff, or gives it up. A restart finds what is left to send.
# v15: what people wrote on an incident: the note of each "Lo atiendo", and notes of their own.
incident_notes = sa.Table(
    "incident_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, nullable=False, index=True),
    sa.Column("written_at", UtcDateTime(), nullable=False),
    sa.Column("author", sa.String(320), nullable=False),  # the person's name, else their id
    sa.Column("acknowledging", sa.Boolean, nullable=False),  # written with a "Lo atiendo"
    sa.Column("text", sa.Text, nullable=False),
)

alert_outbox = sa.Table(
    "alert_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, nullable=True),  # NULL: a test message
    sa.Column("kind", sa.String(16), nullable=False),  # an AlertKind
    sa.Column("channel", sa.String(16), nullable=False),  # the channel's fingerprint, never its URL
    sa.Column("channel_label", sa.String(300), nullable=False),  # the URL with its secrets masked
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("due_at", UtcDateTime(), nullable=False),  # the next attempt
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_by", sa.String(200), nullable=True),
    sa.Column("claimed_until", UtcDateTime(), nullable=True),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Column("gave_up_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),  # redacted: no part of the URL's secrets
)
outbox_due = sa.Index(
    "ix_alert_outbox_due",
    alert_outbox.c.due_at,
    sqlite_where=sa.and_(alert_outbox.c.delivered_at.is_(None), alert_outbox.c.gave_up_at.is_(None)),
    postgresql_where=sa.and_(alert_outbox.c.delivered_at.is_(None), alert_outbox.c.gave_up_at.is_(None)),
)
outbox_newest_first = sa.Index("ix_alert_outbox_created_at", alert_outbox.c.created_at)
outbox_by_incident = sa.Index("ix_alert_outbox_incident", alert_outbox.c.incident_id)


# v17: maintenance windows a supervisor scheduled (cucu/events/maintenance.py): when, where, why, which alerts wait.
maintenance_windows = sa.Table(
    "maintenance_windows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("ends_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("branch_ids", sa.Text, nullable=False),  # a JSON list; [] is the whole company
    sa.Column("silenced", sa.Text, nullable=False),  # a JSON list of AlertRule values
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(320), nullable=False),  # the person's name, else their id
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("cancelled_at", UtcDateTime(), nullable=True),
)

# The automatic policy's pause (cucu/events/policy.py): one row, in the database so every process obeys it.
policy_state = sa.Table(
    "policy_state",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("changed_by", sa.String(320), nullable=True),  # the actor's name, else its id (v9 made it 200)
    sa.Column("changed_at", UtcDateTime(), nullable=True),
    # v13: the audit row of that change: the policy counts refusals after a resume by id, not by time.
    sa.Column("audit_id", sa.Integer, nullable=True),
)


# Invoicing (cucu/invoicing/). A POS's active CUFD as the collector last read it: without a valid one
# the POS cannot invoice at all, online or offline.
pos_cufd = sa.Table(
    "pos_cufd",
    metadata,
    sa.Column("pos_id", sa.String(36), primary_key=True),
    sa.Column("branch_id", sa.String(36), nullable=False),
    sa.Column("fetched_at", UtcDateTime(), nullable=False),  # last attempt
    sa.Column("ok_at", UtcDateTime(), nullable=True),  # last answer
    sa.Column("cufd", sa.Text, nullable=True),  # NULL after an answer: cucu has no CUFD for the POS
    sa.Column("vigencia", UtcDateTime(), nullable=True),
    sa.Column("activo", sa.Boolean, nullable=True),
    sa.Column("error", sa.Text, nullable=True),  # last attempt's error; NULL when it succeeded
)

# The company's invoices of the last days as cucu's list and status calls gave them: what was issued
# offline and is still to reach SIAT, what SIAT rejected and why, and each ended event's closing state.
invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("invoice_number", sa.String(64), nullable=True),
    sa.Column("cuf", sa.Text, nullable=True),
    sa.Column("pos_id", sa.String(64), nullable=True),  # NULL: cucu's list did not name the POS
    # An InvoiceState, or what cucu sent: up to cucu.api.models.MAX_ID_LENGTH (v10 made it 32).
    sa.Column("state", sa.String(64), nullable=False),
    sa.Column("client_name", sa.Text, nullable=True),
    sa.Column("amount_total", sa.Float, nullable=True),
    sa.Column("emission_date", UtcDateTime(), nullable=True),
    sa.Column("listed_at", UtcDateTime(), nullable=False),  # last seen in the list
    sa.Column("status_at", UtcDateTime(), nullable=True),  # last status call answered
    sa.Column("siat_code", sa.Integer, nullable=True),
    sa.Column("siat_description", sa.Text, nullable=True),
    sa.Column("emission_type", sa.String(64), nullable=True),
    sa.Column("status_error", sa.Text, nullable=True),  # last status call's error
    sa.Index("ix_invoices_emission_date", "emission_date"),
    sa.Index("ix_invoices_state_status_at", "state", "status_at"),  # the follow-ups: unsettled, oldest read first
)

# The last round of each collector job that has no table of its own to tell it (the invoice walk):
# when it ran, when it last succeeded and its last error, so a page says how fresh its data is.
job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("ran_at", UtcDateTime(), nullable=False),
    sa.Column("ok_at", UtcDateTime(), nullable=True),
    sa.Column("error", sa.Text, nullable=True),  # NULL when the last round succeeded
    # v12: what the invoice walk left out of the store, counted over its last passes (see cucu.invoicing).
    *(sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in ("future", "undated", "over_cap")),
    # v14: when the walk last completed a full pass over the window (NULL: never, its figures are partial),
    # and the pages read so far in the pass under way.
    sa.Column("passed_at", UtcDateTime(), nullable=True),
    sa.Column("pass_pages", sa.Integer, nullable=False, server_default="0"),
)

# A counter per table that pages render from, raised in the transaction of every write to it: a page
# computes its frames once per version and shares them across sessions (see ui/resources.py).
data_versions = sa.Table(
    "data_versions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)
# ``pos_events`` moves only when a POS's active event changes (``pos_status`` moves at every sweep): what is
# built from the events alone (the invoices' attribution to them) need not be built again after each sweep.
POS_EVENTS = "pos_events"
VERSIONED = ("pos_status", "day_events", "connectivity_checks", "pos_cufd", "invoices", POS_EVENTS)
_V4_VERSIONED = VERSIONED[:3]  # the counters v4 created; v10 adds the invoicing ones, v18 ``pos_events``


# At most one action in flight per POS, across sessions and processes: the database refuses
# a second 'pendiente' row for the same POS (a partial unique index, in SQLite and PostgreSQL).
# Created by v2; v5 replaces it with one_open_action_per_pos.
one_pending_action_per_pos = sa.Index(
    "ux_audit_one_pending_per_pos",
    audit_log.c.pos_id,
    unique=True,
    sqlite_where=audit_log.c.outcome == Outcome.PENDING.value,
    postgresql_where=audit_log.c.outcome == Outcome.PENDING.value,
)
# Since v5 an attempt whose outcome is being verified ('verificando') holds its POS too: a second
# start sent while the first may still land in cucu could open two events.
one_open_action_per_pos = sa.Index(
    "ux_audit_one_open_per_pos",
    audit_log.c.pos_id,
    unique=True,
    sqlite_where=audit_log.c.outcome.in_([o.value for o in OPEN_OUTCOMES]),
    postgresql_where=audit_log.c.outcome.in_([o.value for o in OPEN_OUTCOMES]),
)


# Bitácora reads the log newest first, counts a filter's rows and pages through them: this index
# serves that order (``requested_at`` then ``id`` as tie-break, in SQLite and PostgreSQL alike), the
# date range of every filter, and a page's OFFSET over ids without reading the table's rows.
audit_newest_first = sa.Index("ix_audit_log_requested_at_id", audit_log.c.requested_at, audit_log.c.id)
# A filter on a branch (Estado's links open Bitácora so), a user or a result (the errors, the
# unconfirmed) would otherwise read every row of the period to find its own (half a second over a
# million rows): these give its count and pages straight from an index, and the user list, asked on
# every load, without reading the log (a loose index scan: one seek per user). The log is written
# once per person's action, so the writes cost nothing anyone waits for; the space does (about 60 MB
# per index and million rows), so the action (two values, half the rows each) has none: over a
# long period it is counted by the date index alone.
audit_by_branch = sa.Index("ix_audit_log_branch_requested_at_id", audit_log.c.branch_id, audit_log.c.requested_at, audit_log.c.id)
audit_by_actor = sa.Index("ix_audit_log_actor_requested_at_id", audit_log.c.actor, audit_log.c.requested_at, audit_log.c.id)
audit_by_outcome = sa.Index("ix_audit_log_outcome_requested_at_id", audit_log.c.outcome, audit_log.c.requested_at, audit_log.c.id)
_BY_FILTER = (audit_by_branch, audit_by_actor, audit_by_outcome)
_LATER_INDEXES = (one_pending_action_per_pos, one_open_action_per_pos, audit_newest_first, *_BY_FILTER)
_ALERT_TABLES = (incidents, alert_outbox)
_V1_AUDIT_TIME_INDEX = "ix_audit_log_requested_at"  # v1's, on requested_at alone; dropped by v6


# Each step may find part of itself done: SQLite (pysqlite) commits DDL as it goes, so a process
# that died mid-step leaves tables without the version row. Steps therefore create what is missing.
def _v1(conn: Connection) -> None:
    for table in (connectivity_checks, pos_status, day_events, audit_log):
        table.create(conn, checkfirst=True)
        for index in table.indexes:
            if not any(index is later for later in _LATER_INDEXES):  # each added by its own step
                index.create(conn, checkfirst=True)


def _v2(conn: Connection) -> None:
    one_pending_action_per_pos.create(conn, checkfirst=True)


def _v3(conn: Connection) -> None:
    leases.create(conn, checkfirst=True)


def _v4(conn: Connection) -> None:
    columns = {c["name"] for c in sa.inspect(conn).get_columns("day_events")}
    if "verified" not in columns:
        # Rows written before v4 were cucu's lists; a complete one was read after its day.
        conn.execute(sa.text("ALTER TABLE day_events ADD COLUMN verified BOOLEAN NOT NULL DEFAULT FALSE"))
        conn.execute(day_events.update().values(verified=day_events.c.complete))
    if "last_end" not in columns:
        # Empty for older rows: the collector reads each ended event's day again, which fills it.
        conn.execute(sa.text(f"ALTER TABLE day_events ADD COLUMN last_end {UtcDateTime().impl.compile(dialect=conn.dialect)}"))
    for index in day_events.indexes:
        index.create(conn, checkfirst=True)
    data_versions.create(conn, checkfirst=True)
    present = set(conn.execute(sa.select(data_versions.c.name)).scalars())
    for name in _V4_VERSIONED:
        if name not in present:
            conn.execute(data_versions.insert().values(name=name, version=0))


def _v5(conn: Connection) -> None:
    if not sa.inspect(conn).has_table(audit_log.name):  # a database assembled by hand, without v1's tables
        _v1(conn)
    one_open_action_per_pos.create(conn, checkfirst=True)  # first, so no moment without the guarantee
    one_pending_action_per_pos.drop(conn, checkfirst=True)


def _v6(conn: Connection) -> None:
    audit_log.create(conn, checkfirst=True)  # with every index, on a database that somehow lacks it
    audit_newest_first.create(conn, checkfirst=True)
    # v1's index on requested_at alone: the new one serves all it did, and its order without a sort.
    conn.execute(sa.text(f"DROP INDEX IF EXISTS {_V1_AUDIT_TIME_INDEX}"))


def _v7(conn: Connection) -> None:
    for index in _BY_FILTER:
        index.create(conn, checkfirst=True)


def _v8(conn: Connection) -> None:
    for table in _ALERT_TABLES:
        table.create(conn, checkfirst=True)
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def _v9(conn: Connection) -> None:
    policy_state.create(conn, checkfirst=True)


def _v10(conn: Connection) -> None:
    for table in (pos_cufd, invoices, job_runs):
        table.create(conn, checkfirst=True)
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    present = set(conn.execute(sa.select(data_versions.c.name)).scalars())
    for name in (pos_cufd.name, invoices.name):
        if name not in present:
            conn.execute(data_versions.insert().values(name=name, version=0))


# Columns v1..v10 made narrower than what the code writes: PostgreSQL refused the longer values (resuming
# the policy, an invoice state of 33-64 characters, a long user id), SQLite never checked. Widths as shipped
# by v11, not read from the tables above: a later widening is a step of its own.
_V11_WIDER = ((audit_log, "action", 32), (audit_log, "actor", 320), (policy_state, "changed_by", 320), (invoices, "state", 64))


def _v11(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return  # SQLite keeps text of any length in a VARCHAR(n) column: nothing to widen
    for table, column, length in _V11_WIDER:
        # A longer VARCHAR is a change of the catalogue only: no rewrite of the table or its indexes.
        conn.execute(sa.text(f"ALTER TABLE {table.name} ALTER COLUMN {column} TYPE VARCHAR({length})"))


def _v12(conn: Connection) -> None:
    # v10 creates job_runs from the current definition: a database made since has the columns already.
    columns = {c["name"] for c in sa.inspect(conn).get_columns(job_runs.name)}
    for name in ("future", "undated", "over_cap"):
        if name not in columns:
            conn.execute(sa.text(f"ALTER TABLE {job_runs.name} ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0"))


def _v13(conn: Connection) -> None:
    # v1 and v9 create these tables from the current definitions: a database made since has the columns.
    columns = {c["name"] for c in sa.inspect(conn).get_columns(connectivity_checks.name)}
    if "on_request" not in columns:
        conn.execute(sa.text("ALTER TABLE connectivity_checks ADD COLUMN on_request BOOLEAN NOT NULL DEFAULT FALSE"))
    if "audit_id" not in {c["name"] for c in sa.inspect(conn).get_columns(policy_state.name)}:
        conn.execute(sa.text("ALTER TABLE policy_state ADD COLUMN audit_id INTEGER"))


def _v14(conn: Connection) -> None:
    # v10 creates job_runs from the current definition: a database made since has the columns already.
    columns = {c["name"] for c in sa.inspect(conn).get_columns(job_runs.name)}
    if "passed_at" not in columns:
        conn.execute(
            sa.text(f"ALTER TABLE {job_runs.name} ADD COLUMN passed_at {UtcDateTime().impl.compile(dialect=conn.dialect)}")
        )
    if "pass_pages" not in columns:
        conn.execute(sa.text(f"ALTER TABLE {job_runs.name} ADD COLUMN pass_pages INTEGER NOT NULL DEFAULT 0"))


def _v15(conn: Connection) -> None:
    # v8 creates incidents from the current definition: a database made since has the columns already.
    columns = {c["name"] for c in sa.inspect(conn).get_columns(incidents.name)}
    when = UtcDateTime().impl.compile(dialect=conn.dialect)
    for name, kind in (("acknowledged_by", "VARCHAR(320)"), ("acknowledged_at", when), ("quiet_until", when)):
        if name not in columns:
            conn.execute(sa.text(f"ALTER TABLE {incidents.name} ADD COLUMN {name} {kind}"))
    incident_notes.create(conn, checkfirst=True)


def _v16(conn: Connection) -> None:
    # v8 creates incidents from the current definition: a database made since has the columns already.
    columns = {c["name"] for c in sa.inspect(conn).get_columns(incidents.name)}
    if "alerted_at" not in columns:
        when = UtcDateTime().impl.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {incidents.name} ADD COLUMN alerted_at {when}"))
    if "escalations" not in columns:
        conn.execute(sa.text(f"ALTER TABLE {incidents.name} ADD COLUMN escalations INTEGER NOT NULL DEFAULT 0"))


def _v17(conn: Connection) -> None:
    maintenance_windows.create(conn, checkfirst=True)
    for index in maintenance_windows.indexes:
        index.create(conn, checkfirst=True)


def _v18(conn: Connection) -> None:
    if not conn.execute(sa.select(data_versions.c.name).where(data_versions.c.name == POS_EVENTS)).first():
        conn.execute(data_versions.insert().values(name=POS_EVENTS, version=0))


# Ordered; never change what a shipped step creates, append a new one.
MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _v1),
    (2, _v2),
    (3, _v3),
    (4, _v4),
    (5, _v5),
    (6, _v6),
    (7, _v7),
    (8, _v8),
    (9, _v9),
    (10, _v10),
    (11, _v11),
    (12, _v12),
    (13, _v13),
    (14, _v14),
    (15, _v15),
    (16, _v16),
    (17, _v17),
    (18, _v18),
]
