"""Outages and their dossier: one outage followed from the first failed check to the last validated invoice.

An outage is a period SIAT was down by the one rule (``cucu.connectivity.rules.siat_down_periods``), or a branch's
internet: motive-1 events of at least ``CLUSTER_POS`` of its POS, each starting within ``CLUSTER_GAP`` of the
one before. Its dossier puts on one timeline what the store holds of it:

- the first failed check, SIAT declared down, SIAT back (or cucu falling silent);
- the alerts opened while it lasted: each message (channel, delivered or not), who acknowledged it with which
  note, its escalations and notes;
- its events started (per branch, by whom or by the policy) and ended;
- the offline invoices issued in its events: sent, validated, rejected (SIAT's code), each with its deadline;
- closed once it is over and every one of those invoices is settled or past its deadline.

Its summary: duration, POS and branches affected, hours in contingency, invoices still to send, time to
acknowledge, to start and to end. Everything is read from the store (no call to cucu). No Streamlit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from cucu.api.models import REGISTRATION_WINDOW, Event, Inventory
from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.rules import siat_down_periods
from cucu.formatting import fmt_datetime, plural
from cucu.invoicing.codes import explain_siat_code
from cucu.invoicing.walk import UNSETTLED
from cucu.store import (
    AuditEntry,
    AuditFilter,
    DayEvents,
    Incident,
    IncidentNote,
    MaintenanceWindow,
    OutboxEntry,
    PosStatus,
    Store,
    StoredInvoice,
)
from cucu.vocabulary import ActionKind, AlertKind, InvoiceState, Motive, OutageKind, OutageState, Outcome, Tone

CLUSTER_GAP = timedelta(minutes=15)  # motive-1 starts this close in one branch are one outage
CLUSTER_POS = 2  # ... when at least this many POS
EVENTS_BEFORE = timedelta(minutes=30)  # an event started this long before SIAT was declared down is still its own
ALERTS_BEFORE = timedelta(minutes=5)  # an alert opened just before the first failed check (a check's jitter)
TOOK_EFFECT = (Outcome.OK, Outcome.VERIFYING)
BRANCHES_ON_TIMELINE = 20  # up to this many branches, the timeline says each one's events; beyond, once per who


@dataclass(frozen=True)
class Outage:
    key: str  # stable: the kind, the branch and the start, for a link (?caida=…)
    kind: OutageKind
    branch_id: str | None  # a branch's internet; None: SIAT, the whole company
    started_at: datetime  # the first failed check, or the first event's start
    declared_at: datetime  # SIAT declared down by the rule, or the cluster's second start
    ended_at: datetime | None  # SIAT back (or cucu silent), or the cluster's last end; None while it goes on
    back: bool  # ended by SIAT answering again (a SIAT outage)
    pos_ids: tuple[str, ...] = ()  # a cluster's POS


def maintenance_marks(outages: Iterable[Outage], windows: Iterable[MaintenanceWindow]) -> dict[str, MaintenanceWindow]:
    """The SIAT outages marked as maintenance after the fact (``cucu.events.maintenance.mark_past``, from its dossier
    or Mantenimiento), by key: a company-wide period marked once it was over, not cancelled, that holds the whole
    outage. A branch's internet is not SIAT's availability: never marked."""
    marked = [w for w in windows if w.marked_after and not w.branch_ids and w.cancelled_at is None]
    found = {}
    for outage in outages:
        if outage.kind is not OutageKind.SIAT or outage.ended_at is None:
            continue
        mark = next((w for w in marked if w.starts_at <= outage.started_at and outage.ended_at <= w.ends_at), None)
        if mark is not None:
            found[outage.key] = mark
    return found


def outage_key(kind: OutageKind, started_at: datetime, branch_id: str | None = None) -> str:
    stamp = started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")  # the same on every machine
    return f"{kind.value}-{branch_id}-{stamp}" if branch_id else f"{kind.value}-{stamp}"


def known_events(days: Iterable[DayEvents], statuses: Mapping[str, PosStatus]) -> list[Event]:
    """Every event known (the days' and each POS's active one), once each, with its POS and branch."""
    found: dict[str, Event] = {}
    for day in days:
        for event in day.events:
            found[event.id] = _placed(event, day.pos_id, day.branch_id, found.get(event.id))
    for status in statuses.values():
        if status.known and status.event is not None:
            found[status.event.id] = _placed(status.event, status.pos_id, status.branch_id, found.get(status.event.id))
    return [e for e in found.values() if e.fecha_inicio is not None]


def _placed(event: Event, pos_id: str, branch_id: str, old: Event | None) -> Event:
    placed = (
        event
        if event.pos_id and event.branch_id
        else replace(event, pos_id=event.pos_id or pos_id, branch_id=event.branch_id or branch_id)
    )
    if old is not None and old.fecha_fin is not None and placed.fecha_fin is None and not placed.finalizado:
        return old  # an ended read wins over an older "open" one
    return placed


def find_outages(checks: Sequence[ConnectivityCheck], events: Iterable[Event], since: datetime) -> list[Outage]:
    """The outages that went on at or after ``since``, newest first (``events``: every event known, ``_events``)."""
    found = [
        Outage(
            outage_key(OutageKind.SIAT, p.first_failed), OutageKind.SIAT, None, p.first_failed, p.declared_at, p.ended_at, p.back
        )
        for p in siat_down_periods(checks)
        if p.ended_at is None or p.ended_at >= since
    ]
    found += [o for o in branch_clusters(events) if o.ended_at is None or o.ended_at >= since]
    return sorted(found, key=lambda o: o.started_at, reverse=True)


def branch_clusters(events: Iterable[Event]) -> list[Outage]:
    """Motive-1 (internet) events of one branch, each starting within ``CLUSTER_GAP`` of the previous, at
    ``CLUSTER_POS`` POS or more: a branch's internet outage."""
    by_branch: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.codigo_motivo == Motive.INTERNET_OUTAGE and event.branch_id:
            by_branch[event.branch_id].append(event)
    out = []
    for branch_id, found in by_branch.items():
        found.sort(key=lambda e: e.fecha_inicio or datetime.max)
        runs: list[list[Event]] = []
        for event in found:  # started in order: a start within CLUSTER_GAP of the run's last one joins it
            last = runs[-1][-1].fecha_inicio if runs else None
            if last is not None and event.fecha_inicio is not None and event.fecha_inicio - last <= CLUSTER_GAP:
                runs[-1].append(event)
            else:
                runs.append([event])
        out += [_cluster(branch_id, run) for run in runs if len({e.pos_id for e in run}) >= CLUSTER_POS]
    return out


