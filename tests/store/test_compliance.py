"""The monthly compliance report's figures (issue 26, part 4), from a November written into the store by hand:
availability without maintenance, POS-hours cut at the month's edges, events by motive and origin, the delays
to start and end after a SIAT outage and to acknowledge alerts, offline invoices on time, missed and rejected
(SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import replace
from datetime import datetime, timedelta

import pandas as pd
import pytest

from cucu.api.models import Branch, Event, Inventory, Invoice, InvoiceStatus, PointOfSale
from cucu.connectivity.outages import read_outages
from cucu.events.actions import Actor
from cucu.events.maintenance import schedule
from cucu.events.policy import POLICY_ACTOR
from cucu.lapaz import LA_PAZ
from cucu.reports.compliance import ORIGIN_OUTSIDE, ORIGIN_PERSON, ORIGIN_POLICY, compliance_report, month_period, within
from cucu.store import Attempt, ConnectivityCheck, DayEvents, StatusRead, Store
from cucu.views.informe import (
    branches_frame,
    chosen_label,
    coverage_note,
    headline,
    narrowed,
    outages_frame,
    regions_frame,
    rejections_frame,
    report_pdf,
    report_xlsx,
    summary_frame,
)
from cucu.vocabulary import ActionKind, AlertRule, InvoiceState, OutageKind, Outcome, Role

NORTE, SUR = "b-norte", "b-sur"
INVENTORY = Inventory(
    (
        Branch(
            NORTE,
            "Sucursal Norte",
            (PointOfSale("p1", "Caja 1", NORTE), PointOfSale("p2", "Caja 2", NORTE)),
            "Montero",
            "Santa Cruz",
        ),
        Branch(SUR, "Sucursal Sur", (PointOfSale("p3", "Caja 3", SUR),), "Tarija", "Tarija"),
    )
)
ANA = Actor("ana@empresa.bo", "Ana", Role.SUPERVISOR)
NOV = month_period(2026, 11)
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=LA_PAZ)


def at(day, hour, minute=0, month=11):
    return datetime(2026, month, day, hour, minute, tzinfo=LA_PAZ)


def event(id_, pos, branch, motive, start, end):
    raw = {"id": id_, "posId": pos, "codigoMotivo": motive, "fechaInicio": start.strftime("%Y-%m-%dT%H:%M:%S"),
           "fechaFin": end.strftime("%Y-%m-%dT%H:%M:%S"), "finalizado": True}  # fmt: skip
    return replace(Event.from_api(raw), branch_id=branch)


def day_of(ev):
    return DayEvents(ev.pos_id, ev.branch_id, ev.fecha_inicio.date(), NOW, True, (ev,), True)


def verify(store, first, last, inventory=INVENTORY):
    """Every POS's days from ``first`` to ``last`` read from cucu (a day already stored keeps its events)."""
    stored = {(d.pos_id, d.day) for d in store.days_with_events(first, last)}
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    store.put_days(
        [DayEvents(p.id, p.branch_id, d, NOW, True, (), True) for p in inventory.all_pos for d in days if (p.id, d) not in stored]
    )


def started(store, actor, ev):
    store.audit_begin(
        Attempt(requested_at=ev.fecha_inicio, actor=actor.id, actor_name=actor.name, role=Role.SUPERVISOR,
                action=ActionKind.START, branch_id=ev.branch_id, pos_id=ev.pos_id, motive=ev.codigo_motivo,
                description="x", event_id=ev.id, outcome=Outcome.OK)
    )  # fmt: skip


