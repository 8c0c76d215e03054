"""The alert rules: what each finds in a ``Snapshot`` of the store (a ``Condition``, keyed by the incident it
opens) and the closing message of its incident once it no longer does, side by side, one ``Rule`` per
``AlertRule`` in ``RULES``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from cucu.alerts.text import outside
from cucu.api.models import Branch, Inventory
from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.rules import rule_checks, siat_rollup
from cucu.formatting import fmt_count, fmt_datetime, fmt_duration, fmt_hour, plural
from cucu.inventory import branch_labels
from cucu.invoicing import EventClose, InvoicePicture, cufd_health, unclosed_events
from cucu.settings import AlertSettings, Settings
from cucu.store import AuditEntry, Incident, PosStatus, StoredCufd
from cucu.vocabulary import OPEN_OUTCOMES, AlertRule, CufdHealth, ErrorKind, InvoiceState, SiatStatus


@dataclass(frozen=True)
class Condition:
    """What one rule finds now; ``key`` names the incident (one open per key)."""

    key: str
    rule: AlertRule
    branch_id: str | None  # None: about the whole company (every channel gets it)
    title: str
    body: str
    path: str = ""  # the dashboard page (and filter) that shows it, for the link
    since: datetime | None = None  # when the condition began, if the rule knows (the incident's opening)
    summary: bool = False  # a branch rule's summary for the whole company (see ``audience``)


@dataclass(frozen=True)
class Snapshot:
    """What the rules read, in one place (so a test can build one without a store)."""

    now: datetime
    checks: Sequence[ConnectivityCheck]  # oldest first
    statuses: Mapping[str, PosStatus]
    open_attempts: Sequence[AuditEntry]
    polling: bool  # someone holds a live collector lease
    last_poll: datetime | None  # when a lease was last renewed
    cufds: Mapping[str, StoredCufd] = field(default_factory=dict)
    invoices: InvoicePicture | None = None
    # Until the invoice walk's first full pass, its counts are of the pages read so far and only grow:
    # the invoicing alerts say so, in Estado's words (``walk_progress``).
    invoice_progress: str | None = None


@dataclass(frozen=True)
class Setup:
    """What the rules read besides the snapshot: the inventory, [alerts] and the thresholds they are given."""

    inventory: Inventory
    settings: AlertSettings
    long_open_hours: float
    check_interval_s: float
    cufd_expiring_hours: float


Find = Callable[[Snapshot, Setup], list[Condition]]  # the conditions a rule finds now
Recovery = Callable[[Incident, datetime, Snapshot], tuple[str, str]]  # (incident, now, snap) -> (title, body)


@dataclass(frozen=True)
class Rule:
    """One alert rule: what it finds now (its opening text), and the closing message of its incident once
    it no longer does."""

    find: Find | None  # None: its conditions come from elsewhere (the policy's, from the alerter's round)
    recovery: Recovery


def _company(
    rule: AlertRule, *, title: str, body: str, path: str = "", since: datetime | None = None, summary: bool = False
) -> Condition:
    """A condition about the whole company (every channel gets it), keyed by its rule: one open at a time."""
    return Condition(key=rule.value, rule=rule, branch_id=None, title=title, body=body, path=path, since=since, summary=summary)


def _branch(rule: AlertRule, branch: Branch, *, title: str, body: str, path: str) -> Condition:
    """A condition about one branch (its own channels get it), keyed by its rule and the branch: one open per
    branch. Its title and body open with the branch's name, which its closing message reads back (``_subject``)."""
    name = outside(branch.name)
    return Condition(
        key=f"{rule.value}:{branch.id}",
        rule=rule,
        branch_id=branch.id,
        title=f"{name}: {title}",
        body=f"{name}: {body}",
        path=path,
    )


def _subject(incident: Incident) -> str:
    """The branch a branch condition's incident is about, as its title names it (``_branch``)."""
    return incident.title.split(":", 1)[0]


def _lasted(incident: Incident, now: datetime) -> str:
    return fmt_duration(now - incident.opened_at)


