"""The automatic contingency policy (``[policy]``, off unless configured).

When cucu has said SIAT is down for ``down_minutes`` (never when cucu only failed to answer: that is
"cucu no responde", which alerts but acts on nothing), start motive 2 (Falla SIAT) on every POS of
the scope that has no active event; when SIAT has answered ``up_checks`` checks in a row, end the
events the policy started, by the event ids it recorded (never one a person started; one a person
ended is gone). Every call goes through the actions service with the actor "Política automática",
so the audit log, one open attempt per POS and the handling of uncertain outcomes all apply.

What keeps it safe under faults, every figure read from the audit log by the database's clock (so
any process that takes the lease knows what the last one did):

- a POS with an open attempt (anyone's) is skipped, so nothing is sent twice or written "Duplicado";
- a POS whose start or end failed waits ``backoff_minutes``, doubled per failure in a row (1 h max);
- starts are capped per outage, per hour and per POS per day; ``refusals_to_halt`` failed starts in
  a row halt it (an alert, and Estado) until a supervisor resumes it;
- once it ended events, it re-arms only after SIAT stayed up ``rearm_minutes`` (a flapping SIAT);
  a POS whose event was ended, by anyone, waits ``cooldown_minutes``, and one a person ended is not
  started again in the same outage;
- a check a person asked for ("Comprobar ahora") counts for no rule;
- the pause (Estado, audited, in the database for every process) is read again between batches.

While a maintenance window runs over a POS, it starts and ends nothing there (``[policy].maintenance =
"nothing"``), or, with ``"start"``, SIAT's announced maintenance (a window over the whole company that holds
"SIAT no responde") starts motive 2 at the window's start, every guard above included, ended after the window.

It runs in the process that holds the collector lease, after each check (cucu/alerts/alerter.py's loop), at
most ``max_pos_per_run`` POS per round. In dry run it only says, through an alert, what it would do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cucu.api.models import Inventory
from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.rules import cucu_silent_since, ok_streak, rule_checks, siat_down_since
from cucu.events.actions import MAX_DESCRIPTION, ActionError, Actions, Actor, EndTarget, can_act, refuse_outside_scope
from cucu.events.maintenance import announces_siat_down
from cucu.formatting import fmt_count, fmt_hour, plural
from cucu.settings import PolicySettings
from cucu.store import Attempt, AuditEntry, AuditFilter, MaintenanceWindow, PosStatus, Store
from cucu.vocabulary import (
    OPEN_OUTCOMES,
    ActionKind,
    AlertRule,
    Motive,
    Outcome,
    PolicyMaintenance,
    PolicyMode,
    PolicyState,
    Role,
)

log = logging.getLogger(__name__)

POLICY_ACTOR = Actor(id="politica-automatica", name="Política automática", role=Role.SUPERVISOR)
HISTORY = timedelta(days=14)  # how far back the policy looks for the events it started
DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
BACKOFF_MAX = timedelta(hours=1)
# Attempts that reached (or may have reached) cucu: they count towards the caps and the backoff.
SENT = (Outcome.PENDING, Outcome.VERIFYING, Outcome.OK, Outcome.REJECTED, Outcome.ERROR, Outcome.UNCERTAIN)
STARTED = (Outcome.PENDING, Outcome.VERIFYING, Outcome.OK)  # a start that took effect, or may have
FAILED = (Outcome.REJECTED, Outcome.ERROR, Outcome.UNCERTAIN)
REFUSED = (Outcome.REJECTED, Outcome.ERROR)
HALTED_KEY = f"{AlertRule.POLICY.value}:detenida"
POLICY_SIGNATURE = ". Iniciado por la política automática del tablero."
MAINTENANCE_TEXT = MAX_DESCRIPTION - len(POLICY_SIGNATURE)  # a window's reason is cut to fit cucu's limit


@dataclass(frozen=True)
class PolicyStatus:
    """Where the policy stands now, and what it did or would do in this round."""

    state: PolicyState
    sentence: str  # Spanish, for Estado and the alert
    mode: PolicyMode
    paused_by: str | None = None
    open_events: int = 0  # events the policy started that are still open (or whose start is being verified)
    started: Sequence[str] = field(default_factory=tuple)  # POS ids started (or, in dry run, to start) this round
    ended: Sequence[str] = field(default_factory=tuple)  # POS ids ended (or, in dry run, to end) this round
    refusals: int = 0  # failed starts in a row (HALTED once it reaches ``refusals_to_halt``)


@dataclass(frozen=True)
class PolicyRecord:
    """What the audit log says of the policy's attempts and of everyone's ends, read once a round."""

    own: tuple[AuditEntry, ...] = ()  # the policy's starts and ends that reached cucu, oldest first
    ends: tuple[AuditEntry, ...] = ()  # ends by anyone that took effect, oldest first
    open_pos: frozenset[str] = frozenset()  # POS with an open attempt, anyone's
    resumed_after: int = 0  # the audit id of a supervisor's last "Reanudar" (ids order what happened)


def scope_pos(inventory: Inventory, settings: PolicySettings) -> list[str]:
    """The POS the policy may act on: every POS, or those of the listed branches (names or ids)."""
    chosen = set(settings.branches)
    return [p.id for b in inventory.branches if not chosen or b.id in chosen or b.name in chosen for p in b.pos]


@dataclass(frozen=True)
class MaintenanceHold:
    """What the maintenance windows running now mean for the policy: the POS they cover, which it neither starts
    nor ends on its own signal (the supervisor who scheduled the window owns them), and of those, with
    ``[policy].maintenance = "start"``, the ones SIAT's announced maintenance covers, started at its start."""

    held: frozenset[str] = frozenset()
    announced: Mapping[str, MaintenanceWindow] = field(default_factory=dict)


