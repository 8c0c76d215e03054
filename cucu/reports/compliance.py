"""The monthly compliance report (issue 26, part 4): what a month (or any range) of contingency was, per region
and branch, read from the store alone.

- SIAT's availability without the company's maintenance windows (the checks are kept ``CHECK_RETENTION``: an
  older month's is unknown, never 100 %);
- outages (SIAT's, a branch's internet) and their durations;
- POS-hours in contingency, events by motive and by origin (a person, the automatic policy, or outside the
  dashboard: cucu's own clients);
- time to acknowledge an alert, to start contingency after SIAT was declared down, to end it after SIAT came back;
- offline invoices validated before their 48 h deadline, as far as the status reads saw it, and rejections by
  SIAT's code;
- the branches with the most trouble first.

Domain figures only (no pandas): ``cucu.views.informe`` lays them out as sheets, a workbook and a PDF.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from cucu.api.models import Event, Inventory
from cucu.connectivity.outages import OUTAGE_LEAD, Outage, find_outages, known_events, outage_events
from cucu.connectivity.rules import uptime
from cucu.events.maintenance import company_periods
from cucu.events.policy import POLICY_ACTOR
from cucu.invoicing import attribute, event_spans
from cucu.lapaz import LA_PAZ
from cucu.store import AuditFilter, Store
from cucu.vocabulary import ActionKind, InvoiceState, OutageKind, Outcome

ORIGIN_PERSON, ORIGIN_POLICY, ORIGIN_OUTSIDE = "Persona", "Política automática", "Fuera del tablero"
_STARTED = (Outcome.OK, Outcome.VERIFYING, Outcome.UNCERTAIN)  # an audited start that reached cucu


def month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=LA_PAZ)


def month_period(year: int, month: int) -> tuple[datetime, datetime]:
    """The month in La Paz: from its first midnight to the next month's."""
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return month_start(year, month), month_start(*following)


def previous_month(today: date) -> tuple[int, int]:
    return (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)