@pytest.fixture
def november(db):
    store = Store(db)
    # A check every 30 min all month; SIAT down 10/11 10:00–12:00 (back 12:30), and during the 20/11 window.
    checks, t = [], NOV[0]
    while t < NOV[1]:
        down = at(10, 10) <= t <= at(10, 12) or at(20, 0) <= t < at(20, 2)
        checks.append(ConnectivityCheck(t, not down, 100.0))
        t += timedelta(minutes=30)
    store.add_checks(checks)
    schedule(store, ANA, INVENTORY, starts_at=at(20, 0), ends_at=at(20, 2), branch_ids=[], silenced=[AlertRule.SIAT_DOWN],
             reason="SIAT anunció mantenimiento", now=at(19, 12))  # fmt: skip
    e1 = event("e1", "p1", NORTE, 2, at(10, 10, 40), at(10, 12, 50))  # by Ana
    e2 = event("e2", "p2", NORTE, 2, at(10, 10, 50), at(10, 13, 10))  # by the policy
    e3 = event("e3", "p3", SUR, 1, at(15, 8), at(15, 10))  # outside the dashboard
    e4 = event("e4", "p3", SUR, 4, at(31, 22, month=10), at(1, 2))  # 2 of its 4 hours in November
    store.put_days([day_of(e) for e in (e1, e2, e3, e4)])
    verify(store, NOV[0].date(), (NOV[1] - timedelta(days=1)).date())  # the backfill has read all of November
    started(store, ANA, e1)
    started(store, POLICY_ACTOR, e2)
    # Alerts: Norte's acknowledged after 12 min, SIAT's (the company's) after 5, Sur's never.
    for key, rule, branch, opened, acked in (
        ("a1", AlertRule.LONG_OPEN, NORTE, at(5, 9), at(5, 9, 12)),
        ("a2", AlertRule.SIAT_DOWN, None, at(10, 10, 30), at(10, 10, 35)),
        ("a3", AlertRule.LONG_OPEN, SUR, at(15, 9), None),
    ):
        incident = store.incident_open(key=key, rule=rule, branch_id=branch, opened_at=opened, now=opened, title=key,
                                       body=key, messages=[])  # fmt: skip
        assert incident is not None
        if acked:
            store.incident_acknowledge(
                incident, Attempt(requested_at=acked, actor=ANA.id, actor_name=ANA.name, role=Role.SUPERVISOR,
                                  action=ActionKind.ACKNOWLEDGE, branch_id=branch or "", pos_id="", outcome=Outcome.OK),
                note="visto", quiet_until=acked + timedelta(hours=1),
            )  # fmt: skip
    # Invoices: offline on time, offline missed, offline rejected (1037), and an online one.
    store.save_invoices(
        [
            Invoice("i1", "1", "C1", InvoiceState.CONTINGENCY, "p1", "c", 1.0, at(10, 11)),
            Invoice("i2", "2", "C2", InvoiceState.CONTINGENCY, "p2", "c", 1.0, at(10, 11, 5)),
            Invoice("i3", "3", "C3", InvoiceState.CONTINGENCY, "p1", "c", 1.0, at(10, 11, 10)),
            Invoice("i4", "4", "C4", InvoiceState.VALIDATED, "p3", "c", 1.0, at(16, 9)),
        ],
        at(10, 11, 15),
    )
    store.save_invoice_statuses(
        [
            StatusRead("i1", at(11, 9), status=InvoiceStatus("i1", "1", "C1", InvoiceState.VALIDATED, 908, "ok", "CONTINGENCIA", at(11, 9))),
            StatusRead("i3", at(11, 9), status=InvoiceStatus("i3", "3", "C3", InvoiceState.REJECTED, 1037, "fuera de rango", "CONTINGENCIA", at(11, 9))),
        ]
    )  # fmt: skip
    return store


def test_the_months_figures(november):
    store = november
    report = compliance_report(store, INVENTORY, *NOV, NOW)
    # 1440 checks, 4 down in the window left out, 5 down outside it
    assert report.availability == pytest.approx((1440 - 4 - 5) / (1440 - 4))
    assert report.maintenance == timedelta(hours=2) and not report.partial_checks
    norte, sur = report.branches[NORTE], report.branches[SUR]
    assert norte.pos_hours == pytest.approx(2 + 10 / 60 + 2 + 20 / 60) and sur.pos_hours == pytest.approx(4.0)
    assert (norte.events, sur.events) == (2, 2)
    assert dict(norte.by_motive_origin) == {(2, ORIGIN_PERSON): 1, (2, ORIGIN_POLICY): 1}
    assert dict(sur.by_motive_origin) == {(1, ORIGIN_OUTSIDE): 1, (4, ORIGIN_OUTSIDE): 1}
    [siat] = [o for o in read_outages(store, NOV[0], NOW) if o.kind is OutageKind.SIAT and o.started_at.day == 10]
    assert (siat.declared_at, siat.ended_at) == (at(10, 11), at(10, 12, 30))  # the third failed check; back
    assert norte.start_delays == {siat.key: timedelta(0)}  # Ana started at 10:40, before it was declared
    assert norte.end_delays == {siat.key: timedelta(minutes=40)}  # the last of Norte's ended at 13:10
    assert not sur.start_delays  # Sur started nothing for it
    assert (norte.ack_delays, norte.unacknowledged, sur.unacknowledged) == ([timedelta(minutes=12)], 0, 1)
    assert (report.company_ack_delays, report.company_unacknowledged) == ([timedelta(minutes=5)], 0)
    assert (norte.offline, norte.on_time, norte.missed, norte.rejected, norte.late) == (3, 1, 1, 1, 0)
    assert (sur.offline, sur.rejected) == (0, 0)  # its invoice was issued online
    assert report.rejections == {(1037, "fuera de rango"): 1}


