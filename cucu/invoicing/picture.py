"""What the invoices mean: each one attributed to its POS and event, deadlines, the backlog, event closing.

Built from what the store holds (the walk's invoices, the sweeps' and the backfill's events), once per
data version, for the pages and the alert rules. No Streamlit, no calls to cucu.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cucu.api.models import REGISTRATION_WINDOW, Event, Inventory
from cucu.invoicing.walk import OPEN_STATES, UNSETTLED
from cucu.store import DayEvents, PosStatus, Store, StoredInvoice
from cucu.vocabulary import EventClosing, InvoiceState


@dataclass(frozen=True)
class EventSpan:
    """An event of a POS as far as its invoices are concerned: open while ``end`` is None."""

    event_id: str
    pos_id: str
    branch_id: str
    start: datetime
    end: datetime | None


def event_spans(statuses: Mapping[str, PosStatus], days: Iterable[DayEvents]) -> list[EventSpan]:
    """Every event known: the active one of each POS and those the store's days hold (one each, by id)."""
    found: dict[str, EventSpan] = {}
    for day in days:
        for event in day.events:
            _note(found, event, day.pos_id, day.branch_id)
    for status in statuses.values():
        if status.known and status.event is not None:
            _note(found, status.event, status.pos_id, status.branch_id)
    return list(found.values())


def _note(found: dict[str, EventSpan], event: Event, pos_id: str, branch_id: str) -> None:
    if event.fecha_inicio is None:
        return
    old = found.get(event.id)
    end = event.fecha_fin if old is None or old.end is None or event.fecha_fin is not None else old.end
    found[event.id] = EventSpan(event.id, event.pos_id or pos_id, event.branch_id or branch_id, event.fecha_inicio, end)


@dataclass(frozen=True)
class AttributedInvoice:
    """An invoice with the POS, branch and event it belongs to, as far as they are known."""

    invoice: StoredInvoice
    pos_id: str | None  # None: cucu's list did not name it, or it is not in the inventory
    branch_id: str | None
    event: EventSpan | None  # the event of its POS open when it was issued

    @property
    def deadline(self) -> datetime | None:
        """When SIAT stops taking it: 48 h after its event ended. None while the event is open. Without a
        known event, 48 h after it was issued: no later than the real deadline (its event ended after)."""
        if self.event is not None:
            return self.event.end + REGISTRATION_WINDOW if self.event.end is not None else None
        emitted = self.invoice.emission_date
        return emitted + REGISTRATION_WINDOW if emitted is not None else None


def attribute(invoices: Iterable[StoredInvoice], inventory: Inventory, spans: Iterable[EventSpan]) -> list[AttributedInvoice]:
    by_pos: dict[str, list[EventSpan]] = defaultdict(list)
    for span in spans:
        by_pos[span.pos_id].append(span)
    known_pos = {p.id.lower(): p for p in inventory.all_pos}
    out = []
    for invoice in invoices:
        pos = known_pos.get(invoice.pos_id.lower()) if invoice.pos_id else None
        event = None
        if pos is not None and invoice.emission_date is not None:
            emitted = invoice.emission_date
            event = next((s for s in by_pos.get(pos.id, ()) if s.start <= emitted and (s.end is None or emitted <= s.end)), None)
        out.append(AttributedInvoice(invoice, pos.id if pos else None, pos.branch_id if pos else None, event))
    return out


@dataclass(frozen=True)
class Backlog:
    """Offline invoices still to reach SIAT (Estado's KPI and the deadline alert)."""

    count: int
    oldest: AttributedInvoice | None  # issued longest ago
    nearest: AttributedInvoice | None  # the nearest deadline (ended events only)
    rejected: int
    unattributed: int  # counted at company level: cucu did not name their POS

    def time_left(self, now: datetime) -> timedelta | None:
        deadline = self.nearest.deadline if self.nearest is not None else None
        return deadline - now if deadline is not None else None


def backlog(invoices: Sequence[AttributedInvoice]) -> Backlog:
    pending = [a for a in invoices if a.invoice.state is InvoiceState.CONTINGENCY]
    dated = [a for a in pending if a.invoice.emission_date is not None]
    with_deadline = [a for a in pending if a.deadline is not None]
    return Backlog(
        count=len(pending),
        oldest=min(dated, key=lambda a: a.invoice.emission_date or datetime.max) if dated else None,
        nearest=min(with_deadline, key=lambda a: a.deadline or datetime.max) if with_deadline else None,
        rejected=sum(1 for a in invoices if a.invoice.state is InvoiceState.REJECTED),
        unattributed=sum(1 for a in pending if a.pos_id is None),
    )


