"""Every value the code writes fits its column, on SQLite and PostgreSQL alike.

SQLite keeps text of any length in a VARCHAR(n) column, so a column too narrow shows only on
PostgreSQL, as a DataError in a person's action or a collector's round. These tests list, for each
String(n) column, what writes it and the longest value it may carry (the longest member of a
vocabulary enum, a model's or the sign-in's limit), and write those values through the store on both
backends; v11 widened what v1..v10 made too narrow.
"""

from __future__ import annotations

import enum
import inspect
import socket
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

import pytest
import sqlalchemy as sa

from cucu import vocabulary
from cucu.access import MAX_NAME_LENGTH, MAX_USER_LENGTH, AccessSettings, Identity, decide
from cucu.api.models import ELLIPSIS, MAX_ID_LENGTH, Invoice, InvoiceStatus
from cucu.collector import LEASE, Collector
from cucu.events.actions import Actor
from cucu.events.policy import POLICY_ACTOR, set_paused
from cucu.invoicing import INVOICE_JOB
from cucu.lapaz import LA_PAZ
from cucu.settings import load_alerts
from cucu.store import _POLICY, Attempt, StatusRead, Store, database_url
from cucu.store.schema import MIGRATIONS, VERSIONED, audit_log, invoices, metadata, policy_state, schema_version
from cucu.vocabulary import (
    AccessMode,
    ActionKind,
    AlertKind,
    AlertRule,
    ErrorKind,
    InvoiceState,
    Outcome,
    Role,
)

UUID = 36  # branch and POS ids come from the inventory, which takes only a UUID's canonical form
HOST_NAME_MAX, PID_MAX = 64, 4_194_304  # Linux's limits: a collector's holder is "host:pid:8 hex"


def longest(vocabulary_enum: type[StrEnum]) -> int:
    return max(len(member.value) for member in vocabulary_enum)


# Every vocabulary enum whose values go into a column, and the columns; the others are shown or
# configured only (a new enum must be put in one of the two, so a stored one cannot be forgotten).
STORED: dict[type[StrEnum], tuple[str, ...]] = {
    ErrorKind: ("connectivity_checks.error_kind",),
    Role: ("audit_log.role",),
    ActionKind: ("audit_log.action",),
    Outcome: ("audit_log.outcome",),
    AlertRule: ("incidents.rule", "incidents.key"),
    AlertKind: ("alert_outbox.kind",),
    InvoiceState: ("invoices.state",),
}
NOT_STORED = {
    vocabulary.EventState,
    vocabulary.Mode,
    vocabulary.AccessMode,
    vocabulary.CheckState,
    vocabulary.SiatStatus,
    vocabulary.PosState,
    vocabulary.Tone,
    vocabulary.Delivery,  # read from the outbox's times
    vocabulary.PolicyMode,
    vocabulary.PolicyMaintenance,
    vocabulary.QueueKind,
    vocabulary.OutageKind,
    vocabulary.OutageState,
    vocabulary.PolicyState,
    vocabulary.CufdHealth,
    vocabulary.EventClosing,
}


def holder_length(monkeypatch) -> int:
    """The longest holder a collector gives itself (leases.holder, alert_outbox.claimed_by)."""
    monkeypatch.setattr(socket, "gethostname", lambda: "h" * HOST_NAME_MAX)
    monkeypatch.setattr("os.getpid", lambda: PID_MAX)
    collector = Collector(None, None, None, concurrency=1)  # type: ignore[arg-type]  # only its name is read
    collector._pool.shutdown()
    return len(collector.holder)


def channel_lengths() -> tuple[int, int]:
    """The longest label and fingerprint a channel gets, from a URL far longer than any real one."""
    (channel,) = load_alerts({"channels": [{"url": f"json://{'h' * 60}.example.bo/{'camino/' * 300}?token=x"}]}, {}).channels
    return len(channel.label), len(channel.fingerprint)