def _cluster(branch_id: str, run: list[Event]) -> Outage:
    start = run[0].fecha_inicio
    assert start is not None and run[1].fecha_inicio is not None
    ends = [e.fecha_fin for e in run]
    ended = None if any(end is None for end in ends) else max(end for end in ends if end is not None)
    pos_ids = tuple(sorted({e.pos_id for e in run}))
    return Outage(
        outage_key(OutageKind.BRANCH_INTERNET, start, branch_id), OutageKind.BRANCH_INTERNET, branch_id, start,
        run[1].fecha_inicio, ended, False, pos_ids,
    )  # fmt: skip


# ---- the dossier ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str  # a short label (one of LANES' keys)
    detail: str  # plain text: people's and cucu's words may be in it, never Markdown
    tone: Tone = Tone.NONE

    @property
    def lane(self) -> str:
        """Its lane on the dossier's chart, in the style of Grafana's annotations."""
        return LANES.get(self.what, "Caída")


# Each timeline label's lane on the chart, top to bottom in LANE_ORDER.
LANE_ORDER = ("Conexión", "Alertas", "Eventos", "Facturas", "Caída")
LANES = {
    **dict.fromkeys(
        ("Primera comprobación fallida", "SIAT declarado caído", "SIAT volvió", "cucu dejó de responder",
         "Primer corte de internet", "Internet de vuelta"), "Conexión"),
    **dict.fromkeys(("Alerta", "Alerta escalada", "Alerta atendida", "Nota", "Alerta resuelta"), "Alertas"),
    **dict.fromkeys(("Eventos iniciados", "Eventos finalizados"), "Eventos"),
    **dict.fromkeys(("Facturas fuera de línea", "Factura rechazada", "Facturas validadas", "Facturas por enviar"), "Facturas"),
}  # fmt: skip