@dataclass(frozen=True)
class EventClose:
    """An ended event's offline invoices: issued while it was open, and where they stand."""

    span: EventSpan
    issued: int
    to_send: int  # CONTINGENCY or PENDING
    validated: int
    rejected: int
    other: int = 0  # cancelled, or a state this version does not know

    @property
    def closing(self) -> EventClosing:
        if self.issued == 0:
            return EventClosing.NO_INVOICES
        if self.to_send:
            return EventClosing.TO_SEND
        if self.rejected:
            return EventClosing.REJECTED
        return EventClosing.CLOSED

    @property
    def deadline(self) -> datetime | None:
        return self.span.end + REGISTRATION_WINDOW if self.span.end is not None else None


def event_closes(invoices: Iterable[AttributedInvoice], spans: Iterable[EventSpan], since: datetime) -> list[EventClose]:
    """Every event that ended at or after ``since``, newest end first, with its invoices' states."""
    ended = {s.event_id: s for s in spans if s.end is not None and s.end >= since}
    counts: dict[str, list[StoredInvoice]] = defaultdict(list)
    for a in invoices:
        if a.event is not None and a.event.event_id in ended:
            counts[a.event.event_id].append(a.invoice)
    out = []
    for event_id, span in ended.items():
        states = [i.state for i in counts.get(event_id, ())]
        to_send = sum(1 for s in states if s in UNSETTLED)
        validated = sum(1 for s in states if s is InvoiceState.VALIDATED)
        rejected = sum(1 for s in states if s is InvoiceState.REJECTED)
        out.append(
            EventClose(
                span,
                len(states),
                to_send,
                validated,
                rejected,
                len(states) - to_send - validated - rejected,
            )
        )
    out.sort(key=lambda c: c.span.end or since, reverse=True)
    return out


UNCLOSED = (EventClosing.TO_SEND, EventClosing.REJECTED)  # an ended event whose invoices still need a person


def unclosed_events(invoices: Sequence[AttributedInvoice], since: datetime | None = None) -> list[EventClose]:
    """Ended events (at or after ``since``) whose offline invoices are not all validated: "Por enviar" or
    "Con rechazos", the nearest deadline first. The open invoices are enough (a picture with
    ``open_only``): an event has one of those closings exactly when one of its invoices is still open.
    This is what the product knows of an ended event; whether it is registered with SIAT it cannot know."""
    spans = {a.event.event_id: a.event for a in invoices if a.event is not None}
    start = since if since is not None else min((s.end for s in spans.values() if s.end is not None), default=None)
    if start is None:
        return []
    closes = [c for c in event_closes(invoices, spans.values(), start) if c.closing in UNCLOSED]
    return sorted(closes, key=lambda c: (c.deadline or start, c.span.event_id))


@dataclass(frozen=True)
class InvoicePicture:
    """Everything the pages show of the invoices of the window, built once per data version."""

    invoices: list[AttributedInvoice]  # newest first
    backlog: Backlog
    closes: list[EventClose]  # events ended within the window, newest end first

    @property
    def open_invoices(self) -> list[AttributedInvoice]:
        """Still to send (offline or pending) or rejected: what Facturas lists."""
        return [a for a in self.invoices if a.invoice.state in OPEN_STATES]


def invoice_picture(
    store: Store, inventory: Inventory, now: datetime, window: timedelta, *, open_only: bool = False
) -> InvoicePicture:
    """``open_only``: only the invoices still to send or rejected (the alert rules; no event closing)."""
    since = now - window
    # Events that began up to two days before the window still cover invoices issued in it.
    days = store.days_with_events((since - timedelta(days=2)).date(), now.date())
    spans = event_spans(store.statuses_with_events(), days)
    states = [s.value for s in OPEN_STATES] if open_only else None
    attributed = attribute(store.invoices_since(since, states=states), inventory, spans)
    closes = [] if open_only else event_closes(attributed, spans, since)
    return InvoicePicture(attributed, backlog(attributed), closes)