def maintenance_hold(
    windows: Iterable[MaintenanceWindow], inventory: Inventory, now: datetime, setting: PolicyMaintenance
) -> MaintenanceHold:
    """The hold of the scheduled windows that run ``now`` (a period marked after the fact holds nothing)."""
    held: set[str] = set()
    announced: dict[str, MaintenanceWindow] = {}
    for window in sorted(windows, key=lambda w: (w.starts_at, w.id)):
        if window.marked_after or not window.covers(now):
            continue
        chosen = set(window.branch_ids)
        pos_ids = [p.id for b in inventory.branches if not chosen or b.id in chosen for p in b.pos]
        held.update(pos_ids)
        if setting is PolicyMaintenance.START and announces_siat_down(window):
            for pos_id in pos_ids:
                announced.setdefault(pos_id, window)  # the earliest window that runs over it
    return MaintenanceHold(frozenset(held), announced)


def read_record(store: Store, now: datetime, settings: PolicySettings) -> PolicyRecord:
    """The policy's memory, all of it in the database (by its clock): a process that takes the lease
    knows what the last one did."""
    own = store.audit_entries(
        AuditFilter(since=now - HISTORY, actors=(POLICY_ACTOR.id,), actions=(ActionKind.START, ActionKind.END), outcomes=SENT)
    )
    window = max(timedelta(minutes=settings.cooldown_minutes), DAY)
    ends = store.audit_entries(
        AuditFilter(since=now - window, actions=(ActionKind.END,), outcomes=(Outcome.OK, Outcome.VERIFYING))
    )
    open_pos = frozenset(e.pos_id for o in OPEN_OUTCOMES for e in store.open_attempts(o))
    return PolicyRecord(
        own=tuple(sorted(own, key=lambda e: e.id)),
        ends=tuple(sorted(ends, key=lambda e: e.id)),
        open_pos=open_pos,
        resumed_after=store.policy_resumed_after(),
    )


def policy_events(record: PolicyRecord) -> dict[str, AuditEntry]:
    """POS id -> the policy's latest start that took effect, or may have (still verified, or given
    up unconfirmed: "Sin confirmar")."""
    latest: dict[str, AuditEntry] = {}
    for entry in record.own:
        if entry.action == ActionKind.START and entry.outcome in (*STARTED, Outcome.UNCERTAIN):
            latest[entry.pos_id] = entry
    return latest


def refusals_in_a_row(record: PolicyRecord) -> int:
    """Its starts that cucu refused or failed, in a row up to now, since a supervisor last resumed it
    and since its last start that took effect (in any outage: a halt lasts until a person resumes)."""
    count = 0
    for entry in reversed(record.own):
        if entry.id <= record.resumed_after:
            break
        if entry.action != ActionKind.START:
            continue
        if entry.outcome not in REFUSED:
            if entry.outcome in STARTED:
                break
            continue
        count += 1
    return count


