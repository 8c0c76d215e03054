"""Alerts outside the dashboard: rules over what the store holds, incidents, an outbox, Apprise.

Every round (after each connectivity check, at least every ``check_interval_s``) the process that
holds the collector lease evaluates the rules into *conditions* (SIAT down, a branch in contingency
too long, …). A condition with no open incident opens one; an open incident whose condition is gone
closes with a recovery message; one still open is reminded every ``remind_minutes``. The messages
for every channel are written to the outbox in the same transaction as the incident's change, and
the database allows one open incident per key: two deciders cannot open it twice, a restart finds
what is still to send. Any process then sends what is due, each channel from a thread of its own,
claiming one row at a time (two senders never send one message both), retrying with backoff until
delivered or given up. Messages go as plain text, outside text capped and its mention and link syntax
broken; a channel is shown by scheme, server and fingerprint only. When the database itself fails, one
message goes straight to the company's channels, at most every DB_DOWN_EVERY.

"Nobody polls cucu" cannot be decided by the poller: every process watches for it (the one-open
index keeps it to one incident) and sends it. Delivery failures are recorded, never raised.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from cucu.api.models import Branch, Inventory
from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.rules import Rollup, checks_for_rules, rule_checks, siat_rollup
from cucu.events.policy import Policy, PolicyStatus, policy_condition
from cucu.formatting import fmt_count, fmt_datetime, fmt_duration, fmt_hour, plural
from cucu.inventory import branch_labels
from cucu.invoicing import (
    INVOICE_JOB,
    EventClose,
    InvoicePicture,
    cufd_health,
    invoice_picture,
    unclosed_events,
    walk_progress,
)
from cucu.lapaz import now_la_paz
from cucu.settings import DEFAULT_CUFD_EXPIRING_HOURS, DEFAULT_INVOICE_WINDOW_HOURS, AlertSettings, Channel
from cucu.store import (
    AuditEntry,
    Incident,
    OutboxEntry,
    OutboxMessage,
    PosStatus,
    Store,
    StoredCufd,
    database_failed,
)
from cucu.vocabulary import OPEN_OUTCOMES, AlertKind, AlertRule, CufdHealth, ErrorKind, InvoiceState, SiatStatus

log = logging.getLogger(__name__)

TITLE_PREFIX = "Contingencia"
CLAIM_FOR = timedelta(minutes=2)  # a sender that dies mid-send leaves its messages to another after this
RETRY_MAX = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(hours=24)  # a message older than this is given up (recorded), not sent late
SEND_BATCH = 50  # messages claimed per round
CHECK_HISTORY = 240  # checks read per round: enough for any "unreachable for N minutes" up to 2 h at 30 s
OUTSIDE_MAX = 120  # characters kept of a piece of outside text: cucu's message, SIAT's description, a name
TITLE_MAX = 200
BODY_MAX = 2000
DB_DOWN_EVERY = timedelta(minutes=30)  # one direct message per process at most this often while the database fails


# ---- plain text ---------------------------------------------------------------------------
# Messages carry text from outside (cucu's errors, SIAT's descriptions, inventory names, a sign-in name).
# They go as plain text (see apprise_send), and whatever a channel's own syntax would still read in plain
# text is broken here: Slack's <!channel>, <@user>, <http://x|label> (and Discord's <@id>, <#id>, <t:…>)
# get a look-alike "‹", mass mentions a zero-width space.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # a body keeps \t and \n
_ANGLE_MARKUP = re.compile(r"<(?=[!@#:]|[A-Za-z][A-Za-z0-9+.-]*:)")
_MASS_MENTION = re.compile(r"@(?=(?:everyone|here|channel|all)\b)", re.IGNORECASE)


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def outside(text: object, limit: int = OUTSIDE_MAX) -> str:
    """A piece of outside text as one line of at most ``limit`` characters (no line breaks to fake a
    message's own lines)."""
    return _cap(" ".join(_CONTROL.sub(" ", str(text)).split()), limit)


def plain(text: str, limit: int = BODY_MAX) -> str:
    """A message's text, safe in every channel's syntax, at most ``limit`` characters (idempotent)."""
    text = _MASS_MENTION.sub("@\u200b", _ANGLE_MARKUP.sub("‹", _CONTROL.sub(" ", text)))
    return _cap(text, limit)


def plain_title(text: str) -> str:
    return plain(" ".join(text.split()), TITLE_MAX)


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
        found += _siat_down(snap, siat_rollup(snap.checks, snap.now, check_interval_s=check_interval_s))
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
        Condition(
            key=AlertRule.CUFD.value,
            rule=AlertRule.CUFD,
            branch_id=None,
            title="CUFD vencidos o por vencer" if blocked else "CUFD por vencer",
            body=" ".join(parts),
            path="facturas",
        )
    ]


