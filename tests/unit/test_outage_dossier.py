"""An outage's dossier built by hand (issue 25, part 5), without a store: its summary's values, every kind of
timeline entry (the alert's channels and deliveries, its escalation, a rejected invoice's SIAT code, the
validated ones, those still to send with their deadline, events started by the automatic policy), its closing
rules (ongoing, to close, closed when every invoice is settled or past its deadline) and a branch's internet
outage. Fixed dates only: ``now`` is handed to the dossier, no clock is read."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from cucu.api.models import REGISTRATION_WINDOW, Event
from cucu.connectivity.outages import Dossier, Outage, branch_clusters, dossier, outage_states
from cucu.events.policy import POLICY_ACTOR
from cucu.formatting import fmt_datetime, fmt_duration
from cucu.invoicing.codes import explain_siat_code
from cucu.store import AuditEntry, ConnectivityCheck, DayEvents, Incident, IncidentNote, OutboxEntry, StoredInvoice
from cucu.views.caidas import summary_frame
from cucu.vocabulary import ActionKind, AlertKind, AlertRule, InvoiceState, Motive, OutageKind, OutageState, Outcome, Role
from tests.unit.test_frames import B1, B2, INV, NOW, event

T0 = NOW  # the first failed check
DECLARED = T0 + timedelta(minutes=2)
BACK = T0 + timedelta(hours=3)
P1, P2, P3 = B1.pos[:3]
Q1 = B2.pos[0]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def placed(pos, start, end=None, motive=Motive.SIAT_FAILURE) -> Event:
    return replace(event(pos, start, end, motive=int(motive), eid=f"ev-{pos.id}-{start:%H%M}"), branch_id=pos.branch_id)


def days_of(events: list[Event]) -> list[DayEvents]:
    return [DayEvents(e.pos_id, e.branch_id or "", T0.date(), T0, False, (e,)) for e in events]


def started(e: Event, actor: str, name: str | None) -> AuditEntry:
    return AuditEntry(
        id=1, requested_at=e.fecha_inicio or T0, completed_at=e.fecha_inicio, actor=actor, actor_name=name,
        role=Role.SUPERVISOR, action=ActionKind.START, branch_id=e.branch_id or "", pos_id=e.pos_id, motive=2,
        description="SIAT no responde", event_id=e.id, outcome=Outcome.OK, message=None,
    )  # fmt: skip


def invoice(number: str, pos, emitted: datetime, state: InvoiceState, status_at=None, code=None, said=None):
    return StoredInvoice(
        f"inv-{number}", number, f"CUF{number}", pos.id, state, "Cliente", 10.0, emitted, emitted, status_at, code, said,
    )  # fmt: skip


# The events: Ana starts two in Sucursal 1, the policy one there and one in Sucursal 2; all ended after SIAT is back.
EVENTS = [
    placed(P1, at(10), at(200)),  # 3 h 10 min
    placed(P2, at(10), BACK + timedelta(hours=1)),  # 3 h 50 min: the last one ended, an hour after SIAT back
    placed(P3, at(12), at(230)),  # 3 h 38 min
    placed(Q1, at(12), at(195)),  # 3 h 3 min
]
AUDIT = [
    started(EVENTS[0], "ana@empresa.bo", "Ana Quispe"),
    started(EVENTS[1], "ana@empresa.bo", "Ana Quispe"),
    started(EVENTS[2], POLICY_ACTOR.id, POLICY_ACTOR.name),
    started(EVENTS[3], POLICY_ACTOR.id, POLICY_ACTOR.name),
]
INCIDENT = Incident(
    7, "siat_down", AlertRule.SIAT_DOWN, None, DECLARED, DECLARED, 0, BACK, "SIAT no responde", "cuerpo",
    acknowledged_by="Ana Quispe", acknowledged_at=at(20),
)  # fmt: skip


def message(mid: int, kind: AlertKind, channel: str, created: datetime, delivered: bool, gave_up: bool = False):
    return OutboxEntry(
        mid, INCIDENT.id, kind, f"mailto://{channel}", channel, "SIAT no responde", "cuerpo", created, created, 1,
        created if delivered else None, created + timedelta(hours=1) if gave_up else None, None,
    )  # fmt: skip


DELIVERIES = {
    INCIDENT.id: [
        message(1, AlertKind.OPENED, "Correo de guardia", DECLARED, delivered=True),
        message(2, AlertKind.OPENED, "Telegram", DECLARED, delivered=False, gave_up=True),
        message(3, AlertKind.ESCALATED, "Gerencia", at(17), delivered=True),
    ]
}
NOTES = {INCIDENT.id: [IncidentNote(1, INCIDENT.id, at(20), "Ana Quispe", True, "Voy a la oficina de SIAT")]}
REJECTED_CODE = 1040
INVOICES = [
    invoice("101", P1, at(30), InvoiceState.VALIDATED, status_at=at(260), code=908),
    invoice("102", P2, at(40), InvoiceState.REJECTED, status_at=at(250), code=REJECTED_CODE, said="fecha fuera del evento"),
    invoice("103", P3, at(60), InvoiceState.CONTINGENCY),  # still to send: its deadline is 48 h after P3's event
    invoice("104", P1, at(300), InvoiceState.CONTINGENCY),  # after P1's event ended: online, not the outage's
]
P3_DEADLINE = at(230) + REGISTRATION_WINDOW
CHECKS = [ConnectivityCheck(T0, False, error="SIAT no responde"), ConnectivityCheck(BACK, True)]


def siat_outage(ended: datetime | None = BACK) -> Outage:
    return Outage("siat-k", OutageKind.SIAT, None, T0, DECLARED, ended, ended is not None)


def build(
    now: datetime, *, outage: Outage | None = None, events=EVENTS, invoices=INVOICES, audit=AUDIT, incidents=(INCIDENT,)
) -> Dossier:
    return dossier(
        outage or siat_outage(), checks=CHECKS, days=days_of(list(events)), statuses={}, audit=audit,
        incidents=list(incidents), deliveries=DELIVERIES, notes=NOTES, invoices=invoices, inventory=INV, now=now,
    )  # fmt: skip


NOW_AFTER = at(6 * 60)  # six hours after the first failed check: SIAT back, every event ended, one invoice to send


# ---- the summary ------------------------------------------------------------------------------------


def test_the_summary_of_a_siat_outage_is_its_actual_values():
    d = build(NOW_AFTER)
    assert d.duration == timedelta(hours=3)  # first failed check to SIAT back
    assert d.pos_affected == {P1.id, P2.id, P3.id, Q1.id}
    assert d.branches_affected == {B1.id, B2.id}
    # 3 h 10 + 3 h 50 + 3 h 38 + 3 h 3 of the four POS
    assert d.contingency_time == timedelta(hours=13, minutes=41)
    assert [i.invoice.invoice_number for i in d.invoices] == ["101", "102", "103"]  # 104 was issued online
    assert d.to_send == 1
    assert d.time_to_acknowledge == timedelta(minutes=18)  # from the declaration (T0+2) to "Lo atiendo" (T0+20)
    assert d.time_to_start == timedelta(minutes=8)  # from the declaration to the first event
    assert d.time_to_end == timedelta(hours=1)  # from SIAT back to the last event ended


def test_the_summary_while_it_goes_on_counts_to_now_and_has_no_time_to_end():
    now = at(60)
    d = build(now, outage=siat_outage(ended=None), events=[placed(P1, at(10)), placed(P2, at(15), at(45))])
    assert d.duration == timedelta(hours=1)
    assert d.contingency_time == timedelta(minutes=50 + 30)  # the open one until now
    assert d.time_to_end is None  # it goes on
    assert d.time_to_start == timedelta(minutes=8)
    nobody = build(now, outage=siat_outage(ended=None), events=[], incidents=[replace(INCIDENT, acknowledged_at=None)])
    assert nobody.time_to_acknowledge is None and nobody.time_to_start is None and nobody.contingency_time == timedelta(0)


def test_an_event_started_before_the_declaration_gives_a_negative_time_to_start():
    d = build(NOW_AFTER, events=[placed(P1, at(1), at(200))])
    assert d.time_to_start == -timedelta(minutes=1)


def test_the_summary_sheet_writes_time_in_contingency_as_every_other_duration():
    summary = dict(summary_frame(build(NOW_AFTER), INV).itertuples(index=False))
    assert summary["Duración"] == "3 h 0 min"
    assert summary["Tiempo en contingencia (sumado por punto de venta)"] == "13 h 41 min"
    assert summary["Puntos de venta afectados"] == "4" and summary["Sucursales afectadas"] == "2"
    assert summary["Facturas fuera de línea"] == "3" and summary["Facturas por enviar"] == "1"
    assert summary["Hasta atender"] == "18 min" and summary["Hasta iniciar"] == "8 min"
    assert summary["Hasta finalizar"] == "1 h 0 min"
    long = build(at(3 * 24 * 60), outage=siat_outage(ended=None), events=[placed(P1, at(10)), placed(P2, at(10))])
    assert dict(summary_frame(long, INV).itertuples(index=False))[
        "Tiempo en contingencia (sumado por punto de venta)"
    ] == fmt_duration(long.contingency_time) == "5 d 23 h"  # fmt: skip


# ---- the timeline -----------------------------------------------------------------------------------


def entries(d: Dossier, what: str) -> list[tuple[datetime, str]]:
    return [(t.at, t.detail) for t in d.timeline if t.what == what]


def test_the_alert_says_to_which_channels_it_went_and_whether_each_delivered():
    d = build(NOW_AFTER)
    ((when, said),) = entries(d, "Alerta")
    assert when == DECLARED
    assert said == (
        "SIAT no responde: enviada a Correo de guardia (✅ Entregado), Gerencia (✅ Entregado), "
        "Telegram (❌ No se pudo entregar)."
    )
    assert entries(d, "Alerta escalada") == [(at(17), "SIAT no responde: nadie la atendía.")]
    assert entries(d, "Alerta atendida") == [(at(20), "Ana Quispe: Voy a la oficina de SIAT")]
    assert entries(d, "Alerta resuelta") == [(BACK, "SIAT no responde")]


def test_an_alert_never_escalated_has_no_escalation_and_one_without_messages_says_so():
    quiet = {INCIDENT.id: [m for m in DELIVERIES[INCIDENT.id] if m.kind != AlertKind.ESCALATED]}
    d = dossier(
        siat_outage(), checks=CHECKS, days=days_of(EVENTS), statuses={}, audit=AUDIT, incidents=[INCIDENT],
        deliveries=quiet, notes={}, invoices=[], inventory=INV, now=NOW_AFTER,
    )  # fmt: skip
    assert not entries(d, "Alerta escalada")
    unsent = dossier(
        siat_outage(), checks=CHECKS, days=[], statuses={}, audit=[], incidents=[INCIDENT], deliveries={}, notes={},
        invoices=[], inventory=INV, now=NOW_AFTER,
    )  # fmt: skip
    assert entries(unsent, "Alerta") == [(DECLARED, "SIAT no responde: enviada a ningún canal.")]


def test_events_started_by_the_policy_are_named_as_such_per_branch():
    d = build(NOW_AFTER)
    assert sorted(entries(d, "Eventos iniciados")) == sorted(
        [
            (at(10), f"{B1.name}: 2 eventos, por Ana Quispe."),
            (at(12), f"{B1.name}: 1 evento, por Política automática."),
            (at(12), f"{B2.name}: 1 evento, por Política automática."),
        ]
    )
    unrecorded = build(NOW_AFTER, audit=[])
    assert all(s.endswith("por (sin registro en Bitácora).") for _, s in entries(unrecorded, "Eventos iniciados"))


def test_offline_invoices_rejected_with_siat_code_validated_and_to_send_with_deadline():
    d = build(NOW_AFTER)
    assert entries(d, "Facturas fuera de línea") == [(at(30), "3 facturas emitidas durante sus eventos.")]
    ((when, said),) = entries(d, "Factura rechazada")
    assert when == at(250)
    assert said == f"Nº 102: {explain_siat_code(REJECTED_CODE, 'fecha fuera del evento')}"
    assert said.startswith("Nº 102: 1040: Fecha de emisión fuera del rango")  # SIAT's code, in a supervisor's words
    assert entries(d, "Facturas validadas") == [(at(260), "1 factura validada por SIAT.")]
    ((when, said),) = entries(d, "Facturas por enviar")
    assert when == NOW_AFTER
    assert said == f"1 factura todavía por enviar; la primera vence el {fmt_datetime(P3_DEADLINE)}."
    (to_send,) = [t for t in d.timeline if t.what == "Facturas por enviar"]
    assert to_send.tone.name == "MANAGED"  # not yet overdue
    late = [t for t in build(P3_DEADLINE + timedelta(minutes=1)).timeline if t.what == "Facturas por enviar"]
    assert late[0].tone.name == "PROBLEM"  # past its deadline: red


def test_invoices_of_an_open_event_have_no_deadline_yet():
    d = build(at(60), outage=siat_outage(ended=None), events=[placed(P3, at(12))])
    ((_, said),) = entries(d, "Facturas por enviar")
    assert said == "1 factura todavía por enviar (sus eventos siguen abiertos)."
    assert d.invoices[0].deadline is None


def test_the_timeline_is_in_time_order_from_the_first_failed_check():
    d = build(P3_DEADLINE + timedelta(hours=1))
    whens = [t.at for t in d.timeline]
    assert whens == sorted(whens)
    assert d.timeline[0].what == "Primera comprobación fallida" and d.timeline[0].at == T0
    assert [t.what for t in d.timeline if t.lane == "Conexión"] == [
        "Primera comprobación fallida", "SIAT declarado caído", "SIAT volvió",
    ]  # fmt: skip


# ---- closing ----------------------------------------------------------------------------------------


def list_state(d: Dossier, invoices=INVOICES) -> OutageState:
    """What Caídas' list says of the same outage, from the invoices' three columns."""
    rows = [(i.pos_id, i.emission_date, str(i.state)) for i in invoices if i.pos_id and i.emission_date]
    return outage_states([d.outage], d.events, rows, d.now)[d.outage.key]


def test_an_outage_going_on_is_ongoing_whatever_its_invoices():
    d = build(at(60), outage=siat_outage(ended=None), invoices=[])
    assert d.state is OutageState.ONGOING and list_state(d, []) is OutageState.ONGOING
    assert not entries(d, "Caída cerrada")


def test_over_but_with_an_event_still_open_it_is_to_close():
    events = [*EVENTS[:3], placed(Q1, at(12))]  # Q1's event never ended
    d = build(NOW_AFTER, events=events, invoices=[])
    assert d.state is OutageState.SETTLING and list_state(d, []) is OutageState.SETTLING
    assert d.time_to_end is None


def test_over_with_an_invoice_to_send_before_its_deadline_it_is_to_close():
    d = build(NOW_AFTER)
    assert d.state is OutageState.SETTLING and list_state(d) is OutageState.SETTLING
    assert not entries(d, "Caída cerrada")
    just_before = build(P3_DEADLINE - timedelta(seconds=1))
    assert just_before.state is OutageState.SETTLING and list_state(just_before) is OutageState.SETTLING


def test_it_closes_when_the_last_invoice_is_past_its_deadline():
    d = build(P3_DEADLINE)
    assert d.state is OutageState.CLOSED and list_state(d) is OutageState.CLOSED
    assert entries(d, "Caída cerrada") == [(P3_DEADLINE, "Toda factura de la caída está resuelta o venció su plazo.")]
    assert d.timeline[-1].what == "Caída cerrada"


def test_it_closes_when_every_invoice_is_settled_at_the_last_one_read_settled():
    settled = [*INVOICES[:2], replace(INVOICES[2], state=InvoiceState.VALIDATED, status_at=at(400)), INVOICES[3]]
    d = build(at(420), invoices=settled)
    assert d.state is OutageState.CLOSED and list_state(d, settled) is OutageState.CLOSED
    assert entries(d, "Caída cerrada")[0][0] == at(400)
    assert d.to_send == 0 and not entries(d, "Facturas por enviar")
    assert entries(d, "Facturas validadas") == [(at(400), "2 facturas validadas por SIAT.")]


def test_without_invoices_it_closes_when_its_last_event_ends():
    d = build(NOW_AFTER, invoices=[])
    assert d.state is OutageState.CLOSED and list_state(d, []) is OutageState.CLOSED
    assert entries(d, "Caída cerrada")[0][0] == BACK + timedelta(hours=1)


@pytest.mark.parametrize("state", [InvoiceState.PENDING, InvoiceState.CONTINGENCY])
def test_a_pending_invoice_is_still_to_send(state):
    pending = [*INVOICES[:2], replace(INVOICES[2], state=state)]
    d = build(NOW_AFTER, invoices=pending)
    assert d.to_send == 1 and d.state is OutageState.SETTLING and list_state(d, pending) is OutageState.SETTLING


# ---- a branch's internet outage ---------------------------------------------------------------------


def test_a_branchs_internet_outage_has_its_own_dossier():
    internet = [
        placed(P1, at(0), at(90), motive=Motive.INTERNET_OUTAGE),
        placed(P2, at(5), at(120), motive=Motive.INTERNET_OUTAGE),
    ]
    others = [
        placed(Q1, at(3), at(60), motive=Motive.INTERNET_OUTAGE),  # another branch, alone
        placed(P3, at(4), at(60), motive=Motive.SIAT_FAILURE),  # not internet
    ]
    (outage,) = branch_clusters([*internet, *others])
    offline = [invoice("201", P1, at(30), InvoiceState.VALIDATED, status_at=at(150), code=908)]
    d = dossier(
        outage, checks=[], days=days_of([*internet, *others]), statuses={}, audit=[], incidents=[], deliveries={},
        notes={}, invoices=offline, inventory=INV, now=at(180),
    )  # fmt: skip
    assert d.outage.kind is OutageKind.BRANCH_INTERNET and d.outage.branch_id == B1.id
    assert [e.pos_id for e in d.events] == [P1.id, P2.id]  # only its own
    assert d.duration == timedelta(hours=2) and d.branches_affected == {B1.id} and d.pos_affected == {P1.id, P2.id}
    assert d.contingency_time == timedelta(minutes=90 + 115)
    assert d.time_to_start is None  # a branch's outage is its events
    assert d.time_to_end == timedelta(0)  # it ends with its last event
    assert d.failed_checks == []  # SIAT answered: no evidence of a motive-2 declaration
    assert entries(d, "Primer corte de internet") == [(at(0), f"{B1.name}: 2 puntos de venta con eventos por corte de internet.")]
    assert entries(d, "Internet de vuelta") == [(at(120), f"{B1.name}: el último evento terminó.")]
    assert entries(d, "Eventos iniciados") == [(at(0), f"{B1.name}: 2 eventos, por (sin registro en Bitácora).")]
    assert entries(d, "Eventos finalizados") == [(at(120), f"{B1.name}: 2 eventos.")]
    assert d.state is OutageState.CLOSED and list_state(d, offline) is OutageState.CLOSED
    assert entries(d, "Caída cerrada")[0][0] == at(150)  # its invoice read validated
    still = dossier(
        outage, checks=[], days=days_of(internet), statuses={}, audit=[], incidents=[], deliveries={}, notes={},
        invoices=[replace(offline[0], state=InvoiceState.CONTINGENCY)], inventory=INV, now=at(180),
    )  # fmt: skip
    assert still.state is OutageState.SETTLING and still.to_send == 1


# ---- marked as maintenance after the fact -----------------------------------------------------------


def window(start, end, *, created=None, branches=(), cancelled=None, reason="SIAT avisó tarde"):
    from cucu.store import MaintenanceWindow

    return MaintenanceWindow(1, start, end, branches, (), reason, "Ana Quispe", created or at(600), cancelled)


def test_an_outage_is_marked_by_a_company_period_marked_after_it_that_holds_it_whole():
    from cucu.connectivity.outages import maintenance_marks

    siat, going_on = siat_outage(), replace(siat_outage(ended=None), key="siat-sigue")
    (internet,) = branch_clusters(
        [placed(P1, T0, at(30), motive=Motive.INTERNET_OUTAGE), placed(P2, at(5), at(30), motive=Motive.INTERNET_OUTAGE)]
    )
    exact = window(T0, BACK)
    assert maintenance_marks([siat, going_on, internet], [exact]) == {siat.key: exact}  # never a branch's, nor one going on
    assert maintenance_marks([siat], [window(T0 - timedelta(hours=1), BACK + timedelta(hours=1))])  # a wider period
    for not_it in (
        window(at(1), BACK),  # misses its first failed check
        window(T0, BACK - timedelta(minutes=1)),  # ends before SIAT was back
        window(T0, BACK, created=T0 - timedelta(days=1)),  # scheduled before: not marked after the fact
        window(T0, BACK, branches=(B1.id,)),  # a branch's
        window(T0, BACK, cancelled=at(700)),
    ):
        assert maintenance_marks([siat], [not_it]) == {}, not_it
