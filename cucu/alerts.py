"""Alerts outside the dashboard: rules over what the store holds, incidents, an outbox, Apprise.

Every round (after each connectivity check, at least every ``check_interval_s``) the process that
holds the collector lease evaluates the rules into *conditions* (SIAT down, a branch in contingency
too long, …). A condition with no open incident opens one; an open incident whose condition is gone
closes with a recovery message; one still open is reminded every ``remind_minutes``. The messages
for every channel are written to the outbox in the same transaction as the incident's change, and
the database allows one open incident per key: two deciders cannot open it twice, a restart finds
what is still to send. Any process then sends what is due, claiming each row for a while (two
senders never send one message both), retrying with backoff until delivered or given up.

"Nobody polls cucu" cannot be decided by the poller: every process watches for it (the one-open
index keeps it to one incident) and sends it. Delivery failures are recorded, never raised.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from cucu.connectivity import ConnectivityCheck
from cucu.formatting import fmt_count, fmt_datetime, fmt_duration, fmt_hour
from cucu.frames import OpenWindow, open_windows
from cucu.inventory import branch_labels
from cucu.invoicing import InvoicePicture, cufd_health, invoice_picture
from cucu.lapaz import now_la_paz
from cucu.models import Branch, Inventory
from cucu.policy import Policy, PolicyStatus, policy_condition
from cucu.settings import DEFAULT_CUFD_EXPIRING_HOURS, DEFAULT_INVOICE_WINDOW_HOURS, AlertSettings, Channel
from cucu.store import AuditEntry, DayEvents, Incident, OutboxMessage, PosStatus, Store, StoredCufd
from cucu.uptime import rule_checks, siat_down_since
from cucu.vocabulary import OPEN_OUTCOMES, AlertKind, AlertRule, CufdHealth, ErrorKind, InvoiceState

log = logging.getLogger(__name__)

TITLE_PREFIX = "Contingencia"
CLAIM_FOR = timedelta(minutes=2)  # a sender that dies mid-send leaves its messages to another after this
RETRY_MAX = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(hours=24)  # a message older than this is given up (recorded), not sent late
SEND_BATCH = 50  # messages claimed per round
CHECK_HISTORY = 240  # checks read per round: enough for any "unreachable for N minutes" up to 2 h at 30 s


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
    recent_days: Sequence[DayEvents]  # days with an end in the last 48 h (frames.open_windows reads them)
    open_attempts: Sequence[AuditEntry]
    polling: bool  # someone holds a live collector lease
    last_poll: datetime | None  # when a lease was last renewed
    cufds: Mapping[str, StoredCufd] = field(default_factory=dict)
    invoices: InvoicePicture | None = None


@dataclass(frozen=True)
class Round:
    opened: int = 0
    reminded: int = 0
    closed: int = 0


# ---- rules ----------------------------------------------------------------------------------


def conditions(
    snap: Snapshot,
    inventory: Inventory,
    settings: AlertSettings,
    *,
    long_open_hours: float,
    check_interval_s: float,
    only: Iterable[AlertRule] | None = None,
    cufd_expiring_hours: float = DEFAULT_CUFD_EXPIRING_HOURS,
) -> dict[str, Condition]:
    """Every condition the rules find in ``snap`` (switched-off rules skipped), by key."""
    wanted = set(AlertRule if only is None else only) - {AlertRule(r) for r in settings.disabled}
    found: list[Condition] = []
    if AlertRule.SIAT_DOWN in wanted:
        found += _siat_down(snap)
    if AlertRule.CUCU_FAILING in wanted:
        found += _cucu_failing(snap, settings)
    if AlertRule.NO_COLLECTOR in wanted:
        found += _no_collector(snap, check_interval_s)
    if AlertRule.LONG_OPEN in wanted:
        found += _long_open(snap, inventory, settings, long_open_hours)
    if AlertRule.WINDOW_CLOSING in wanted:
        found += _window_closing(snap, inventory, settings)
    if AlertRule.UNSETTLED in wanted:
        found += _unsettled(snap, inventory, settings)
    if AlertRule.CUFD in wanted:
        found += _cufd(snap, inventory, cufd_expiring_hours)
    if AlertRule.INVOICES_DEADLINE in wanted:
        found += _invoices_deadline(snap, settings)
    if AlertRule.INVOICES_REJECTED in wanted:
        found += _invoices_rejected(snap)
    return {c.key: c for c in found}


def _cufd(snap: Snapshot, inventory: Inventory, expiring_hours: float) -> list[Condition]:
    """POS whose CUFD is expired, inactive or missing (they cannot invoice at all), or expires within
    ``expiring_hours``: one incident for the company, with the first ones named."""
    if not snap.cufds:
        return []
    soon = timedelta(hours=expiring_hours)
    blocked: list[tuple[str, str]] = []
    expiring: list[tuple[datetime, str]] = []
    for branch in inventory.branches:
        for pos in branch.pos:
            stored = snap.cufds.get(pos.id)
            health = cufd_health(stored, snap.now, soon)
            where = f"{branch.name} · {pos.name}"
            if health in (CufdHealth.EXPIRED, CufdHealth.INACTIVE, CufdHealth.MISSING):
                blocked.append((where, health.value.lower()))
            elif health is CufdHealth.EXPIRING and stored is not None and stored.cufd and stored.cufd.vigencia:
                expiring.append((stored.cufd.vigencia, where))
    if not blocked and not expiring:
        return []
    parts = []
    if blocked:
        named = "; ".join(f"{where} ({state})" for where, state in blocked[:SUMMARY_BRANCHES])
        parts.append(f"{fmt_count(len(blocked))} punto(s) de venta no pueden facturar (CUFD {named}).")
    if expiring:
        expiring.sort()
        named = "; ".join(f"{where} a las {fmt_hour(until)}" for until, where in expiring[:SUMMARY_BRANCHES])
        parts.append(f"{fmt_count(len(expiring))} lo tienen por vencer en menos de {expiring_hours:g} h: {named}.")
    parts.append("Renuévelos desde Facturas.")
    return [
        Condition(
            key=AlertRule.CUFD.value,
            rule=AlertRule.CUFD,
            branch_id=None,
            title="CUFD vencidos o por vencer" if blocked else "CUFD por vencer",
            body=" ".join(parts),
            path="facturas",
        )
    ]


def _invoices_deadline(snap: Snapshot, settings: AlertSettings) -> list[Condition]:
    """Offline invoices still to send whose deadline (48 h after their event ended) is within
    ``window_closing_hours``, or already past."""
    if snap.invoices is None:
        return []
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
        Condition(
            key=AlertRule.INVOICES_DEADLINE.value,
            rule=AlertRule.INVOICES_DEADLINE,
            branch_id=None,
            title="Facturas fuera de línea por vencer",
            body=(
                f"{fmt_count(len(close))} factura(s) emitidas fuera de línea siguen sin enviarse a SIAT y su plazo "
                f"(48 h desde el fin de su evento) vence en menos de {settings.window_closing_hours:g} h: {left}."
            ),
            path="facturas",
        )
    ]


def _invoices_rejected(snap: Snapshot) -> list[Condition]:
    if snap.invoices is None:
        return []
    rejected = [a.invoice for a in snap.invoices.invoices if a.invoice.state is InvoiceState.REJECTED]
    if not rejected:
        return []
    codes = sorted({f"{i.siat_code} {i.siat_description or ''}".strip() for i in rejected if i.siat_code is not None})
    why = f" Códigos de SIAT: {'; '.join(codes[:SUMMARY_BRANCHES])}." if codes else ""
    return [
        Condition(
            key=AlertRule.INVOICES_REJECTED.value,
            rule=AlertRule.INVOICES_REJECTED,
            branch_id=None,
            title="Facturas rechazadas por SIAT",
            body=f"SIAT rechazó {fmt_count(len(rejected))} factura(s).{why} Vea el detalle en Facturas.",
            path=f"facturas?{urlencode({'estado_factura': InvoiceState.REJECTED.label})}",
        )
    ]


def _siat_down(snap: Snapshot) -> list[Condition]:
    since = siat_down_since(snap.checks)
    if since is None:
        return []
    latest = snap.checks[-1]
    return [
        Condition(
            key=AlertRule.SIAT_DOWN.value,
            rule=AlertRule.SIAT_DOWN,
            branch_id=None,
            title="SIAT no responde",
            since=since,
            body=(
                f"SIAT no responde desde las {fmt_hour(since)} (hora de La Paz), hace {fmt_duration(snap.now - since)}. "
                f"Última comprobación: {latest.label.lower()}. Los puntos de venta pueden facturar fuera de línea "
                "con un evento de contingencia (motivo 2, Falla SIAT)."
            ),
        )
    ]


def _cucu_failing(snap: Snapshot, settings: AlertSettings) -> list[Condition]:
    """cucu itself unreachable, or refusing the key, in every check of the last ``cucu_failing_minutes``."""
    run = []
    for check in reversed(rule_checks(snap.checks)):
        if check.siat_ok is not None:
            break
        run.append(check)
    if not run or snap.now - run[-1].checked_at < timedelta(minutes=settings.cucu_failing_minutes):
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
        Condition(
            key=AlertRule.CUCU_FAILING.value,
            rule=AlertRule.CUCU_FAILING,
            branch_id=None,
            title=what,
            since=since,
            body=f"{what} desde las {fmt_hour(since)} (hace {fmt_duration(snap.now - since)}): {latest.error or 'sin respuesta'}. {fix}",
            path="conectividad",
        )
    ]


def _no_collector(snap: Snapshot, check_interval_s: float) -> list[Condition]:
    """No live collector lease for more than two check intervals."""
    if snap.polling or snap.last_poll is None:
        return []
    if snap.now - snap.last_poll <= timedelta(seconds=2 * check_interval_s):
        return []
    return [
        Condition(
            key=AlertRule.NO_COLLECTOR.value,
            rule=AlertRule.NO_COLLECTOR,
            branch_id=None,
            title="Nadie consulta cucu",
            since=snap.last_poll,
            body=(
                f"Ningún proceso consulta cucu desde las {fmt_hour(snap.last_poll)} (hace {fmt_duration(snap.now - snap.last_poll)}): "
                "el tablero muestra datos viejos y no avisará de SIAT. Revise el servicio contingencia-colector."
            ),
        )
    ]


SUMMARY_BRANCHES = 3  # branches a company-wide summary names, those that matter most first


def _long_open(snap: Snapshot, inventory: Inventory, settings: AlertSettings, long_open_hours: float) -> list[Condition]:
    """POS in contingency longer than ``long_open_hours``: one summary for the company, and one
    incident per branch that has channels of its own (tags)."""
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
                old.append((start, pos.name))
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
    named = "; ".join(f"{b.name} ({oldest(start, name)})" for start, name, b, _ in per_branch[:SUMMARY_BRANCHES])
    found = [
        Condition(
            key=AlertRule.LONG_OPEN.value,
            rule=AlertRule.LONG_OPEN,
            branch_id=None,
            summary=True,
            title=f"Contingencia de más de {hours}",
            body=(
                f"{fmt_count(pos_total)} punto(s) de venta en {fmt_count(len(per_branch))} sucursal(es) en contingencia hace más de "
                f"{hours}; los más antiguos: {named}."
            ),
            path="eventos",
        )
    ]
    for start, name, branch, n in per_branch:
        if settings.tags_of(branch.id, branch.name):
            found.append(
                Condition(
                    key=f"{AlertRule.LONG_OPEN.value}:{branch.id}",
                    rule=AlertRule.LONG_OPEN,
                    branch_id=branch.id,
                    title=f"{branch.name}: contingencia de más de {hours}",
                    body=f"{branch.name}: {fmt_count(n)} punto(s) de venta en contingencia hace más de {hours}; el más antiguo, {oldest(start, name)}.",
                    path=f"eventos?{urlencode({'sucursal': labels[branch.id]})}",
                )
            )
    return found


def _window_closing(snap: Snapshot, inventory: Inventory, settings: AlertSettings) -> list[Condition]:
    """Ended events whose 48 h registration window closes within ``window_closing_hours``: one summary
    for the company, and one incident per branch that has channels of its own (tags)."""
    soon = timedelta(hours=settings.window_closing_hours)
    labels = branch_labels(inventory)
    per_branch: dict[str, list[OpenWindow]] = {}
    for window in open_windows(inventory, snap.recent_days, snap.now):
        if window.left <= soon:
            per_branch.setdefault(window.branch_id, []).append(window)
    if not per_branch:
        return []

    def deadline(w: OpenWindow) -> str:
        return f"a las {fmt_hour(w.deadline)} del {w.deadline:%d/%m} ({w.pos}, quedan {fmt_duration(w.left)})"

    firsts = sorted((min(ws, key=lambda w: w.deadline) for ws in per_branch.values()), key=lambda w: w.deadline)
    events = sum(len(ws) for ws in per_branch.values())
    named = "; ".join(f"{w.branch} {deadline(w)}" for w in firsts[:SUMMARY_BRANCHES])
    found = [
        Condition(
            key=AlertRule.WINDOW_CLOSING.value,
            rule=AlertRule.WINDOW_CLOSING,
            branch_id=None,
            summary=True,
            title="Plazos de registro por vencer",
            body=(
                f"{fmt_count(events)} evento(s) finalizado(s) en {fmt_count(len(per_branch))} sucursal(es) deben registrarse en SIAT "
                f"en menos de {settings.window_closing_hours:g} h; los primeros plazos vencen: {named}."
            ),
        )
    ]
    for branch in inventory.branches:
        windows = per_branch.get(branch.id)
        if windows and settings.tags_of(branch.id, branch.name):
            first = min(windows, key=lambda w: w.deadline)
            found.append(
                Condition(
                    key=f"{AlertRule.WINDOW_CLOSING.value}:{branch.id}",
                    rule=AlertRule.WINDOW_CLOSING,
                    branch_id=branch.id,
                    title=f"{branch.name}: plazo de registro por vencer",
                    body=(
                        f"{branch.name}: {fmt_count(len(windows))} evento(s) finalizado(s) deben registrarse en SIAT; "
                        f"el primer plazo vence {deadline(first)}."
                    ),
                    path=f"?{urlencode({'sucursal': labels[branch.id]})}",
                )
            )
    return found


def _unsettled(snap: Snapshot, inventory: Inventory, settings: AlertSettings) -> list[Condition]:
    """Starts and ends still open (in flight or under verification) after ``unsettled_minutes``."""
    limit = timedelta(minutes=settings.unsettled_minutes)
    old = [a for a in snap.open_attempts if a.outcome in OPEN_OUTCOMES and snap.now - a.requested_at >= limit]
    if not old:
        return []
    first = min(old, key=lambda a: a.requested_at)
    try:
        where = f" (la primera en {inventory.pos(first.pos_id).name})"
    except KeyError:  # a POS no longer in the inventory
        where = ""
    return [
        Condition(
            key=AlertRule.UNSETTLED.value,
            rule=AlertRule.UNSETTLED,
            branch_id=None,
            title="Acciones sin confirmar",
            body=(
                f"{fmt_count(len(old))} acción(es) de iniciar o finalizar siguen sin confirmarse en cucu desde las "
                f"{fmt_hour(first.requested_at)}{where}. Nada más se envía para esos puntos de venta hasta saberlo; vea Bitácora."
            ),
            path="bitacora",
        )
    ]


def recovery(incident: Incident, now: datetime, snap: Snapshot) -> tuple[str, str]:
    """The closing message of an incident whose condition is gone."""
    lasted = fmt_duration(now - incident.opened_at)
    rule = incident.rule
    if rule is AlertRule.SIAT_DOWN:
        back = next((c.checked_at for c in reversed(snap.checks) if not c.failed), now)
        return (
            "SIAT responde de nuevo",
            f"SIAT responde de nuevo desde las {fmt_hour(back)} (hora de La Paz); estuvo sin responder {lasted}.",
        )
    if rule is AlertRule.CUCU_FAILING:
        return "cucu responde de nuevo", f"cucu responde de nuevo (falló durante {lasted})."
    if rule is AlertRule.NO_COLLECTOR:
        return "cucu se consulta de nuevo", f"Un proceso consulta cucu de nuevo (nadie lo hizo durante {lasted})."
    if rule is AlertRule.UNSETTLED:
        return "Acciones confirmadas", "Las acciones que esperaban confirmación se resolvieron; vea el resultado en Bitácora."
    if rule is AlertRule.CUFD:
        return "CUFD al día", f"Todos los puntos de venta tienen de nuevo un CUFD vigente ({lasted} con avisos)."
    if rule is AlertRule.INVOICES_DEADLINE:
        return "Facturas enviadas", "Ya no quedan facturas fuera de línea con el plazo por vencer pronto."
    if rule is AlertRule.INVOICES_REJECTED:
        return "Sin facturas rechazadas", "Ya no hay facturas rechazadas pendientes en las últimas horas."
    if rule is AlertRule.POLICY:
        return (
            "Política automática: sin eventos abiertos",
            f"La política automática ya no tiene eventos abiertos ({lasted} en curso).",
        )
    if incident.branch_id is None:  # a branch rule's company summary
        if rule is AlertRule.LONG_OPEN:
            return "Sin contingencia prolongada", "Ningún punto de venta sigue en contingencia prolongada."
        return "Sin plazos por vencer", "Ya no hay eventos con el plazo de registro por vencer pronto."
    subject = incident.title.split(":", 1)[0]
    if rule is AlertRule.LONG_OPEN:
        return f"{subject}: sin contingencia prolongada", f"{subject}: ningún punto de venta sigue en contingencia prolongada."
    return f"{subject}: sin plazos por vencer", f"{subject}: ya no hay eventos con el plazo de registro por vencer pronto."


# ---- the decision -----------------------------------------------------------------------


def read_snapshot(
    store: Store,
    *,
    polling: bool,
    last_poll: datetime | None,
    now: datetime,
    inventory: Inventory | None = None,
    invoice_window: timedelta = timedelta(hours=DEFAULT_INVOICE_WINDOW_HOURS),
) -> Snapshot:
    from cucu.models import REGISTRATION_WINDOW

    attempts = [a for outcome in OPEN_OUTCOMES for a in store.open_attempts(outcome)]
    return Snapshot(
        now=now,
        checks=store.recent_checks(CHECK_HISTORY),
        statuses=store.pos_statuses(),
        recent_days=store.days_with_ends_since(now - REGISTRATION_WINDOW),
        open_attempts=attempts,
        polling=polling,
        last_poll=last_poll,
        cufds=store.cufds(),
        invoices=invoice_picture(store, inventory, now, invoice_window, open_only=True) if inventory is not None else None,
    )


# A branch rule (contingency too long, a window closing) gives, at a chain's size, hundreds of branches
# at once: the company's channels (untagged) get one summary of them, and a branch's own channels
# (tagged) one incident per branch. Every other incident goes to every channel.
BRANCH_RULES = (AlertRule.LONG_OPEN, AlertRule.WINDOW_CLOSING)


def audience(
    channels: Sequence[Channel], settings: AlertSettings, inventory: Inventory, rule: AlertRule | str, branch_id: str | None
) -> list[Channel]:
    """The channels an incident's messages go to."""
    if rule not in BRANCH_RULES:
        return list(channels)
    if branch_id is None:  # the company's summary
        return [c for c in channels if not c.tags]
    try:
        branch = inventory.branch(branch_id)
    except KeyError:  # a branch no longer in the inventory: nobody's own channel
        return []
    tags = settings.tags_of(branch.id, branch.name)
    return [c for c in channels if c.tags & tags]


