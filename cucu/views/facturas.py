"""Facturas: invoices and their deadlines, event closings, POS that cannot invoice first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pandas as pd

from cucu.api.models import Inventory
from cucu.invoicing import UNCLOSED, AttributedInvoice, EventClose, InvoicePicture, invoice_picture
from cucu.lapaz import la_paz_series
from cucu.store import JobRun, Store, StoredInvoice
from cucu.views.pos import PosColumn
from cucu.vocabulary import CufdHealth, InvoiceState, Tone

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
        {"rank": rows[PosColumn.CUFD].map(CUFD_URGENCY).fillna(2), "until": la_paz_series(rows[PosColumn.CUFD_UNTIL])},
        index=rows.index,
    )
    order = order.sort_values(["rank", "until"], kind="stable", na_position="first")
    return rows.loc[order.index]


class CufdColumn:
    """Facturas' CUFD tab: rows of a pos_frame, urgent first (``cufd_urgent_first``), the CUFD as text
    (``cucu.views.pos.cufd_texts``) and its expiry typed."""

    BRANCH = PosColumn.BRANCH
    POS = PosColumn.POS
    CUFD = PosColumn.CUFD  # as text
    EXPIRES = "Vence"
    STATE = PosColumn.STATE  # the POS's contingency state


class InvoiceColumn:
    """Facturas' invoices (``invoices_frame``): what the page shows, then ids and the raw state for filtering."""

    INVOICE_ID = "invoice_id"
    BRANCH_ID = "branch_id"
    POS_ID = "pos_id"
    STATE = "state"  # an InvoiceState value
    BRANCH = "Sucursal"
    POS = "Punto de venta"
    NUMBER = "Número"
    STATUS = "Estado"  # its label with its icon (invoice_state_text)
    ISSUED = "Emitida"
    LEFT = "Queda"
    DEADLINE = "Plazo"
    CLIENT = "Cliente"
    AMOUNT = "Importe"
    SIAT_CODE = "Código SIAT"
    SIAT_DESCRIPTION = "Descripción SIAT"
    EVENT = "Evento"
    STATUS_READ = "Estado leído"


INVOICE_COLUMNS = [
    InvoiceColumn.BRANCH, InvoiceColumn.POS, InvoiceColumn.NUMBER, InvoiceColumn.STATUS, InvoiceColumn.ISSUED,
    InvoiceColumn.LEFT, InvoiceColumn.DEADLINE, InvoiceColumn.CLIENT, InvoiceColumn.AMOUNT, InvoiceColumn.SIAT_CODE,
    InvoiceColumn.SIAT_DESCRIPTION, InvoiceColumn.EVENT, InvoiceColumn.STATUS_READ,
]  # fmt: skip
INVOICE_TIME_COLUMNS = (InvoiceColumn.ISSUED, InvoiceColumn.DEADLINE, InvoiceColumn.STATUS_READ)
NO_POS = "(sin punto de venta)"  # cucu's list did not name it: counted at company level


def invoice_state_label(state: InvoiceState | str) -> str:
    return state.label if isinstance(state, InvoiceState) else str(state)


def invoice_state_text(state: InvoiceState | str) -> str:
    """An invoice's state as a grid cell shows it, with its icon as every grid's states: "🔴 Rechazada" (red as
    SIAT's rejections everywhere), "🟠 Por enviar (fuera de línea)"; a state this version does not know, grey."""
    tone = state.tone if isinstance(state, InvoiceState) else Tone.UNKNOWN
    return f"{tone.icon} {invoice_state_label(state)}".strip()


def time_left(deadlines: pd.Series, now: datetime, pending: pd.Series) -> pd.Series:
    """Until each deadline, as a timedelta (negative once past), where ``pending``; empty elsewhere and
    while an event is open (no deadline yet: the "Plazo" beside it is empty too). Typed, so the grid sorts it
    by value; to the minute, as Eventos activos' "Transcurrido" (the grid showed "47:44:47.154701")."""
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


