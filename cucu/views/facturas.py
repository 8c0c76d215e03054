"""Facturas: invoices and their deadlines, event closings, POS that cannot invoice first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd

from cucu.api.models import Inventory
from cucu.invoicing import AttributedInvoice, EventClose
from cucu.lapaz import la_paz_series
from cucu.store import StoredInvoice
from cucu.vocabulary import CufdHealth, EventClosing, InvoiceState

CUFD_URGENCY = {
    CufdHealth.EXPIRED.value: 0,
    CufdHealth.INACTIVE.value: 0,
    CufdHealth.MISSING.value: 0,
    CufdHealth.UNKNOWN.value: 1,
}


def cufd_urgent_first(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of a pos_frame, those that cannot invoice first (expired, inactive, without CUFD; then never
    read), then by the nearest expiry: a chain's hundred blocked POS do not hide among 1 900 expiring later."""
    order = pd.DataFrame(
        {"rank": rows["CUFD"].map(CUFD_URGENCY).fillna(2), "until": la_paz_series(rows["CUFD vence"])}, index=rows.index
    )
    order = order.sort_values(["rank", "until"], kind="stable", na_position="first")
    return rows.loc[order.index]


INVOICE_COLUMNS = [
    "Sucursal", "Punto de venta", "Número", "Estado", "Emitida", "Queda", "Plazo", "Cliente", "Importe",
    "Código SIAT", "Descripción SIAT", "Evento", "Estado leído",
]  # fmt: skip
INVOICE_TIME_COLUMNS = ("Emitida", "Plazo", "Estado leído")
NO_POS = "(sin punto de venta)"  # cucu's list did not name it: counted at company level


def invoice_state_label(state: InvoiceState | str) -> str:
    return state.label if isinstance(state, InvoiceState) else str(state)


def time_left(deadlines: pd.Series, now: datetime, pending: pd.Series) -> pd.Series:
    """Until each deadline, as a timedelta (negative once past), where ``pending``; empty elsewhere and
    while an event is open (no deadline yet). Typed, so the grid sorts it by value; to the minute, as
    Eventos activos' "Transcurrido" (the grid showed "47:44:47.154701")."""
    return (deadlines - pd.Timestamp(now)).dt.floor("min").where(pending)


UNREAD_REASON = "Sin leer todavía"


def siat_description(invoice: StoredInvoice) -> str | None:
    """Why SIAT rejected it, as its status call said; why that call failed; or, for a rejected invoice whose
    status was never read, that the reason is not known yet (a blank would read as "no reason")."""
    if invoice.siat_description:
        return invoice.siat_description
    if invoice.status_error:
        return f"⚠ {invoice.status_error}"
    if invoice.state is InvoiceState.REJECTED and invoice.status_at is None:
        return UNREAD_REASON
    return None


def invoices_frame(items: Iterable[AttributedInvoice], inventory: Inventory, now: datetime) -> pd.DataFrame:
    """One row per invoice, the columns Facturas shows (plus ids and the raw state for filtering)."""
    rows = []
    for a in items:
        pos = inventory.pos(a.pos_id) if a.pos_id else None
        branch = inventory.branch(a.branch_id) if a.branch_id else None
        span = a.event
        event_text = None
        if span is not None:
            event_text = (
                f"{span.start:%d/%m %H:%M} – {span.end:%d/%m %H:%M}" if span.end else f"abierto desde {span.start:%d/%m %H:%M}"
            )
        invoice = a.invoice
        rows.append(
            {
                "invoice_id": invoice.id,
                "branch_id": a.branch_id or "",
                "pos_id": a.pos_id or "",
                "state": str(invoice.state),
                "Sucursal": branch.name if branch else NO_POS,
                "Punto de venta": pos.name if pos else (invoice.pos_id or "—"),
                "Número": invoice.invoice_number,
                "Estado": invoice_state_label(invoice.state),
                "Emitida": invoice.emission_date,
                "Queda": None,  # below, from "Plazo", typed
                "Plazo": a.deadline,
                "Cliente": invoice.client_name,
                "Importe": invoice.amount_total,
                "Código SIAT": invoice.siat_code,
                "Descripción SIAT": siat_description(invoice),
                "Evento": event_text,
                "Estado leído": invoice.status_at,
            }
        )
    frame = pd.DataFrame(rows, columns=["invoice_id", "branch_id", "pos_id", "state", *INVOICE_COLUMNS])
    frame["Código SIAT"] = frame["Código SIAT"].astype("Int64")
    for column in INVOICE_TIME_COLUMNS:  # typed: sorts as time, and the CSV writes it in full
        frame[column] = la_paz_series(frame[column])
    frame["Queda"] = time_left(frame["Plazo"], now, frame["state"].isin([InvoiceState.CONTINGENCY, InvoiceState.PENDING]))
    # The nearest deadline first (what is about to be late), those of open events last; newest first within.
    frame = frame.sort_values("Emitida", ascending=False, kind="stable", na_position="last")
    return frame.sort_values("Plazo", kind="stable", na_position="last").reset_index(drop=True)


CLOSE_COLUMNS = [
    "Sucursal", "Punto de venta", "Cierre", "Emitidas", "Por enviar", "Validadas", "Rechazadas", "Otras", "Inicio", "Fin",
    "Plazo", "Queda",
]  # fmt: skip


def closes_frame(closes: Iterable[EventClose], inventory: Inventory, now: datetime) -> pd.DataFrame:
    """Per ended event: its offline invoices and its closing state ("Cerrado" when all are validated)."""
    rows = []
    known = {p.id: p for p in inventory.all_pos}
    for c in closes:
        pos = known.get(c.span.pos_id)
        branch = inventory.branch(pos.branch_id) if pos is not None else None
        rows.append(
            {
                "event_id": c.span.event_id,
                "branch_id": c.span.branch_id,
                "closing": c.closing.value,
                "Sucursal": branch.name if branch else "—",
                "Punto de venta": pos.name if pos else c.span.pos_id,
                "Cierre": f"{c.closing.icon} {c.closing.value}",
                "Emitidas": c.issued,
                "Por enviar": c.to_send,
                "Validadas": c.validated,
                "Rechazadas": c.rejected,
                "Otras": c.other,
                "Inicio": c.span.start,
                "Fin": c.span.end,
                "Plazo": c.deadline,
                "Queda": None,  # below, from "Plazo", typed
            }
        )
    frame = pd.DataFrame(rows, columns=["event_id", "branch_id", "closing", *CLOSE_COLUMNS])
    for column in ("Inicio", "Fin", "Plazo"):
        frame[column] = la_paz_series(frame[column])
    frame["Queda"] = time_left(frame["Plazo"], now, frame["closing"] == EventClosing.TO_SEND.value)
    return frame
