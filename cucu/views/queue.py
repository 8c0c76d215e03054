"""Estado's one queue of what to do now: every reason a person must act, merged and ordered by time left.

Each row is one thing to do, with the link that opens where it is done:

- a POS that cannot invoice (CUFD expired, inactive or missing) and a CUFD expiring within the setting;
- an ended event's offline invoices still to send, by their deadline (48 h after the end);
- a rejected invoice, with SIAT's code explained;
- an event open past the long-open setting;
- an alert nobody acknowledged, by its next escalation (or since it opened);
- an action still "En verificación";
- an open event whose invoices all reached SIAT (the POS invoices again: end it).

A row's ``at`` is a deadline (the CUFD's expiry, the invoices' 48 h, the alert's next escalation) or, for what
is already due, since when it waits; the queue is sorted by it, soonest first: what is overdue or waiting comes
before what is due later. At a chain's size the page shows the top of it and the count of each kind.

The part read from the POS and invoices is built once per data version (``pos_part``); alerts and verifications
are read per view and merged in (``merged``). No Streamlit.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

import pandas as pd

from cucu.alerts import ALERT_PARAM
from cucu.alerts.incidents import escalation_due_at
from cucu.api.models import Inventory
from cucu.formatting import fmt_datetime, fmt_duration, fmt_hour, md_text, plural
from cucu.invoicing import UNSETTLED, InvoicePicture, unclosed_events
from cucu.invoicing.codes import explain_siat_code
from cucu.lapaz import la_paz_series
from cucu.settings import AlertSettings
from cucu.store import AuditEntry, Incident
from cucu.views.facturas import siat_description
from cucu.views.links import (
    BRANCH_PARAM,
    FACTURAS_VIEWS,
    INVOICE_STATE_PARAM,
    SEARCH_PARAM,
    VIEW_PARAM,
    page_link,
)
from cucu.views.pos import PosColumn
from cucu.vocabulary import CufdHealth, EventClosing, InvoiceState, QueueKind, stored_label

QUEUE_SHOWN = 50  # rows of the queue a page shows (the top); the counts cover all of it
CANNOT_INVOICE = tuple(h.value for h in CufdHealth if h.stops_invoicing)  # expired, inactive, none


@dataclass(frozen=True, order=True)
class QueueItem:
    """One thing to do. Ordered by ``at`` (then by kind and place, so the order is stable)."""

    at: datetime  # its deadline, or since when it waits (``deadline`` says which)
    kind: QueueKind
    branch_id: str
    pos_id: str
    deadline: bool = field(compare=False)
    detail: str = field(compare=False)  # plain text (a person's or cucu's words may be in it): never Markdown
    link: str = field(compare=False)  # relative, with the row's verb as the fragment (``cucu.views.links.page_link``)
    # False when nobody knows since when it waits (a CUFD cucu says is inactive or missing): ``at`` is then the
    # moment it was read, which orders it among what waits, and is never said as "espera hace 0 s".
    since_known: bool = field(default=True, compare=False)


@dataclass(frozen=True)
class QueuePart:
    """A sorted run of the queue, and how many of each kind it holds."""

    items: list[QueueItem]
    counts: Counter[QueueKind]

    def within(self, branch_ids: Collection[str]) -> QueuePart:
        """The items of these branches, in order: a scoped view's part, each item being one POS's or one invoice's
        (an invoice that names no POS is the whole company's)."""
        items = [i for i in self.items if i.branch_id in branch_ids]
        return QueuePart(items, Counter(i.kind for i in items))


class _Links:
    """Where each kind of row is acted on."""

    def __init__(self, inventory: Inventory, labels: Mapping[str, str]) -> None:
        self.labels = labels
        self.pos_names = {p.id: p.name for p in inventory.all_pos}

    def _branch(self, branch_id: str) -> dict[str, str]:
        label = self.labels.get(branch_id)
        return {BRANCH_PARAM: label} if label else {}

    def cufd(self, branch_id: str) -> str:
        return page_link("facturas", {VIEW_PARAM: FACTURAS_VIEWS[1], **self._branch(branch_id)}, "Renovar")

    def closing(self, branch_id: str) -> str:
        return page_link("facturas", {VIEW_PARAM: FACTURAS_VIEWS[2], **self._branch(branch_id)}, "Revisar")

    def rejected(self, branch_id: str) -> str:
        params = {VIEW_PARAM: FACTURAS_VIEWS[0], INVOICE_STATE_PARAM: InvoiceState.REJECTED.label}
        return page_link("facturas", params | self._branch(branch_id), "Corregir")

    def event(self, branch_id: str, pos_id: str, action: str) -> str:
        search = {SEARCH_PARAM: self.pos_names[pos_id]} if pos_id in self.pos_names else {}
        return page_link("eventos", self._branch(branch_id) | search, action)


def pos_part(
    pos: pd.DataFrame,
    picture: InvoicePicture,
    invoice_states: Iterable[tuple[str, datetime, str]],
    inventory: Inventory,
    labels: Mapping[str, str],
    now: datetime,
    *,
    long_open_hours: float,
    invoice_window: timedelta,
) -> QueuePart:
    """What the POS frame (``cucu.views.pos.pos_frame``) and the invoices say must be done, sorted: CUFDs,
    long-open events, ended events' invoices to send, rejected invoices, open events whose invoices all
    reached SIAT (``invoice_states``: (POS, emission, state) of the window's invoices)."""
    links = _Links(inventory, labels)
    items: list[QueueItem] = []
    rows = pos[[PosColumn.BRANCH_ID, PosColumn.POS_ID, PosColumn.CUFD, PosColumn.CUFD_UNTIL]]
    for branch_id, pos_id, health, until in rows.itertuples(index=False, name=None):
        if health in CANNOT_INVOICE:
            expired = health == CufdHealth.EXPIRED.value and not pd.isna(until)
            detail = f"CUFD vencido el {fmt_datetime(until)}" if expired else f"CUFD: {health}"
            at = until.to_pydatetime() if expired else now
            items.append(
                QueueItem(at, QueueKind.CANNOT_INVOICE, branch_id, pos_id, expired, detail, links.cufd(branch_id), expired)
            )
        elif health == CufdHealth.EXPIRING.value and not pd.isna(until):
            detail = f"CUFD vence a las {fmt_hour(until)}"
            items.append(
                QueueItem(until.to_pydatetime(), QueueKind.CUFD_EXPIRING, branch_id, pos_id, True, detail, links.cufd(branch_id))
            )
    long_open = pos[pos[PosColumn.LONG_OPEN].fillna(False).astype(bool)]
    for branch_id, pos_id, start, motive in long_open[
        [PosColumn.BRANCH_ID, PosColumn.POS_ID, PosColumn.START, PosColumn.MOTIVE]
    ].itertuples(index=False, name=None):
        since = start.to_pydatetime() + timedelta(hours=long_open_hours)
        detail = f"Abierto hace {fmt_duration(now - start.to_pydatetime())} ({motive})"
        items.append(
            QueueItem(since, QueueKind.LONG_OPEN, branch_id, pos_id, False, detail, links.event(branch_id, pos_id, "Revisar"))
        )
    for close in unclosed_events(picture.invoices, now - invoice_window):
        if close.closing is not EventClosing.TO_SEND or close.deadline is None:
            continue
        span = close.span
        detail = (
            f"{plural(close.to_send, 'factura', 'facturas')} del evento del {fmt_datetime(span.start)} al "
            f"{fmt_datetime(span.end)}"
        )
        items.append(
            QueueItem(
                close.deadline, QueueKind.INVOICES_DUE, span.branch_id, span.pos_id, True, detail, links.closing(span.branch_id)
            )
        )
    for attributed in picture.invoices:
        invoice = attributed.invoice
        if invoice.state is not InvoiceState.REJECTED:
            continue
        deadline = attributed.deadline
        said = (
            explain_siat_code(invoice.siat_code, invoice.siat_description)
            if invoice.siat_code is not None or invoice.siat_description
            else siat_description(invoice) or explain_siat_code(None, None)  # its status not read yet: said so
        )
        detail = f"Nº {invoice.invoice_number}: {said}"
        branch_id = attributed.branch_id or ""
        items.append(
            QueueItem(
                deadline or invoice.emission_date or now, QueueKind.REJECTED, branch_id, attributed.pos_id or "",
                deadline is not None, detail, links.rejected(branch_id),
            )
        )  # fmt: skip
    items += _ready_to_end(pos, invoice_states, links)
    items.sort()
    return QueuePart(items, Counter(i.kind for i in items))


def _ready_to_end(pos: pd.DataFrame, invoice_states: Iterable[tuple[str, datetime, str]], links: _Links) -> list[QueueItem]:
    """Open events with at least one invoice issued since they began and none still to send: the POS reaches
    SIAT again, so the event can be ended. Since the last invoice."""
    active = pos[pos[PosColumn.EVENT_ID].notna() & pos[PosColumn.START].notna()]
    started = {
        pos_id.lower(): (pos_id, branch_id, start.to_pydatetime())
        for pos_id, branch_id, start in active[[PosColumn.POS_ID, PosColumn.BRANCH_ID, PosColumn.START]].itertuples(
            index=False, name=None
        )
    }
    if not started:
        return []
    issued: dict[str, int] = defaultdict(int)
    last: dict[str, datetime] = {}
    unsettled: set[str] = set()
    to_send = {str(s) for s in UNSETTLED}
    for raw_pos, emitted, state in invoice_states:
        key = raw_pos.lower()
        event = started.get(key)
        if event is None or emitted < event[2]:
            continue
        issued[key] += 1
        last[key] = max(emitted, last.get(key, emitted))
        if state in to_send:
            unsettled.add(key)
    out = []
    for key, count in issued.items():
        if key in unsettled:
            continue
        pos_id, branch_id, _ = started[key]
        detail = f"Sus {plural(count, 'factura', 'facturas')} desde el inicio ya llegaron a SIAT: puede finalizarlo"
        out.append(
            QueueItem(
                last[key], QueueKind.READY_TO_END, branch_id, pos_id, False, detail, links.event(branch_id, pos_id, "Finalizar")
            )
        )
    return out


def person_part(
    incidents: Sequence[Incident],
    verifying: Sequence[AuditEntry],
    alerts: AlertSettings,
    now: datetime,
) -> QueuePart:
    """What the alerts and the audit log say must be done: alerts nobody acknowledged (by their next escalation,
    or since they opened) and actions still being verified (since they were asked for). Read per view: few rows."""
    items: list[QueueItem] = []
    for incident in incidents:
        if incident.acknowledged_by is not None:
            continue
        escalates = escalation_due_at(alerts, incident)
        detail = f"{incident.title} · abierta desde las {fmt_hour(incident.opened_at)}"
        if escalates is not None:
            detail += " · escala al vencer el plazo"
        link = page_link("alertas", {ALERT_PARAM: incident.key}, "Atender")
        items.append(
            QueueItem(
                escalates or incident.opened_at, QueueKind.UNACKNOWLEDGED, incident.branch_id or "", "",
                escalates is not None, detail, link,
            )
        )  # fmt: skip
    for entry in verifying:
        detail = f"{stored_label(entry.action)} pedido a las {fmt_hour(entry.requested_at)} por {entry.actor_name or entry.actor}"
        items.append(
            QueueItem(
                entry.requested_at, QueueKind.VERIFYING, entry.branch_id, entry.pos_id, False, detail,
                page_link("bitacora", {}, "Ver"),
            )
        )  # fmt: skip
    items.sort()
    return QueuePart(items, Counter(i.kind for i in items))


@dataclass(frozen=True)
class Queue:
    top: list[QueueItem]  # the first ``QUEUE_SHOWN``
    counts: Counter[QueueKind]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def counts_text(self) -> str:
        """ "3 puntos de venta no pueden facturar · 12 CUFD por vencer · …", in the kinds' order, those present only."""
        return " · ".join(kind.counted(self.counts[kind]) for kind in QueueKind if self.counts[kind])


def merged(*parts: QueuePart, shown: int = QUEUE_SHOWN) -> Queue:
    """The top ``shown`` of the parts' sorted runs, and every kind's count."""
    counts: Counter[QueueKind] = Counter()
    for part in parts:
        counts.update(part.counts)
    top = list(islice(heapq.merge(*(part.items for part in parts)), shown))  # each run is sorted already
    return Queue(top, counts)


class QueueColumn:
    """The queue's grid: what, where, the detail, the time left, and the link that opens where it is done."""

    KIND = "Qué"
    BRANCH = "Sucursal"
    POS = "Punto de venta"
    DETAIL = "Detalle"
    LEFT = "Queda"  # until its deadline (negative once past); empty for what waits since a moment
    AT = "Plazo o desde"
    LINK = "Acción"


QUEUE_COLUMNS = [QueueColumn.KIND, QueueColumn.BRANCH, QueueColumn.POS, QueueColumn.DETAIL, QueueColumn.LEFT, QueueColumn.LINK]


def item_place(item: QueueItem, inventory: Inventory) -> tuple[str, str]:
    """The names of an item's branch and POS (their ids if the inventory lacks them; "" where it names none), from
    the inventory's own lookups: a chain's 10 000 POS are not put in a dict again at every refresh."""
    try:
        branch = inventory.branch(item.branch_id).name
    except KeyError:
        branch = item.branch_id
    try:
        pos = inventory.pos(item.pos_id).name
    except KeyError:
        pos = item.pos_id
    return branch, pos


def queue_frame(queue: Queue, inventory: Inventory, now: datetime) -> pd.DataFrame:
    """The top of the queue as a grid: "Queda" typed (sorts by value), to the minute."""
    places = [item_place(item, inventory) for item in queue.top]
    frame = pd.DataFrame(
        [
            {
                QueueColumn.KIND: item.kind.label,
                QueueColumn.BRANCH: branch or "—",
                QueueColumn.POS: pos or "—",
                QueueColumn.DETAIL: item.detail,
                QueueColumn.LEFT: (item.at - now) if item.deadline else None,
                QueueColumn.AT: item.at,
                QueueColumn.LINK: item.link,
            }
            for item, (branch, pos) in zip(queue.top, places, strict=True)
        ],
        columns=[*QUEUE_COLUMNS, QueueColumn.AT],
    )
    frame[QueueColumn.LEFT] = pd.to_timedelta(frame[QueueColumn.LEFT]).dt.floor("min")
    frame[QueueColumn.AT] = la_paz_series(frame[QueueColumn.AT])
    return frame


QUEUE_LISTED = 8  # the top of the queue Estado lists as text: what an upright tablet shows without scrolling


def queue_lines(items: Sequence[QueueItem], inventory: Inventory, now: datetime) -> str:
    """The top of the queue as a Markdown list, one line per thing to do: what, where, the detail, the time left
    in words ("vence en 2 h 5 min"; red once past, "venció hace 3 h"; "espera hace 20 min" for what waits since
    a moment) and the link that opens where it is done, named by its verb. People's and cucu's words are escaped."""
    lines = []
    for item in items:
        where = item_place(item, inventory)
        if not item.deadline:
            left = f"espera hace {fmt_duration(now - item.at)}" if item.since_known else ""
        elif item.at >= now:
            left = f"vence en {fmt_duration(item.at - now)}"
        else:
            left = f":red[venció hace {fmt_duration(now - item.at)}]"
        verb = item.link.rsplit("#", 1)[-1] if "#" in item.link else "Ver"
        parts = [f"**{item.kind.label}**", *(md_text(w) for w in where if w), md_text(item.detail), *([left] if left else [])]
        lines.append(f"- {' · '.join(parts)} · [{verb}]({item.link})")
    return "\n".join(lines)


def empty_text(known: bool) -> str:
    """What an empty queue says: nothing to do, or nothing known yet (never "nothing to do" before a first read)."""
    if not known:
        return "Sin datos todavía: la lista se arma con la primera lectura de los puntos de venta."
    return "Nada por hacer ahora: todos los puntos de venta pueden facturar, no hay facturas por enviar ni alertas sin atender."