def invoices_frame(items: Iterable[AttributedInvoice], inventory: Inventory) -> pd.DataFrame:
    """One row per invoice, the columns Facturas shows but "Queda" (plus ids and the raw state for filtering): it
    holds no clock, so it is built again only when the invoices or the events move; ``invoices_time_left`` adds
    "Queda" where it is shown."""
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
                InvoiceColumn.INVOICE_ID: invoice.id,
                InvoiceColumn.BRANCH_ID: a.branch_id or "",
                InvoiceColumn.POS_ID: a.pos_id or "",
                InvoiceColumn.STATE: str(invoice.state),
                InvoiceColumn.BRANCH: branch.name if branch else NO_POS,
                InvoiceColumn.POS: pos.name if pos else (invoice.pos_id or "—"),
                InvoiceColumn.NUMBER: invoice.invoice_number,
                InvoiceColumn.STATUS: invoice_state_text(invoice.state),
                InvoiceColumn.ISSUED: invoice.emission_date,
                InvoiceColumn.DEADLINE: a.deadline,
                InvoiceColumn.CLIENT: invoice.client_name,
                InvoiceColumn.AMOUNT: invoice.amount_total,
                InvoiceColumn.SIAT_CODE: invoice.siat_code,
                InvoiceColumn.SIAT_DESCRIPTION: siat_description(invoice),
                InvoiceColumn.EVENT: event_text,
                InvoiceColumn.STATUS_READ: invoice.status_at,
            }
        )
    ids = [InvoiceColumn.INVOICE_ID, InvoiceColumn.BRANCH_ID, InvoiceColumn.POS_ID, InvoiceColumn.STATE]
    frame = pd.DataFrame(rows, columns=[*ids, *(c for c in INVOICE_COLUMNS if c != InvoiceColumn.LEFT)])
    frame[InvoiceColumn.SIAT_CODE] = frame[InvoiceColumn.SIAT_CODE].astype("Int64")
    for column in INVOICE_TIME_COLUMNS:  # typed: sorts as time, and the CSV writes it in full
        frame[column] = la_paz_series(frame[column])
    # The nearest deadline first (what is about to be late), those of open events last; newest first within.
    frame = frame.sort_values(InvoiceColumn.ISSUED, ascending=False, kind="stable", na_position="last")
    return frame.sort_values(InvoiceColumn.DEADLINE, kind="stable", na_position="last").reset_index(drop=True)


class CloseColumn:
    """Facturas' event closings (``closes_frame``): one row per ended event, then ids and the raw closing for filtering."""

    EVENT_ID = "event_id"
    BRANCH_ID = "branch_id"
    CLOSING = "closing"  # an EventClosing value
    BRANCH = "Sucursal"
    POS = "Punto de venta"
    CLOSING_SHOWN = "Cierre"  # with its icon
    ISSUED = "Emitidas"
    TO_SEND = "Por enviar"
    VALIDATED = "Validadas"
    REJECTED = "Rechazadas"
    OTHER = "Otras"
    START = "Inicio"
    END = "Fin"
    DEADLINE = InvoiceColumn.DEADLINE  # its invoices' deadline: one grid setting for both
    LEFT = InvoiceColumn.LEFT


CLOSE_COLUMNS = [
    CloseColumn.BRANCH, CloseColumn.POS, CloseColumn.CLOSING_SHOWN, CloseColumn.ISSUED, CloseColumn.TO_SEND,
    CloseColumn.VALIDATED, CloseColumn.REJECTED, CloseColumn.OTHER, CloseColumn.START, CloseColumn.END,
    CloseColumn.DEADLINE, CloseColumn.LEFT,
]  # fmt: skip
CLOSE_TIME_COLUMNS = (CloseColumn.START, CloseColumn.END, CloseColumn.DEADLINE)


