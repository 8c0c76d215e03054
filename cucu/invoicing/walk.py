"""Can every POS invoice, and what is still to be sent: CUFD reads, the invoice walk, and what they mean.

The collector reads each POS's active CUFD on its own interval (sooner when it is expired, missing
or failed) and walks cucu's invoice list, newest first, within a budget of pages a round; it follows
the offline (``CONTINGENCY``), pending and rejected invoices up with the status call, within a budget
of its own. No Streamlit here: the pages and the alert rules read what this module derives.

cucu's list pages by offset, newest first, and grows on top while it is read: the walk keeps an
offset into it and shifts it by the invoices that arrived since, so it does not skip (at worst it
reads a few again). A full pass ends at the first page older than the window (72 h by default).

What comes from cucu is bounded before it reaches the store: a page with more items than asked is
refused (the client), rows dated in the future or not dated are set aside, and new open invoices stop
being stored at a maximum (``CUCU_INVOICE_MAX_OPEN``). The rows left out are counted by id over the
last passes and recorded with the round (``job_runs``), for Facturas to say so.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cucu.api.client import CucuClient
from cucu.api.errors import CucuError
from cucu.api.models import MAX_PAGE_SIZE, REGISTRATION_WINDOW, Event, Inventory, Invoice, PointOfSale
from cucu.formatting import fmt_count, plural
from cucu.settings import DEFAULT_INVOICE_MAX_OPEN
from cucu.store import CufdFetch, DayEvents, JobNotes, JobRun, PosStatus, StatusRead, Store, StoredCufd, StoredInvoice
from cucu.vocabulary import CufdHealth, EventClosing, InvoiceState

log = logging.getLogger(__name__)

CUFD_RETRY = timedelta(minutes=1)  # an expired, missing, inactive or unread CUFD is read again this soon
STATUS_EVERY = timedelta(minutes=5)  # an offline or pending invoice's status is read again after this
REJECTED_STATUS_EVERY = timedelta(hours=1)  # a rejected one seldom moves: once with its code, then hourly
INVOICE_JOB = "facturas"  # its row in job_runs
UNSETTLED = (InvoiceState.CONTINGENCY, InvoiceState.PENDING)  # still to reach SIAT
OPEN_STATES = (*UNSETTLED, InvoiceState.REJECTED)  # what Facturas lists
FUTURE_SLACK = timedelta(minutes=10)  # cucu's clock may run ahead of ours; a later emission date is set aside
MAX_LEFT_OUT = 20_000  # ids of left-out rows remembered between rounds: a flood costs this much memory at most


# ---- CUFD ----------------------------------------------------------------------------


def cufd_health(stored: StoredCufd | None, now: datetime, expiring: timedelta) -> CufdHealth:
    """What the last answer says of the POS's CUFD now (an expired vigencia counts even if read as valid)."""
    if stored is None or stored.ok_at is None:
        return CufdHealth.UNKNOWN
    cufd = stored.cufd
    if cufd is None:
        return CufdHealth.MISSING
    if not cufd.activo:
        return CufdHealth.INACTIVE
    if cufd.vigencia is None or cufd.vigencia <= now:
        return CufdHealth.EXPIRED
    return CufdHealth.EXPIRING if cufd.vigencia - now <= expiring else CufdHealth.VALID


def cufd_due(stored: StoredCufd | None, now: datetime, interval: timedelta) -> bool:
    """Read it this round? Every ``interval``; within ``CUFD_RETRY`` when it cannot invoice or failed."""
    if stored is None:
        return True
    troubled = stored.error is not None or not cufd_health(stored, now, timedelta(0)).can_invoice
    return now - stored.fetched_at >= (min(CUFD_RETRY, interval) if troubled else interval)


def read_cufd(client: CucuClient, pos: PointOfSale, clock: Callable[[], datetime]) -> CufdFetch:
    fetched_at = clock()
    try:
        return CufdFetch(pos.id, pos.branch_id, fetched_at, cufd=client.get_cufd(pos.id))
    except CucuError as exc:
        return CufdFetch(pos.id, pos.branch_id, fetched_at, error=exc.message)
    except Exception:
        log.exception("colector: error inesperado al leer el CUFD de %s", pos.id)
        return CufdFetch(pos.id, pos.branch_id, fetched_at, error="Error inesperado al leer el CUFD de este punto de venta.")