def test_the_months_sheets_put_the_most_trouble_first_and_say_unknown_as_such(november):
    report = compliance_report(november, INVENTORY, *NOV, NOW)
    branches = branches_frame(report, INVENTORY)
    assert list(branches["Sucursal"]) == ["Sucursal Norte", "Sucursal Sur"]  # 4.5 POS·h before 4.0
    assert branches.loc[0, "Validadas a tiempo (%)"] == 50.0  # 1 on time of 2 whose outcome is known
    assert pd.isna(branches.loc[1, "Validadas a tiempo (%)"])  # no offline invoice: unknown, not 0 % or 100 %
    regions = regions_frame(report, INVENTORY)
    assert set(regions["Región"]) == {"Santa Cruz", "Tarija"} and regions.loc[0, "Por la política"] == 1
    # An older month: no check kept, the availability unknown
    old = compliance_report(november, INVENTORY, *month_period(2026, 9), NOW)
    summary = dict(summary_frame(old, INVENTORY).values)
    assert old.availability is None and summary["Disponibilidad de SIAT (sin mantenimientos)"].startswith("—")
    assert report_xlsx(report, INVENTORY)[:2] == b"PK" and report_pdf(report, INVENTORY).startswith(b"%PDF")


def test_events_not_yet_read_from_cucu_are_at_least_what_is_known_and_unknown_when_nothing_is(november):
    """The backfill reads days from the newest back: until it has read a period, its events and hours are a lower
    bound ("al menos"), and a period with nothing read and no event known shows "—", never 0."""
    full = compliance_report(november, INVENTORY, *NOV, NOW)
    assert full.history_complete and (full.pos_days, full.verified_pos_days) == (90, 90) and coverage_note(full) is None
    assert headline(full)["Eventos"] == "4"
    # December 1–4 are over, nothing of them read: no event known, so unknown (today, the 5th, is not counted)
    december = compliance_report(november, INVENTORY, at(1, 0, month=12), at(5, 0, month=12) + timedelta(days=1), NOW)
    assert (december.pos_days, december.verified_pos_days) == (12, 0) and december.history_unknown
    assert headline(december)["Eventos"] == "—" and headline(december)["Horas en contingencia (POS·h)"] == "—"
    branches = branches_frame(december, INVENTORY)
    assert branches["Eventos"].isna().all() and (branches["Historia verificada (%)"] == 0).all()
    assert "no se conocen todavía" in (coverage_note(december) or "")
    # October: only Sur's 31st (its event running into November) read; its event counted, the rest at least
    october = compliance_report(november, INVENTORY, *month_period(2026, 10), NOW, horizon=NOW.date() - timedelta(days=70))
    assert (october.pos_days, october.verified_pos_days) == (93, 1) and not october.history_unknown
    assert headline(october)["Eventos"] == "al menos 1"
    summary = dict(summary_frame(october, INVENTORY).values)
    assert summary["Eventos"] == "al menos 1" and summary["Historia de eventos verificada con cucu"].startswith("1,1 %")
    assert summary["Aviso"].startswith("Faltan por verificar con cucu 92 de 93 días de punto de venta")
    assert "no se completan solos" not in summary["Aviso"]  # October is within a backfill of 70 days
    by_branch = branches_frame(october, INVENTORY).set_index("Sucursal")
    assert by_branch.loc["Sucursal Sur", "Eventos"] == 1 and pd.isna(by_branch.loc["Sucursal Norte", "Eventos"])
    # Beyond the backfill's horizon a day is never read by itself: the page says so
    old = compliance_report(november, INVENTORY, *month_period(2026, 10), NOW, horizon=NOW.date() - timedelta(days=7))
    assert "Los días anteriores al 28/11/2026 no se completan solos" in (coverage_note(old) or "")