def messages_for(
    channels: Sequence[Channel],
    settings: AlertSettings,
    inventory: Inventory,
    kind: AlertKind,
    *,
    rule: AlertRule | str,
    branch_id: str | None,
    title: str,
    body: str,
    path: str,
) -> list[OutboxMessage]:
    """One message per channel of the incident's audience, with the link to the page that shows it."""
    link = f"\n{settings.public_url}/{path}" if settings.public_url else ""
    heading = f"{TITLE_PREFIX} · {kind.label}: {title}" if kind is not AlertKind.OPENED else f"{TITLE_PREFIX} · {title}"
    text = f"{body}{link}"
    return [
        OutboxMessage(kind, c.fingerprint, c.label, heading, text)
        for c in audience(channels, settings, inventory, rule, branch_id)
    ]


def decide(
    store: Store,
    inventory: Inventory,
    settings: AlertSettings,
    snap: Snapshot,
    *,
    long_open_hours: float,
    check_interval_s: float,
    leading: bool,
    extra: Mapping[str, Condition] | None = None,
    cufd_expiring_hours: float = DEFAULT_CUFD_EXPIRING_HOURS,
) -> Round:
    """Open, remind and close incidents from ``snap`` (and ``extra``: what the policy did). Only the lease
    holder (``leading``) decides every rule; another process only opens "nobody polls cucu" (it cannot
    close what it does not evaluate)."""
    only = None if leading else (AlertRule.NO_COLLECTOR,)
    found = conditions(
        snap,
        inventory,
        settings,
        long_open_hours=long_open_hours,
        check_interval_s=check_interval_s,
        only=only,
        cufd_expiring_hours=cufd_expiring_hours,
    )
    if leading and extra:
        found.update(extra)
    open_now = {i.key: i for i in store.open_incidents()}
    opened = reminded = closed = 0
    for key, cond in found.items():
        incident = open_now.get(key)

        def msgs(kind: AlertKind, c: Condition = cond) -> list[OutboxMessage]:
            return messages_for(
                settings.channels,
                settings,
                inventory,
                kind,
                rule=c.rule,
                branch_id=c.branch_id,
                title=c.title,
                body=c.body,
                path=c.path,
            )

        if incident is None:
            if store.incident_open(
                key=key,
                rule=cond.rule,
                branch_id=cond.branch_id,
                opened_at=cond.since or snap.now,
                now=snap.now,
                title=cond.title,
                body=cond.body,
                messages=msgs(AlertKind.OPENED),
            ):
                opened += 1
                log.info("alerta abierta: %s", cond.title)
        elif (
            settings.remind_minutes
            and snap.now - incident.notified_at >= timedelta(minutes=settings.remind_minutes)
            and store.incident_remind(incident, now=snap.now, title=cond.title, body=cond.body, messages=msgs(AlertKind.REMINDER))
        ):
            reminded += 1
    if leading:
        for key, incident in open_now.items():
            if key in found:
                continue
            title, body = recovery(incident, snap.now, snap)
            messages = messages_for(
                settings.channels,
                settings,
                inventory,
                AlertKind.CLOSED,
                rule=incident.rule,
                branch_id=incident.branch_id,
                title=title,
                body=body,
                path="",
            )
            if store.incident_close(incident.id, now=snap.now, title=title, body=body, messages=messages):
                closed += 1
                log.info("alerta resuelta: %s", title)
    return Round(opened, reminded, closed)