def _failures_in_a_row(entries: Iterable[AuditEntry]) -> tuple[int, datetime | None]:
    """How many of the latest attempts failed in a row, and when the last one was made."""
    count, last = 0, None
    for entry in reversed(list(entries)):
        if entry.outcome not in FAILED:
            break
        count += 1
        last = last or entry.requested_at
    return count, last


def _backing_off(entries: Sequence[AuditEntry], now: datetime, settings: PolicySettings) -> bool:
    failures, last = _failures_in_a_row(entries)
    if not failures or last is None:
        return False
    wait = min(BACKOFF_MAX, timedelta(minutes=settings.backoff_minutes) * (1 << min(failures - 1, 16)))
    return now < last + wait


@dataclass(frozen=True)
class Decision:
    status: PolicyStatus
    to_start: list[str]
    to_end: list[tuple[str, str]]  # (POS id, the event id the policy recorded)
    windows: Mapping[str, MaintenanceWindow] = field(default_factory=dict)  # POS started for SIAT's announced maintenance


def evaluate(
    settings: PolicySettings,
    *,
    paused_by: str | None,
    checks: Sequence[ConnectivityCheck],
    statuses: Mapping[str, PosStatus],
    scope: Iterable[str],
    record: PolicyRecord,
    now: datetime,
    hold: MaintenanceHold = MaintenanceHold(),
) -> Decision:
    """The state, and the POS to start and the events to end now (the per-round cap aside), from what
    the store holds. Pure: the invariants' test drives it with every sequence of faults and windows."""
    mode = settings.mode
    mine = policy_events(record)

    def current(pos_id: str) -> str | None:
        s = statuses.get(pos_id)
        return s.event.id if s is not None and s.event is not None and s.event.active else None

    # Its open events: a start done whose event the POS still shows, or one still being verified, or
    # one given up unconfirmed while the POS shows an event (counted, never ended by it: a person checks).
    endable = [(pos_id, e.event_id) for pos_id, e in mine.items() if e.event_id and current(pos_id) == e.event_id]
    verifying = [pos_id for pos_id, e in mine.items() if e.outcome in OPEN_OUTCOMES]
    unconfirmed = [pos_id for pos_id, e in mine.items() if e.outcome == Outcome.UNCERTAIN and current(pos_id) is not None]
    open_count = len(endable) + len(verifying) + len(unconfirmed)
    refusals = refusals_in_a_row(record)
    halted = refusals >= settings.refusals_to_halt

    def status(state: PolicyState, sentence: str, *, paused_by: str | None = None) -> PolicyStatus:
        if unconfirmed:
            sentence += (
                f" {plural(len(unconfirmed), 'inicio sin confirmar: revíselo', 'inicios sin confirmar: revíselos')} en Bitácora."
            )
        return PolicyStatus(state, sentence, mode, paused_by, open_events=open_count, refusals=refusals)

    halted_sentence = (
        f"Detenida: cucu rechazó o falló {fmt_count(refusals)} inicios seguidos. No inicia nada más hasta que un "
        "supervisor la reanude (vea el motivo en Bitácora); sigue finalizando los eventos que inició."
    )

    if mode is PolicyMode.OFF:
        return Decision(PolicyStatus(PolicyState.OFF, "La política automática está apagada.", mode), [], [])
    if paused_by is not None:
        sentence = f"En pausa por {paused_by}: no inicia ni finaliza nada hasta que se reanude."
        if open_count:
            sentence += f" {plural(open_count, 'evento que inició sigue abierto', 'eventos que inició siguen abiertos')}."
        return Decision(status(PolicyState.PAUSED, sentence, paused_by=paused_by), [], [])
    counted = rule_checks(checks)
    down_since = siat_down_since(counted)
    silent = cucu_silent_since(counted)
    unknown = silent is not None or bool(counted and counted[-1].siat_ok is None)
    # SIAT's announced maintenance is a person's word that SIAT is down: it starts without cucu's "down" (never
    # while cucu does not answer: no call would reach it either).
    announced = {pos_id: hold.announced[pos_id] for pos_id in scope if pos_id in hold.announced} if not unknown else {}
    if down_since is not None or announced:
        if halted:
            return Decision(status(PolicyState.HALTED, halted_sentence), [], [])
        return _while_down(settings, statuses, scope, record, mine, now, down_since, announced, hold, status, current)
    if unknown:
        sentence = "Sin respuesta de cucu: no se sabe si SIAT responde, así que no inicia ni finaliza nada."
        if silent is not None:
            sentence = f"Sin respuesta de cucu desde las {fmt_hour(silent)}: no se sabe si SIAT responde, así que no inicia ni finaliza nada."
        return Decision(status(PolicyState.WAITING, sentence), [], [])
    held_note = _held_note(hold, scope)
    if endable or verifying:
        streak = ok_streak(counted)
        if streak < settings.up_checks:
            sentence = (
                f"Finalizará {plural(open_count, 'evento', 'eventos')} que inició cuando SIAT responda "
                f"{settings.up_checks} comprobaciones seguidas (van {streak})."
            )
            return Decision(status(PolicyState.WAITING, sentence + held_note), [], [])
        by_pos = _by_pos(record.own, ActionKind.END)
        to_end = [
            (pos_id, event_id)
            for pos_id, event_id in endable
            if pos_id not in record.open_pos
            and pos_id not in hold.held  # a window's POS wait for its end: SIAT may go down any moment
            and not _backing_off(by_pos.get(pos_id, ()), now, settings)
        ]
        held = sum(1 for pos_id, _ in endable if pos_id in hold.held)
        if held == len(endable) and not verifying:
            sentence = (
                f"SIAT responde, pero {plural(held, 'evento que inició está', 'eventos que inició están')} en un "
                "mantenimiento en curso: los finalizará cuando termine."
            )
            return Decision(status(PolicyState.WAITING, sentence), [], [])
        sentence = f"SIAT responde: finaliza {plural(open_count, 'evento', 'eventos')} que inició."
        if held:
            sentence += f" {plural(held, 'espera', 'esperan')} el fin de un mantenimiento."
        return Decision(status(PolicyState.ACTING, sentence), [], to_end)
    if halted:
        return Decision(status(PolicyState.HALTED, halted_sentence), [], [])
    sentence = (
        f"Armada: si cucu dice que SIAT no responde durante {settings.down_minutes:g} min, inicia contingencia por "
        f"{Motive.SIAT_FAILURE.label} en los puntos de venta sin evento."
    )
    return Decision(status(PolicyState.ARMED, sentence + held_note), [], [])