def cufd_round(
    client: CucuClient,
    store: Store,
    inventory: Inventory,
    pool: Executor,
    *,
    now: datetime,
    interval: timedelta,
    limit: int,
    clock: Callable[[], datetime],
    stopping: Callable[[], bool] = lambda: False,
) -> list[CufdFetch]:
    """Read the CUFD of the POS that are due (bounded by the pool's workers) and record them.

    Never-read POS are all read at once (a start must know); the others at most ``limit`` a round,
    those that cannot invoice first, then the longest unread, so the reads spread over the interval
    instead of coming back all together every ``interval``.
    """
    stored = store.cufds()
    unread, due = [], []
    for pos in inventory.all_pos:
        last = stored.get(pos.id)
        if last is None:
            unread.append(pos)
        elif cufd_due(last, now, interval):
            troubled = last.error is not None or not cufd_health(last, now, timedelta(0)).can_invoice
            due.append((not troubled, last.fetched_at, pos))
    due.sort(key=lambda item: item[:2])
    chosen = unread + [pos for _, _, pos in due[: max(0, limit)]]
    # A stopping collector skips what it has not sent yet (its thread must end within the stop's wait).
    fetches = [f for f in pool.map(lambda p: None if stopping() else read_cufd(client, p, clock), chosen) if f is not None]
    store.save_cufds(fetches)
    return fetches


# ---- the invoice walk ------------------------------------------------------------------


@dataclass
class InvoiceWalk:
    """Where the walk through cucu's list stands between rounds (kept in the collector's memory: a
    restart begins a new pass from the top)."""

    offset: int = 0  # invoices from the top already walked in this pass
    passes: int = 0  # full passes down to the window
    pass_started: datetime | None = None
    pass_pages: int = 0  # pages read in the pass under way (recorded with the round: job_runs.pass_pages)
    # Rows not stored, by id: why (a JobNotes field) and the round that last saw them; kept for the pass
    # just completed and the current one, so the counts hold still while rounds read different pages.
    left_out: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def notes(self) -> JobNotes:
        counts = Counter(why for why, _ in self.left_out.values())
        return JobNotes(future=counts["future"], undated=counts["undated"], over_cap=counts["over_cap"])


@dataclass(frozen=True)
class InvoiceRound:
    pages: int  # list calls
    statuses: int  # status calls
    new: int  # invoices not seen before
    changed: int  # known invoices whose list content or status changed
    pass_done: bool
    error: str | None = None
    notes: JobNotes = field(default_factory=JobNotes)  # what the walk left out of the store (InvoiceWalk.left_out)