def _partial(snap: Snapshot) -> str:
    return f" {snap.invoice_progress}" if snap.invoice_progress else ""


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
                f"{plural(len(close), 'factura emitida fuera de línea sigue', 'facturas emitidas fuera de línea siguen')} sin enviarse a SIAT y su plazo "
                f"(48 h desde el fin de su evento) vence en menos de {settings.window_closing_hours:g} h: {left}.{_partial(snap)}"
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
    codes = sorted({f"{i.siat_code} {outside(i.siat_description or '')}".strip() for i in rejected if i.siat_code is not None})
    why = f" Códigos de SIAT: {'; '.join(codes[:SUMMARY_BRANCHES])}." if codes else ""
    return [
        Condition(
            key=AlertRule.INVOICES_REJECTED.value,
            rule=AlertRule.INVOICES_REJECTED,
            branch_id=None,
            title="Facturas rechazadas por SIAT",
            body=f"SIAT rechazó {plural(len(rejected), 'factura', 'facturas')}.{why} Vea el detalle en Facturas.{_partial(snap)}",
            path=f"facturas?{urlencode({'estado_factura': InvoiceState.REJECTED.label})}",
        )
    ]


def _siat_down(snap: Snapshot, rollup: Rollup) -> list[Condition]:
    """SIAT "Caído", as the header and Estado say it: the alert reads the same state (``siat_rollup``)."""
    since = rollup.down_since
    if rollup.status is not SiatStatus.CAIDO or since is None or rollup.latest is None:
        return []
    return [
        Condition(
            key=AlertRule.SIAT_DOWN.value,
            rule=AlertRule.SIAT_DOWN,
            branch_id=None,
            title="SIAT no responde",
            since=since,
            body=(
                f"SIAT no responde desde las {fmt_hour(since)} (hora de La Paz), hace {fmt_duration(snap.now - since)}. "
                f"Última comprobación: {rollup.latest.label.lower()}. Los puntos de venta pueden facturar fuera de línea "
                "con un evento de contingencia (motivo 2, Falla SIAT)."
            ),
        )
    ]


