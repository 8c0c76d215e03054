"""Who handles an alert (issue 25, part 1): "Lo atiendo" with a note quiets reminders for the chosen time, a
recovery still closes the incident, notes are kept with it, everything is audited, and the message links
to the page that acknowledges it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cucu.alerts import ALERT_PARAM, NOTE_MAX, acknowledge, add_note, incident_link
from cucu.events.actions import ActionError, Actor
from cucu.store import AuditFilter, Store
from cucu.vocabulary import ActionKind, AlertKind, AlertRule, Outcome, Role
from tests.store.test_alerts import T0, channels, down, run, up

ANA = Actor("ana@empresa.bo", "Ana Quispe", Role.SUPERVISOR)
BETO = Actor("beto@empresa.bo", "Beto Mamani", Role.SUPERVISOR)
VIEWER = Actor("vera@empresa.bo", "Vera", Role.VIEWER)


def opened(store, settings, minutes=2):
    assert run(store, down(T0 + timedelta(minutes=minutes)), settings).opened == 1
    return store.open_incidents()[0]


def test_lo_atiendo_quiets_reminders_for_the_chosen_time_and_a_recovery_still_closes_it(db):
    store = Store(db)
    settings = channels(remind_minutes=30)
    incident = opened(store, settings)
    at = T0 + timedelta(minutes=10)
    acked = acknowledge(store, ANA, incident.id, "  Llamo a\nsoporte de SIAT ", timedelta(hours=1), at)
    assert (acked.acknowledged_by, acked.acknowledged_at, acked.quiet_until) == ("Ana Quispe", at, at + timedelta(hours=1))
    assert store.open_incidents()[0].acknowledged_by == "Ana Quispe"  # every tablet reads it from the store
    # Due at minute 32 without it; quiet until minute 70, then reminded again.
    assert run(store, down(T0 + timedelta(minutes=33)), settings).reminded == 0
    assert run(store, down(T0 + timedelta(minutes=69)), settings).reminded == 0
    assert run(store, down(T0 + timedelta(minutes=71)), settings).reminded == 1
    assert run(store, up(T0 + timedelta(minutes=80)), settings).closed == 1  # whatever its acknowledgment
    assert not store.open_incidents()
    [note] = store.incident_notes(incident.id)
    assert (note.author, note.text, note.acknowledging, note.written_at) == ("Ana Quispe", "Llamo a soporte de SIAT", True, at)


def test_the_header_reads_the_first_open_incidents_handled_longest_handled_first(db):
    store = Store(db)
    now = T0 + timedelta(minutes=1)
    opened = [
        store.incident_open(key=f"k{n}", rule=AlertRule.LONG_OPEN, branch_id=f"b{n}", opened_at=now, now=now,
                            title=f"t{n}", body="b", messages=[])
        for n in range(4)
    ]  # fmt: skip
    ids = [i for i in opened if i is not None]
    assert len(ids) == 4 and not store.open_incidents_handled(3)
    acknowledge(store, BETO, ids[2], "Voy", timedelta(hours=1), T0 + timedelta(minutes=9))
    acknowledge(store, ANA, ids[0], "Reviso", timedelta(hours=1), T0 + timedelta(minutes=5))
    acknowledge(store, ANA, ids[3], "Llamo", timedelta(hours=1), T0 + timedelta(minutes=7))
    handled = store.open_incidents_handled(2)
    assert [(i.title, i.acknowledged_by, i.acknowledged_at) for i in handled] == [
        ("t0", "Ana Quispe", T0 + timedelta(minutes=5)),
        ("t3", "Ana Quispe", T0 + timedelta(minutes=7)),
    ]
    store.incident_close(ids[0], now=T0 + timedelta(minutes=10), title="x", body="y", messages=[])
    assert [i.title for i in store.open_incidents_handled(3)] == ["t3", "t2"]  # a closed one is no longer open


def test_alertas_download_holds_each_alert_with_who_since_when_and_its_notes(db):
    """Notes are exported with their alert: the workbook Alertas offers (open and resolved alerts as the page lists
    them) names who handles each and since when, and every note with its author, time in La Paz and text."""
    import io

    import pandas as pd

    from cucu.lapaz import to_la_paz
    from cucu.views.alertas import alerts_pdf, alerts_xlsx

    store = Store(db)
    incident = opened(store, channels())
    at = T0 + timedelta(minutes=10)
    acknowledge(store, ANA, incident.id, "Llamo a soporte de SIAT", timedelta(hours=1), at)
    add_note(store, BETO, incident.id, "=1+1 no es una fórmula", at + timedelta(minutes=5))
    listed = store.open_incidents()
    sheets = pd.read_excel(io.BytesIO(alerts_xlsx(listed, store.incident_notes)), sheet_name=None)
    alerts, notes = sheets["Alertas"], sheets["Notas"]
    assert alerts[["Nº", "Atendida por", "Notas"]].values.tolist() == [[incident.id, "Ana Quispe", 2]]
    assert alerts["Atendida desde"].tolist() == [pd.Timestamp(to_la_paz(at).replace(tzinfo=None))]  # La Paz time
    assert notes[["Nº de alerta", "Por", "Tipo", "Nota"]].values.tolist() == [
        [incident.id, "Ana Quispe", "Lo atiendo", "Llamo a soporte de SIAT"],
        [incident.id, "Beto Mamani", "Nota", "'=1+1 no es una fórmula"],  # as text, never a formula
    ]
    assert notes["Escrita"].tolist() == [pd.Timestamp(to_la_paz(t).replace(tzinfo=None)) for t in (at, at + timedelta(minutes=5))]
    assert alerts_pdf(listed, store.incident_notes, at).startswith(b"%PDF")


def test_without_lo_atiendo_the_reminder_is_due_on_time(db):
    """The control of the test above: the same timeline, nobody acknowledges, the reminder goes at minute 33."""
    store = Store(db)
    settings = channels(remind_minutes=30)
    opened(store, settings)
    assert run(store, down(T0 + timedelta(minutes=33)), settings).reminded == 1


def test_another_supervisor_takes_it_over(db):
    store = Store(db)
    incident = opened(store, channels())
    acknowledge(store, ANA, incident.id, "Reviso la red", timedelta(hours=2), T0 + timedelta(minutes=5))
    beto = acknowledge(store, BETO, incident.id, "Me encargo yo", timedelta(minutes=30), T0 + timedelta(minutes=20))
    assert (beto.acknowledged_by, beto.quiet_until) == ("Beto Mamani", T0 + timedelta(minutes=50))
    assert [(n.author, n.text) for n in store.incident_notes(incident.id)] == [
        ("Ana Quispe", "Reviso la red"),
        ("Beto Mamani", "Me encargo yo"),
    ]


@pytest.mark.parametrize(
    ("actor", "note", "quiet", "says"),
    [
        (VIEWER, "Lo veo", timedelta(hours=1), "Solo un supervisor"),
        (Actor("sesion-anonima"), "Lo veo", timedelta(hours=1), "Solo un supervisor"),
        (ANA, "   ", timedelta(hours=1), "Escriba una nota"),
        (ANA, None, timedelta(hours=1), "Escriba una nota"),
        (ANA, "x" * (NOTE_MAX + 1), timedelta(hours=1), "demasiado larga"),
        (ANA, "Lo veo", timedelta(0), "cuánto tiempo"),
    ],
)
def test_a_refused_acknowledgment_says_why_and_writes_nothing(db, actor, note, quiet, says):
    store = Store(db)
    incident = opened(store, channels())
    with pytest.raises(ActionError, match=says):
        acknowledge(store, actor, incident.id, note, quiet, T0 + timedelta(minutes=5))
    assert store.open_incidents()[0].acknowledged_by is None
    assert not store.incident_notes(incident.id)
    assert not store.audit_page(AuditFilter())


def test_a_resolved_or_unknown_incident_cannot_be_acknowledged_but_takes_notes(db):
    store = Store(db)
    settings = channels()
    incident = opened(store, settings)
    run(store, up(T0 + timedelta(minutes=10)), settings)
    with pytest.raises(ActionError, match="ya se resolvió"):
        acknowledge(store, ANA, incident.id, "Tarde", timedelta(hours=1), T0 + timedelta(minutes=11))
    with pytest.raises(ActionError, match="no existe"):
        acknowledge(store, ANA, incident.id + 99, "Nada", timedelta(hours=1), T0 + timedelta(minutes=11))
    add_note(store, ANA, incident.id, "Causa: corte del proveedor", T0 + timedelta(minutes=12))  # the post-mortem
    [note] = store.incident_notes(incident.id)
    assert (note.text, note.acknowledging) == ("Causa: corte del proveedor", False)
    with pytest.raises(ActionError, match="Solo un supervisor"):
        add_note(store, VIEWER, incident.id, "Hola", T0 + timedelta(minutes=13))
    with pytest.raises(ActionError, match="no existe"):
        add_note(store, ANA, incident.id + 99, "Hola", T0 + timedelta(minutes=13))
    assert len(store.incident_notes(incident.id)) == 1


def test_bitacora_records_every_acknowledgment_and_note(db):
    store = Store(db)
    incident = opened(store, channels())
    acknowledge(store, ANA, incident.id, "Llamo a SIAT", timedelta(hours=1), T0 + timedelta(minutes=5))
    add_note(store, BETO, incident.id, "SIAT confirma mantenimiento", T0 + timedelta(minutes=6))
    entries = store.audit_page(AuditFilter())
    assert [(e.action, e.actor_name, e.outcome) for e in entries] == [
        (ActionKind.NOTE, "Beto Mamani", Outcome.OK),
        (ActionKind.ACKNOWLEDGE, "Ana Quispe", Outcome.OK),
    ]
    said = [e.message or "" for e in entries]
    assert incident.title in said[1] and "«Llamo a SIAT»" in said[1]
    assert "«SIAT confirma mantenimiento»" in said[0]
    assert all(e.completed_at is not None and e.pos_id == "" for e in entries)
    assert not store.open_attempts(Outcome.PENDING)  # decided rows: nothing waits on them


def test_alert_messages_link_to_acknowledging_it_never_to_an_action(db):
    store = Store(db)
    settings = channels(remind_minutes=30, public_url="https://tablero.empresa.bo")
    opened(store, settings)
    run(store, down(T0 + timedelta(minutes=33)), settings)
    run(store, up(T0 + timedelta(minutes=40)), settings)
    link = incident_link("https://tablero.empresa.bo", "siat_caido")
    assert link == f"https://tablero.empresa.bo/alertas?{ALERT_PARAM}=siat_caido"
    by_kind = {m.kind: m.body for m in store.outbox_entries(20)}
    assert f"Para atenderla: {link}" in by_kind[AlertKind.OPENED]
    assert f"Para atenderla: {link}" in by_kind[AlertKind.REMINDER]
    assert "Para atenderla" not in by_kind[AlertKind.CLOSED]  # nothing left to handle


def test_a_branch_incidents_link_names_its_key_safely():
    assert incident_link("https://t.bo", "contingencia_larga:b norte/1&x") == (
        f"https://t.bo/alertas?{ALERT_PARAM}=contingencia_larga%3Ab%20norte%2F1%26x"
    )


def test_v15_incidents_gain_who_handles_them_and_their_notes(db):
    from cucu.store.schema import incident_notes, incidents, schema_version

    store = Store(db)
    incident = opened(store, channels())
    with store.engine.begin() as conn:  # incidents as v14 left them
        incident_notes.drop(conn)
        for name in ("acknowledged_by", "acknowledged_at", "quiet_until"):
            conn.execute(sa.text(f"ALTER TABLE {incidents.name} DROP COLUMN {name}"))
        conn.execute(schema_version.delete().where(schema_version.c.version >= 15))
    store.close()
    store = Store(db)
    old = store.open_incidents()[0]
    assert (old.id, old.acknowledged_by, old.quiet_until) == (incident.id, None, None)
    acknowledge(store, ANA, incident.id, "Sigo", timedelta(hours=1), T0 + timedelta(minutes=5))
    assert store.open_incidents()[0].acknowledged_by == "Ana Quispe" and len(store.incident_notes(incident.id)) == 1
    store.close()