@dataclass(frozen=True)
class OutageInvoice:
    invoice: StoredInvoice
    event: Event
    deadline: datetime | None  # 48 h after its event ended; None while it is open

    def settled_or_late(self, now: datetime) -> bool:
        return self.invoice.state not in UNSETTLED or (self.deadline is not None and self.deadline <= now)


@dataclass(frozen=True)
class Dossier:
    outage: Outage
    state: OutageState
    timeline: list[TimelineEntry]  # oldest first
    events: list[Event]  # its events, oldest first
    starters: Mapping[str, str]  # event id -> who started it (a person's name, or "Política automática")
    invoices: list[OutageInvoice]
    incidents: list[Incident]
    notes: list[IncidentNote]
    failed_checks: list[ConnectivityCheck]  # the evidence of a SIAT outage: every failed check with cucu's answer
    now: datetime

    @property
    def until(self) -> datetime:
        return self.outage.ended_at or self.now

    @property
    def duration(self) -> timedelta:
        return self.until - self.outage.started_at

    @property
    def pos_affected(self) -> set[str]:
        return {e.pos_id for e in self.events}

    @property
    def branches_affected(self) -> set[str]:
        return {e.branch_id for e in self.events if e.branch_id}

    @property
    def contingency_time(self) -> timedelta:
        """Time in contingency summed over its POS: each event from its start to its end (or now). A duration, shown
        as every other one (``fmt_duration``)."""
        return sum(((e.fecha_fin or self.now) - e.fecha_inicio for e in self.events if e.fecha_inicio), timedelta())

    @property
    def to_send(self) -> int:
        return sum(1 for i in self.invoices if i.invoice.state in UNSETTLED)

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        acks = [i.acknowledged_at for i in self.incidents if i.acknowledged_at is not None]
        return min(acks) - self.outage.declared_at if acks else None

    @property
    def time_to_start(self) -> timedelta | None:
        """From SIAT declared down to its first event (a branch's outage is its events: None)."""
        if self.outage.kind is not OutageKind.SIAT:
            return None
        starts = [e.fecha_inicio for e in self.events if e.fecha_inicio is not None]
        return min(starts) - self.outage.declared_at if starts else None

    @property
    def time_to_end(self) -> timedelta | None:
        """From SIAT back (or the outage's end) to its last event ended; None while one is open or it goes on."""
        ends = [e.fecha_fin for e in self.events]
        if self.outage.ended_at is None or not ends or any(end is None for end in ends):
            return None
        return max(end for end in ends if end is not None) - self.outage.ended_at


def outage_events(outage: Outage, events: Iterable[Event], now: datetime) -> list[Event]:
    """A SIAT outage's motive-2 events that overlap it (started from ``EVENTS_BEFORE`` its declaration on); a
    cluster's own events."""
    if outage.kind is OutageKind.BRANCH_INTERNET:
        chosen = [
            e for e in events
            if e.codigo_motivo == Motive.INTERNET_OUTAGE and e.branch_id == outage.branch_id and e.pos_id in outage.pos_ids
            and e.fecha_inicio is not None and outage.started_at <= e.fecha_inicio <= (outage.ended_at or now)
        ]  # fmt: skip
    else:
        until = outage.ended_at or now
        chosen = [
            e for e in events
            if e.codigo_motivo == Motive.SIAT_FAILURE and e.fecha_inicio is not None
            and e.fecha_inicio >= outage.declared_at - EVENTS_BEFORE and e.fecha_inicio <= until
        ]  # fmt: skip
    return sorted(chosen, key=lambda e: (e.fecha_inicio or now, e.pos_id))


