"""Caídas' frames: the list of outages, and one outage's dossier (timeline, events, invoices, the failed checks
that are its evidence). Times typed (they sort as time); each frame's columns named once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import pandas as pd

from cucu.api.models import Inventory
from cucu.connectivity.outages import Dossier, Outage
from cucu.formatting import fmt_datetime, fmt_duration
from cucu.invoicing.codes import explain_siat_code
from cucu.lapaz import la_paz_series
from cucu.store import MaintenanceWindow
from cucu.views.export import sheets_pdf, workbook
from cucu.views.facturas import invoice_state_text
from cucu.views.links import page_link
from cucu.vocabulary import OutageKind, OutageState

OUTAGE_PARAM = "caida"  # the dossier's URL parameter: /caidas?caida=<key>


class OutageListColumn:
    KEY = "key"
    BRANCH_ID = "branch_id"
    START = "Inicio"
    KIND = "Qué"
    BRANCH = "Sucursal"
    DURATION = "Duración"
    STATE = "Estado"
    LINK = "Expediente"
    MAINTENANCE = "Marcada como mantenimiento"  # the reason given, when it was (shown only then)


OUTAGE_LIST_COLUMNS = [
    OutageListColumn.START, OutageListColumn.KIND, OutageListColumn.BRANCH, OutageListColumn.DURATION,
    OutageListColumn.STATE, OutageListColumn.LINK,
]  # fmt: skip
COMPANY = "Toda la empresa"
CONTINGENCY_TIME = "Tiempo en contingencia"  # summed over the POS, written as every duration (fmt_duration)


def outages_frame(
    outages: Sequence[Outage],
    states: Mapping[str, OutageState],
    inventory: Inventory,
    now: datetime,
    marks: Mapping[str, MaintenanceWindow] | None = None,
) -> pd.DataFrame:
    """One row per outage, newest first, with the link to its dossier and, for one marked as maintenance after the
    fact (``marks``, by key: ``cucu.connectivity.outages.maintenance_marks``), the reason given."""
    marks = marks or {}
    names = {b.id: b.name for b in inventory.branches}
    frame = pd.DataFrame(
        [
            {
                OutageListColumn.KEY: o.key,
                OutageListColumn.BRANCH_ID: o.branch_id or "",
                OutageListColumn.START: o.started_at,
                OutageListColumn.KIND: o.kind.label,
                OutageListColumn.BRANCH: names.get(o.branch_id, o.branch_id) if o.branch_id else COMPANY,
                OutageListColumn.DURATION: (o.ended_at or now) - o.started_at,
                OutageListColumn.STATE: f"{states[o.key].icon} {states[o.key].label}",
                OutageListColumn.LINK: page_link("caidas", {OUTAGE_PARAM: o.key}, "Ver"),
                OutageListColumn.MAINTENANCE: marks[o.key].reason if o.key in marks else None,
            }
            for o in outages
        ],
        columns=[OutageListColumn.KEY, OutageListColumn.BRANCH_ID, *OUTAGE_LIST_COLUMNS, OutageListColumn.MAINTENANCE],
    )
    frame[OutageListColumn.START] = la_paz_series(frame[OutageListColumn.START])
    frame[OutageListColumn.DURATION] = pd.to_timedelta(frame[OutageListColumn.DURATION]).dt.floor("min")
    return frame


class TimelineColumn:
    AT = "Cuándo"
    WHAT = "Qué"
    DETAIL = "Detalle"


def timeline_frame(dossier: Dossier) -> pd.DataFrame:
    frame = pd.DataFrame(
        [{TimelineColumn.AT: t.at, TimelineColumn.WHAT: f"{t.tone.icon} {t.what}".strip(), TimelineColumn.DETAIL: t.detail} for t in dossier.timeline],
        columns=[TimelineColumn.AT, TimelineColumn.WHAT, TimelineColumn.DETAIL],
    )  # fmt: skip
    frame[TimelineColumn.AT] = la_paz_series(frame[TimelineColumn.AT])
    return frame


class DossierEventColumn:
    BRANCH = "Sucursal"
    POS = "Punto de venta"
    MOTIVE = "Motivo"
    START = "Inicio"
    END = "Fin"
    STARTED_BY = "Iniciado por"
    SIAT_CODE = "Código SIAT"
    EVENT_ID = "Id del evento"


DOSSIER_EVENT_COLUMNS = [
    DossierEventColumn.BRANCH, DossierEventColumn.POS, DossierEventColumn.MOTIVE, DossierEventColumn.START,
    DossierEventColumn.END, DossierEventColumn.STARTED_BY, DossierEventColumn.SIAT_CODE, DossierEventColumn.EVENT_ID,
]  # fmt: skip


def dossier_events_frame(dossier: Dossier, inventory: Inventory) -> pd.DataFrame:
    branches = {b.id: b.name for b in inventory.branches}
    pos_names = {p.id: p.name for p in inventory.all_pos}
    frame = pd.DataFrame(
        [
            {
                DossierEventColumn.BRANCH: branches.get(e.branch_id or "", e.branch_id),
                DossierEventColumn.POS: pos_names.get(e.pos_id, e.pos_id),
                DossierEventColumn.MOTIVE: e.descripcion_motivo or (str(e.codigo_motivo) if e.codigo_motivo else None),
                DossierEventColumn.START: e.fecha_inicio,
                DossierEventColumn.END: e.fecha_fin,
                DossierEventColumn.STARTED_BY: dossier.starters.get(e.id, "(sin registro en Bitácora)"),
                DossierEventColumn.SIAT_CODE: e.codigo_evento_siat,
                DossierEventColumn.EVENT_ID: e.id,
            }
            for e in dossier.events
        ],
        columns=DOSSIER_EVENT_COLUMNS,
    )
    for column in (DossierEventColumn.START, DossierEventColumn.END):
        frame[column] = la_paz_series(frame[column])
    return frame


class DossierInvoiceColumn:
    BRANCH = "Sucursal"
    POS = "Punto de venta"
    NUMBER = "Número"
    STATE = "Estado"
    ISSUED = "Emitida"
    DEADLINE = "Plazo"
    SIAT = "SIAT"
    CUF = "CUF"


DOSSIER_INVOICE_COLUMNS = [
    DossierInvoiceColumn.BRANCH, DossierInvoiceColumn.POS, DossierInvoiceColumn.NUMBER, DossierInvoiceColumn.STATE,
    DossierInvoiceColumn.ISSUED, DossierInvoiceColumn.DEADLINE, DossierInvoiceColumn.SIAT, DossierInvoiceColumn.CUF,
]  # fmt: skip


def dossier_invoices_frame(dossier: Dossier, inventory: Inventory) -> pd.DataFrame:
    branches = {b.id: b.name for b in inventory.branches}
    pos_names = {p.id: p.name for p in inventory.all_pos}
    frame = pd.DataFrame(
        [
            {
                DossierInvoiceColumn.BRANCH: branches.get(i.event.branch_id or "", i.event.branch_id),
                DossierInvoiceColumn.POS: pos_names.get(i.event.pos_id, i.event.pos_id),
                DossierInvoiceColumn.NUMBER: i.invoice.invoice_number,
                DossierInvoiceColumn.STATE: invoice_state_text(i.invoice.state),
                DossierInvoiceColumn.ISSUED: i.invoice.emission_date,
                DossierInvoiceColumn.DEADLINE: i.deadline,
                DossierInvoiceColumn.SIAT: explain_siat_code(i.invoice.siat_code, i.invoice.siat_description)
                if i.invoice.siat_code is not None or i.invoice.siat_description
                else None,
                DossierInvoiceColumn.CUF: i.invoice.cuf,
            }
            for i in dossier.invoices
        ],
        columns=DOSSIER_INVOICE_COLUMNS,
    )
    for column in (DossierInvoiceColumn.ISSUED, DossierInvoiceColumn.DEADLINE):
        frame[column] = la_paz_series(frame[column])
    return frame


class CheckColumn:
    AT = "Comprobada"
    ANSWER = "Respuesta de cucu"
    LATENCY = "Respuesta en (ms)"
    DETAIL = "Detalle"


def failed_checks_frame(dossier: Dossier) -> pd.DataFrame:
    """The evidence that justifies a motive-2 declaration: every failed check, with what cucu answered."""
    frame = pd.DataFrame(
        [
            {
                CheckColumn.AT: c.checked_at,
                CheckColumn.ANSWER: c.label,
                CheckColumn.LATENCY: c.latency_ms,
                CheckColumn.DETAIL: c.error,
            }
            for c in dossier.failed_checks
        ],
        columns=[CheckColumn.AT, CheckColumn.ANSWER, CheckColumn.LATENCY, CheckColumn.DETAIL],
    )
    frame[CheckColumn.AT] = la_paz_series(frame[CheckColumn.AT])
    return frame


def lead_time_text(delta: timedelta | None) -> str:
    """How long it took (to acknowledge, start, end): "—" when it has not happened, "… antes" when it came first
    (an event started before SIAT was declared down)."""
    if delta is None:
        return "—"
    return fmt_duration(delta) if delta >= timedelta(0) else f"{fmt_duration(-delta)} antes"


def summary_frame(dossier: Dossier, inventory: Inventory) -> pd.DataFrame:
    """The dossier's summary as rows of (what, value): the first sheet of its workbook."""
    outage = dossier.outage
    names = {b.id: b.name for b in inventory.branches}

    rows = [
        ("Caída", outage.kind.label),
        ("Sucursal", names.get(outage.branch_id, outage.branch_id) if outage.branch_id else COMPANY),
        ("Estado", dossier.state.label),
        ("Inicio (primera comprobación fallida o primer evento), hora de La Paz", fmt_datetime(outage.started_at, seconds=True)),
        ("Declarada, hora de La Paz", fmt_datetime(outage.declared_at, seconds=True)),
        ("Fin, hora de La Paz", fmt_datetime(outage.ended_at, seconds=True) if outage.ended_at else "sigue"),
        ("Duración", fmt_duration(dossier.duration)),
        ("Puntos de venta afectados", str(len(dossier.pos_affected))),
        ("Sucursales afectadas", str(len(dossier.branches_affected))),
        (f"{CONTINGENCY_TIME} (sumado por punto de venta)", fmt_duration(dossier.contingency_time)),
        ("Facturas fuera de línea", str(len(dossier.invoices))),
        ("Facturas por enviar", str(dossier.to_send)),
        ("Hasta atender", lead_time_text(dossier.time_to_acknowledge)),
        ("Hasta iniciar", lead_time_text(dossier.time_to_start)),
        ("Hasta finalizar", lead_time_text(dossier.time_to_end)),
        ("Expediente generado, hora de La Paz", fmt_datetime(dossier.now, seconds=True)),
    ]
    return pd.DataFrame(rows, columns=["Dato", "Valor"])