def written(monkeypatch) -> dict[str, int]:
    """For each String(n) column: the longest value the code writes into it."""
    holder = holder_length(monkeypatch)
    label, fingerprint = channel_lengths()
    return {
        "connectivity_checks.error_kind": longest(ErrorKind),
        "pos_status.pos_id": UUID,
        "pos_status.branch_id": UUID,
        "day_events.pos_id": UUID,
        "day_events.branch_id": UUID,
        "audit_log.actor": max(MAX_USER_LENGTH, len(POLICY_ACTOR.id)),
        "audit_log.actor_name": max(MAX_NAME_LENGTH, len(POLICY_ACTOR.name or "")),
        "audit_log.role": longest(Role),
        "audit_log.action": longest(ActionKind),
        "audit_log.branch_id": UUID,
        "audit_log.pos_id": UUID,
        "audit_log.event_id": MAX_ID_LENGTH,  # Event.id
        "audit_log.outcome": longest(Outcome),
        "leases.name": len(LEASE),
        "leases.holder": holder,
        "incidents.key": longest(AlertRule) + len(":") + UUID,  # a rule, or a rule and a branch
        "incidents.rule": longest(AlertRule),
        "incidents.branch_id": UUID,
        "incidents.acknowledged_by": max(MAX_NAME_LENGTH, MAX_USER_LENGTH),  # the name, else the user
        "incident_notes.author": max(MAX_NAME_LENGTH, MAX_USER_LENGTH),
        "maintenance_windows.created_by": max(MAX_NAME_LENGTH, MAX_USER_LENGTH),
        "alert_outbox.kind": longest(AlertKind),
        "alert_outbox.channel": fingerprint,
        "alert_outbox.channel_label": label,
        "alert_outbox.claimed_by": holder,
        "policy_state.name": len(_POLICY),
        "policy_state.changed_by": max(MAX_NAME_LENGTH, MAX_USER_LENGTH),  # the name, else the user
        "pos_cufd.pos_id": UUID,
        "pos_cufd.branch_id": UUID,
        "invoices.id": MAX_ID_LENGTH,
        "invoices.invoice_number": MAX_ID_LENGTH,
        "invoices.pos_id": MAX_ID_LENGTH,
        "invoices.state": MAX_ID_LENGTH,  # a state this version does not know is kept as cucu sent it
        "invoices.emission_type": MAX_ID_LENGTH,
        "job_runs.name": len(INVOICE_JOB),
        "data_versions.name": max(len(name) for name in VERSIONED),
    }


def string_columns() -> dict[str, int]:
    return {
        f"{table.name}.{column.name}": column.type.length
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, sa.String) and column.type.length is not None
    }


def test_every_vocabulary_enum_is_known_to_be_stored_or_not():
    enums = {
        value
        for _, value in inspect.getmembers(vocabulary, inspect.isclass)
        if issubclass(value, enum.Enum) and value.__module__ == vocabulary.__name__ and issubclass(value, StrEnum)
    }
    assert enums == set(STORED) | NOT_STORED


def test_every_string_column_is_as_wide_as_the_longest_value_written_to_it(monkeypatch):
    columns, longest_written = string_columns(), written(monkeypatch)
    assert set(columns) == set(longest_written)  # a new String column says here what writes it
    for stored_enum, names in STORED.items():
        for name in names:
            assert longest(stored_enum) <= longest_written[name], name
    too_narrow = {name: (columns[name], n) for name, n in longest_written.items() if n > columns[name]}
    assert too_narrow == {}


def test_a_longer_value_than_its_column_is_caught_by_the_width_table(monkeypatch):
    """What the table above is for: an enum member or a model limit longer than its column fails it."""

    class Longer(StrEnum):
        WIDE = "x" * (string_columns()["audit_log.action"] + 1)

    monkeypatch.setitem(STORED, Longer, ("audit_log.action",))
    with pytest.raises(AssertionError):
        test_every_string_column_is_as_wide_as_the_longest_value_written_to_it(monkeypatch)
    monkeypatch.delitem(STORED, Longer)
    monkeypatch.setattr(f"{__name__}.MAX_ID_LENGTH", string_columns()["invoices.state"] + 1)
    with pytest.raises(AssertionError):
        test_every_string_column_is_as_wide_as_the_longest_value_written_to_it(monkeypatch)


# ---- the longest values, written through the store on both backends ----------------------------

SUPERVISOR = Actor("ana@empresa.bo", "Ana", Role.SUPERVISOR)


def at(hour: int) -> datetime:
    """A fixed time: nothing here compares it with a clock."""
    return datetime(2026, 11, 24, hour, 0, tzinfo=LA_PAZ)