def _held_note(hold: MaintenanceHold, scope: Iterable[str]) -> str:
    """What a running window keeps the policy from, said after its sentence ("" without one)."""
    held = sum(1 for pos_id in scope if pos_id in hold.held)
    if not held:
        return ""
    return (
        f" Mantenimiento en curso: no inicia ni finaliza nada en {plural(held, 'punto de venta', 'puntos de venta')} "
        "de su alcance hasta que termine."
    )


def _by_pos(entries: Iterable[AuditEntry], action: ActionKind) -> dict[str, list[AuditEntry]]:
    found: dict[str, list[AuditEntry]] = {}
    for entry in entries:
        if entry.action == action:
            found.setdefault(entry.pos_id, []).append(entry)
    return found


def _while_down(
    settings: PolicySettings,
    statuses: Mapping[str, PosStatus],
    scope: Iterable[str],
    record: PolicyRecord,
    mine: Mapping[str, AuditEntry],
    now: datetime,
    down_since: datetime | None,
    announced: Mapping[str, MaintenanceWindow],
    hold: MaintenanceHold,
    status: Callable[..., PolicyStatus],
    current: Callable[[str], str | None],
) -> Decision:
    """SIAT down by cucu's word since ``down_since`` (None: not), or announced down by a running window over the
    POS in ``announced``: which POS to start, each guarded as one outage from its own beginning."""
    scope = list(scope)
    since: dict[str, datetime] = {}  # POS -> when its outage began
    act_at = down_since + timedelta(minutes=settings.down_minutes) if down_since is not None else None
    if down_since is not None and act_at is not None and now >= act_at:
        since.update((pos_id, down_since) for pos_id in scope if pos_id not in hold.held)
    since.update((pos_id, window.starts_at) for pos_id, window in announced.items())
    prefix = (
        f"cucu dice que SIAT no responde desde las {fmt_hour(down_since)}"
        if down_since is not None
        else f"Mantenimiento de SIAT desde las {fmt_hour(min(w.starts_at for w in announced.values()))}"
    )
    if not since:  # SIAT down by cucu's word (no window starts anything): not for down_minutes yet, or all held
        assert down_since is not None and act_at is not None
        if now < act_at:
            sentence = f"{prefix}: iniciará contingencia a las {fmt_hour(act_at)} si sigue así."
        else:
            sentence = f"{prefix}."
        return Decision(status(PolicyState.WAITING, sentence + _held_note(hold, scope)), [], [])
    own_ends = [e for e in record.own if e.action == ActionKind.END]
    last_end = max((e.requested_at for e in own_ends), default=None)
    if last_end is not None:  # a flapping SIAT: no outage that began within rearm_minutes of its last ends
        since = {p: at for p, at in since.items() if last_end <= at - timedelta(minutes=settings.rearm_minutes)}
        if not since:
            rearm = last_end + timedelta(minutes=settings.rearm_minutes)
            sentence = (
                f"{prefix}, pero SIAT había vuelto hace poco (la política finalizó eventos a las {fmt_hour(last_end)}): "
                f"no actúa en este corte; actuará en uno que empiece después de las {fmt_hour(rearm)}."
            )
            return Decision(status(PolicyState.WAITING, sentence), [], [])
    starts = [e for e in record.own if e.action == ActionKind.START]
    first = min(since.values())  # the cap per outage counts from the earliest: never more than one outage's
    in_outage = sum(1 for e in starts if e.requested_at >= first)
    in_hour = sum(1 for e in starts if e.requested_at >= now - HOUR)
    room = min(settings.max_starts_per_outage - in_outage, settings.max_starts_per_hour - in_hour)
    cooldown_from = now - timedelta(minutes=settings.cooldown_minutes)
    last_end_of: dict[str, datetime] = {}  # by anyone: the cooldown
    last_person_end_of: dict[str, datetime] = {}  # by a person: not started again in the same outage
    for end in record.ends:
        last_end_of[end.pos_id] = max(end.requested_at, last_end_of.get(end.pos_id, end.requested_at))
        if end.actor != POLICY_ACTOR.id:
            last_person_end_of[end.pos_id] = max(end.requested_at, last_person_end_of.get(end.pos_id, end.requested_at))
    starts_by_pos = _by_pos(starts, ActionKind.START)
    day_from = now - DAY
    to_start = []
    for pos_id in scope:
        if pos_id not in since:
            continue
        began = since[pos_id]
        tried = starts_by_pos.get(pos_id, [])
        if (
            current(pos_id) is not None
            or pos_id in record.open_pos
            or (pos_id in last_end_of and last_end_of[pos_id] >= cooldown_from)
            or (pos_id in last_person_end_of and last_person_end_of[pos_id] >= began)
            or (pos_id in mine and mine[pos_id].requested_at >= began)  # once per outage
            or sum(1 for e in tried if e.requested_at >= day_from) >= settings.max_starts_per_pos_per_day
            or _backing_off(tried, now, settings)
        ):
            continue
        to_start.append(pos_id)
    capped = len(to_start) > max(0, room)
    to_start = to_start[: max(0, room)]
    sentence = f"{prefix}: "
    sentence += (
        f"inicia contingencia por {Motive.SIAT_FAILURE.label} en {plural(len(to_start), 'punto de venta', 'puntos de venta')}."
        if to_start
        else "no queda ningún punto de venta que deba iniciar ahora."
    )
    if capped:
        sentence += (
            f" Alcanzó su límite ({fmt_count(settings.max_starts_per_outage)} inicios por corte, "
            f"{fmt_count(settings.max_starts_per_hour)} por hora): los demás esperan."
        )
    held = sum(1 for pos_id in scope if pos_id in hold.held and pos_id not in announced)
    if held:
        sentence += f" Mantenimiento en curso: no actúa en {plural(held, 'punto de venta', 'puntos de venta')} de su alcance."
    return Decision(status(PolicyState.ACTING, sentence), to_start, [], {p: announced[p] for p in to_start if p in announced})