def test_the_months_outages_and_their_durations(november):
    """SIAT's outage of the 10th (10:00, declared at the third failed check, back at 12:30) with Norte's two events,
    and the one during the maintenance window of the 20th; the sheet's times are La Paz's, its durations timedeltas
    (the grid sorts them by value, the workbook has them in hours)."""
    report = compliance_report(november, INVENTORY, *NOV, NOW)
    lines = sorted(report.outages, key=lambda o: o.started_at)
    assert [(o.kind, o.branch_id, o.started_at, o.ended_at, o.duration, o.events) for o in lines] == [
        (OutageKind.SIAT, None, at(10, 10), at(10, 12, 30), timedelta(hours=2, minutes=30), 2),
        (OutageKind.SIAT, None, at(20, 0), at(20, 2), timedelta(hours=2), 0),
    ]
    frame = outages_frame(report, INVENTORY)
    assert list(frame["Desde"]) == [pd.Timestamp(at(10, 10)), pd.Timestamp(at(20, 0))]
    assert list(frame["Hasta"].dt.strftime("%d/%m %H:%M")) == ["10/11 12:30", "20/11 02:00"]  # in La Paz
    assert list(frame["Duración"]) == [timedelta(hours=2, minutes=30), timedelta(hours=2)]
    assert pd.api.types.is_timedelta64_dtype(frame["Duración"]) and isinstance(frame["Desde"].dtype, pd.DatetimeTZDtype)
    assert list(frame["Estado"]) == ["Terminada", "Terminada"] and list(frame["Eventos"]) == [2, 0]
    assert set(frame["Sucursal"]) == {"Toda la empresa"}
    assert dict(summary_frame(report, INVENTORY).values)["Caídas de SIAT"] == "2 · 4 h 30 min en total"


def test_a_region_chosen_keeps_its_branches_rejections_and_siats_outages(november):
    report = compliance_report(november, INVENTORY, *NOV, NOW)
    sur = within(report, [SUR])
    assert list(sur.branches) == [SUR] and not sur.rejections  # Norte's rejection is Norte's
    assert len(sur.outages) == 2 and sur.availability == report.availability  # SIAT's is everyone's
    only_sur = Inventory(tuple(b for b in INVENTORY.branches if b.id == SUR))
    assert rejections_frame(sur).empty and headline(sur)["Eventos"] == "2"
    assert list(branches_frame(sur, only_sur)["Sucursal"]) == ["Sucursal Sur"]
    norte = within(report, [NORTE])
    assert norte.rejections == {(1037, "fuera de rango"): 1} and headline(norte)["Eventos"] == "2"
    assert narrowed(report, INVENTORY, []) == (report, INVENTORY)  # nothing chosen: all of it
    cut, inventory = narrowed(report, INVENTORY, [SUR])
    assert inventory == only_sur and list(cut.branches) == [SUR]
    # the PDF's title names what was chosen: whole regions by name
    assert (chosen_label(INVENTORY, []), chosen_label(INVENTORY, [SUR])) == (None, "Tarija")
    assert chosen_label(INVENTORY, [SUR, NORTE]) == "Santa Cruz, Tarija"  # in the departments' order


