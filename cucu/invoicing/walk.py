"""What is still to be sent: the walk through cucu's invoice list and the status follow-ups.

The collector walks cucu's invoice list, newest first, within a budget of pages a round; it follows
the offline (``CONTINGENCY``), pending and rejected invoices up with the status call, within a budget
of its own. No Streamlit here: the pages and the alert rules read what this module records.

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
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cucu.api.client import CucuClient
from cucu.api.errors import CucuError, recorded
from cucu.api.models import MAX_PAGE_SIZE, Invoice
from cucu.formatting import fmt_count, plural
from cucu.settings import Settings
from cucu.store import JobNotes, JobRun, StatusRead, Store
from cucu.vocabulary import InvoiceState

log = logging.getLogger(__name__)

STATUS_EVERY = timedelta(minutes=5)  # an offline or pending invoice's status is read again after this
REJECTED_STATUS_EVERY = timedelta(hours=1)  # a rejected one seldom moves: once with its code, then hourly
# A fifth of a round's status calls go first to the rejected invoices due: at a chain the offline ones due every
# STATUS_EVERY outnumber the whole budget (5 300 against 50 a round), and the rejected ones, served from what was
# left, never had SIAT's reason read ("Sin leer todavía" in Estado's queue for thousands of them).
REJECTED_SHARE = 5
INVOICE_JOB = "facturas"  # its row in job_runs
UNSETTLED = (InvoiceState.CONTINGENCY, InvoiceState.PENDING)  # still to reach SIAT
OPEN_STATES = (*UNSETTLED, InvoiceState.REJECTED)  # what Facturas lists
FUTURE_SLACK = timedelta(minutes=10)  # cucu's clock may run ahead of ours; a later emission date is set aside
MAX_LEFT_OUT = 20_000  # ids of left-out rows remembered between rounds: a flood costs this much memory at most


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
    max_open: int = Settings.invoice_max_open,
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
    in_contingency = [p for p, status in store.statuses_with_events().items() if status.known and status.event is not None]
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

    Rejected invoices not read for ``REJECTED_STATUS_EVERY`` get up to a ``REJECTED_SHARE``-th of the budget
    first, offline and pending ones not read for ``STATUS_EVERY`` the rest, and more rejected ones what those
    leave. Among each, those of a POS no longer in contingency come first (their event ended: they are the
    ones moving), then the never read, then the longest unread.
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

    rejected = chosen((InvoiceState.REJECTED,), REJECTED_STATUS_EVERY, budget)
    share = min(len(rejected), max(1, budget // REJECTED_SHARE))
    ids = rejected[:share]
    ids += chosen(UNSETTLED, STATUS_EVERY, budget - len(ids))
    ids += rejected[share : share + budget - len(ids)]  # what the others left
    if not ids or stopping():
        return 0, 0

    def read(invoice_id: str) -> StatusRead | None:
        if stopping():
            return None
        at = clock()
        return recorded(
            lambda: StatusRead(invoice_id, at, status=client.invoice_status(invoice_id)),
            lambda error: StatusRead(invoice_id, at, error=error),
            unexpected="Error inesperado al leer el estado de esta factura.",
            log=log,
            what="colector: error inesperado al leer el estado de la factura %s",
            about=invoice_id,
        )

    reads = [r for r in pool.map(read, ids) if r is not None]
    return len(reads), store.save_invoice_statuses(reads)


def _older_than(when: datetime | None, limit: datetime) -> bool:
    return when is not None and when < limit
