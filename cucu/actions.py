"""Starting and ending contingency events: validated, audited, never doubled, never retried blindly.

Every attempt is written to the audit log before the call and completed after it. The
database allows one pending attempt per POS, so a double click, a resubmitted form, a
rerun or a second tablet cannot send a second start or end for the same POS while one is
in flight. A write whose outcome is uncertain (timeout or dropped connection after sending,
5xx) is settled by reading the POS's active event, not by sending it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cucu.client import CucuClient
from cucu.errors import CucuBadResponseError, CucuConnectionError, CucuError, CucuRejectedError, CucuServerError
from cucu.formatting import fmt_hour
from cucu.history import load_days
from cucu.lapaz import now_la_paz
from cucu.models import Event, Inventory, PointOfSale
from cucu.settings import DEFAULT_CONCURRENCY
from cucu.store import ActionInProgress, Attempt, PosFetch, Store
from cucu.vocabulary import ActionKind, Motive, Outcome, Role

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_DESCRIPTION = 500
PENDING_EXPIRES = timedelta(minutes=5)  # an attempt still pending after this was cut off mid-call


class ActionError(ValueError):
    """The request cannot be sent as it is; ``str(err)`` says why, in Spanish."""


@dataclass(frozen=True)
class Actor:
    """Who acts: ``id`` is the user (subject, e-mail or user name) or, without sign-in, the browser session."""

    id: str
    name: str | None = None
    role: Role | None = None


@dataclass(frozen=True)
class ActionResult:
    pos: PointOfSale
    action: ActionKind
    outcome: Outcome
    message: str
    event: Event | None = None
    audit_id: int | None = None

    @property
    def label(self) -> str:
        return self.outcome.label


@dataclass(frozen=True)
class StartPlan:
    """What a start would do: which POS get an event, which are skipped (already in contingency)."""

    to_start: tuple[PointOfSale, ...]
    skipped: tuple[tuple[PointOfSale, Event], ...]


@dataclass(frozen=True)
class EndTarget:
    pos: PointOfSale
    event_id: str


NO_POS_CHOSEN = "Elija al menos un punto de venta."
_ACTING_ROLES = frozenset(r for r in Role if r.can_act)
NOTHING_TO_END = "No hay eventos activos que finalizar en los puntos de venta elegidos."


def siat_outage_description(down_since: datetime) -> str:
    """The description of the motive-2 events that Estado's alert offers while SIAT is down."""
    return f"SIAT no responde desde las {fmt_hour(down_since)}. Iniciado desde la alerta del tablero."


def can_act(actor: Actor) -> bool:
    """Checked at the moment of every call, not only by hiding buttons."""
    return actor.role in _ACTING_ROLES


def validate_start(motive: object, description: str | None) -> tuple[int, str]:
    """The motive (cucu's 1–4) and the trimmed description, or ``ActionError``."""
    try:
        code = Motive(int(motive))  # type: ignore[call-overload]  # anything a widget or a URL may hold
    except (TypeError, ValueError):
        raise ActionError("Elija el motivo del evento (1 a 4).") from None
    text = (description or "").strip()
    if not text:
        raise ActionError("Escriba una descripción del evento: qué pasó y dónde.")
    if len(text) > MAX_DESCRIPTION:
        raise ActionError(f"La descripción es demasiado larga: {len(text)} caracteres, el máximo es {MAX_DESCRIPTION}.")
    return int(code), text