def attempt(when: datetime, actor: str, name: str | None, action: ActionKind, pos_id: str, **more) -> Attempt:
    return Attempt(
        requested_at=when, actor=actor, actor_name=name, role=Role.SUPERVISOR, action=action, branch_id="b", pos_id=pos_id, **more
    )


def test_a_supervisor_pauses_and_resumes_the_policy_and_both_are_audited(db):
    """Seen on PostgreSQL: "reanudar_politica" (17) in a VARCHAR(16) rolled the resume back."""
    store = Store(db)
    set_paused(store, SUPERVISOR, True, at(8))
    assert store.policy_paused_by() == "Ana"
    set_paused(store, SUPERVISOR, False, at(9))
    assert store.policy_paused_by() is None
    assert sorted(e.action for e in store.audit_entries()) == sorted([ActionKind.PAUSE_POLICY, ActionKind.RESUME_POLICY])
    store.close()


def test_every_action_and_outcome_is_written_to_the_audit_log(db):
    store = Store(db)
    every = {(action, outcome) for action in ActionKind for outcome in Outcome}
    for i, (action, outcome) in enumerate(sorted(every)):  # one POS each: an open outcome holds its POS
        store.audit_begin(attempt(at(8), "ana", None, action, f"p{i}", outcome=outcome))
    assert {(e.action, e.outcome) for e in store.audit_entries()} == every
    store.close()


def api_invoice(state: str) -> dict[str, object]:
    return {
        "id": "f" * MAX_ID_LENGTH,
        "invoiceNumber": "9" * MAX_ID_LENGTH,
        "state": state,
        "emissionDate": "2026-11-24T08:00:00",
    }


def test_an_invoice_state_as_long_as_the_model_takes_is_kept(db):
    """Seen on PostgreSQL: a state of 33-64 characters (the model takes 64) stopped every invoice round."""
    store = Store(db)
    state = "EN_REVISION_" + "X" * (MAX_ID_LENGTH - 12)
    listed = Invoice.from_api(api_invoice(state))
    assert listed.state == state and len(state) == MAX_ID_LENGTH
    assert store.save_invoices([listed], at(9)) == (1, 0)
    status = InvoiceStatus.from_api({**api_invoice(state.lower()), "emissionType": "E" * MAX_ID_LENGTH})
    assert store.save_invoice_statuses([StatusRead(listed.id, at(10), status=status)]) == 1
    (kept,) = store.invoices_since(at(0))
    assert kept.state == state.lower() and kept.invoice_number == "9" * MAX_ID_LENGTH
    store.close()


def test_a_person_with_any_name_the_sign_in_carries_can_act(db):
    """Seen on PostgreSQL: a name claim over 200 characters made every action of its owner a DataError.
    The name is cut to what the audit log keeps; the user, as long as an e-mail may be, is kept whole."""
    store = Store(db)
    user = f"{'a' * (MAX_USER_LENGTH - len('@empresa.bo'))}@empresa.bo"
    settings = AccessSettings(mode=AccessMode.PROXY, users={user: Role.SUPERVISOR.value})
    decision = decide(settings, Identity(user, "Ana " * 300), demo=False)
    assert decision.can_act and decision.name is not None
    assert len(decision.name) == MAX_NAME_LENGTH and decision.name.endswith(ELLIPSIS)
    person = Actor(decision.user, decision.name, decision.role)
    set_paused(store, person, True, at(8))
    set_paused(store, person, False, at(9))
    store.audit_begin(attempt(at(10), person.id, person.name, ActionKind.START, "p"))
    entries = store.audit_entries()
    assert {(e.actor, e.actor_name) for e in entries} == {(user, decision.name)} and len(entries) == 3
    store.close()