class Policy:
    """Runs the policy once per round of the lease holder (see cucu/alerts/alerter.py)."""

    def __init__(
        self,
        store: Store,
        inventory: Inventory,
        actions: Actions,
        settings: PolicySettings,
        *,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        self.inventory = inventory
        self.actions = actions
        self.settings = settings
        # Whether this process still holds the collector lease (read in the database before each batch):
        # a holder that stalled and lost it must not act beside the new one.
        self.leading = leading

    def status(self, now: datetime, checks: Sequence[ConnectivityCheck], statuses: Mapping[str, PosStatus]) -> PolicyStatus:
        return self._evaluate(now, checks, statuses).status

    def _evaluate(self, now: datetime, checks: Sequence[ConnectivityCheck], statuses: Mapping[str, PosStatus]) -> Decision:
        return evaluate(
            self.settings,
            paused_by=self.store.policy_paused_by(),
            checks=checks,
            statuses=statuses,
            scope=scope_pos(self.inventory, self.settings),
            record=read_record(self.store, now, self.settings) if self.settings.mode is not PolicyMode.OFF else PolicyRecord(),
            now=now,
            hold=self.hold(now),
        )

    def hold(self, now: datetime) -> MaintenanceHold:
        """What the windows running ``now`` (read in the database, as every process schedules them) hold."""
        if self.settings.mode is PolicyMode.OFF:
            return MaintenanceHold()
        windows = self.store.maintenance_windows(ending_after=now)
        return maintenance_hold(windows, self.inventory, now, self.settings.maintenance)

    def run_once(self, now: datetime, checks: Sequence[ConnectivityCheck], statuses: Mapping[str, PosStatus]) -> PolicyStatus:
        decision = self._evaluate(now, checks, statuses)
        status = decision.status
        cap = self.settings.max_pos_per_run
        to_start = decision.to_start[:cap]
        to_end = decision.to_end[: max(0, cap - len(to_start))]
        if not (to_start or to_end):
            return status
        if self.settings.mode is PolicyMode.DRY_RUN:
            log.info("política (simulación): iniciaría %d, finalizaría %d puntos de venta", len(to_start), len(to_end))
            return _with(status, started=to_start, ended=[pos_id for pos_id, _ in to_end])
        started: list[str] = []
        ended: list[str] = []
        batch = max(1, self.actions.concurrency)
        if to_start:
            down_since = siat_down_since(rule_checks(checks)) or now
            refusals = status.refusals
            batches = [
                (group[at : at + batch], description)
                for description, group in _by_description(to_start, decision.windows, down_since).items()
                for at in range(0, len(group), batch)
            ]
            for pos_ids, description in batches:
                if self._paused_meanwhile():
                    break
                if refusals >= self.settings.refusals_to_halt:  # halted within this round: no more batches
                    log.warning("política: %d inicios seguidos rechazados; se detiene hasta que la reanuden", refusals)
                    break
                results = self.actions.start(POLICY_ACTOR, pos_ids, Motive.SIAT_FAILURE, description)
                started += [r.pos.id for r in results if r.outcome in (Outcome.OK, Outcome.VERIFYING)]
                for result in results:
                    refusals = refusals + 1 if result.outcome in REFUSED else 0 if result.outcome in STARTED else refusals
            log.info("política: contingencia iniciada en %d de %d puntos de venta", len(started), len(to_start))
        if to_end:
            targets = [EndTarget(self.inventory.pos(pos_id), event_id) for pos_id, event_id in to_end]  # its own ids
            for at in range(0, len(targets), batch):
                if self._paused_meanwhile():
                    break
                results = self.actions.end(POLICY_ACTOR, targets[at : at + batch])
                ended += [r.pos.id for r in results if r.outcome in (Outcome.OK, Outcome.VERIFYING)]
            log.info("política: %d de %d eventos finalizados", len(ended), len(to_end))
        return _with(status, started=started, ended=ended)

    def _paused_meanwhile(self) -> bool:
        """Read between batches: a supervisor's pause, or the lease passing to another process, stops a
        round already under way."""
        paused = self.store.policy_paused_by()
        if paused is not None:
            log.info("política: en pausa por %s a mitad de la ronda; no envía más", paused)
            return True
        if not self.leading():
            log.info("política: otro proceso tomó la concesión a mitad de la ronda; no envía más")
            return True
        return False


def _by_description(
    to_start: Sequence[str], windows: Mapping[str, MaintenanceWindow], down_since: datetime
) -> dict[str, list[str]]:
    """The POS to start grouped by their events' description: SIAT down by cucu's word, or SIAT's announced
    maintenance (its reason, a person's words, cut to fit cucu's limit)."""
    groups: dict[str, list[str]] = {}
    for pos_id in to_start:
        window = windows.get(pos_id)
        if window is None:
            text = f"SIAT no responde desde las {fmt_hour(down_since)}{POLICY_SIGNATURE}"
        else:
            text = (
                f"Mantenimiento de SIAT programado desde las {fmt_hour(window.starts_at)}: {window.reason}"[:MAINTENANCE_TEXT]
                + POLICY_SIGNATURE
            )
        groups.setdefault(text, []).append(pos_id)
    return groups


def _with(status: PolicyStatus, *, started: Sequence[str], ended: Sequence[str]) -> PolicyStatus:
    return PolicyStatus(
        status.state,
        status.sentence,
        status.mode,
        status.paused_by,
        open_events=status.open_events,
        started=tuple(started),
        ended=tuple(ended),
        refusals=status.refusals,
    )


def set_paused(store: Store, actor: Actor, paused: bool, now: datetime) -> None:
    """A supervisor pauses or resumes the policy; audited (Bitácora: "Pausar política"). Raises
    ``ActionError`` for anyone else."""
    if not can_act(actor):
        raise ActionError("Solo un supervisor puede pausar o reanudar la política automática.")
    action = ActionKind.PAUSE_POLICY if paused else ActionKind.RESUME_POLICY
    refuse_outside_scope(store, actor, Inventory(()), action, [""], now)  # the policy acts for the whole company
    store.set_policy_paused(
        paused,
        Attempt(
            requested_at=now,
            actor=actor.id,
            actor_name=actor.name,
            role=actor.role,
            action=ActionKind.PAUSE_POLICY if paused else ActionKind.RESUME_POLICY,
            branch_id="",
            pos_id="",
            outcome=Outcome.OK,
            message="La política automática queda en pausa." if paused else "La política automática vuelve a actuar.",
        ),
    )


def during_window(window: MaintenanceWindow, settings: PolicySettings) -> str | None:
    """What the automatic policy does during ``window``, for the page that lists it (None while it is off)."""
    if settings.mode is PolicyMode.OFF:
        return None
    dry = " (en simulación: solo lo avisa)" if settings.mode is PolicyMode.DRY_RUN else ""
    if settings.maintenance is PolicyMaintenance.START and announces_siat_down(window):
        return (
            f"Política automática{dry}: al empezar, inicia contingencia por {Motive.SIAT_FAILURE.label} en los puntos "
            f"de venta de su alcance sin evento, y los finaliza después del mantenimiento, cuando SIAT responda "
            f"{settings.up_checks} comprobaciones seguidas."
        )
    return f"Política automática{dry}: no inicia ni finaliza nada en su alcance mientras dure."


def policy_condition(status: PolicyStatus | None, settings: PolicySettings) -> dict[str, tuple[str, str]]:
    """What the alerts say of the policy: key -> (title, body) while it has events open (or, in dry
    run, while it would act); nothing otherwise (an open incident then closes)."""
    if status is None or status.mode is PolicyMode.OFF:
        return {}
    found: dict[str, tuple[str, str]] = {}
    if status.state is PolicyState.HALTED:
        found[HALTED_KEY] = (
            "Política automática detenida",
            f"{status.sentence} Un supervisor puede reanudarla en Estado cuando sepa por qué cucu rechaza los inicios.",
        )
    return found | _acting_condition(status, settings)


def _acting_condition(status: PolicyStatus, settings: PolicySettings) -> dict[str, tuple[str, str]]:
    key = AlertRule.POLICY.value
    if status.mode is PolicyMode.DRY_RUN:
        if not (status.started or status.ended):
            return {}
        what = []
        if status.started:
            what.append(
                f"iniciaría contingencia por {Motive.SIAT_FAILURE.label} en {plural(len(status.started), 'punto de venta', 'puntos de venta')}"
            )
        if status.ended:
            what.append(f"finalizaría {plural(len(status.ended), 'evento', 'eventos')}")
        return {key: ("Política automática (simulación)", f"Simulación, nada se envió a cucu: la política {' y '.join(what)}.")}
    total = status.open_events + len(status.started)
    if not total:
        return {}
    return {
        key: (
            "Política automática: contingencia en curso",
            f"La política automática inició contingencia por {Motive.SIAT_FAILURE.label} en {plural(total, 'punto de venta', 'puntos de venta')}, "
            f"contados los que aún se verifican (en Bitácora, «{POLICY_ACTOR.name}»). Los finalizará cuando SIAT responda {settings.up_checks} comprobaciones seguidas.",
        )
    }