def notes_frame(dossier: Dossier) -> pd.DataFrame:
    frame = pd.DataFrame(
        [{"Escrita": n.written_at, "Por": n.author, "Al atender": n.acknowledging, "Nota": n.text} for n in dossier.notes],
        columns=["Escrita", "Por", "Al atender", "Nota"],
    )
    frame["Escrita"] = la_paz_series(frame["Escrita"])
    return frame


def dossier_sheets(dossier: Dossier, inventory: Inventory) -> list[tuple[str, pd.DataFrame]]:
    """The evidence, a sheet each (times in La Paz): what the XLSX and the PDF hold."""
    sheets = [("Resumen", summary_frame(dossier, inventory)), ("Línea de tiempo", timeline_frame(dossier))]
    if dossier.outage.kind is OutageKind.SIAT:
        sheets.append(("Comprobaciones fallidas", failed_checks_frame(dossier)))
    sheets += [
        ("Eventos", dossier_events_frame(dossier, inventory)),
        ("Facturas", dossier_invoices_frame(dossier, inventory)),
        ("Notas", notes_frame(dossier)),
    ]
    return sheets


def dossier_xlsx(dossier: Dossier, inventory: Inventory) -> bytes:
    return workbook(dossier_sheets(dossier, inventory))


# ---- the printable dossier (PDF) ------------------------------------------------------------------------


def dossier_pdf(dossier: Dossier, inventory: Inventory) -> bytes:
    """The dossier printable, in Spanish: the summary, then each table of the workbook (times in La Paz)."""
    generated = fmt_datetime(dossier.now, seconds=True)
    return sheets_pdf(
        f"Expediente de caída: {dossier.outage.kind.label}",
        dossier_sheets(dossier, inventory),
        footer=f"Contingencia · expediente generado el {generated} (hora de La Paz)",
        workbook_name="el Excel del expediente",
    )