def dossier(
    outage: Outage,
    *,
    checks: Sequence[ConnectivityCheck],
    days: Iterable[DayEvents],
    statuses: Mapping[str, PosStatus],
    audit: Sequence[AuditEntry],
    incidents: Sequence[Incident],
    deliveries: Mapping[int, Sequence[OutboxEntry]],
    notes: Mapping[int, Sequence[IncidentNote]],
    invoices: Iterable[StoredInvoice],
    inventory: Inventory,
    now: datetime,
) -> Dossier:
    """The outage's dossier from what the store holds around it (the caller reads the period: checks, days,
    audit rows, incidents with their messages and notes, invoices emitted since the outage began)."""
    events = outage_events(outage, known_events(days, statuses), now)
    by_id = {e.id: e for e in events}
    starts = [a for a in audit if a.action == ActionKind.START and a.event_id in by_id and a.outcome in TOOK_EFFECT]
    ends = [a for a in audit if a.action == ActionKind.END and a.event_id in by_id and a.outcome in TOOK_EFFECT]
    starters = {a.event_id: a.actor_name or a.actor for a in starts if a.event_id}
    mine = _outage_invoices(invoices, events)
    timeline = _timeline(outage, checks, incidents, deliveries, notes, events, starters, ends, mine, inventory, now)
    failed = [
        c for c in checks
        if c.failed and not c.on_request and outage.started_at <= c.checked_at <= (outage.ended_at or now)
    ] if outage.kind is OutageKind.SIAT else []  # fmt: skip
    state = _state(outage, events, mine, now)
    if state is OutageState.CLOSED:
        closed_at = max([outage.ended_at or now, *(e.fecha_fin for e in events if e.fecha_fin), *(_settled_at(i) for i in mine)])
        timeline.append(
            TimelineEntry(closed_at, "Caída cerrada", "Toda factura de la caída está resuelta o venció su plazo.", Tone.OK)
        )
    all_notes = sorted((n for i in incidents for n in notes.get(i.id, ())), key=lambda n: n.written_at)
    return Dossier(
        outage, state, sorted(timeline, key=lambda t: t.at), events, starters, mine, list(incidents), all_notes, failed, now
    )


def _state(outage: Outage, events: Sequence[Event], invoices: Sequence[OutageInvoice], now: datetime) -> OutageState:
    """Going on until it ended; then to close while one of its events is open or one of its invoices is neither
    settled nor past its deadline; closed after that."""
    if outage.ended_at is None:
        return OutageState.ONGOING
    if any(e.fecha_fin is None for e in events) or not all(i.settled_or_late(now) for i in invoices):
        return OutageState.SETTLING
    return OutageState.CLOSED


def _settled_at(item: OutageInvoice) -> datetime:
    """When an invoice of the outage was last seen settled (its status read), or its deadline passed."""
    if item.invoice.state in UNSETTLED and item.deadline is not None:
        return item.deadline
    return item.invoice.status_at or item.invoice.listed_at


def _outage_invoices(invoices: Iterable[StoredInvoice], events: Sequence[Event]) -> list[OutageInvoice]:
    """The invoices issued at a POS while one of the outage's events was open (offline ones)."""
    by_pos: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_pos[event.pos_id.lower()].append(event)
    out = []
    for invoice in invoices:
        if not invoice.pos_id or invoice.emission_date is None:
            continue
        for event in by_pos.get(invoice.pos_id.lower(), ()):
            start, end = event.fecha_inicio, event.fecha_fin
            if start is not None and start <= invoice.emission_date and (end is None or invoice.emission_date <= end):
                out.append(OutageInvoice(invoice, event, end + REGISTRATION_WINDOW if end is not None else None))
                break
    return sorted(out, key=lambda i: (i.invoice.emission_date or datetime.min, i.invoice.id))