def conditions(
    snap: Snapshot,
    inventory: Inventory,
    settings: AlertSettings,
    *,
    long_open_hours: float,
    check_interval_s: float,
    only: Iterable[AlertRule] | None = None,
    cufd_expiring_hours: float = Settings.cufd_expiring_hours,
) -> dict[str, Condition]:
    """Every condition the rules find in ``snap`` (switched-off rules skipped), by key."""
    wanted = set(AlertRule if only is None else only) - {AlertRule(r) for r in settings.disabled}
    setup = Setup(inventory, settings, long_open_hours, check_interval_s, cufd_expiring_hours)
    found: list[Condition] = []
    for rule, entry in RULES.items():
        if rule in wanted and entry.find is not None:
            found += entry.find(snap, setup)
    return {c.key: c for c in found}


def recovery(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    """The closing message of an incident whose condition is gone."""
    # A rule this version does not know (stored by a newer one) closes in WINDOW_CLOSING's words.
    rule = incident.rule if isinstance(incident.rule, AlertRule) else AlertRule.WINDOW_CLOSING
    return RULES[rule].recovery(incident, now, snap)


def _cufd(snap: Snapshot, setup: Setup) -> list[Condition]:
    """POS whose CUFD is expired, inactive or missing (they cannot invoice at all), or expires within
    ``expiring_hours``: one incident for the company, with the first ones named."""
    if not snap.cufds:
        return []
    inventory, expiring_hours = setup.inventory, setup.cufd_expiring_hours
    soon = timedelta(hours=expiring_hours)
    blocked: list[tuple[str, str]] = []
    expiring: list[tuple[datetime, str]] = []
    can = unread = 0
    for branch in inventory.branches:
        for pos in branch.pos:
            stored = snap.cufds.get(pos.id)
            health = cufd_health(stored, snap.now, soon)
            unread += health is CufdHealth.UNKNOWN
            can += health.can_invoice
            where = f"{outside(branch.name)} · {outside(pos.name)}"
            if health in (CufdHealth.EXPIRED, CufdHealth.INACTIVE, CufdHealth.MISSING):
                blocked.append((where, health.value.lower()))
            elif health is CufdHealth.EXPIRING and stored is not None and stored.cufd and stored.cufd.vigencia:
                expiring.append((stored.cufd.vigencia, where))
    if not blocked and not expiring:
        return []
    # Estado's figure: only the POS whose CUFD was read count (unread ones are neither fine nor blocked,
    # so they never open nor close this alert), and how many are unread while some are.
    read = len(inventory.all_pos) - unread
    scope = f"de {fmt_count(read)} con CUFD leído; {fmt_count(unread)} sin leer todavía" if unread else ""
    parts = []
    if blocked:
        named = "; ".join(f"{where} ({state})" for where, state in blocked[:SUMMARY_BRANCHES])
        within = f" ({scope})" if scope else ""
        parts.append(
            f"{plural(len(blocked), 'punto de venta no puede', 'puntos de venta no pueden')} facturar{within}: CUFD {named}."
        )
    if expiring:
        expiring.sort()
        named = "; ".join(f"{where} a las {fmt_hour(until)}" for until, where in expiring[:SUMMARY_BRANCHES])
        parts.append(f"{plural(len(expiring), 'lo tiene', 'lo tienen')} por vencer en menos de {expiring_hours:g} h: {named}.")
    unsure = "" if not unread else " con CUFD leído" if blocked else f" con CUFD leído; {fmt_count(unread)} sin leer todavía"
    parts.append(f"Pueden facturar {fmt_count(can)} de {fmt_count(read)}{unsure}. Renuévelos desde Facturas.")
    return [
        _company(
            AlertRule.CUFD,
            title="CUFD vencidos o por vencer" if blocked else "CUFD por vencer",
            body=" ".join(parts),
            path="facturas",
        )
    ]


def _cufd_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    return "CUFD al día", f"Todos los puntos de venta tienen de nuevo un CUFD vigente ({_lasted(incident, now)} con avisos)."


def _partial(snap: Snapshot) -> str:
    return f" {snap.invoice_progress}" if snap.invoice_progress else ""


def _invoices_deadline(snap: Snapshot, setup: Setup) -> list[Condition]:
    """Offline invoices still to send whose deadline (48 h after their event ended) is within
    ``window_closing_hours``, or already past."""
    if snap.invoices is None:
        return []
    settings = setup.settings
    soon = snap.now + timedelta(hours=settings.window_closing_hours)
    close = [
        a
        for a in snap.invoices.invoices
        if a.invoice.state is InvoiceState.CONTINGENCY and a.deadline is not None and a.deadline <= soon
    ]
    if not close:
        return []
    first = min(close, key=lambda a: a.deadline or snap.now)
    assert first.deadline is not None
    late = sum(1 for a in close if a.deadline is not None and a.deadline <= snap.now)
    left = (
        f"el primer plazo vence a las {fmt_hour(first.deadline)} del {first.deadline:%d/%m} "
        f"(quedan {fmt_duration(first.deadline - snap.now)})"
        if first.deadline > snap.now
        else f"{fmt_count(late)} ya pasaron el plazo"
    )
    return [
        _company(
            AlertRule.INVOICES_DEADLINE,
            title="Facturas fuera de línea por vencer",
            body=(
                f"{plural(len(close), 'factura emitida fuera de línea sigue', 'facturas emitidas fuera de línea siguen')} sin enviarse a SIAT y su plazo "
                f"(48 h desde el fin de su evento) vence en menos de {settings.window_closing_hours:g} h: {left}.{_partial(snap)}"
            ),
            path="facturas",
        )
    ]


def _invoices_deadline_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    return "Facturas enviadas", "Ya no quedan facturas fuera de línea con el plazo por vencer pronto."


def _invoices_rejected(snap: Snapshot, setup: Setup) -> list[Condition]:
    if snap.invoices is None:
        return []
    rejected = [a.invoice for a in snap.invoices.invoices if a.invoice.state is InvoiceState.REJECTED]
    if not rejected:
        return []
    codes = sorted({f"{i.siat_code} {outside(i.siat_description or '')}".strip() for i in rejected if i.siat_code is not None})
    why = f" Códigos de SIAT: {'; '.join(codes[:SUMMARY_BRANCHES])}." if codes else ""
    return [
        _company(
            AlertRule.INVOICES_REJECTED,
            title="Facturas rechazadas por SIAT",
            body=f"SIAT rechazó {plural(len(rejected), 'factura', 'facturas')}.{why} Vea el detalle en Facturas.{_partial(snap)}",
            path=f"facturas?{urlencode({'estado_factura': InvoiceState.REJECTED.label})}",
        )
    ]


def _invoices_rejected_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    return "Sin facturas rechazadas", "Ya no hay facturas rechazadas pendientes en las últimas horas."


def _siat_down(snap: Snapshot, setup: Setup) -> list[Condition]:
    """SIAT "Caído", as the header and Estado say it: the alert reads the same state (``siat_rollup``)."""
    rollup = siat_rollup(snap.checks, snap.now, check_interval_s=setup.check_interval_s)
    since = rollup.down_since
    if rollup.status is not SiatStatus.DOWN or since is None or rollup.latest is None:
        return []
    return [
        _company(
            AlertRule.SIAT_DOWN,
            title="SIAT no responde",
            since=since,
            body=(
                f"SIAT no responde desde las {fmt_hour(since)} (hora de La Paz), hace {fmt_duration(snap.now - since)}. "
                f"Última comprobación: {rollup.latest.label.lower()}. Los puntos de venta pueden facturar fuera de línea "
                "con un evento de contingencia (motivo 2, Falla SIAT)."
            ),
        )
    ]


def _siat_down_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    back = now  # the first of the answers since the last failure
    for check in reversed(rule_checks(snap.checks)):
        if check.failed:
            break
        back = check.checked_at
    return (
        "SIAT responde de nuevo",
        f"SIAT responde de nuevo desde las {fmt_hour(back)} (hora de La Paz); estuvo sin responder {_lasted(incident, now)}.",
    )


def siat_known(snap: Snapshot, check_interval_s: float) -> bool:
    """Whether cucu said, lately, whether SIAT answers: "cucu no responde" or "Sin datos" is not "SIAT
    responde de nuevo", so a SIAT alert stays open through them (unknown never closes it)."""
    status = siat_rollup(snap.checks, snap.now, check_interval_s=check_interval_s).status
    return status not in (SiatStatus.CUCU_SILENT, SiatStatus.NO_DATA)


def _cucu_failing(snap: Snapshot, setup: Setup) -> list[Condition]:
    """cucu itself unreachable, or refusing the key, in every check of the last ``cucu_failing_minutes``."""
    run = []
    for check in reversed(rule_checks(snap.checks)):
        if check.siat_ok is not None:
            break
        run.append(check)
    if not run or snap.now - run[-1].checked_at < timedelta(minutes=setup.settings.cucu_failing_minutes):
        return []
    since, latest = run[-1].checked_at, run[0]
    key_refused = latest.error_kind is ErrorKind.AUTH
    what = "cucu rechaza la clave API" if key_refused else "Sin conexión con cucu"
    fix = (
        "Revise CUCU_API_KEY: el tablero no puede consultar ni actuar."
        if key_refused
        else "El tablero no puede consultar ni actuar; revise la red del servidor o el estado de cucu."
    )
    return [
        _company(
            AlertRule.CUCU_FAILING,
            title=what,
            since=since,
            body=f"{what} desde las {fmt_hour(since)} (hace {fmt_duration(snap.now - since)}): {outside(latest.error or 'sin respuesta')}. {fix}",
            path="conectividad",
        )
    ]


def _cucu_failing_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    return "cucu responde de nuevo", f"cucu responde de nuevo (falló durante {_lasted(incident, now)})."


def _no_collector(snap: Snapshot, setup: Setup) -> list[Condition]:
    """No live collector lease for more than two check intervals."""
    if snap.polling or snap.last_poll is None:
        return []
    if snap.now - snap.last_poll <= timedelta(seconds=2 * setup.check_interval_s):
        return []
    return [
        _company(
            AlertRule.NO_COLLECTOR,
            title="Nadie consulta cucu",
            since=snap.last_poll,
            body=(
                f"Ningún proceso consulta cucu desde las {fmt_hour(snap.last_poll)} (hace {fmt_duration(snap.now - snap.last_poll)}): "
                "el tablero muestra datos viejos y no avisará de SIAT. Revise el servicio contingencia-colector."
            ),
        )
    ]


def _no_collector_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    return "cucu se consulta de nuevo", f"Un proceso consulta cucu de nuevo (nadie lo hizo durante {_lasted(incident, now)})."


SUMMARY_BRANCHES = 3  # branches a company-wide summary names, those that matter most first


def _long_open(snap: Snapshot, setup: Setup) -> list[Condition]:
    """POS in contingency longer than ``long_open_hours``: one summary for the company, and one
    incident per branch that has channels of its own (tags)."""
    inventory, settings, long_open_hours = setup.inventory, setup.settings, setup.long_open_hours
    limit = timedelta(hours=long_open_hours)
    labels = branch_labels(inventory)
    per_branch: list[tuple[datetime, str, Branch, int]] = []  # (oldest start, its POS, branch, how many)
    for branch in inventory.branches:
        old = []
        for pos in branch.pos:
            status = snap.statuses.get(pos.id)
            event = status.event if status is not None else None
            start = (event.fecha_inicio or event.created_at) if event is not None and event.active else None
            if start is not None and snap.now - start >= limit:
                old.append((start, outside(pos.name)))
        if old:
            start, name = min(old)
            per_branch.append((start, name, branch, len(old)))
    if not per_branch:
        return []
    per_branch.sort(key=lambda item: item[0])
    hours = f"{long_open_hours:g} h"

    def oldest(start: datetime, name: str) -> str:
        return f"{name}, desde el {fmt_datetime(start)} (hace {fmt_duration(snap.now - start)})"

    pos_total = sum(n for *_, n in per_branch)
    named = "; ".join(f"{outside(b.name)} ({oldest(start, name)})" for start, name, b, _ in per_branch[:SUMMARY_BRANCHES])
    # Before the first sweep has read every POS the count is of those read so far: say so (Estado's figure).
    unknown = sum(1 for p in inventory.all_pos if p.id not in snap.statuses or not snap.statuses[p.id].known)
    read = len(inventory.all_pos) - unknown
    scope = f" (de {plural(read, 'consultado', 'consultados')}; {fmt_count(unknown)} sin datos todavía)" if unknown else ""
    found = [
        _company(
            AlertRule.LONG_OPEN,
            summary=True,
            title=f"Contingencia de más de {hours}",
            body=(
                f"{plural(pos_total, 'punto de venta', 'puntos de venta')} en {plural(len(per_branch), 'sucursal', 'sucursales')} en contingencia hace más de "
                f"{hours}{scope}; los más antiguos: {named}."
            ),
            path="eventos",
        )
    ]
    for start, name, branch, n in per_branch:
        if settings.tags_of(branch):
            found.append(
                _branch(
                    AlertRule.LONG_OPEN,
                    branch,
                    title=f"contingencia de más de {hours}",
                    body=f"{plural(n, 'punto de venta', 'puntos de venta')} en contingencia hace más de {hours}; el más antiguo, {oldest(start, name)}.",
                    path=f"eventos?{urlencode({'sucursal': labels[branch.id]})}",
                )
            )
    return found


def _long_open_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    if incident.branch_id is None:  # the company's summary
        return "Sin contingencia prolongada", "Ningún punto de venta sigue en contingencia prolongada."
    subject = _subject(incident)
    return f"{subject}: sin contingencia prolongada", f"{subject}: ningún punto de venta sigue en contingencia prolongada."


def _window_closing(snap: Snapshot, setup: Setup) -> list[Condition]:
    """Ended events whose offline invoices are not all validated (to send or rejected) and whose 48 h
    deadline closes within ``window_closing_hours`` or has passed: one summary for the company, and one
    incident per branch that has channels of its own (tags). Whether an event is registered with SIAT
    the product cannot know; whether its invoices reached SIAT it can (Facturas › Cierre de eventos)."""
    if snap.invoices is None:
        return []
    inventory, settings = setup.inventory, setup.settings
    soon = snap.now + timedelta(hours=settings.window_closing_hours)
    labels = branch_labels(inventory)
    names = {p.id: outside(p.name) for p in inventory.all_pos}
    per_branch: dict[str, list[EventClose]] = {}
    for close in unclosed_events(snap.invoices.invoices):
        if close.deadline is not None and close.deadline <= soon and close.span.branch_id in labels:
            per_branch.setdefault(close.span.branch_id, []).append(close)  # nearest deadline first
    if not per_branch:
        return []

    def deadline(c: EventClose) -> str:
        assert c.deadline is not None
        where = names.get(c.span.pos_id, outside(c.span.pos_id))
        if c.deadline <= snap.now:
            return f"venció a las {fmt_hour(c.deadline)} del {c.deadline:%d/%m} ({where}, hace {fmt_duration(snap.now - c.deadline)})"
        return (
            f"vence a las {fmt_hour(c.deadline)} del {c.deadline:%d/%m} ({where}, quedan {fmt_duration(c.deadline - snap.now)})"
        )

    branch_names = {b.id: outside(b.name) for b in inventory.branches}
    firsts = sorted((cs[0] for cs in per_branch.values()), key=lambda c: c.deadline or snap.now)
    events = sum(len(cs) for cs in per_branch.values())
    named = "; ".join(f"{branch_names[c.span.branch_id]}: {deadline(c)}" for c in firsts[:SUMMARY_BRANCHES])
    found = [
        _company(
            AlertRule.WINDOW_CLOSING,
            summary=True,
            title="Eventos por cerrar con el plazo cerca",
            body=(
                f"{plural(events, 'evento finalizado', 'eventos finalizados')} en {plural(len(per_branch), 'sucursal', 'sucursales')} tienen facturas "
                f"fuera de línea por enviar o rechazadas y su plazo de 48 h vence en menos de "
                f"{settings.window_closing_hours:g} h o ya venció; el primero de cada sucursal: {named}.{_partial(snap)}"
            ),
            path=f"facturas?{urlencode({'vista': 'Cierre de eventos'})}",
        )
    ]
    for branch in inventory.branches:
        closes = per_branch.get(branch.id)
        if closes and settings.tags_of(branch):
            found.append(
                _branch(
                    AlertRule.WINDOW_CLOSING,
                    branch,
                    title="eventos por cerrar con el plazo cerca",
                    body=(
                        f"{plural(len(closes), 'evento finalizado tiene', 'eventos finalizados tienen')} facturas fuera de "
                        f"línea por enviar o rechazadas; el primer plazo {deadline(closes[0])}."
                    ),
                    path=f"facturas?{urlencode({'vista': 'Cierre de eventos', 'sucursal': labels[branch.id]})}",
                )
            )
    return found


def _window_closing_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    if incident.branch_id is None:  # the company's summary
        return "Eventos cerrados", "Ya no hay eventos finalizados con facturas sin validar y el plazo por vencer pronto."
    subject = _subject(incident)
    return (
        f"{subject}: eventos cerrados",
        f"{subject}: ya no hay eventos finalizados con facturas sin validar y el plazo por vencer pronto.",
    )


def _unsettled(snap: Snapshot, setup: Setup) -> list[Condition]:
    """Starts and ends still open (in flight or under verification) after ``unsettled_minutes``."""
    limit = timedelta(minutes=setup.settings.unsettled_minutes)
    old = [a for a in snap.open_attempts if a.outcome in OPEN_OUTCOMES and snap.now - a.requested_at >= limit]
    if not old:
        return []
    first = min(old, key=lambda a: a.requested_at)
    try:
        where = f" (la primera en {outside(setup.inventory.pos(first.pos_id).name)})"
    except KeyError:  # a POS no longer in the inventory
        where = ""
    return [
        _company(
            AlertRule.UNSETTLED,
            title="Acciones sin confirmar",
            body=(
                f"{plural(len(old), 'acción de iniciar o finalizar sigue', 'acciones de iniciar o finalizar siguen')} sin confirmarse en cucu desde las "
                f"{fmt_hour(first.requested_at)}{where}. Nada más se envía para esos puntos de venta hasta saberlo; vea Bitácora."
            ),
            path="bitacora",
        )
    ]


def _unsettled_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    return "Acciones confirmadas", "Las acciones que esperaban confirmación se resolvieron; vea el resultado en Bitácora."


def _policy_over(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    return (
        "Política automática: sin eventos abiertos",
        f"La política automática ya no tiene eventos abiertos ({_lasted(incident, now)} en curso).",
    )


# One entry per AlertRule, in the order their conditions are found (the incidents open, and their messages
# are queued, in this order).
RULES: Mapping[AlertRule, Rule] = {
    AlertRule.SIAT_DOWN: Rule(_siat_down, _siat_down_over),
    AlertRule.CUCU_FAILING: Rule(_cucu_failing, _cucu_failing_over),
    AlertRule.NO_COLLECTOR: Rule(_no_collector, _no_collector_over),
    AlertRule.LONG_OPEN: Rule(_long_open, _long_open_over),
    AlertRule.WINDOW_CLOSING: Rule(_window_closing, _window_closing_over),
    AlertRule.UNSETTLED: Rule(_unsettled, _unsettled_over),
    AlertRule.CUFD: Rule(_cufd, _cufd_over),
    AlertRule.INVOICES_DEADLINE: Rule(_invoices_deadline, _invoices_deadline_over),
    AlertRule.INVOICES_REJECTED: Rule(_invoices_rejected, _invoices_rejected_over),
    AlertRule.POLICY: Rule(None, _policy_over),  # its conditions: the policy's round, in the alerter
}
