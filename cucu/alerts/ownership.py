"""Who handles an alert: "Lo atiendo" with a required note, and notes anyone with the supervisor role writes on
an incident. Both are audited (Bitácora) in the transaction that records them. Acknowledging quiets the
incident's reminders for the time the person chose; a recovery closes the incident whatever its
acknowledgment (``cucu.alerts.incidents.decide``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from cucu.api.models import Inventory
from cucu.events.actions import ActionError, Actor, can_act, refuse_outside_scope
from cucu.formatting import fmt_datetime
from cucu.store import Attempt, Incident, Store
from cucu.vocabulary import ActionKind, Outcome

NOTE_MAX = 500  # characters: a note says who does what, not the whole story (that is the notes, one by one)
# How long reminders wait after "Lo atiendo" (the person chooses); the default is the first.
QUIET_CHOICES = (timedelta(hours=1), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=4), timedelta(hours=8))


def note_text(note: str | None) -> str:
    """The note as kept; raises ``ActionError`` when it is empty or too long."""
    text = " ".join((note or "").split())
    if not text:
        raise ActionError("Escriba una nota breve: qué hace usted con esta alerta.")
    if len(text) > NOTE_MAX:
        raise ActionError(f"La nota es demasiado larga: {len(text)} caracteres; el máximo es {NOTE_MAX}.")
    return text


def _attempt(actor: Actor, action: ActionKind, incident: Incident, now: datetime, message: str) -> Attempt:
    return Attempt(
        requested_at=now,
        actor=actor.id,
        actor_name=actor.name,
        role=actor.role,
        action=action,
        branch_id=incident.branch_id or "",
        pos_id="",
        outcome=Outcome.OK,
        message=message,
    )


def _known_incident(store: Store, incident_id: int) -> Incident:
    incident = store.incident(incident_id)
    if incident is None:
        raise ActionError("Esa alerta no existe.")
    return incident


def _in_scope(
    store: Store, actor: Actor, incident: Incident, action: ActionKind, inventory: Inventory | None, now: datetime
) -> None:
    """A scoped supervisor handles their branches' alerts, not the company's (SIAT's) nor another region's:
    refused and audited. Without the inventory nothing is theirs (fails closed)."""
    refuse_outside_scope(store, actor, inventory or Inventory(()), action, [incident.branch_id or ""], now)


def acknowledge(
    store: Store,
    actor: Actor,
    incident_id: int,
    note: str | None,
    quiet_for: timedelta,
    now: datetime,
    inventory: Inventory | None = None,
) -> Incident:
    """ "Lo atiendo": the incident shows who and since when, and sends no reminder for ``quiet_for``. Anyone
    with the supervisor role may take it over from whoever had it. Raises ``ActionError`` (in Spanish) for
    anyone else, an empty note, or an incident that is not open."""
    if not can_act(actor):
        raise ActionError("Solo un supervisor puede atender una alerta.")
    text = note_text(note)
    if quiet_for <= timedelta(0):
        raise ActionError("Elija por cuánto tiempo no enviar recordatorios.")
    incident = _known_incident(store, incident_id)
    _in_scope(store, actor, incident, ActionKind.ACKNOWLEDGE, inventory, now)
    if incident.closed_at is not None:
        raise ActionError(f"Esa alerta ya se resolvió ({fmt_datetime(incident.closed_at)}): no hay nada que atender.")
    until = now + quiet_for
    message = f"{incident.title} · «{text}» · sin recordatorios hasta {fmt_datetime(until)}"
    if not store.incident_acknowledge(
        incident_id, _attempt(actor, ActionKind.ACKNOWLEDGE, incident, now, message), note=text, quiet_until=until
    ):
        raise ActionError("Esa alerta se resolvió mientras tanto: no hay nada que atender.")
    acknowledged = store.incident(incident_id)
    return acknowledged if acknowledged is not None else incident


def add_note(
    store: Store, actor: Actor, incident_id: int, note: str | None, now: datetime, inventory: Inventory | None = None
) -> None:
    """A note on an incident, open or resolved (what was done, what is left). Raises ``ActionError``."""
    if not can_act(actor):
        raise ActionError("Solo un supervisor puede escribir notas en una alerta.")
    text = note_text(note)
    incident = _known_incident(store, incident_id)
    _in_scope(store, actor, incident, ActionKind.NOTE, inventory, now)
    if not store.incident_note_add(
        incident_id, _attempt(actor, ActionKind.NOTE, incident, now, f"{incident.title} · «{text}»"), note=text
    ):
        raise ActionError("Esa alerta no existe.")