def _timeline(
    outage: Outage,
    checks: Sequence[ConnectivityCheck],
    incidents: Sequence[Incident],
    deliveries: Mapping[int, Sequence[OutboxEntry]],
    notes: Mapping[int, Sequence[IncidentNote]],
    events: Sequence[Event],
    starters: Mapping[str, str],
    ends: Sequence[AuditEntry],
    invoices: Sequence[OutageInvoice],
    inventory: Inventory,
    now: datetime,
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    names = {b.id: b.name for b in inventory.branches}
    if outage.kind is OutageKind.SIAT:
        first_check = next((c for c in checks if c.checked_at == outage.started_at), None)
        said = f" ({first_check.label})" if first_check is not None else ""
        entries.append(
            TimelineEntry(
                outage.started_at, "Primera comprobación fallida", f"cucu dijo que SIAT no responde{said}.", Tone.PROBLEM
            )
        )
        entries.append(
            TimelineEntry(
                outage.declared_at, "SIAT declarado caído", "Tres respuestas seguidas de cucu: SIAT no responde.", Tone.PROBLEM
            )
        )
        if outage.ended_at is not None:
            if outage.back:
                entries.append(TimelineEntry(outage.ended_at, "SIAT volvió", "cucu dijo que SIAT responde.", Tone.OK))
            else:
                entries.append(
                    TimelineEntry(
                        outage.ended_at, "cucu dejó de responder", "Desde aquí no se sabe si SIAT responde.", Tone.UNKNOWN
                    )
                )
    else:
        branch = names.get(outage.branch_id or "", outage.branch_id or "")
        entries.append(
            TimelineEntry(outage.started_at, "Primer corte de internet", f"{branch}: {plural(len(outage.pos_ids), 'punto de venta', 'puntos de venta')} con eventos por corte de internet.", Tone.PROBLEM)
        )  # fmt: skip
        if outage.ended_at is not None:
            entries.append(TimelineEntry(outage.ended_at, "Internet de vuelta", f"{branch}: el último evento terminó.", Tone.OK))
    for incident in incidents:
        sent = deliveries.get(incident.id, ())
        channels = ", ".join(sorted({f"{m.channel_label} ({m.delivery.label})" for m in sent})) or "ningún canal"
        entries.append(TimelineEntry(incident.opened_at, "Alerta", f"{incident.title}: enviada a {channels}.", Tone.PROBLEM))
        escalated = sorted({m.created_at for m in sent if m.kind == AlertKind.ESCALATED})
        for at in escalated:
            entries.append(TimelineEntry(at, "Alerta escalada", f"{incident.title}: nadie la atendía.", Tone.PROBLEM))
        for note in notes.get(incident.id, ()):
            what = "Alerta atendida" if note.acknowledging else "Nota"
            entries.append(
                TimelineEntry(
                    note.written_at, what, f"{note.author}: {note.text}", Tone.MANAGED if note.acknowledging else Tone.NONE
                )
            )
        if incident.closed_at is not None:
            entries.append(TimelineEntry(incident.closed_at, "Alerta resuelta", incident.title, Tone.OK))
    branches = {e.branch_id or "" for e in events}
    # Per branch, as a supervisor follows a few; a chain's outage over hundreds of branches says it once per who
    # (the events grid below has each branch), or its timeline would be a thousand lines of the same.
    per_branch = len(branches) <= BRANCHES_ON_TIMELINE

    def where(branch_ids: set[str], count: int) -> str:
        if per_branch:
            (branch_id,) = branch_ids
            return f"{names.get(branch_id, branch_id)}: {plural(count, 'evento', 'eventos')}"
        return f"{plural(count, 'evento', 'eventos')} en {plural(len(branch_ids), 'sucursal', 'sucursales')}"

    starts: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for event in events:
        who = starters.get(event.id, "(sin registro en Bitácora)")
        starts[(event.branch_id or "" if per_branch else "", who)].append(event)
    for (_, who), group in starts.items():
        at = min(e.fecha_inicio for e in group if e.fecha_inicio is not None)
        detail = f"{where({e.branch_id or '' for e in group}, len(group))}, por {who}."
        entries.append(TimelineEntry(at, "Eventos iniciados", detail, Tone.MANAGED))
    ended: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.fecha_fin is not None:
            ended[event.branch_id or "" if per_branch else ""].append(event)
    for group in ended.values():
        at = max(e.fecha_fin for e in group if e.fecha_fin is not None)
        entries.append(
            TimelineEntry(at, "Eventos finalizados", f"{where({e.branch_id or '' for e in group}, len(group))}.", Tone.OK)
        )
    if invoices:
        first = min(i.invoice.emission_date for i in invoices if i.invoice.emission_date is not None)
        states = Counter(i.invoice.state for i in invoices)
        entries.append(
            TimelineEntry(first, "Facturas fuera de línea", f"{plural(len(invoices), 'factura emitida', 'facturas emitidas')} durante sus eventos.", Tone.MANAGED)
        )  # fmt: skip
        for item in invoices:
            if item.invoice.state is InvoiceState.REJECTED:
                at = item.invoice.status_at or item.invoice.listed_at
                text = f"Nº {item.invoice.invoice_number}: {explain_siat_code(item.invoice.siat_code, item.invoice.siat_description)}"
                entries.append(TimelineEntry(at, "Factura rechazada", text, Tone.PROBLEM))
        validated = [i for i in invoices if i.invoice.state is InvoiceState.VALIDATED]
        if validated:
            at = max(i.invoice.status_at or i.invoice.listed_at for i in validated)
            entries.append(
                TimelineEntry(
                    at,
                    "Facturas validadas",
                    plural(states[InvoiceState.VALIDATED], "factura validada", "facturas validadas") + " por SIAT.",
                    Tone.OK,
                )
            )
        pending = [i for i in invoices if i.invoice.state in UNSETTLED]
        if pending:
            deadline = min((i.deadline for i in pending if i.deadline is not None), default=None)
            when = f"; la primera vence el {fmt_datetime(deadline)}" if deadline is not None else " (sus eventos siguen abiertos)"
            tone = Tone.PROBLEM if deadline is not None and deadline <= now else Tone.MANAGED
            entries.append(
                TimelineEntry(
                    now, "Facturas por enviar", f"{plural(len(pending), 'factura', 'facturas')} todavía por enviar{when}.", tone
                )
            )
    return entries


# ---- read from the store -------------------------------------------------------------------------------

OUTAGE_LEAD = timedelta(days=1)  # checks read before a period, so an outage begun before it keeps its start


def read_outages(store: Store, since: datetime, now: datetime) -> list[Outage]:
    """The outages that went on at or after ``since`` (newest first), from the checks and the stored events."""
    checks = store.checks_since(since - OUTAGE_LEAD)
    days = store.days_with_events((since - OUTAGE_LEAD).date(), now.date())
    return find_outages(checks, known_events(days, store.statuses_with_events()), since)


def outage_start(key: str) -> datetime | None:
    """When the outage a link names (``outage_key``) began; None for a key that names no time."""
    try:
        return datetime.strptime(key.rsplit("-", 1)[-1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def dossier_of(store: Store, inventory: Inventory, key: str, now: datetime) -> Dossier | None:
    """The dossier of the outage a link names (``outage_key``); None for a key that names none.

    The checks and stored events are read once, from a day before its start (as ``read_outages``), for finding
    the outage and for its dossier: a chain's outage holds 10 000 events, and reading them twice was 0.4 s of
    the 1.1 s its dossier took to build, once a minute while someone looks."""
    started = outage_start(key)
    if started is None:
        return None
    checks = store.checks_since(started - OUTAGE_LEAD)
    days = store.days_with_events((started - OUTAGE_LEAD).date(), now.date())
    statuses = store.statuses_with_events()
    outage = next((o for o in find_outages(checks, known_events(days, statuses), started) if o.key == key), None)
    if outage is None:
        return None
    return read_dossier(store, inventory, outage, now, read=(checks, days, statuses))


def outages_within(store: Store, _inventory: Inventory, since: datetime, until: datetime, now: datetime) -> OutageList:
    """Caídas' list: the outages that went on within [since, until) and each one's state (``read_outage_list``)."""
    found, states = read_outage_list(store, since, now)
    return [o for o in found if o.started_at < until], states


def read_dossier(
    store: Store,
    inventory: Inventory,
    outage: Outage,
    now: datetime,
    *,
    read: tuple[list[ConnectivityCheck], list[DayEvents], Mapping[str, PosStatus]] | None = None,
) -> Dossier:
    """Everything the store holds around ``outage``, as its dossier. ``read``: the checks, stored days and POS
    statuses already read from before its start (``dossier_of``), instead of reading them again."""
    begin = outage.started_at - EVENTS_BEFORE
    until = outage.ended_at or now
    first_check = outage.started_at - timedelta(minutes=1)
    if read is None:
        read = (store.checks_since(first_check), store.days_with_events(begin.date(), now.date()), store.statuses_with_events())
    all_checks, all_days, statuses = read
    checks = [c for c in all_checks if first_check <= c.checked_at <= until]
    days = [d for d in all_days if d.day >= begin.date()]
    incidents = store.incidents_between(outage.started_at - ALERTS_BEFORE, until)
    if outage.branch_id is not None:  # a branch's: its own alerts and the company's
        incidents = [i for i in incidents if i.branch_id in (None, outage.branch_id)]
    return dossier(
        outage,
        checks=checks,
        days=days,
        statuses=statuses,
        audit=store.audit_entries(AuditFilter(since=begin, actions=(ActionKind.START, ActionKind.END))),
        incidents=incidents,
        deliveries={i.id: store.outbox_entries(200, incident_id=i.id) for i in incidents},
        notes={i.id: store.incident_notes(i.id) for i in incidents},
        invoices=store.invoices_since(begin),
        inventory=inventory,
        now=now,
    )


OutageList = tuple[list[Outage], dict[str, OutageState]]  # newest first; each one's state by its key


def read_outage_list(store: Store, since: datetime, now: datetime) -> OutageList:
    """The outages that went on at or after ``since`` (newest first) and each one's state, for the list: the checks,
    the stored events and the window's invoices read once each, the invoices as three columns (a chain: 60 000)."""
    checks = store.checks_since(since - OUTAGE_LEAD)
    days = store.days_with_events((since - OUTAGE_LEAD).date(), now.date())
    statuses = store.statuses_with_events()
    events = known_events(days, statuses)
    found = find_outages(checks, events, since)
    rows = store.invoice_states_since(min((o.started_at for o in found), default=now) - EVENTS_BEFORE)
    return found, outage_states(found, events, rows, now)


def outage_states(
    outages: Sequence[Outage], events: Sequence[Event], invoice_rows: Iterable[tuple[str, datetime, str]], now: datetime
) -> dict[str, OutageState]:
    """Each outage's state (as its dossier's), from (POS, emission, state) of the invoices, indexed by POS so a
    chain's list does not walk every invoice once per outage."""
    by_pos: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for pos_id, emitted, state in invoice_rows:
        by_pos[pos_id.lower()].append((emitted, state))
    to_send = {str(s) for s in UNSETTLED}
    # Each outage looks only at the events it can hold: SIAT's motive 2, a branch's own motive 1.
    siat = [e for e in events if e.codigo_motivo == Motive.SIAT_FAILURE]
    internet: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.codigo_motivo == Motive.INTERNET_OUTAGE and event.branch_id:
            internet[event.branch_id].append(event)
    states = {}
    for outage in outages:
        candidates = siat if outage.kind is OutageKind.SIAT else internet.get(outage.branch_id or "", [])
        mine = outage_events(outage, candidates, now)
        if outage.ended_at is None:
            states[outage.key] = OutageState.ONGOING
            continue
        open_event = any(e.fecha_fin is None for e in mine)
        pending = any(
            state in to_send and e.fecha_fin + REGISTRATION_WINDOW > now
            for e in mine
            for emitted, state in by_pos.get(e.pos_id.lower(), ())
            if e.fecha_inicio is not None and e.fecha_fin is not None and e.fecha_inicio <= emitted <= e.fecha_fin
        ) if not open_event else True  # fmt: skip
        states[outage.key] = OutageState.SETTLING if open_event or pending else OutageState.CLOSED
    return states
