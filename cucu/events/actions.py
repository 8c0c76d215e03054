"""Starting and ending contingency events: validated, audited, never doubled, never retried blindly.

Every attempt is written to the audit log before the call and completed after it. The
database allows one open attempt per POS, so a double click, a resubmitted form, a
rerun or a second tablet cannot send a second start or end for the same POS while one is
in flight. A write whose outcome is uncertain (timeout or dropped connection after sending,
5xx) is never sent again: it stays "en verificación" while the POS's active event is re-read
with backoff for ``settle_window_s``; after that the collector's sweeps settle it
(:func:`reconcile_open_attempts`) with what they see, and after ``VERIFY_FOR`` it is given up
as uncertain. cucu may still be working on a write (it talks to SIAT), so a read that shows
nothing proves nothing: only a request that provably never left is "puede intentarlo de nuevo".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import replace as replace_result
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cucu.api.client import CucuClient
from cucu.api.errors import CucuBadResponseError, CucuConnectionError, CucuError, CucuRejectedError, CucuServerError
from cucu.api.models import Cufd, Event, Inventory, PointOfSale
from cucu.events.history import load_days
from cucu.formatting import fmt_datetime, fmt_duration, fmt_hour
from cucu.invoicing import cufd_health, read_cufd
from cucu.lapaz import now_la_paz
from cucu.organization.scope import WHOLE_COMPANY, Scope
from cucu.settings import Settings
from cucu.store import ActionInProgress, Attempt, AuditFilter, CufdFetch, PosFetch, Store, StoredCufd
from cucu.vocabulary import EVENT_ACTIONS, ActionKind, CufdHealth, Motive, Outcome, Role

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

MAX_DESCRIPTION = 500
PENDING_EXPIRES = timedelta(minutes=5)  # an attempt still pending after this was cut off mid-call
VERIFY_FOR = timedelta(minutes=10)  # an attempt cucu has not shown settled by then is given up as uncertain
LATE_START_WINDOW = timedelta(hours=1)  # a start given up uncertain is still settled if its event shows up within this
START_CLOCK_SLACK = timedelta(minutes=2)  # cucu's clock and the database's may disagree by this much
FRESH_CUFD = timedelta(seconds=15)  # a CUFD read this recently is not read again when a renewal is confirmed
# Renewals that may have reached cucu: within the cooldown they hold the POS (a refusal or an error did not).
RENEWAL_SENT = (Outcome.OK, Outcome.VERIFYING, Outcome.UNCERTAIN, Outcome.PENDING)
AUDIT_RETRIES = (0.2, 1.0)  # seconds before the second and third try to complete an audit row
NOT_RECORDED = "No se pudo registrar el intento en la bitácora (base de datos); no se envió a cucu. Intente de nuevo."
CUT_OFF = "El tablero se detuvo durante la acción: se verifica en cucu si la recibió."
GIVEN_UP = (
    "Sin confirmar: cucu no mostró el resultado en {minutes} min. "
    "Revise el punto de venta en Eventos activos antes de intentarlo de nuevo."
)


def settled_by(
    action: ActionKind, active: Event | None, *, requested_at: datetime, event_id: str | None, motive: int | None = None
) -> bool:
    """Does the POS's active event (as cucu shows it now) prove that the attempt took effect?

    A start: an event of the motive sent that began at or after the attempt (the POS had none when it
    was sent): one of another motive was declared by someone else, and is not credited to this
    attempt (the policy would later end it). An end: the target event is no longer the active one.
    """
    if action == ActionKind.START:
        if active is None or (motive is not None and active.codigo_motivo is not None and active.codigo_motivo != motive):
            return False
        return active.fecha_inicio is None or active.fecha_inicio >= requested_at - START_CLOCK_SLACK
    return active is None or active.id != event_id


_VERIFYING = " Se verifica en cucu si el evento se {past}; no lo repita mientras tanto."


def verifying_message(why: str, action: ActionKind) -> str:
    return why + _VERIFYING.format(past=action.past)


def settled_message(verifying: str | None, action: ActionKind) -> str:
    """What a verified attempt says: why it had to be verified, and that it did happen."""
    why = (verifying or "").removesuffix(_VERIFYING.format(past=action.past))
    return f"{why} Se verificó en cucu: el evento sí se {action.past}.".strip()


def uncertain_why(exc: CucuError) -> str:
    """Why an answer proves nothing (never the error's own "intente de nuevo": it must not be repeated)."""
    if isinstance(exc, CucuServerError):
        status = f" (HTTP {exc.status_code})" if exc.status_code else ""
        return f"cucu respondió con un error{status} y no se sabe si alcanzó a registrarlo."
    return exc.message


@dataclass(frozen=True)
class SendFailure:
    """What a write's exception means: ``REJECTED`` (cucu said no) or ``ERROR`` (not sent, or refused before
    anything happened) are settled; ``VERIFYING``: it may have reached cucu, and is verified by re-reading."""

    outcome: Outcome
    message: str


def send_once(send: Callable[[], T], action: ActionKind, unexpected: str, *args: object) -> T | SendFailure:
    """Send a write once, never again, and classify its failure. ``unexpected % args`` is what the log says of
    an exception that is no ``CucuError``: the write may have left, so it is verified too."""
    try:
        return send()
    except CucuRejectedError as exc:
        return SendFailure(Outcome.REJECTED, f"cucu no lo {action.past}: {exc.api_message or exc.message}")
    except (CucuConnectionError, CucuServerError, CucuBadResponseError) as exc:
        # A body that cannot be read (a 2xx among them) says nothing of whether the write took effect.
        if isinstance(exc, CucuConnectionError) and not exc.request_sent:
            return SendFailure(Outcome.ERROR, f"{exc.message} No se envió; puede intentarlo de nuevo.")
        return SendFailure(Outcome.VERIFYING, uncertain_why(exc))
    except CucuError as exc:
        return SendFailure(Outcome.ERROR, exc.message)
    except Exception:
        log.exception(unexpected, *args)
        return SendFailure(Outcome.VERIFYING, "Error inesperado durante el envío.")


def renewed_message(cufd: Cufd) -> str:
    return f"CUFD renovado: vigente hasta {fmt_datetime(cufd.vigencia)}." if cufd.vigencia else "CUFD renovado."


def age_open_attempts(store: Store) -> tuple[int, int]:
    """Hand over attempts cut off mid-call, give up those unsettled for too long (database clock)."""
    return store.age_open_attempts(
        pending_after=PENDING_EXPIRES,
        verify_for=VERIFY_FOR,
        pending_message=CUT_OFF,
        given_up_message=GIVEN_UP.format(minutes=int(VERIFY_FOR.total_seconds() // 60)),
    )


def reconcile_open_attempts(store: Store, fetches: Sequence[PosFetch]) -> int:
    """The collector's part: settle attempts under verification with what a sweep just saw.

    Also hands over attempts left pending by a process that died and gives up those that stayed
    unsettled for ``VERIFY_FOR`` (both by the database's clock). Returns how many it settled.
    """
    age_open_attempts(store)
    seen = {f.pos_id: f.event for f in fetches if f.error is None}
    settled = 0
    for entry in store.open_attempts():
        # A CUFD renewal is not settled by an event read; an unknown action (a newer version's) neither.
        if entry.pos_id not in seen or not isinstance(entry.action, ActionKind) or entry.action not in EVENT_ACTIONS:
            continue
        active = seen[entry.pos_id]
        if settled_by(entry.action, active, requested_at=entry.requested_at, event_id=entry.event_id, motive=entry.motive):
            message = settled_message(entry.message, entry.action)
            event_id = active.id if entry.action == ActionKind.START and active is not None else None
            if store.audit_settle(entry.id, outcome=Outcome.OK, message=message, event_id=event_id):
                settled += 1
                log.info("acciones: registro %d de %s en %s verificado por el colector", entry.id, entry.action, entry.pos_id)
    # A start given up unconfirmed whose event shows up later (a late write): settled after all, so
    # whoever started it (the automatic policy among them) knows the event is theirs to end.
    since = store.db_now() - LATE_START_WINDOW
    uncertain = store.audit_entries(AuditFilter(since=since, actions=(ActionKind.START,), outcomes=(Outcome.UNCERTAIN,)))
    if not uncertain:
        return settled
    # An event another start is credited with (a person's, after the POS was freed) is never this one's.
    claimed = {
        e.event_id for e in store.audit_entries(AuditFilter(since=since, actions=(ActionKind.START,), outcomes=(Outcome.OK,)))
    }
    for entry in uncertain:
        active = seen.get(entry.pos_id)
        if (
            active is not None
            and active.id not in claimed
            and settled_by(ActionKind.START, active, requested_at=entry.requested_at, event_id=None, motive=entry.motive)
        ):
            message = f"{entry.message or ''} Se verificó más tarde en cucu: el evento sí se inició.".strip()
            if store.audit_settle(entry.id, outcome=Outcome.OK, message=message, event_id=active.id, was=Outcome.UNCERTAIN):
                settled += 1
                log.info("acciones: registro %d sin confirmar, verificado más tarde por el colector", entry.id)
    return settled


@dataclass
class _Verification:
    """One attempt whose outcome is being re-read: when next, and until when (``time.monotonic``)."""

    audit_id: int
    action: ActionKind
    pos: PointOfSale
    sent_at: datetime
    event_id: str | None  # an end's target
    message: str
    motive: int | None = None  # a start's
    due: float = 0.0
    until: float = 0.0
    delay: float = 1.0


class ActionError(ValueError):
    """The request cannot be sent as it is; ``str(err)`` says why, in Spanish."""


@dataclass(frozen=True)
class Actor:
    """Who acts: ``id`` is the user (subject, e-mail or user name) or, without sign-in, the browser session."""

    id: str
    name: str | None = None
    role: Role | None = None
    scope: Scope = WHOLE_COMPANY  # the branches this person may act on (checked here, per POS, at every call)


@dataclass(frozen=True)
class ActionResult:
    pos: PointOfSale
    action: ActionKind
    outcome: Outcome
    message: str
    event: Event | None = None
    audit_id: int | None = None
    event_id: str | None = None  # when only the id is known (settled later, from the audit row)

    @property
    def label(self) -> str:
        return self.outcome.label

    @property
    def shown_event_id(self) -> str | None:
        return self.event.id if self.event is not None else self.event_id


def refreshed(results: Sequence[ActionResult], store: Store) -> tuple[ActionResult, ...]:
    """``results`` with those under verification brought up to date from their audit rows."""
    open_ids = [r.audit_id for r in results if r.outcome == Outcome.VERIFYING and r.audit_id is not None]
    rows = store.audit_rows(open_ids) if open_ids else {}
    updated = []
    for r in results:
        row = rows.get(r.audit_id) if r.audit_id is not None else None
        if row is not None and isinstance(row.outcome, Outcome) and row.outcome != r.outcome:
            r = replace_result(r, outcome=row.outcome, message=row.message or r.message, event_id=row.event_id)
        updated.append(r)
    return tuple(updated)


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


OUTSIDE_SCOPE = "La solicitud incluía puntos de venta fuera de su alcance; no se envió nada a cucu."
OUTSIDE_SCOPE_BRANCHES = "La solicitud nombraba sucursales fuera de su alcance; no se hizo nada."
COMPANY_ONLY = "Solo un supervisor de toda la empresa puede hacerlo; su alcance es {scope}."


def may_act_on(actor: Actor, inventory: Inventory, branch_ids: Iterable[str]) -> bool:
    """Whether ``actor`` may act on every one of these branches: a supervisor, and each branch in their scope
    (an unknown branch is nobody's but the whole company's)."""
    return can_act(actor) and all(actor.scope.covers_branch_id(inventory, b) for b in branch_ids)


def refuse_outside_scope(
    store: Store, actor: Actor, inventory: Inventory, action: ActionKind, branch_ids: Iterable[str], now: datetime
) -> None:
    """Raise ``ActionError`` when a scoped person asks for a branch outside their scope, or (no branch: ``[""]``)
    for what concerns the whole company (pausing the policy, SIAT's alerts, a company-wide window); the refusal
    is audited, one row per branch asked for. The pages offer none of these to them: such a request is forged."""
    if actor.scope.whole_company:
        return
    asked = list(branch_ids)
    if not asked or "" in asked:
        outside, message = [""], COMPANY_ONLY.format(scope=actor.scope.label(inventory))
    else:
        outside = [b for b in asked if not actor.scope.covers_branch_id(inventory, b)]
        message = OUTSIDE_SCOPE_BRANCHES
    if not outside:
        return
    for branch_id in outside:
        store.audit_begin(
            Attempt(
                requested_at=now,
                actor=actor.id,
                actor_name=actor.name,
                role=actor.role,
                action=action,
                branch_id=branch_id,
                pos_id="",
                outcome=Outcome.DENIED,
                message=message,
            )
        )
    log.warning("acciones: %s pidió %s fuera de su alcance; se rechazó y quedó en la bitácora", actor.id, action.value)
    raise ActionError(message)


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
        concurrency: int = Settings.concurrency,
        settle_window_s: float = Settings.settle_window_s,
        cufd_expiring_hours: float = Settings.cufd_expiring_hours,
        renew_cooldown_s: float = Settings.cufd_renew_cooldown_s,
        clock: Callable[[], datetime] = now_la_paz,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self.store = store
        self.inventory = inventory
        self.concurrency = concurrency
        self.settle_window_s = settle_window_s
        self.cufd_expiring = timedelta(hours=cufd_expiring_hours)
        self.renew_cooldown = timedelta(seconds=renew_cooldown_s)
        self.clock = clock
        self.monotonic = monotonic
        # Attempts being re-read in the background, by audit id; one thread serves them all.
        self._verifying: dict[int, _Verification] = {}
        self._verify_wake = threading.Condition()
        self._verifier: threading.Thread | None = None
        self._closed = False

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
        every = (*plan.to_start, *(p for p, _ in plan.skipped))
        if (denied := self._denial(actor, every)) is not None:
            return [
                self._decided(actor, ActionKind.START, pos, Outcome.DENIED, denied, motive=motive, description=description)
                for pos in every
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
        if (denied := self._denial(actor, [t.pos for t in targets])) is not None:
            return [self._decided(actor, ActionKind.END, t.pos, Outcome.DENIED, denied, event_id=t.event_id) for t in targets]
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

    def renew_cufd(self, actor: Actor, pos_ids: Iterable[str]) -> list[ActionResult]:
        """A new CUFD for each POS (concurrently), audited; sent once, never retried blindly.

        The list the person confirmed may be stale (another supervisor renewed from the same list):
        each POS's CUFD is read again first and one now valid, not about to expire, is skipped; and a
        POS renewed within the cooldown (by the audit log, on the database's clock) is refused.
        """
        targets = self._resolve(pos_ids)
        if not targets:
            raise ActionError(NO_POS_CHOSEN)
        if (denied := self._denial(actor, targets)) is not None:
            return [self._decided(actor, ActionKind.RENEW_CUFD, pos, Outcome.DENIED, denied) for pos in targets]
        self._expire_stale_pending()
        before = self.store.cufds()
        return self._run(lambda pos: self._renew_one(actor, pos, before.get(pos.id)), targets)

    def _renew_one(self, actor: Actor, pos: PointOfSale, before: StoredCufd | None) -> ActionResult:
        current = self._current_cufd(pos, before)
        old = current.cufd if current is not None else None
        old_text = f"vencía {fmt_datetime(old.vigencia)}" if old is not None and old.vigencia else "sin CUFD conocido"
        description = f"CUFD anterior: {old_text}"
        try:
            if cufd_health(current, self.clock(), self.cufd_expiring) is CufdHealth.VALID and old is not None:
                message = f"Ya vigente hasta {fmt_datetime(old.vigencia)} (leído en cucu al confirmar); no se envió."
                return self._decided(actor, ActionKind.RENEW_CUFD, pos, Outcome.SKIPPED, message, description=description)
            audit_id = self._begin(actor, ActionKind.RENEW_CUFD, pos, description=description)
        except Exception:
            log.exception("acciones: no se pudo registrar la renovación del CUFD de %s", pos.id)
            return ActionResult(pos, ActionKind.RENEW_CUFD, Outcome.ERROR, NOT_RECORDED)
        if isinstance(audit_id, ActionResult):
            return audit_id
        # Checked after this attempt is on record: of two confirmations racing, the later one sees the other.
        cooling = self._renewal_cooldown(pos, audit_id)
        if cooling is not None:
            return self._finish(audit_id, pos, ActionKind.RENEW_CUFD, Outcome.SKIPPED, cooling)
        fresh = send_once(
            lambda: self.client.renew_cufd(pos.id),
            ActionKind.RENEW_CUFD,
            "acciones: error inesperado al renovar el CUFD de %s",
            pos.id,
        )
        if isinstance(fresh, SendFailure):
            if fresh.outcome == Outcome.VERIFYING:
                return self._verify_renewal(audit_id, pos, old, fresh.message)
            return self._finish(audit_id, pos, ActionKind.RENEW_CUFD, fresh.outcome, fresh.message)
        result = self._finish(audit_id, pos, ActionKind.RENEW_CUFD, Outcome.OK, renewed_message(fresh))
        self._remember_cufd(pos, fresh)
        return result

    def _current_cufd(self, pos: PointOfSale, stored: StoredCufd | None) -> StoredCufd | None:
        """The POS's CUFD as cucu shows it now: the stored read when only seconds old, else one GET
        (recorded, so the page shows it too). A failed read leaves what was stored: it proves nothing."""
        if stored is not None and stored.error is None and self.clock() - stored.fetched_at <= FRESH_CUFD:
            return stored
        fetch = read_cufd(self.client, pos, self.clock)
        if fetch.error is not None:
            return stored
        try:
            self.store.save_cufds([fetch])
        except Exception:
            log.exception("acciones: no se pudo guardar el CUFD leído de %s", pos.id)
        return StoredCufd(pos.id, pos.branch_id, fetch.fetched_at, fetch.fetched_at, fetch.cufd, None)

    def _renewal_cooldown(self, pos: PointOfSale, audit_id: int) -> str | None:
        """Why a renewal of ``pos`` must wait: another one that may have reached cucu within the cooldown."""
        if self.renew_cooldown <= timedelta(0):
            return None
        now = self.store.db_now()  # a sent attempt's time is the database's (see Store.audit_begin)
        recent = [
            e
            for e in self.store.audit_entries(
                AuditFilter(
                    since=now - self.renew_cooldown,
                    branch_ids=(pos.branch_id,),
                    actions=(ActionKind.RENEW_CUFD.value,),
                    outcomes=tuple(o.value for o in RENEWAL_SENT),
                )
            )
            if e.pos_id == pos.id and e.id != audit_id
        ]
        if not recent:
            return None
        last = recent[0]  # newest first
        who = last.actor_name or last.actor
        wait = max(timedelta(seconds=1), last.requested_at + self.renew_cooldown - now)
        return (
            f"Ya se pidió renovar este CUFD hace {fmt_duration(max(timedelta(0), now - last.requested_at))} ({who}); "
            f"espere {fmt_duration(wait)} y revise el punto de venta en Facturas antes de repetirlo. No se envió."
        )

    def _verify_renewal(self, audit_id: int, pos: PointOfSale, old: Cufd | None, why: str) -> ActionResult:
        """The request may have reached cucu: read the POS's CUFD once. A different, valid one proves it;
        otherwise the attempt is left unconfirmed (renewing again issues yet another CUFD: a person decides)."""
        try:
            current = self.client.get_cufd(pos.id)
        except CucuError:
            current = None
        if current is not None and current.valid_at(self.clock()) and (old is None or current.cufd != old.cufd):
            self._remember_cufd(pos, current)
            message = f"{why} Se verificó en cucu: el CUFD sí se renovó. {renewed_message(current)}"
            return self._finish(audit_id, pos, ActionKind.RENEW_CUFD, Outcome.OK, message)
        message = f"{why} cucu no muestra un CUFD nuevo todavía: revise el punto de venta en Facturas antes de repetirlo."
        return self._finish(audit_id, pos, ActionKind.RENEW_CUFD, Outcome.UNCERTAIN, message)

    def _remember_cufd(self, pos: PointOfSale, cufd: Cufd) -> None:
        """Show the new CUFD at once, without waiting for the collector's next read."""
        try:
            self.store.save_cufds([CufdFetch(pos.id, pos.branch_id, self.clock(), cufd=cufd)])
        except Exception:
            log.exception("acciones: no se pudo guardar el CUFD nuevo de %s", pos.id)

    # ---- one POS -------------------------------------------------------------------

    def _start_one(self, actor: Actor, pos: PointOfSale, motive: int, description: str) -> ActionResult:
        return self._attempt(
            actor,
            ActionKind.START,
            pos,
            dict(motive=motive, description=description),
            send=lambda: self.client.start_event(pos.id, pos.branch_id, motive, description),
        )

    def _end_one(self, actor: Actor, target: EndTarget) -> ActionResult:
        pos = target.pos
        return self._attempt(
            actor,
            ActionKind.END,
            pos,
            dict(event_id=target.event_id),
            send=lambda: self.client.end_event(pos.id, pos.branch_id, target.event_id),
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
        ended_id: str | None = None,
    ) -> ActionResult:
        """Audit, send once, and classify the answer; an uncertain outcome is verified by reading."""
        try:
            audit_id = self._begin(actor, action, pos, **audit_fields)
        except Exception:  # nothing was sent: the attempt must be on record before it is
            log.exception("acciones: no se pudo registrar el intento de %s en %s", action, pos.id)
            return ActionResult(pos, action, Outcome.ERROR, NOT_RECORDED)
        if isinstance(audit_id, ActionResult):
            return audit_id
        sent_at = self.clock()
        event = send_once(send, action, "acciones: error inesperado al %s en %s", action, pos.id)
        if isinstance(event, SendFailure):
            if event.outcome == Outcome.VERIFYING:
                return self._verify(
                    _Verification(audit_id, action, pos, sent_at, ended_id, event.message, audit_fields.get("motive"))
                )
            return self._finish(audit_id, pos, action, event.outcome, event.message)
        # The audit row is completed first: the follow-up reads below may be slow or fail.
        if action == ActionKind.START:
            result = self._finish(audit_id, pos, action, Outcome.OK, "Evento iniciado.", event)
            self._remember(pos, event)
        else:
            result = self._finish(audit_id, pos, action, Outcome.OK, "Evento finalizado.", event)
            self._remember(pos, None, ended=event)
        return result

    # ---- uncertain outcomes: read what happened, never resend -------------------

    def _verify(self, verification: _Verification) -> ActionResult:
        """The request may have reached cucu: read once now, then keep reading in the background.

        ``verification.message`` says why on entry (the error) and what is shown while it lasts.
        """
        v = verification
        try:
            active = self.client.get_active_event(v.pos.id)
        except CucuError:
            active, seen = None, False
        else:
            seen = settled_by(v.action, active, requested_at=v.sent_at, event_id=v.event_id, motive=v.motive)
        if seen:
            result = self._finish(
                v.audit_id,
                v.pos,
                v.action,
                Outcome.OK,
                settled_message(v.message, v.action),
                active if v.action == ActionKind.START else None,
            )
            self._remember(v.pos, active, ended_id=v.event_id)
            return result
        v.message = verifying_message(v.message, v.action)
        result = self._finish(v.audit_id, v.pos, v.action, Outcome.VERIFYING, v.message)
        self._watch(v)
        return result

    def _watch(self, verification: _Verification) -> None:
        now = self.monotonic()
        verification.due, verification.until = now + verification.delay, now + self.settle_window_s
        with self._verify_wake:
            if self._closed or self.settle_window_s <= 0:
                return  # the collector settles it
            self._verifying[verification.audit_id] = verification
            if self._verifier is None:
                self._verifier = threading.Thread(target=self._verify_loop, name="acciones-verificacion", daemon=True)
                self._verifier.start()
            self._verify_wake.notify()

    def verifying(self) -> int:
        """Attempts this process is still re-reading (tests and the status line wait on it)."""
        with self._verify_wake:
            return len(self._verifying)

    def close(self) -> None:
        """Stop re-reading; what is left open is the collector's to settle."""
        with self._verify_wake:
            self._closed = True
            self._verifying.clear()
            self._verify_wake.notify()

    def _verify_loop(self) -> None:
        while True:
            with self._verify_wake:
                if not self._verifying:
                    self._verifier = None
                    return
                now = self.monotonic()
                due = [v for v in self._verifying.values() if v.due <= now]
                if not due:
                    self._verify_wake.wait(min(v.due for v in self._verifying.values()) - now)
                    continue
            for verification, done in zip(due, self._run(self._verify_once, due), strict=True):
                with self._verify_wake:
                    if done or self.monotonic() >= verification.until:
                        self._verifying.pop(verification.audit_id, None)
                        if not done:
                            log.info(
                                "acciones: registro %d sin verificar tras %.0f s; lo sigue el colector",
                                verification.audit_id,
                                self.settle_window_s,
                            )
                    else:  # backoff, with the last read at the end of the window
                        verification.delay *= 2
                        verification.due = min(self.monotonic() + verification.delay, verification.until)

    def _verify_once(self, v: _Verification) -> bool:
        """One read; True once the attempt is settled (here or by another process)."""
        try:
            active = self.client.get_active_event(v.pos.id)
        except CucuError:
            return False
        except Exception:
            log.exception("acciones: error inesperado al verificar el registro %d", v.audit_id)
            return False
        if not settled_by(v.action, active, requested_at=v.sent_at, event_id=v.event_id, motive=v.motive):
            return False
        try:
            settled = self.store.audit_settle(
                v.audit_id,
                outcome=Outcome.OK,
                message=settled_message(v.message, v.action),
                event_id=active.id if v.action == ActionKind.START and active is not None else None,
                completed_at=self.clock(),
            )
        except Exception:
            log.exception("acciones: no se pudo completar el registro %d (verificado en cucu)", v.audit_id)
            return False
        if settled:
            self._remember(v.pos, active, ended_id=v.event_id)
        return True

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
        """Complete the audit row; what cucu answered reaches the screen even if the database refuses it.

        Retried (a locked database frees up). If every try fails, the event id is logged at ERROR with
        the audit id, and the row, still open, is settled later by the collector from what cucu shows.
        (An id cannot outgrow its column: ``Event.from_api`` refuses ids over ``MAX_ID_LENGTH``.)
        """
        event_id = event.id if event else None
        completed_at = None if outcome == Outcome.VERIFYING else self.clock()
        for attempt, pause in enumerate((*AUDIT_RETRIES, None)):
            try:
                self.store.audit_finish(audit_id, completed_at=completed_at, outcome=outcome, event_id=event_id, message=message)
                break
            except Exception:
                if pause is None:
                    log.error(
                        "acciones: cucu respondió (%s, evento %s) pero el registro %d de la bitácora no se pudo completar "
                        "tras %d intentos; el colector lo verificará",
                        outcome,
                        event_id or "—",
                        audit_id,
                        attempt + 1,
                        exc_info=True,
                    )
                else:
                    time.sleep(pause)
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

    def _denial(self, actor: Actor, targets: Sequence[PointOfSale]) -> str | None:
        """Why none of ``targets`` may be sent for ``actor``, or None. A request naming any POS outside the
        person's scope is forged (the pages offer only theirs): all of it is refused, each POS audited."""
        if not can_act(actor):
            role = Role(actor.role).label if actor.role in tuple(Role) else (actor.role or "sin rol")
            return f"Su rol ({role}) no permite iniciar ni finalizar eventos ni renovar CUFD; no se envió nada a cucu."
        if not may_act_on(actor, self.inventory, {p.branch_id for p in targets}):
            log.warning("acciones: %s pidió actuar fuera de su alcance; se rechazó y quedó en la bitácora", actor.id)
            return OUTSIDE_SCOPE
        return None

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
        age_open_attempts(self.store)

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

    def _run(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(items))), thread_name_prefix="acciones") as pool:
            return list(pool.map(work, items))