def invoices_time_left(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """``invoices_frame``'s rows with "Queda" at ``now``: worked out for the rows shown, at the viewer's minute,
    wherever "Plazo" is known. Every row is open, the rejected ones too: a rejection is corrected and sent again
    within the same deadline (only "to send" had it, and a chain's list, the nearest deadline first, opens on
    rejected invoices: "—" on every row beside a known "Plazo")."""
    everywhere = pd.Series(True, index=frame.index)
    return frame.assign(**{InvoiceColumn.LEFT: time_left(frame[InvoiceColumn.DEADLINE], now, everywhere)})


def closes_frame(closes: Iterable[EventClose], inventory: Inventory) -> pd.DataFrame:
    """Per ended event: its offline invoices and its closing state ("Cerrado" when all are validated); without
    "Queda", as ``invoices_frame`` (``closes_time_left`` adds it)."""
    rows = []
    known = {p.id: p for p in inventory.all_pos}
    for c in closes:
        pos = known.get(c.span.pos_id)
        branch = inventory.branch(pos.branch_id) if pos is not None else None
        rows.append(
            {
                CloseColumn.EVENT_ID: c.span.event_id,
                CloseColumn.BRANCH_ID: c.span.branch_id,
                CloseColumn.CLOSING: c.closing.value,
                CloseColumn.BRANCH: branch.name if branch else "—",
                CloseColumn.POS: pos.name if pos else c.span.pos_id,
                CloseColumn.CLOSING_SHOWN: f"{c.closing.icon} {c.closing.value}",
                CloseColumn.ISSUED: c.issued,
                CloseColumn.TO_SEND: c.to_send,
                CloseColumn.VALIDATED: c.validated,
                CloseColumn.REJECTED: c.rejected,
                CloseColumn.OTHER: c.other,
                CloseColumn.START: c.span.start,
                CloseColumn.END: c.span.end,
                CloseColumn.DEADLINE: c.deadline,
            }
        )
    shown = [c for c in CLOSE_COLUMNS if c != CloseColumn.LEFT]
    frame = pd.DataFrame(rows, columns=[CloseColumn.EVENT_ID, CloseColumn.BRANCH_ID, CloseColumn.CLOSING, *shown])
    for column in CLOSE_TIME_COLUMNS:
        frame[column] = la_paz_series(frame[column])
    return frame


def closes_time_left(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """``closes_frame``'s rows with "Queda" at ``now`` for the events whose invoices still need a person (to send,
    or rejected: ``UNCLOSED``); none for the closed ones, with nothing left to do before the deadline."""
    pending = frame[CloseColumn.CLOSING].isin([c.value for c in UNCLOSED])
    return frame.assign(**{CloseColumn.LEFT: time_left(frame[CloseColumn.DEADLINE], now, pending)})


def open_invoice_parts(
    store: Store, inventory: Inventory, now: datetime, window: timedelta
) -> tuple[InvoicePicture, pd.DataFrame, list[tuple[str, datetime, str]]]:
    """What Estado and Facturas show of the window's invoices: the open ones attributed to their events, their
    frame (``invoices_frame``) and every invoice's (POS, emission, state) for Estado's queue. A chain's: 0.6 s,
    built in the web server's worker process (``ui.resources.current_invoices``)."""
    picture = invoice_picture(store, inventory, now, window, open_only=True)
    return picture, invoices_frame(picture.invoices, inventory), store.invoice_states_since(now - window)


def window_closes(store: Store, inventory: Inventory, now: datetime, window: timedelta) -> pd.DataFrame:
    """Each event ended within the window and its closing (``closes_frame``), from every invoice of the window."""
    return closes_frame(invoice_picture(store, inventory, now, window).closes, inventory)


NOTHING_READ = "sin datos todavía"


def invoice_reading(run: JobRun | None, stored: bool) -> str | None:
    """What the invoice figures can claim: none read yet ("—", not 0), or partial until the walk's first
    full pass over the window (they only grow until then); ``None`` once complete. ``stored``: some open
    invoice is in the database already (the first round saves its pages before it records itself)."""
    if run is None:
        return "lectura parcial" if stored else NOTHING_READ
    return "lectura parcial" if run.passed_at is None else None