def trial_messages(settings: AlertSettings, actor: str, now: datetime) -> list[OutboxMessage]:
    body = f"Mensaje de prueba enviado por {actor} el {fmt_datetime(now)} (hora de La Paz). Si lo recibe, este canal funciona."
    link = f"\n{settings.public_url}/alertas" if settings.public_url else ""
    return [
        OutboxMessage(AlertKind.TEST, c.fingerprint, c.label, f"{TITLE_PREFIX} · Prueba", body + link) for c in settings.channels
    ]


# ---- delivery -----------------------------------------------------------------------------

Sender = Callable[[Channel, str, str], str | None]  # (channel, title, body) -> None when delivered, else why not


class _Captured(logging.Handler):
    """Apprise's own log lines of one send, kept for the outbox's error (redacted), never logged:
    they may quote a URL with its token."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.lines.append(record.getMessage())


_apprise_lock = threading.Lock()  # one send at a time: the capture handler is the apprise logger's


def apprise_send(channel: Channel, title: str, body: str) -> str | None:
    import apprise

    logger = logging.getLogger("apprise")
    logger.propagate = False  # nothing of Apprise reaches the server's log (URLs hold tokens)
    with _apprise_lock:
        captured = _Captured()
        logger.addHandler(captured)
        try:
            sender = apprise.Apprise()
            if not sender.add(channel.url):
                return "Apprise no reconoce la dirección del canal."
            ok = sender.notify(title=title, body=body)
        except Exception as exc:  # a plugin's bug must not stop the others
            return redact(f"{type(exc).__name__}: {exc}", channel.url)
        finally:
            logger.removeHandler(captured)
    if ok:
        return None
    return redact("; ".join(captured.lines[-3:]) or "el servicio no aceptó el mensaje", channel.url)


def redact(text: str, url: str) -> str:
    """``text`` without any piece of ``url`` that could be a secret (user, password, token, path, query)."""
    import re

    rest = url.split("://", 1)[-1]
    for piece in sorted(set(re.split(r"[/:@?&=#,+]", rest)), key=len, reverse=True):
        if len(piece) >= 4:
            text = text.replace(piece, "****")
    return text[:500]


def deliver(
    store: Store,
    channels: Sequence[Channel],
    holder: str,
    *,
    send: Sender = apprise_send,
    retry_first: timedelta = timedelta(seconds=30),
) -> int:
    """Send what is due (claimed first); returns how many were delivered. A failure waits ``retry_first``,
    then twice as long each time, up to RETRY_MAX; a message not delivered within GIVE_UP_AFTER is given up."""
    by_fingerprint = {c.fingerprint: c for c in channels}
    delivered = 0
    for entry in store.outbox_claim(holder, for_=CLAIM_FOR, limit=SEND_BATCH):
        channel = by_fingerprint.get(entry.channel)
        if channel is None:
            store.outbox_give_up(entry.id, holder, error="El canal ya no está configurado en [alerts].")
            continue
        try:
            error = send(channel, entry.title, entry.body)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is not None:
            error = redact(error, channel.url)  # whatever the sender says, no piece of the URL is kept
        if error is None:
            store.outbox_delivered(entry.id, holder)
            delivered += 1
            continue
        age = store.db_now() - entry.created_at
        if age >= GIVE_UP_AFTER:
            store.outbox_give_up(entry.id, holder, error=error)
            log.error("alerta %d no entregada a %s tras %d intentos: se abandona", entry.id, channel.label, entry.attempts + 1)
        else:
            wait = min(RETRY_MAX, retry_first * (2**entry.attempts))
            store.outbox_retry(entry.id, holder, after=wait, error=error)
            log.warning(
                "alerta %d no entregada a %s (intento %d); otra vez en %s",
                entry.id,
                channel.label,
                entry.attempts + 1,
                fmt_duration(wait),
            )
    return delivered


# ---- the loop -----------------------------------------------------------------------------


class Alerter:
    """Decides and sends alerts in a background thread of its own: after each connectivity check of
    this process's collector (``wake``), and at least every ``interval_s``."""

    def __init__(
        self,
        store: Store,
        inventory: Inventory,
        settings: AlertSettings,
        *,
        leading: Callable[[], bool],
        polling: Callable[[], tuple[bool, datetime | None]],
        holder: str,
        long_open_hours: float,
        check_interval_s: float,
        send: Sender = apprise_send,
        clock: Callable[[], datetime] = now_la_paz,
        policy: Policy | None = None,
        cufd_expiring_hours: float = DEFAULT_CUFD_EXPIRING_HOURS,
        invoice_window_hours: float = DEFAULT_INVOICE_WINDOW_HOURS,
    ) -> None:
        self.store = store
        self.inventory = inventory
        self.settings = settings
        self.leading = leading
        self.polling = polling
        self.holder = holder
        self.long_open_hours = long_open_hours
        self.check_interval_s = check_interval_s
        self.cufd_expiring_hours = cufd_expiring_hours
        self.invoice_window = timedelta(hours=invoice_window_hours)
        self.send = send
        self.policy = policy
        self.last_policy: PolicyStatus | None = None  # what the policy did in this process's last round
        self.clock = clock
        self.rounds = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Round:
        """One decision (if this process leads, or watches for nobody polling) and one delivery round."""
        now = self.clock()
        leading = self.leading()
        polling, last_poll = (True, None) if leading else self.polling()
        done = Round()
        try:
            # A process that does not poll watches only for nobody polling: it reads nothing else.
            snap = (
                read_snapshot(
                    self.store,
                    polling=polling,
                    last_poll=last_poll,
                    now=now,
                    inventory=self.inventory,
                    invoice_window=self.invoice_window,
                )
                if leading
                else Snapshot(now, [], {}, [], [], polling, last_poll)
            )
            extra = {}
            if leading and self.policy is not None:
                try:  # the policy acts before the alerts are decided, so they say what it did
                    self.last_policy = self.policy.run_once(now, snap.checks, snap.statuses)
                except Exception:
                    log.exception("política automática: no se pudo ejecutar esta ronda")
                for key, (title, body) in policy_condition(self.last_policy, self.policy.settings).items():
                    extra[key] = Condition(key, AlertRule.POLICY, None, title, body, path="bitacora")
            done = decide(
                self.store,
                self.inventory,
                self.settings,
                snap,
                long_open_hours=self.long_open_hours,
                check_interval_s=self.check_interval_s,
                leading=leading,
                extra=extra,
                cufd_expiring_hours=self.cufd_expiring_hours,
            )
        except Exception:
            log.exception("alertas: no se pudo decidir esta ronda")
        try:
            deliver(
                self.store,
                self.settings.channels,
                self.holder,
                send=self.send,
                retry_first=timedelta(seconds=self.settings.retry_s),
            )
        except Exception:
            log.exception("alertas: no se pudo enviar esta ronda")
        self.rounds += 1
        return done

    def queue_test(self, actor: str) -> int:
        """A test message to every channel, sent by the next round (at once: it wakes the loop)."""
        messages = trial_messages(self.settings, actor, self.clock())
        self.store.outbox_add(messages, self.clock())
        self.wake()
        return len(messages)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> Alerter:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="alerts", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self.check_interval_s)
            self._wake.clear()