class Actions:
    def __init__(
        self,
        client: CucuClient,
        store: Store,
        inventory: Inventory,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        clock: Callable[[], datetime] = now_la_paz,
    ):
        self.client = client
        self.store = store
        self.inventory = inventory
        self.concurrency = concurrency
        self.clock = clock

    # ---- planning (what the confirmation shows) -----------------------------------

    def plan_start(self, pos_ids: Iterable[str]) -> StartPlan:
        """Split by the latest known state: POS with an active event are skipped (one per POS)."""
        statuses = self.store.pos_statuses()
        to_start, skipped = [], []
        for pos in self._resolve(pos_ids):
            status = statuses.get(pos.id)
            if status is not None and status.event is not None:
                skipped.append((pos, status.event))
            else:
                to_start.append(pos)
        return StartPlan(tuple(to_start), tuple(skipped))

    def check_start(self, pos_ids: Iterable[str], motive: object, description: str | None) -> tuple[int, str, StartPlan]:
        """What a start would send, or ``ActionError`` saying why it cannot be sent as it is."""
        code, text = validate_start(motive, description)
        plan = self.plan_start(pos_ids)
        if not plan.to_start and not plan.skipped:
            raise ActionError(NO_POS_CHOSEN)
        return code, text, plan

    def plan_siat_outage(self) -> StartPlan:
        """What Estado's alert offers while SIAT is down: motive 2 on every POS without an event."""
        return self.plan_start(p.id for p in self.inventory.all_pos)

    def check_end(self, pos_ids: Iterable[str]) -> list[EndTarget]:
        """The events an end would close, or ``ActionError`` when none of the POS has one."""
        targets = self.end_targets(pos_ids)
        if not targets:
            raise ActionError(NOTHING_TO_END)
        return targets

    def end_targets(self, pos_ids: Iterable[str]) -> list[EndTarget]:
        """The active event of each POS that has one, by the latest known state."""
        statuses = self.store.pos_statuses()
        targets = []
        for pos in self._resolve(pos_ids):
            status = statuses.get(pos.id)
            if status is not None and status.event is not None:
                targets.append(EndTarget(pos, status.event.id))
        return targets

    # ---- the actions ---------------------------------------------------------------

    def start(self, actor: Actor, pos_ids: Iterable[str], motive: object, description: str | None) -> list[ActionResult]:
        """Start an event on each POS (concurrently); skipped and refused POS are reported and audited."""
        motive, description, plan = self.check_start(pos_ids, motive, description)
        if not can_act(actor):
            return [
                self._decided(
                    actor,
                    ActionKind.START,
                    pos,
                    Outcome.DENIED,
                    self._denied_message(actor),
                    motive=motive,
                    description=description,
                )
                for pos in (*plan.to_start, *(p for p, _ in plan.skipped))
            ]
        self._expire_stale_pending()
        results = [
            self._decided(
                actor,
                ActionKind.START,
                pos,
                Outcome.SKIPPED,
                f"Ya tiene un evento activo ({event.motive_text}); no se envió.",
                event=event,
                motive=motive,
                description=description,
                event_id=event.id,
            )
            for pos, event in plan.skipped
        ]
        results += self._run(lambda pos: self._start_one(actor, pos, motive, description), plan.to_start)
        return results

    def end(self, actor: Actor, targets: Sequence[EndTarget]) -> list[ActionResult]:
        """End each target event (concurrently); events already ended are reported, not sent."""
        if not targets:
            raise ActionError(NOTHING_TO_END)
        if not can_act(actor):
            return [
                self._decided(actor, ActionKind.END, t.pos, Outcome.DENIED, self._denied_message(actor), event_id=t.event_id)
                for t in targets
            ]
        self._expire_stale_pending()
        statuses = self.store.pos_statuses()
        results, to_send = [], []
        for target in targets:
            status = statuses.get(target.pos.id)
            current = status.event if status is not None else None
            if current is None or current.id != target.event_id:
                results.append(
                    self._decided(
                        actor,
                        ActionKind.END,
                        target.pos,
                        Outcome.SKIPPED,
                        "Ese evento ya no está activo; no se envió.",
                        event_id=target.event_id,
                    )
                )
            else:
                to_send.append(target)
        results += self._run(lambda t: self._end_one(actor, t), to_send)
        return results

    # ---- one POS -------------------------------------------------------------------

    def _start_one(self, actor: Actor, pos: PointOfSale, motive: int, description: str) -> ActionResult:
        return self._attempt(
            actor,
            ActionKind.START,
            pos,
            dict(motive=motive, description=description),
            send=lambda: self.client.start_event(pos.id, pos.branch_id, motive, description),
            # Only POS without a known active event are started, so an active event now is this start's.
            happened=lambda active: active is not None,
        )

    def _end_one(self, actor: Actor, target: EndTarget) -> ActionResult:
        pos = target.pos
        return self._attempt(
            actor,
            ActionKind.END,
            pos,
            dict(event_id=target.event_id),
            send=lambda: self.client.end_event(pos.id, pos.branch_id, target.event_id),
            happened=lambda active: active is None or active.id != target.event_id,
            ended_id=target.event_id,
        )

    def _attempt(
        self,
        actor: Actor,
        action: ActionKind,
        pos: PointOfSale,
        audit_fields: dict[str, Any],
        *,
        send: Callable[[], Event],
        happened: Callable[[Event | None], bool],
        ended_id: str | None = None,
    ) -> ActionResult:
        """Audit, send once, and classify the answer; an uncertain outcome is settled by reading."""
        past = action.past
        audit_id = self._begin(actor, action, pos, **audit_fields)
        if isinstance(audit_id, ActionResult):
            return audit_id
        try:
            event = send()
        except CucuRejectedError as exc:
            return self._finish(audit_id, pos, action, Outcome.REJECTED, f"cucu no lo {past}: {exc.api_message or exc.message}")
        except (CucuConnectionError, CucuServerError, CucuBadResponseError) as exc:
            # A body that cannot be read (a 2xx among them) says nothing of whether the write took effect.
            if isinstance(exc, CucuConnectionError) and not exc.request_sent:
                return self._finish(
                    audit_id, pos, action, Outcome.ERROR, f"{exc.message} No se envió; puede intentarlo de nuevo."
                )
            return self._settle(audit_id, action, pos, exc.message, happened, ended_id)
        except CucuError as exc:
            return self._finish(audit_id, pos, action, Outcome.ERROR, exc.message)
        except Exception:
            log.exception("acciones: error inesperado al %s en %s", action, pos.id)
            return self._settle(audit_id, action, pos, "Error inesperado durante el envío.", happened, ended_id)
        # The audit row is completed first: the follow-up reads below may be slow or fail.
        if action == ActionKind.START:
            result = self._finish(audit_id, pos, action, Outcome.OK, "Evento iniciado.", event)
            self._remember(pos, event)
        else:
            result = self._finish(audit_id, pos, action, Outcome.OK, "Evento finalizado.", event)
            self._remember(pos, None, ended=event)
        return result

    # ---- uncertain outcomes: read what happened, never resend -------------------

    def _settle(
        self,
        audit_id: int,
        action: ActionKind,
        pos: PointOfSale,
        why: str,
        happened: Callable[[Event | None], bool],
        ended_id: str | None,
    ) -> ActionResult:
        past = action.past
        try:
            active = self.client.get_active_event(pos.id)
        except CucuError as check_exc:
            return self._finish(
                audit_id,
                pos,
                action,
                Outcome.UNCERTAIN,
                f"{why} No se pudo confirmar si el evento se {past} ({check_exc.message}). "
                "Revise el punto de venta en Eventos activos antes de intentarlo de nuevo.",
            )
        if happened(active):
            result = self._finish(
                audit_id,
                pos,
                action,
                Outcome.OK,
                f"{why} Se verificó en cucu: el evento sí se {past}.",
                active if action == ActionKind.START else None,
            )
            self._remember(pos, active, ended_id=ended_id)
            return result
        result = self._finish(
            audit_id, pos, action, Outcome.ERROR, f"{why} Se verificó en cucu: el evento no se {past}; puede intentarlo de nuevo."
        )
        self._remember(pos, active)
        return result

    # ---- audit and state ------------------------------------------------------------

    def _audit(self, actor: Actor, action: ActionKind, pos: PointOfSale, **fields: Any) -> int:
        """One audit row for an attempt on ``pos`` (pending unless ``outcome`` says otherwise)."""
        return self.store.audit_begin(
            Attempt(
                requested_at=self.clock(),
                actor=actor.id,
                actor_name=actor.name,
                role=actor.role,
                action=action,
                branch_id=pos.branch_id,
                pos_id=pos.id,
                **fields,
            )
        )

    def _begin(self, actor: Actor, action: ActionKind, pos: PointOfSale, **fields: Any) -> int | ActionResult:
        try:
            return self._audit(actor, action, pos, **fields)
        except ActionInProgress:
            message = "Ya hay otra acción en curso para este punto de venta (otra pestaña, otro supervisor o un doble clic); no se envió."
            return self._decided(actor, action, pos, Outcome.DUPLICATE, message, **fields)

    def _finish(
        self, audit_id: int, pos: PointOfSale, action: ActionKind, outcome: Outcome, message: str, event: Event | None = None
    ) -> ActionResult:
        self.store.audit_finish(
            audit_id, completed_at=self.clock(), outcome=outcome, event_id=event.id if event else None, message=message
        )
        return ActionResult(pos, action, outcome, message, event, audit_id)

    def _decided(
        self,
        actor: Actor,
        action: ActionKind,
        pos: PointOfSale,
        outcome: Outcome,
        message: str,
        *,
        event: Event | None = None,
        **fields: Any,
    ) -> ActionResult:
        """An attempt decided without calling cucu (skipped, refused, duplicate), audited as complete."""
        audit_id = self._audit(actor, action, pos, **fields, outcome=outcome, message=message)
        return ActionResult(pos, action, outcome, message, event, audit_id)

    @staticmethod
    def _denied_message(actor: Actor) -> str:
        role = Role(actor.role).label if actor.role in tuple(Role) else (actor.role or "sin rol")
        return f"Su rol ({role}) no permite iniciar ni finalizar eventos; no se envió nada a cucu."

    def _remember(
        self, pos: PointOfSale, active: Event | None, *, ended: Event | None = None, ended_id: str | None = None
    ) -> None:
        """Show the POS's new state at once, without waiting for the collector's next sweep."""
        try:
            self.store.save_pos_fetches([PosFetch(pos.id, pos.branch_id, self.clock(), event=active)])
            if ended is not None or ended_id is not None:
                # Its day, for Historial and the 48 h registration KPI (the collector will not see
                # this transition: the store already shows the POS without the event).
                start = ended.fecha_inicio if ended is not None and ended.fecha_inicio else self.clock()
                load_days(self.client, self.store, [pos], {start.date(), self.clock().date()}, concurrency=2, clock=self.clock)
        except Exception:  # the action itself is done and audited; the collector will catch up
            log.exception("acciones: no se pudo actualizar el estado local de %s", pos.id)

    def _expire_stale_pending(self) -> None:
        self.store.expire_pending(
            self.clock() - PENDING_EXPIRES,
            "El tablero se detuvo durante la acción: no se sabe si cucu la recibió. Revise el punto de venta.",
        )

    def _resolve(self, pos_ids: Iterable[str]) -> list[PointOfSale]:
        seen, result = set(), []
        for pos_id in pos_ids:
            if pos_id in seen:
                continue
            seen.add(pos_id)
            try:
                result.append(self.inventory.pos(pos_id))
            except KeyError:
                raise ActionError(f"El punto de venta {pos_id} no está en el inventario.") from None
        return result

    def _run(self, work: Callable[[T], ActionResult], items: Sequence[T]) -> list[ActionResult]:
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(items))), thread_name_prefix="acciones") as pool:
            return list(pool.map(work, items))