@dataclass
class BranchFigures:
    """One branch's month. Delays are per SIAT outage (its key): a region takes the first start and the last end
    of its branches for each outage."""

    branch_id: str
    pos_hours: float = 0.0  # POS-hours in contingency within the period
    events: int = 0
    by_motive_origin: Counter[tuple[int, str]] = field(default_factory=Counter)  # (cucu's motive, who started it)
    internet_outages: int = 0
    internet_hours: float = 0.0
    offline: int = 0  # invoices issued in contingency within the period
    on_time: int = 0  # validated, and seen validated before the deadline
    late: int = 0  # validated, first seen so after the deadline (it may have been in time: a later read)
    missed: int = 0  # deadline passed, not validated
    waiting: int = 0  # still to send, deadline ahead
    rejected: int = 0
    rejections: Counter[tuple[int | None, str]] = field(default_factory=Counter)  # (SIAT code, its description)
    start_delays: dict[str, timedelta] = field(default_factory=dict)
    end_delays: dict[str, timedelta] = field(default_factory=dict)
    ack_delays: list[timedelta] = field(default_factory=list)
    unacknowledged: int = 0
    pos_days: int = 0  # its POS times the period's closed days: the history that can be verified with cucu
    verified_pos_days: int = 0  # of those, read from cucu after the day was over (the rest only as observed)

    @property
    def by_origin(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for (_motive, origin), n in self.by_motive_origin.items():
            found[origin] += n
        return found


@dataclass(frozen=True)
class OutageLine:
    kind: OutageKind
    branch_id: str | None
    started_at: datetime
    ended_at: datetime | None
    duration: timedelta  # within the period's end (an outage still going on: until now)
    events: int


@dataclass(frozen=True)
class ComplianceReport:
    start: datetime
    end: datetime  # exclusive; never after ``now``
    now: datetime
    availability: float | None  # SIAT answered / checks in which cucu answered, outside maintenance; None: unknown
    checks_from: datetime | None  # the first check kept in the period (a later one than ``start``: partial)
    maintenance: timedelta  # the company's maintenance within the period, left out of the availability
    outages: list[OutageLine]
    branches: dict[str, BranchFigures]  # every branch of the inventory (a scoped one's only)
    company_ack_delays: list[timedelta]  # the company's alerts (SIAT, cucu): acknowledged after
    company_unacknowledged: int
    rejections: Counter[tuple[int | None, str]]  # (SIAT code, its description) -> invoices
    horizon: date | None = None  # the backfill reads no day before it: an older unverified day stays so
    # The oldest invoice emission the store holds (None: no invoice read): the walk reads cucu's recent invoices and
    # keeps the offline ones for this report, so none issued before it is known and their figures are unknown.
    invoices_from: datetime | None = None

    @property
    def partial_checks(self) -> bool:
        return self.checks_from is None or self.checks_from - self.start > timedelta(hours=1)

    @property
    def pos_days(self) -> int:
        return sum(b.pos_days for b in self.branches.values())

    @property
    def verified_pos_days(self) -> int:
        return sum(b.verified_pos_days for b in self.branches.values())

    @property
    def history_complete(self) -> bool:
        """Every closed day of every POS read from cucu: the events and hours are all of them, not at least."""
        return self.verified_pos_days >= self.pos_days

    @property
    def history_unknown(self) -> bool:
        return history_unknown(self.branches.values())

    @property
    def invoices_unknown(self) -> bool:
        """No invoice of the period was read (none stored from before its end): their figures are unknown, not 0."""
        return self.invoices_from is None or self.invoices_from >= self.end

    @property
    def invoices_partial(self) -> bool:
        """The period began before the oldest invoice read: its invoice figures are at least what is counted."""
        return not self.invoices_unknown and self.invoices_from is not None and self.invoices_from > self.start


def within(report: ComplianceReport, branch_ids: Collection[str]) -> ComplianceReport:
    """``report`` for ``branch_ids`` alone (a region chosen on the page): their figures, SIAT's outages (everyone's)
    and their own internet outages, their rejections. SIAT's availability and the company's alerts stay: no branch
    is theirs."""
    ids = set(branch_ids)
    branches = {b: figures for b, figures in report.branches.items() if b in ids}
    rejections: Counter[tuple[int | None, str]] = sum((f.rejections for f in branches.values()), Counter())
    outages = [o for o in report.outages if o.branch_id is None or o.branch_id in ids]
    return replace(report, branches=branches, outages=outages, rejections=rejections)


def history_unknown(rows: Collection[BranchFigures]) -> bool:
    """No closed day of ``rows`` read from cucu and no event of theirs known: their events are unknown, not 0."""
    return sum(r.pos_days for r in rows) > 0 and not any(r.verified_pos_days or r.events for r in rows)


def median(values: Iterable[timedelta]) -> timedelta | None:
    found = sorted(values)
    return statistics.median_low(found) if found else None


def _overlap(start: datetime, end: datetime, lo: datetime, hi: datetime) -> timedelta:
    return max(timedelta(0), min(end, hi) - max(start, lo))


def closed_days(start: datetime, end: datetime, now: datetime) -> list[date]:
    """The La Paz days of [start, end) that are over by ``now``: the ones cucu's list of a day can verify."""
    first = start.astimezone(LA_PAZ).date()
    last = min((end - timedelta(microseconds=1)).astimezone(LA_PAZ).date(), now.astimezone(LA_PAZ).date() - timedelta(days=1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def compliance_report(
    store: Store, inventory: Inventory, start: datetime, end: datetime, now: datetime, *, horizon: date | None = None
) -> ComplianceReport:
    """The figures of [start, end) (cut at ``now``) for ``inventory``'s branches; read from ``store`` only.
    ``horizon``: the first day the backfill reads (older unverified days are said never to complete)."""
    end = min(end, now)
    branches = {b.id: BranchFigures(b.id) for b in inventory.branches}
    pos_branch = {p.id: p.branch_id for p in inventory.all_pos}

    # How much of the period's history is cucu's own list (the rest: what the sweeps observed, or nothing yet):
    # without it a month the backfill has not read would say 0 events.
    days = closed_days(start, end, now)
    verified = store.verified_per_pos(days[0], days[-1]) if days else {}
    for branch in inventory.branches:
        figures = branches[branch.id]
        figures.pos_days = len(branch.pos) * len(days)
        figures.verified_pos_days = min(figures.pos_days, sum(verified.get(p.id, 0) for p in branch.pos))

    # SIAT's availability, without the company's maintenance. The checks and the days are read once each (a chain's
    # month: 86 400 checks, 30 000 events), for the availability and the outages alike.
    kept = store.checks_since(start - OUTAGE_LEAD)  # an outage begun before the period keeps its start
    checks = [c for c in kept if start <= c.checked_at < end]
    windows = store.maintenance_windows(ending_after=start, cancelled=True)
    excluded = [(max(s, start), min(e, end)) for s, e in company_periods(windows) if e > start and s < end]
    maintenance = sum((e - s for s, e in excluded), timedelta(0))
    availability = uptime(checks, start, excluded) if checks else None

    # Events: every one known overlapping the period (days before it hold events begun earlier).
    stored = store.days_with_events((start - OUTAGE_LEAD - timedelta(days=1)).date(), (end + timedelta(days=1)).date())
    statuses = store.statuses_with_events()
    events = [e for e in known_events(stored, statuses) if e.pos_id in pos_branch]
    in_period = [e for e in events if e.fecha_inicio and e.fecha_inicio < end and (e.fecha_fin or now) > start]
    origins = _origins(store, start - timedelta(days=2))
    started_here = set(origins)  # the events whose start the dashboard made (and so knows when it was asked)
    for event in in_period:
        figures = branches[pos_branch[event.pos_id]]
        figures.events += 1
        figures.pos_hours += _overlap(event.fecha_inicio or start, event.fecha_fin or now, start, end) / timedelta(hours=1)
        figures.by_motive_origin[(event.codigo_motivo or 0, origins.get(event.id, ORIGIN_OUTSIDE))] += 1

    # Outages: SIAT's (everyone's), and each branch's internet.
    outages = [o for o in find_outages(kept, events, start) if o.started_at < end]
    lines = []
    for outage in outages:
        own = [e for e in outage_events(outage, events, now) if e.pos_id in pos_branch]
        if outage.kind is OutageKind.BRANCH_INTERNET:
            if outage.branch_id not in branches:
                continue  # another scope's branch
            figures = branches[outage.branch_id]
            figures.internet_outages += 1
            figures.internet_hours += _overlap(outage.started_at, outage.ended_at or now, start, end) / timedelta(hours=1)
        else:
            _delays(outage, own, pos_branch, branches, started_here)
        duration = (outage.ended_at or now) - outage.started_at
        lines.append(OutageLine(outage.kind, outage.branch_id, outage.started_at, outage.ended_at, duration, len(own)))

    # Alerts: time to acknowledge (the company's apart: no branch is theirs).
    company_acks: list[timedelta] = []
    company_open = 0
    for incident in store.incidents_between(start, end):
        delay = incident.acknowledged_at - incident.opened_at if incident.acknowledged_at else None
        if incident.branch_id:
            if incident.branch_id not in branches:
                continue
            figures = branches[incident.branch_id]
            if delay is None:
                figures.unacknowledged += 1
            else:
                figures.ack_delays.append(delay)
        elif delay is None:
            company_open += 1
        else:
            company_acks.append(delay)

    # Offline invoices of the period: validated before their deadline, and rejections by SIAT's code.
    rejections: Counter[tuple[int | None, str]] = Counter()
    spans = event_spans(statuses, stored)
    # (invoices_since also lists every unsettled one of any age: one issued before the period is not its own)
    issued = [i for i in store.invoices_since(start) if i.emission_date is not None and start <= i.emission_date < end]
    for item in attribute(issued, inventory, spans):
        if item.branch_id not in branches:
            continue
        figures = branches[item.branch_id]
        state = item.invoice.state
        if state is InvoiceState.REJECTED:
            figures.rejected += 1
            code = (item.invoice.siat_code, item.invoice.siat_description or "")
            figures.rejections[code] += 1
            rejections[code] += 1
        if item.event is None:
            continue  # issued online: not an offline invoice
        figures.offline += 1
        deadline = item.deadline
        if state is InvoiceState.VALIDATED:
            seen = item.invoice.status_at or item.invoice.listed_at
            if deadline is None or seen <= deadline:
                figures.on_time += 1
            else:
                figures.late += 1
        elif state in (InvoiceState.CONTINGENCY, InvoiceState.PENDING):
            if deadline is not None and deadline < now:
                figures.missed += 1
            else:
                figures.waiting += 1
    first_check = checks[0].checked_at if checks else None
    return ComplianceReport(
        start, end, now, availability, first_check, maintenance, lines, branches, company_acks, company_open, rejections,
        horizon, store.first_invoice_emitted(),
    )  # fmt: skip


def _origins(store: Store, since: datetime) -> dict[str, str]:
    """Who started each event the dashboard started: the policy or a person (by the audit log)."""
    found: dict[str, str] = {}
    for entry in store.audit_entries(AuditFilter(since=since, actions=(ActionKind.START,), outcomes=_STARTED)):
        if entry.event_id:
            found[entry.event_id] = ORIGIN_POLICY if entry.actor == POLICY_ACTOR.id else ORIGIN_PERSON
    return found


def _delays(
    outage: Outage,
    events: Sequence[Event],
    pos_branch: dict[str, str],
    branches: dict[str, BranchFigures],
    started_here: Collection[str],
) -> None:
    """Per branch, for this SIAT outage: from its declaration to the branch's first start made from the dashboard
    (``started_here``: one started outside it, in cucu's own clients, says nothing of the dashboard's time to
    start: no such delay, unknown rather than 0), and from SIAT's return to the branch's last end (while all of
    them have ended)."""
    by_branch: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_branch[pos_branch[event.pos_id]].append(event)
    for branch_id, own in by_branch.items():
        figures = branches[branch_id]
        first = min((e.fecha_inicio for e in own if e.fecha_inicio and e.id in started_here), default=None)
        if first is not None:
            figures.start_delays[outage.key] = max(timedelta(0), first - outage.declared_at)
        ends = [e.fecha_fin for e in own]
        if outage.ended_at is not None and all(ends):
            last = max(e for e in ends if e is not None)
            figures.end_delays[outage.key] = max(timedelta(0), last - outage.ended_at)
