"""The decision: a condition with no open incident opens one, an open incident whose condition is gone closes
with its recovery message, one still open is reminded every ``remind_minutes``. Each incident's messages, one
per channel of its audience, are written to the outbox in the same transaction as its change, and the
database allows one open incident per key: two deciders cannot open it twice, a restart finds what is still
to send."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from cucu.alerts.rules import Condition, Snapshot, conditions, recovery, siat_known
from cucu.alerts.text import TITLE_PREFIX, outside, plain, plain_title
from cucu.api.models import Inventory
from cucu.connectivity.rules import checks_for_rules
from cucu.events.maintenance import silences
from cucu.formatting import fmt_datetime
from cucu.invoicing import INVOICE_JOB, invoice_picture, walk_progress
from cucu.settings import AlertSettings, Channel, EscalationStep, Settings
from cucu.store import Incident, OutboxMessage, Store
from cucu.vocabulary import OPEN_OUTCOMES, AlertKind, AlertRule

log = logging.getLogger(__name__)

CHECK_HISTORY = 240  # checks read per round: enough for any "unreachable for N minutes" up to 2 h at 30 s


@dataclass(frozen=True)
class Round:
    opened: int = 0
    reminded: int = 0
    closed: int = 0
    escalated: int = 0


def read_snapshot(
    store: Store,
    *,
    polling: bool,
    last_poll: datetime | None,
    now: datetime,
    inventory: Inventory | None = None,
    invoice_window: timedelta = timedelta(hours=Settings.invoice_window_hours),
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
    """The channels an incident's messages go to (those of an escalation tag only once it is escalated to them:
    ``escalated_to``)."""
    channels = [c for c in channels if not c.tags & settings.escalation_tags]
    if rule not in BRANCH_RULES:
        return channels
    if branch_id is None:  # the company's summary
        return [c for c in channels if not c.tags]
    try:
        branch = inventory.branch(branch_id)
    except KeyError:  # a branch no longer in the inventory: nobody's own channel
        return []
    tags = settings.tags_of(branch)
    return [c for c in channels if c.tags & tags]


ALERT_PARAM = "alerta"  # Alertas' query parameter: the key of the incident a message's link opens


def incident_link(public_url: str, key: str) -> str:
    """The page that opens an incident for acknowledging, by its key (an open incident has one per key, and
    its opening message is written before it has an id). The link only opens the page: acknowledging
    takes the usual sign-in and a click."""
    return f"{public_url}/alertas?{ALERT_PARAM}={quote(key, safe='')}"


def escalated_to(settings: AlertSettings, rule: AlertRule | str, steps: int) -> list[Channel]:
    """The channels of an incident's first ``steps`` escalation steps."""
    tags = frozenset(tag for step in settings.escalation_for(rule)[:steps] for tag in step.tags)
    return [c for c in settings.channels if c.tags & tags]


def escalation_due_at(settings: AlertSettings, incident: Incident) -> datetime | None:
    """When its next escalation step comes, while nobody acknowledged it (None: no step left, or acknowledged)."""
    steps = settings.escalation_for(incident.rule)
    if incident.acknowledged_by is not None or incident.escalations >= len(steps):
        return None
    start = incident.alerted_at or incident.opened_at
    return start + sum((step.after for step in steps[: incident.escalations + 1]), timedelta())


def escalation_due(settings: AlertSettings, incident: Incident, now: datetime) -> EscalationStep | None:
    """Its next step, when nobody acknowledged it and the step's time since the opening message has come."""
    due = escalation_due_at(settings, incident)
    return settings.escalation_for(incident.rule)[incident.escalations] if due is not None and now >= due else None


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
    key: str | None = None,
    to: Sequence[Channel] | None = None,
) -> list[OutboxMessage]:
    """One message per channel of the incident's audience, with the link to the page that shows it and, while
    it is open (``key``), the link to acknowledge it."""
    link = f"\n{settings.public_url}/{path}" if settings.public_url else ""
    if settings.public_url and key is not None and kind in (AlertKind.OPENED, AlertKind.REMINDER, AlertKind.ESCALATED):
        link = f"\nPara atenderla: {incident_link(settings.public_url, key)}{link}"  # the page that shows it, last
    heading = f"{TITLE_PREFIX} · {kind.label}: {title}" if kind is not AlertKind.OPENED else f"{TITLE_PREFIX} · {title}"
    text = f"{body}{link}"
    return [
        OutboxMessage(kind, c.fingerprint, c.label, plain_title(heading), plain(text))
        for c in (to if to is not None else audience(channels, settings, inventory, rule, branch_id))
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
    cufd_expiring_hours: float = Settings.cufd_expiring_hours,
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
    windows = store.maintenance_windows(ending_after=snap.now)
    opened = reminded = closed = escalated = 0
    for key, cond in found.items():
        incident = open_now.get(key)
        # A maintenance window silences it: nothing opens, reminds or escalates; what is open stays open (its
        # condition still holds) and its text follows the figure.
        silenced = silences(windows, cond.rule, cond.branch_id, snap.now)

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
                key=c.key,
            )

        if incident is None:
            if not silenced and store.incident_open(
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
            and not silenced
            and not incident.quiet(snap.now)  # someone said "Lo atiendo" for a while
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
        if incident is not None and not silenced and (step := escalation_due(settings, incident, snap.now)) is not None:
            to = [c for c in settings.channels if c.tags & step.tags]
            since = incident.alerted_at or incident.opened_at
            messages = messages_for(
                settings.channels,
                settings,
                inventory,
                AlertKind.ESCALATED,
                rule=cond.rule,
                branch_id=cond.branch_id,
                title=f"Sin atender: {cond.title}",
                body=f"{cond.body} Nadie la atiende desde el {fmt_datetime(since)} (hora de La Paz).",
                path=cond.path,
                key=cond.key,
                to=to,
            )
            if not to:
                log.warning("escalamiento sin canales: ninguno tiene las etiquetas %s", ", ".join(sorted(step.tags)))
            if store.incident_escalate(incident, messages=messages):
                escalated += 1
                log.info("alerta escalada (paso %d): %s", incident.escalations + 1, cond.title)
    if leading:
        for key, incident in open_now.items():
            if key in found:
                continue
            if incident.rule is AlertRule.SIAT_DOWN and not siat_known(snap, check_interval_s):
                continue
            title, body = recovery(incident, snap.now, snap)
            reached = escalated_to(settings, incident.rule, incident.escalations)  # who heard of it hears it ended
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
                to=[*audience(settings.channels, settings, inventory, incident.rule, incident.branch_id), *reached]
                if reached
                else None,
            )
            if store.incident_close(incident.id, now=snap.now, title=title, body=body, messages=messages):
                closed += 1
                log.info("alerta resuelta: %s", title)
    return Round(opened, reminded, closed, escalated)


def trial_messages(settings: AlertSettings, actor: str, now: datetime) -> list[OutboxMessage]:
    body = f"Mensaje de prueba enviado por {outside(actor)} el {fmt_datetime(now)} (hora de La Paz). Si lo recibe, este canal funciona."
    link = f"\n{settings.public_url}/alertas" if settings.public_url else ""
    return [
        OutboxMessage(AlertKind.TEST, c.fingerprint, c.label, f"{TITLE_PREFIX} · Prueba", plain(body + link))
        for c in settings.channels
    ]