def invoice_round(
    client: CucuClient,
    store: Store,
    walk: InvoiceWalk,
    pool: Executor,
    *,
    now: datetime,
    window: timedelta,
    page_budget: int,
    status_budget: int,
    clock: Callable[[], datetime],
    stopping: Callable[[], bool] = lambda: False,
    max_open: int = DEFAULT_INVOICE_MAX_OPEN,
) -> InvoiceRound:
    """One round: the newest pages until one holds known invoices, then the walk's next pages, then the
    status follow-ups; at most ``page_budget`` list calls and ``status_budget`` status calls. At most
    ``max_open`` open invoices are kept: past it, new ones are left out (and counted)."""
    pages = new = changed = arrived_aside = 0
    pass_done = False
    oldest_wanted = now - window
    size = MAX_PAGE_SIZE
    if walk.pass_started is None:
        walk.pass_started = now
    sorter = _Sorter(store, walk, now, max_open)
    try:
        head = 0  # pages read from the top: what arrived since the last round
        while pages < page_budget and not pass_done and not stopping():
            pages += 1  # a call made, answered or not
            page = client.list_invoices(head, size)
            head += 1
            kept, seen = sorter.keep(page.items)
            added, moved = store.save_invoices(kept, now)
            new, changed = new + added, changed + moved
            stored_ids = {i.id for i in kept}
            arrived_aside += sum(1 for i in page.items if i.id not in stored_ids and i.id not in seen)
            if page.last or not page.items or _older_than(page.items[-1].emission_date, oldest_wanted):
                pass_done = True  # read from the top down to the window's end in this round
            elif seen:  # stored, or left out in an earlier round: what follows was read before
                break
        # The walk resumes where it stopped, pushed down by what arrived on top, and never re-reads the head.
        offset = max(walk.offset + new + arrived_aside, head * size)
        while pages < page_budget and not pass_done and not stopping():
            number = offset // size
            pages += 1
            page = client.list_invoices(number, size)
            kept, _seen = sorter.keep(page.items)
            added, moved = store.save_invoices(kept, now)
            new, changed = new + added, changed + moved
            offset = (number + 1) * size
            if page.last or not page.items or _older_than(page.items[-1].emission_date, oldest_wanted):
                pass_done = True
        if pass_done:
            # What the pass just completed did not see again is no longer in cucu's list (or the window).
            started = walk.pass_started
            walk.left_out = {k: v for k, v in walk.left_out.items() if v[1] >= started}
            walk.offset, walk.passes = 0, walk.passes + 1
            walk.pass_started = None
            walk.pass_pages = 0
        else:
            walk.offset = offset
            walk.pass_pages += pages
    except CucuError as exc:  # the walk stays where it was, and no follow-ups: the next round tries again
        walk.pass_pages += pages
        return InvoiceRound(pages, 0, new, changed, False, exc.message, sorter.notes())
    if stopping():  # the collector is stopping: its pool takes no more work
        return InvoiceRound(pages, 0, new, changed, pass_done, notes=sorter.notes())
    in_contingency = [p for p, status in store.pos_statuses().items() if status.known and status.event is not None]
    statuses, moved = follow_statuses(
        client, store, pool, now=now, budget=status_budget, clock=clock, in_contingency=in_contingency, stopping=stopping
    )
    return InvoiceRound(pages, statuses, new, changed + moved, pass_done, notes=sorter.notes())


def walk_progress(run: JobRun | None, window_hours: float) -> str | None:
    """Said beside the invoice figures until the walk has read the whole window once (``job_runs.passed_at``):
    until then they count only the pages read, and grow as it goes (36, 46, 502, 584 rejected...)."""
    if run is None or run.passed_at is not None:
        return None
    plural = "" if run.pass_pages == 1 else "s"
    return (
        f"Primer recorrido de las facturas en curso: {fmt_count(run.pass_pages)} página{plural} de cucu "
        f"leída{plural}, de las últimas {window_hours:g} h. "
        "Las cifras de facturas cuentan solo lo leído y crecerán hasta completarlo."
    )


class _Sorter:
    """Splits a page of cucu's list into what is stored and what is left out, remembering the latter."""

    def __init__(self, store: Store, walk: InvoiceWalk, now: datetime, max_open: int):
        self.store, self.walk, self.now, self.max_open = store, walk, now, max_open
        self.held_open = store.count_invoices([s.value for s in OPEN_STATES])
        self.capped = 0  # new open invoices left out in this round

    def keep(self, items: Sequence[Invoice]) -> tuple[list[Invoice], set[str]]:
        """(the invoices to store, the ids of the page seen before: stored, or left out in an earlier round)."""
        known = self.store.known_invoice_ids([i.id for i in items])
        seen = known | {i.id for i in items if i.id in self.walk.left_out}
        kept = []
        for item in items:
            why = None
            if item.emission_date is None:
                why = "undated"
            elif item.emission_date > self.now + FUTURE_SLACK:
                why = "future"
            elif item.id not in known and item.state in OPEN_STATES:
                if self.held_open >= self.max_open:
                    why = "over_cap"
                    self.capped += 1
                else:
                    self.held_open += 1
            self.walk.left_out.pop(item.id, None)  # re-inserted last: the oldest are the first forgotten
            if why is None:
                kept.append(item)
            else:
                self.walk.left_out[item.id] = (why, self.now)
        for oldest in list(self.walk.left_out)[: max(0, len(self.walk.left_out) - MAX_LEFT_OUT)]:
            del self.walk.left_out[oldest]
        return kept, seen

    def notes(self) -> JobNotes:
        if self.capped:
            log.warning(
                "facturas: %d facturas abiertas guardadas, el máximo (CUCU_INVOICE_MAX_OPEN); %d nuevas no se guardaron",
                self.held_open,
                self.capped,
            )
        return self.walk.notes()