def test_the_workbook_has_one_sheet_per_view_each_with_its_rows(november):
    report = compliance_report(november, INVENTORY, *NOV, NOW)
    sheets = pd.read_excel(io.BytesIO(report_xlsx(report, INVENTORY)), sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["Resumen", "Regiones", "Sucursales", "Caídas", "Eventos por motivo", "Rechazos por código"]
    summary = dict(sheets["Resumen"].values)
    assert summary["Caídas de SIAT"] == "2 · 4 h 30 min en total" and summary["Eventos"] == "4"
    assert list(sheets["Regiones"]["Región"]) == ["Santa Cruz", "Tarija"]
    branches = sheets["Sucursales"].set_index("Sucursal")
    assert list(branches.index) == ["Sucursal Norte", "Sucursal Sur"]
    assert branches.loc["Sucursal Norte", "Rechazadas"] == 1 and branches.loc["Sucursal Sur", "Eventos"] == 2
    outages = sheets["Caídas"]
    assert list(outages["Duración"]) == [2.5, 2.0]  # hours
    assert list(outages["Desde"]) == [pd.Timestamp(2026, 11, 10, 10), pd.Timestamp(2026, 11, 20, 0)]  # La Paz's
    assert list(outages["Eventos"]) == [2, 0]
    motives = sheets["Eventos por motivo"]
    assert len(motives) == 4 and set(motives["Origen"]) == {ORIGIN_PERSON, ORIGIN_POLICY, ORIGIN_OUTSIDE}
    rejections = sheets["Rechazos por código"]
    assert list(rejections["Código SIAT"]) == [1037] and list(rejections["Facturas"]) == [1]


def pdf_strings(pdf: bytes) -> str:
    """The text drawn in an fpdf2 PDF (its built-in fonts: Latin-1 strings in its deflated content streams)."""
    drawn = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            content = stream
        for text in re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", content):
            drawn.append(re.sub(rb"\\(.)", rb"\1", text).decode("latin-1"))
    return "\n".join(drawn)


def test_the_pdf_is_in_spanish_with_the_months_figures(november):
    report = compliance_report(november, INVENTORY, *NOV, NOW)
    text = pdf_strings(report_pdf(report, INVENTORY, "Santa Cruz"))
    lines = set(text.splitlines())
    assert "Informe de cumplimiento: 01/11/2026 - 01/12/2026 · Santa Cruz" in lines
    assert {"Resumen", "Regiones", "Sucursales", "Caídas", "Eventos por motivo", "Rechazos por código"} <= lines
    assert {"Disponibilidad de SIAT (sin mantenimientos)", "Horas en contingencia (POS·h)", "Indicador", "Valor"} <= lines
    assert {"SIAT no responde", "Toda la empresa", "10/11/2026 10:00:00", "2 h 30 min", "Terminada"} <= lines
    assert {"Montero", "Tarija", "Persona", "Política automática", "1037: fuera de rango"} <= lines
    assert {"4,5", "8,5", "50"} <= lines and not {"4.5", "50.0"} & lines  # POS-hours, % on time: a decimal comma
    assert "2 · 4 h 30 min en total" in lines
    assert any(
        line.startswith("Contingencia · informe generado el 05/12/2026 10:00:00 (hora de La Paz) · página 1") for line in lines
    )


def test_a_start_made_outside_the_dashboard_gives_no_time_to_start(november):
    """Sur's event of SIAT's outage of the 10th was started in cucu's own clients: the dashboard never asked for it,
    so it knows no time to start (the median is unknown, "—", never 0); its end still counts."""
    e5 = event("e5", "p3", SUR, 2, at(10, 10, 45), at(10, 12, 40))  # outside the dashboard, before the declaration
    november.put_days([day_of(e5)])
    report = compliance_report(november, INVENTORY, *NOV, NOW)
    norte, sur = report.branches[NORTE], report.branches[SUR]
    [key] = norte.start_delays
    assert not sur.start_delays and sur.end_delays == {key: timedelta(minutes=10)}
    regions = regions_frame(report, INVENTORY).set_index("Región")
    assert (
        pd.isna(regions.loc["Tarija", "Min. a iniciar (mediana)"]) and regions.loc["Santa Cruz", "Min. a iniciar (mediana)"] == 0
    )
    assert regions.loc["Tarija", "Min. a finalizar (mediana)"] == 10


def test_invoices_the_dashboard_did_not_read_are_unknown_or_at_least_never_zero(november):
    """The walk reads cucu's recent invoices and keeps the offline ones for the report: the oldest stored was
    emitted on 10/11 at 11:00. October's invoice figures are unknown ("—", the note says since when it reads),
    November's at least what is counted, a period after it as counted."""
    october = compliance_report(november, INVENTORY, *month_period(2026, 10), NOW)
    assert october.invoices_from == at(10, 11) and october.invoices_unknown
    summary = dict(summary_frame(october, INVENTORY).values)
    for line in ("Facturas fuera de línea", "Vencidas sin validar", "Rechazadas por SIAT", "Validadas antes del plazo de 48 h"):
        assert summary[line] == "—", line
    assert headline(october)["Validadas antes del plazo"] == "—"
    assert "no leyó las emitidas antes del 10/11/2026 11:00" in summary["Aviso sobre facturas"]
    for frame in (regions_frame(october, INVENTORY), branches_frame(october, INVENTORY)):
        assert frame[["Facturas fuera de línea", "Rechazadas", "Vencidas sin validar"]].isna().all().all()
    full = compliance_report(november, INVENTORY, *NOV, NOW)
    assert full.invoices_partial
    summary = dict(summary_frame(full, INVENTORY).values)
    assert (summary["Facturas fuera de línea"], summary["Rechazadas por SIAT"]) == ("al menos 3", "al menos 1")
    assert "son al menos lo que se muestra" in summary["Aviso sobre facturas"]
    assert branches_frame(full, INVENTORY).set_index("Sucursal").loc["Sucursal Norte", "Rechazadas"] == 1
    later = compliance_report(november, INVENTORY, at(12, 0), NOV[1], NOW)
    summary = dict(summary_frame(later, INVENTORY).values)
    assert summary["Facturas fuera de línea"] == "0" and "Aviso sobre facturas" not in summary
    # nothing read at all: unknown too
    never = replace(full, invoices_from=None)
    assert dict(summary_frame(never, INVENTORY).values)["Rechazadas por SIAT"] == "—"


def test_no_internet_outage_while_part_of_the_history_is_read_says_none_registered(november):
    """October, one POS-day read: no internet outage known says so plainly, never "al menos 0"."""
    october = compliance_report(november, INVENTORY, *month_period(2026, 10), NOW)
    assert not october.history_complete and not october.history_unknown
    assert dict(summary_frame(october, INVENTORY).values)["Caídas de internet de sucursales"] == "ninguna registrada"


def test_a_rejection_without_a_siat_code_reads_a_placeholder_and_unknown_counts_are_numbers(november):
    """The code is an identifier, as text ("—" when SIAT gave none, never "None" or "nan"); an unknown count column is
    numeric NaN (the grid's placeholder), not an object column of None."""
    november.save_invoices([Invoice("i9", "9", "C9", InvoiceState.CONTINGENCY, "p2", "c", 1.0, at(10, 11, 20))], at(10, 11, 25))
    november.save_invoice_statuses(
        [StatusRead("i9", at(11, 9), status=InvoiceStatus("i9", "9", "C9", InvoiceState.REJECTED, None, "", "CONTINGENCIA", at(11, 9)))]
    )  # fmt: skip
    report = compliance_report(november, INVENTORY, *NOV, NOW)
    assert sorted(rejections_frame(report)["Código SIAT"]) == ["1037", "—"]
    october = branches_frame(compliance_report(november, INVENTORY, *month_period(2026, 10), NOW), INVENTORY)
    for column in ("Rechazadas", "Validadas a tiempo (%)", "Facturas fuera de línea"):
        assert pd.api.types.is_float_dtype(october[column]) and october[column].isna().all(), column


def test_the_summarys_counts_have_a_thousands_separator(november):
    """A chain's month: 1 200 SIAT outages and 1 052 company alerts unattended read as fmt_count says, not "1200"."""
    from cucu.formatting import fmt_count

    report = compliance_report(november, INVENTORY, *NOV, NOW)
    many = replace(report, outages=[report.outages[0]] * 1200, company_unacknowledged=1052)
    summary = dict(summary_frame(many, INVENTORY).values)
    assert summary["Caídas de SIAT"].startswith(f"{fmt_count(1200)} · ") and fmt_count(1200) != "1200"
    assert summary["Alertas de toda la empresa sin atender"] == fmt_count(1052)