def siat_known(snap: Snapshot, check_interval_s: float) -> bool:
    """Whether cucu said, lately, whether SIAT answers: "cucu no responde" or "Sin datos" is not "SIAT
    responde de nuevo", so a SIAT alert stays open through them (unknown never closes it)."""
    status = siat_rollup(snap.checks, snap.now, check_interval_s=check_interval_s).status
    return status not in (SiatStatus.SIN_CUCU, SiatStatus.SIN_DATOS)


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
            body=f"{what} desde las {fmt_hour(since)} (hace {fmt_duration(snap.now - since)}): {outside(latest.error or 'sin respuesta')}. {fix}",
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
        Condition(
            key=AlertRule.LONG_OPEN.value,
            rule=AlertRule.LONG_OPEN,
            branch_id=None,
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
        if settings.tags_of(branch.id, branch.name):
            found.append(
                Condition(
                    key=f"{AlertRule.LONG_OPEN.value}:{branch.id}",
                    rule=AlertRule.LONG_OPEN,
                    branch_id=branch.id,
                    title=f"{outside(branch.name)}: contingencia de más de {hours}",
                    body=f"{outside(branch.name)}: {plural(n, 'punto de venta', 'puntos de venta')} en contingencia hace más de {hours}; el más antiguo, {oldest(start, name)}.",
                    path=f"eventos?{urlencode({'sucursal': labels[branch.id]})}",
                )
            )
    return found


def _window_closing(snap: Snapshot, inventory: Inventory, settings: AlertSettings) -> list[Condition]:
    """Ended events whose offline invoices are not all validated (to send or rejected) and whose 48 h
    deadline closes within ``window_closing_hours`` or has passed: one summary for the company, and one
    incident per branch that has channels of its own (tags). Whether an event is registered with SIAT
    the product cannot know; whether its invoices reached SIAT it can (Facturas › Cierre de eventos)."""
    if snap.invoices is None:
        return []
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
        Condition(
            key=AlertRule.WINDOW_CLOSING.value,
            rule=AlertRule.WINDOW_CLOSING,
            branch_id=None,
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
        if closes and settings.tags_of(branch.id, branch.name):
            found.append(
                Condition(
                    key=f"{AlertRule.WINDOW_CLOSING.value}:{branch.id}",
                    rule=AlertRule.WINDOW_CLOSING,
                    branch_id=branch.id,
                    title=f"{outside(branch.name)}: eventos por cerrar con el plazo cerca",
                    body=(
                        f"{outside(branch.name)}: {plural(len(closes), 'evento finalizado tiene', 'eventos finalizados tienen')} facturas fuera de "
                        f"línea por enviar o rechazadas; el primer plazo {deadline(closes[0])}."
                    ),
                    path=f"facturas?{urlencode({'vista': 'Cierre de eventos', 'sucursal': labels[branch.id]})}",
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
        where = f" (la primera en {outside(inventory.pos(first.pos_id).name)})"
    except KeyError:  # a POS no longer in the inventory
        where = ""
    return [
        Condition(
            key=AlertRule.UNSETTLED.value,
            rule=AlertRule.UNSETTLED,
            branch_id=None,
            title="Acciones sin confirmar",
            body=(
                f"{plural(len(old), 'acción de iniciar o finalizar sigue', 'acciones de iniciar o finalizar siguen')} sin confirmarse en cucu desde las "
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
        back = now  # the first of the answers since the last failure
        for check in reversed(rule_checks(snap.checks)):
            if check.failed:
                break
            back = check.checked_at
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
        return "Eventos cerrados", "Ya no hay eventos finalizados con facturas sin validar y el plazo por vencer pronto."
    subject = incident.title.split(":", 1)[0]
    if rule is AlertRule.LONG_OPEN:
        return f"{subject}: sin contingencia prolongada", f"{subject}: ningún punto de venta sigue en contingencia prolongada."
    return (
        f"{subject}: eventos cerrados",
        f"{subject}: ya no hay eventos finalizados con facturas sin validar y el plazo por vencer pronto.",
    )


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
    attempts = [a for outcome in OPEN_OUTCOMES for a in store.open_attempts(outcome)]
    return Snapshot(
        now=now,
        checks=checks_for_rules(store.recent_checks, store.checks_before, CHECK_HISTORY),
        statuses=store.pos_statuses(),
        open_attempts=attempts,
        polling=polling,
        last_poll=last_poll,
        cufds=store.cufds(),
        invoices=invoice_picture(store, inventory, now, invoice_window, open_only=True) if inventory is not None else None,
        invoice_progress=walk_progress(store.job_run(INVOICE_JOB), invoice_window / timedelta(hours=1))
        if inventory is not None
        else None,
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
        OutboxMessage(kind, c.fingerprint, c.label, plain_title(heading), plain(text))
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

        def msgs(kind: AlertKind, c: Condition = cond, since: datetime | None = None) -> list[OutboxMessage]:
            # A reminder carries the current figure and says since when the alert is open.
            opened = f" Alerta abierta desde el {fmt_datetime(since)} (hora de La Paz)." if since is not None else ""
            return messages_for(
                settings.channels,
                settings,
                inventory,
                kind,
                rule=c.rule,
                branch_id=c.branch_id,
                title=c.title,
                body=c.body + opened,
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
            and store.incident_remind(
                incident,
                now=snap.now,
                title=cond.title,
                body=cond.body,
                messages=msgs(AlertKind.REMINDER, since=incident.opened_at),
            )
        ):
            reminded += 1
        elif (incident.title, incident.body) != (cond.title, cond.body):
            # The figure moved while the incident is open: Alertas and the next reminder show the current
            # one ("SIAT rechazó 584", not the 2 of the opening); no message until a reminder is due.
            store.incident_update(incident, title=cond.title, body=cond.body)
    if leading:
        for key, incident in open_now.items():
            if key in found:
                continue
            if incident.rule is AlertRule.SIAT_DOWN and not siat_known(snap, check_interval_s):
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
    body = f"Mensaje de prueba enviado por {outside(actor)} el {fmt_datetime(now)} (hora de La Paz). Si lo recibe, este canal funciona."
    link = f"\n{settings.public_url}/alertas" if settings.public_url else ""
    return [
        OutboxMessage(AlertKind.TEST, c.fingerprint, c.label, f"{TITLE_PREFIX} · Prueba", plain(body + link))
        for c in settings.channels
    ]


# ---- delivery -----------------------------------------------------------------------------

Sender = Callable[[Channel, str, str], str | None]  # (channel, title, body) -> None when delivered, else why not

# What every send asks of Apprise, whatever the operator's URL says: plain text (Apprise then escapes it
# for a channel that speaks only HTML or Markdown; an e-mail goes as text/plain alone). Telegram has no
# plain mode in Apprise: MarkdownV2, where Apprise escapes every reserved character and Telegram refuses a
# message with one unescaped rather than render it (HTML mode let outside text become links).
_FORMAT_ARGS: Mapping[str, Mapping[str, str]] = {"tgram": {"format": "markdown", "mdv": "v2"}}
_PLAIN_ARGS: Mapping[str, str] = {"format": "text"}
_TIMEOUT_ARGS = ("cto", "rto")  # Apprise's connect and read timeouts, per channel


def send_url(url: str, timeout_s: float) -> str:
    """The channel's URL with the format and the timeouts every send uses (the operator's own ``cto`` and
    ``rto`` are kept when shorter). The query is edited as text: decoding and encoding it again would
    change values (a ``+`` in a phone number)."""
    base, _, query = url.partition("?")
    forced = _FORMAT_ARGS.get(base.split("://", 1)[0].lower(), _PLAIN_ARGS)
    timeouts = dict.fromkeys(_TIMEOUT_ARGS, timeout_s)
    kept = []
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        key = key.strip().lower()
        if key in timeouts:
            try:
                own = float(value)
            except ValueError:
                continue
            if 0 < own < timeouts[key]:  # NaN is neither
                timeouts[key] = own
        elif key not in ("format", "mdv"):
            kept.append(pair)
    args = [*kept, *(f"{k}={v}" for k, v in forced.items()), *(f"{k}={v:g}" for k, v in timeouts.items())]
    return f"{base}?{'&'.join(args)}"


def apprise_send(channel: Channel, title: str, body: str, *, timeout_s: float = AlertSettings.send_timeout_s) -> str | None:
    """Send one message to one channel as plain text, within ``timeout_s``; None when it was accepted."""
    import apprise

    logging.getLogger("apprise").propagate = False  # nothing of Apprise reaches the server's log (URLs hold tokens)
    try:
        sender = apprise.Apprise()
        if not sender.add(send_url(channel.url, timeout_s)):
            return "Apprise no reconoce la dirección del canal."
        # The call's own deadline as well: a plugin that does not use cto/rto is not waited for past it.
        result = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT, timeout=timeout_s)
    except Exception as exc:  # a plugin's bug must not stop the others
        return redact(f"{type(exc).__name__}: {exc}", channel.url)
    if result:
        return None
    # Apprise's own lines of this call (they may quote the URL: redacted, kept for the outbox, never logged).
    said = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    return redact("; ".join(said[-3:]) or "el servicio no aceptó el mensaje", channel.url)


def redact(text: str, url: str) -> str:
    """``text`` without any piece of ``url`` that could be a secret (user, password, token, path, query)."""
    rest = url.split("://", 1)[-1]
    for piece in sorted(set(re.split(r"[/:@?&=#,+]", rest)), key=len, reverse=True):
        if len(piece) >= 4:
            text = text.replace(piece, "****")
    return text[:500]


GONE = "El canal ya no está configurado en [alerts]."


_LABEL = re.compile(r"[a-z0-9+.-]{1,20}://[^ /@?]+ · [0-9a-f]{12}")


def scrubbed_label(label: str, fingerprint: str) -> str:
    """A label stored by an older version (Apprise's masked URL, which kept paths and topics) as the
    scheme and the fingerprint only."""
    if _LABEL.fullmatch(label):
        return label
    scheme = label.split("://", 1)[0].lower() if "://" in label else ""
    return f"{scheme if re.fullmatch(r'[a-z0-9+.-]{1,20}', scheme) else '?'}://… · {fingerprint}"


def give_up_unconfigured(store: Store, channels: Sequence[Channel], holder: str) -> int:
    """Give up (recorded) the due messages of channels no longer in [alerts]; returns how many."""
    entries = store.outbox_claim(holder, for_=CLAIM_FOR, limit=SEND_BATCH, other_than=[c.fingerprint for c in channels])
    for entry in entries:
        store.outbox_give_up(entry.id, holder, error=GONE)
    return len(entries)


def deliver_to(
    store: Store,
    channel: Channel,
    holder: str,
    *,
    send: Sender = apprise_send,
    retry_first: timedelta = timedelta(seconds=30),
    claim_for: timedelta | None = None,
) -> int:
    """Send what is due to ``channel``, one message at a time: claim one, send it, settle it. A claim so
    covers one send (bounded by the channel's timeout), never a batch whose last sends could outlast it
    and be claimed and sent again by another process. Returns how many were delivered."""
    delivered, last = 0, None
    for _ in range(SEND_BATCH):
        claimed = store.outbox_claim(holder, for_=claim_for or CLAIM_FOR, limit=1, channels=[channel.fingerprint], after_id=last)
        if not claimed:
            break
        last = claimed[0].id  # one attempt per message per pass, however short its backoff
        delivered += _send_one(store, channel, holder, claimed[0], send, retry_first)
    return delivered


def _send_one(store: Store, channel: Channel, holder: str, entry: OutboxEntry, send: Sender, retry_first: timedelta) -> int:
    try:
        # Plain again at the last step: a row queued by an older version goes out as safe as a new one.
        error = send(channel, plain_title(entry.title), plain(entry.body))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    if error is None:
        if not store.outbox_delivered(entry.id, holder):
            log.warning("alerta %d entregada a %s cuando su reserva ya había vencido", entry.id, channel.label)
        return 1
    error = redact(error, channel.url)  # whatever the sender says, no piece of the URL is kept
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
    return 0


def deliver(
    store: Store,
    channels: Sequence[Channel],
    holder: str,
    *,
    send: Sender = apprise_send,
    retry_first: timedelta = timedelta(seconds=30),
    claim_for: timedelta | None = None,
) -> int:
    """Send what is due to every channel in turn, and give up the messages of channels no longer
    configured; returns how many were delivered. A failure waits ``retry_first``, then twice as long each
    time, up to RETRY_MAX; a message not delivered within GIVE_UP_AFTER is given up. (The Alerter sends
    to each channel from a thread of its own instead: ``deliver_to``.)"""
    give_up_unconfigured(store, channels, holder)
    return sum(deliver_to(store, c, holder, send=send, retry_first=retry_first, claim_for=claim_for) for c in channels)


def database_down_message(settings: AlertSettings, now: datetime) -> tuple[str, str]:
    """The one message that goes out without the outbox, when the database itself fails."""
    link = f"\n{settings.public_url}" if settings.public_url else ""
    return (
        f"{TITLE_PREFIX} · Falla la base de datos del tablero",
        f"El tablero no puede usar su base de datos (a las {fmt_hour(now)}, hora de La Paz): no guarda comprobaciones "
        "ni alertas, y las alertas en cola no se envían. Revise el disco y la base de datos del servidor. Este aviso "
        f"se repite como mucho cada {fmt_duration(DB_DOWN_EVERY)} mientras dure.{link}",
    )


class _Courier:
    """One channel's sender, in a thread of its own: a channel that is slow or never answers delays only its
    own messages, and the decisions (and the policy) never wait on a send."""

    def __init__(self, alerter: Alerter, channel: Channel) -> None:
        self.alerter = alerter
        self.channel = channel
        self.wake = threading.Event()
        self.direct: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()  # sent without the outbox
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._loop, name=f"alerts-{self.channel.fingerprint}", daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        alerter, channel = self.alerter, self.channel
        database_failing = False
        while not alerter._stop.is_set():
            self.wake.clear()
            self._send_direct()
            try:
                deliver_to(
                    alerter.store,
                    channel,
                    alerter.holder,
                    send=alerter.send,
                    retry_first=timedelta(seconds=alerter.settings.retry_s),
                    claim_for=alerter.claim_for,
                )
                database_failing = False
            except Exception as exc:
                if not database_failed(exc):
                    log.exception("alertas: no se pudo enviar a %s", channel.label)
                elif not database_failing:  # once per outage: the decision loop says the rest
                    database_failing = True
                    log.warning("alertas: sin base de datos, los mensajes en cola para %s esperan", channel.label)
            self.wake.wait(alerter.check_interval_s)

    def _send_direct(self) -> None:
        while True:
            try:
                title, body = self.direct.get_nowait()
            except queue.Empty:
                return
            try:
                error = self.alerter.send(self.channel, plain_title(title), plain(body))
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            if error is None:
                log.warning("alertas: aviso directo entregado a %s", self.channel.label)
            else:
                log.error("alertas: aviso directo no entregado a %s: %s", self.channel.label, redact(error, self.channel.url))


# ---- the loop -----------------------------------------------------------------------------


class Alerter:
    """Decides alerts in a background thread of its own: after each connectivity check of this process's
    collector (``wake``), and at least every ``check_interval_s``. Each channel's messages are sent from a
    thread of that channel's (``_Courier``), woken after each decision."""

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
        send: Sender | None = None,
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
        self.send: Sender = send or functools.partial(apprise_send, timeout_s=settings.send_timeout_s)
        # A claim outlasts the longest send it covers, whatever the timeout is set to.
        self.claim_for = max(CLAIM_FOR, timedelta(seconds=3 * settings.send_timeout_s))
        self._couriers = {c.fingerprint: _Courier(self, c) for c in settings.channels}
        self._direct_at: float | None = None  # time.monotonic() of the last direct message (the database failing)
        self.policy = policy
        self.last_policy: PolicyStatus | None = None  # what the policy did in this process's last round
        self.clock = clock
        self.rounds = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Round:
        """One decision (if this process leads, or watches for nobody polling); the channels' threads send."""
        now = self.clock()
        done = Round()
        try:
            leading = self.leading()
            polling, last_poll = (True, None) if leading else self.polling()
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
                else Snapshot(now, [], {}, [], polling, last_poll)
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
        except Exception as exc:
            self._failed(exc, "alertas: no se pudo decidir esta ronda")
        try:
            give_up_unconfigured(self.store, self.settings.channels, self.holder)
        except Exception as exc:
            self._failed(exc, "alertas: no se pudieron descartar los mensajes de canales quitados")
        self._wake_couriers()
        self.rounds += 1
        return done

    def _failed(self, exc: Exception, what: str) -> None:
        if not database_failed(exc):
            log.exception(what)
            return
        # The outbox cannot be written: one message straight to the company's (untagged) channels, at most
        # every DB_DOWN_EVERY per process; the log says each time.
        detail = f"{type(exc).__name__}: {outside(getattr(exc, 'orig', None) or exc, 300)}"
        if self._direct_at is not None and time.monotonic() - self._direct_at < DB_DOWN_EVERY.total_seconds():
            log.error(
                "%s: la base de datos falla (%s); el aviso directo ya salió hace menos de %s",
                what,
                detail,
                fmt_duration(DB_DOWN_EVERY),
            )
            return
        self._direct_at = time.monotonic()
        title, body = database_down_message(self.settings, self.clock())
        targets = [c for c in self.settings.channels if not c.tags]
        for channel in targets:
            courier = self._couriers[channel.fingerprint]
            courier.direct.put((title, body))
            courier.wake.set()
        log.error(
            "%s: la base de datos falla (%s), la cola de alertas no se puede escribir; aviso directo, sin la cola, a %s sin etiqueta",
            what,
            detail,
            plural(len(targets), "canal", "canales"),
        )

    def _wake_couriers(self) -> None:
        for courier in self._couriers.values():
            courier.wake.set()

    def queue_test(self, actor: str) -> int:
        """A test message to every channel, sent by the next round (at once: it wakes the loop)."""
        messages = trial_messages(self.settings, actor, self.clock())
        self.store.outbox_add(messages, self.clock())
        self._wake_couriers()
        return len(messages)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> Alerter:
        # Rows an older version stored: a label that kept a URL's path or topic, and a fingerprint made by a
        # fast hash (today's is slow), which would leave their messages to no channel.
        legacy = {hashlib.sha256(c.url.encode()).hexdigest()[:12]: (c.fingerprint, c.label) for c in self.settings.channels}
        try:
            if relabeled := self.store.outbox_relabel(scrubbed_label, legacy):
                log.info(
                    "alertas: %s con la dirección de su canal, ahora sin ella",
                    plural(relabeled, "mensaje guardado", "mensajes guardados"),
                )
        except Exception:
            log.exception("alertas: no se pudieron limpiar las etiquetas de canal guardadas")
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="alerts", daemon=True)
            self._thread.start()
        for courier in self._couriers.values():
            courier.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop deciding and sending; a send under way is not waited for past ``timeout`` (its thread is a
        daemon, and its message, unsettled, is sent again once its claim lapses)."""
        self._stop.set()
        self._wake.set()
        self._wake_couriers()
        deadline = time.monotonic() + timeout
        threads = [self._thread, *(c.thread for c in self._couriers.values())]
        for thread in threads:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        self._thread = None
        for courier in self._couriers.values():
            courier.thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self.check_interval_s)
            self._wake.clear()