def left_out_sentences(notes: JobNotes, max_open: int) -> tuple[str | None, str | None]:
    """What Facturas says of the rows the walk left out: (the cap reached, the rows set aside)."""
    cap = None
    if notes.over_cap:
        cap = (
            f"Se guardan como máximo {fmt_count(max_open)} facturas por enviar o rechazadas (CUCU_INVOICE_MAX_OPEN) "
            f"y se alcanzó ese máximo: {plural(notes.over_cap, 'factura nueva de cucu no se guardó', 'facturas nuevas de cucu no se guardaron')}. "
            "Revise con cucu por qué hay tantas."
        )
    aside = None
    if notes.future or notes.undated:
        aside = (
            f"{plural(notes.future + notes.undated, 'fila de la lista de cucu apartada', 'filas de la lista de cucu apartadas')}, no se guardan como facturas: "
            f"{fmt_count(notes.future)} con fecha de emisión futura y {fmt_count(notes.undated)} sin fecha de emisión."
        )
    return cap, aside


def follow_statuses(
    client: CucuClient,
    store: Store,
    pool: Executor,
    *,
    now: datetime,
    budget: int,
    clock: Callable[[], datetime],
    in_contingency: Collection[str] = (),
    stopping: Callable[[], bool] = lambda: False,
) -> tuple[int, int]:
    """Status calls within ``budget``; returns (calls, invoices whose state or SIAT answer changed).

    Offline and pending invoices not read for ``STATUS_EVERY``, then rejected ones not read for
    ``REJECTED_STATUS_EVERY``. Among them, those of a POS no longer in contingency come first (their
    event ended: they are the ones moving), then the never read, then the longest unread.
    """
    if budget <= 0:
        return 0, 0
    still_open = {p.lower() for p in in_contingency}

    def chosen(states: Sequence[InvoiceState], every: timedelta, limit: int) -> list[str]:
        due = [
            (pos_id is not None and pos_id.lower() in still_open, read_at is not None, read_at or now, invoice_id)
            for invoice_id, pos_id, read_at in store.unsettled_invoices([s.value for s in states])
            if read_at is None or read_at < now - every
        ]
        return [item[3] for item in sorted(due)[:limit]]

    ids = chosen(UNSETTLED, STATUS_EVERY, budget)
    ids += chosen((InvoiceState.REJECTED,), REJECTED_STATUS_EVERY, budget - len(ids))
    if not ids or stopping():
        return 0, 0

    def read(invoice_id: str) -> StatusRead | None:
        if stopping():
            return None
        at = clock()
        try:
            return StatusRead(invoice_id, at, status=client.invoice_status(invoice_id))
        except CucuError as exc:
            return StatusRead(invoice_id, at, error=exc.message)

    reads = [r for r in pool.map(read, ids) if r is not None]
    return len(reads), store.save_invoice_statuses(reads)


def _older_than(when: datetime | None, limit: datetime) -> bool:
    return when is not None and when < limit


# ---- what the invoices mean: attribution to events, deadlines, closing ------------------


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
    spans = event_spans(store.pos_statuses(), days)
    states = [s.value for s in OPEN_STATES] if open_only else None
    attributed = attribute(store.invoices_since(since, states=states), inventory, spans)
    closes = [] if open_only else event_closes(attributed, spans, since)
    return InvoicePicture(attributed, backlog(attributed), closes)