def test_the_longest_name_or_user_acknowledges_an_alert_and_writes_a_note(db):
    """Who handles an alert is kept as the name, else the user: both as long as the sign-in may give them."""
    from cucu.alerts import acknowledge, add_note

    store = Store(db)
    user = f"{'a' * (MAX_USER_LENGTH - len('@empresa.bo'))}@empresa.bo"
    store.incident_open(
        key="siat_caido", rule=AlertRule.SIAT_DOWN, branch_id=None, opened_at=at(8), now=at(8), title="t", body="b", messages=[]
    )
    (incident,) = store.open_incidents()
    for person in (Actor(user, None, Role.SUPERVISOR), Actor(user, "N" * MAX_NAME_LENGTH, Role.SUPERVISOR)):
        acknowledge(store, person, incident.id, "Lo veo", timedelta(hours=1), at(9))
        add_note(store, person, incident.id, "Sigo", at(9))
    assert {n.author for n in store.incident_notes(incident.id)} == {user, "N" * MAX_NAME_LENGTH}
    assert store.open_incidents()[0].acknowledged_by == "N" * MAX_NAME_LENGTH
    store.close()


def test_a_user_longer_than_any_e_mail_may_not_use_the_dashboard():
    user = "a" * (MAX_USER_LENGTH + 1)
    decision = decide(AccessSettings(mode=AccessMode.PROXY, users={user: Role.SUPERVISOR.value}), Identity(user), demo=False)
    assert decision.role is None and f"el máximo es {MAX_USER_LENGTH}" in decision.reason


@pytest.mark.parametrize("claim", [None, "", "   ", 42, ["Ana", "Beto"], {"es": "Ana"}])
def test_a_name_claim_that_is_no_text_is_no_name(claim):
    assert Identity("ana@empresa.bo", claim).name is None  # claims are any JSON


# ---- v11: a v10 database is widened ---------------------------------------------------------------

V10_WIDTHS = {(audit_log, "action"): 16, (audit_log, "actor"): 200, (policy_state, "changed_by"): 200, (invoices, "state"): 32}


def v10_database(db: str) -> None:
    """A database as v10 left it: its steps, with the widths they shipped (PostgreSQL keeps them)."""
    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:
        schema_version.create(conn)
        for version, step in MIGRATIONS[:10]:
            step(conn)
            conn.execute(schema_version.insert().values(version=version))
        if conn.dialect.name == "postgresql":  # v1..v10 create from today's tables: narrow them back
            for (table, column), length in V10_WIDTHS.items():
                conn.execute(sa.text(f"ALTER TABLE {table.name} ALTER COLUMN {column} TYPE VARCHAR({length})"))
    engine.dispose()


def widths(db: str) -> dict[str, int | None]:
    engine = sa.create_engine(database_url(db))
    found = {
        f"{table}.{column['name']}": getattr(column["type"], "length", None)
        for table in sa.inspect(engine).get_table_names()
        for column in sa.inspect(engine).get_columns(table)
    }
    engine.dispose()
    return found


def test_a_v10_database_is_widened_and_then_takes_the_long_values(db, request):
    v10_database(db)
    if db.startswith("postgresql"):
        before = widths(db)
        assert {before[f"{t.name}.{c}"] for (t, c) in V10_WIDTHS} == set(V10_WIDTHS.values())
        with sa.create_engine(database_url(db)).begin() as conn, pytest.raises(sa.exc.DataError):
            conn.execute(invoices.insert().values(id="i", state="X" * 33, listed_at=at(8)))
    store = Store(db)  # migrates v10 -> v11
    assert store.version() == MIGRATIONS[-1][0] >= 11
    test_state = "X" * MAX_ID_LENGTH
    store.save_invoices([Invoice.from_api(api_invoice(test_state))], at(9))
    set_paused(store, SUPERVISOR, True, at(9))
    set_paused(store, replace(SUPERVISOR, id="u" * MAX_USER_LENGTH, name=None), False, at(10))
    assert store.policy_paused_by() is None and [i.state for i in store.invoices_since(at(0))] == [test_state]
    store.close()
    if db.startswith("postgresql"):  # the same columns as a database created today
        from tests.support.postgres import fresh_database

        fresh = fresh_database(request.getfixturevalue("postgres_server"))
        Store(fresh).close()
        assert widths(db) == widths(fresh)


def test_v11_runs_again_on_a_database_that_has_it(db):
    """A step may find itself done (SQLite commits DDL as it goes; a process may die before the version row)."""
    Store(db).close()
    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:
        conn.execute(schema_version.delete().where(schema_version.c.version == 11))
    engine.dispose()
    assert Store(db).version() == MIGRATIONS[-1][0]
