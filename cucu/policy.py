"""The automatic contingency policy (``[policy]``, off unless configured).

When SIAT has been down for ``down_minutes``, start motive 2 (Falla SIAT) on every POS of the scope
that has no active event; when SIAT has answered ``up_checks`` checks in a row, end the events the
policy started and that are still open (never one a person started; one a person ended is gone).
Every call goes through the actions service with the actor "Política automática", so the audit log,
one open attempt per POS and the handling of uncertain outcomes all apply. It runs in the process
that holds the collector lease, after each check (cucu/alerts.py's loop), at most
``max_pos_per_run`` POS per round. In dry run it only says, through an alert, what it would do. A
supervisor can pause it from Estado (audited); the pause is in the database, for every process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cucu.actions import ActionError, Actions, Actor, can_act
from cucu.connectivity import ConnectivityCheck
from cucu.formatting import fmt_count, fmt_hour
from cucu.models import Inventory
from cucu.settings import PolicySettings
from cucu.store import Attempt, AuditFilter, PosStatus, Store
from cucu.uptime import ok_streak, siat_down_since
from cucu.vocabulary import ActionKind, AlertRule, Motive, Outcome, PolicyMode, PolicyState, Role

log = logging.getLogger(__name__)

POLICY_ACTOR = Actor(id="politica-automatica", name="Política automática", role=Role.SUPERVISOR)
HISTORY = timedelta(days=14)  # how far back the policy looks for the events it started


@dataclass(frozen=True)
class PolicyStatus:
    """Where the policy stands now, and what it did or would do in this round."""

    state: PolicyState
    sentence: str  # Spanish, for Estado and the alert
    mode: PolicyMode
    paused_by: str | None = None
    open_events: int = 0  # events the policy started that are still open
    started: Sequence[str] = field(default_factory=tuple)  # POS ids started (or, in dry run, to start) this round
    ended: Sequence[str] = field(default_factory=tuple)  # POS ids ended (or, in dry run, to end) this round


def scope_pos(inventory: Inventory, settings: PolicySettings) -> list[str]:
    """The POS the policy may act on: every POS, or those of the listed branches (names or ids)."""
    chosen = set(settings.branches)
    return [p.id for b in inventory.branches if not chosen or b.id in chosen or b.name in chosen for p in b.pos]


def policy_events(store: Store, since: datetime) -> dict[str, tuple[str, datetime]]:
    """POS id -> (event id, when) of the events the policy started since ``since`` (the latest per POS)."""
    started: dict[str, tuple[str, datetime]] = {}
    policy_starts = AuditFilter(since=since, actors=(POLICY_ACTOR.id,), actions=(ActionKind.START,), outcomes=(Outcome.OK,))
    for entry in store.audit_entries(policy_starts):  # the actor's index serves it
        if entry.event_id and (entry.pos_id not in started or entry.requested_at > started[entry.pos_id][1]):
            started[entry.pos_id] = (entry.event_id, entry.requested_at)
    return started


def evaluate(
    settings: PolicySettings,
    *,
    paused_by: str | None,
    checks: Sequence[ConnectivityCheck],
    statuses: Mapping[str, PosStatus],
    scope: Iterable[str],
    started: Mapping[str, tuple[str, datetime]],
    now: datetime,
) -> tuple[PolicyStatus, list[str], list[str]]:
    """The state, and the POS to start and to end now (before the cap), from what the store holds."""
    mode = settings.mode
    open_now = [
        pos_id
        for pos_id, (event_id, _) in started.items()
        if (s := statuses.get(pos_id)) is not None and s.event is not None and s.event.active and s.event.id == event_id
    ]
    if mode is PolicyMode.OFF:
        return PolicyStatus(PolicyState.OFF, "La política automática está apagada.", mode), [], []
    if paused_by is not None:
        sentence = f"En pausa por {paused_by}: no inicia ni finaliza nada hasta que se reanude."
        if open_now:
            sentence += f" {fmt_count(len(open_now))} evento(s) que inició siguen abiertos."
        return PolicyStatus(PolicyState.PAUSED, sentence, mode, paused_by, len(open_now)), [], []
    down_since = siat_down_since(checks)
    wait = timedelta(minutes=settings.down_minutes)
    if down_since is not None:
        act_at = down_since + wait
        if now < act_at:
            sentence = (
                f"SIAT no responde desde las {fmt_hour(down_since)}: iniciará contingencia a las {fmt_hour(act_at)} si sigue así."
            )
            return PolicyStatus(PolicyState.WAITING, sentence, mode, open_events=len(open_now)), [], []
        # Once per outage: a POS it already started in this outage is not started again (a person may have ended it).
        already = {pos_id for pos_id, (_, at) in started.items() if at >= down_since}
        to_start = [
            pos_id
            for pos_id in scope
            if pos_id not in already and not ((s := statuses.get(pos_id)) is not None and s.event is not None and s.event.active)
        ]
        sentence = f"SIAT no responde desde las {fmt_hour(down_since)}: {fmt_count(len(open_now))} punto(s) de venta en contingencia por la política."
        return PolicyStatus(PolicyState.ACTING, sentence, mode, open_events=len(open_now)), to_start, []
    if open_now:
        streak = ok_streak(checks)
        if streak < settings.up_checks:
            sentence = (
                f"SIAT responde de nuevo: finalizará los {fmt_count(len(open_now))} evento(s) que inició tras "
                f"{settings.up_checks} comprobaciones seguidas (van {streak})."
            )
            return PolicyStatus(PolicyState.WAITING, sentence, mode, open_events=len(open_now)), [], []
        sentence = f"SIAT responde: finaliza los {fmt_count(len(open_now))} evento(s) que inició."
        return PolicyStatus(PolicyState.ACTING, sentence, mode, open_events=len(open_now)), [], open_now
    sentence = (
        f"Armada: si SIAT no responde {settings.down_minutes:g} min, inicia contingencia por {Motive.FALLA_SIAT.label} "
        "en los puntos de venta sin evento."
    )
    return PolicyStatus(PolicyState.ARMED, sentence, mode), [], []


class Policy:
    """Runs the policy once per round of the lease holder (see cucu/alerts.py's loop)."""

    def __init__(self, store: Store, inventory: Inventory, actions: Actions, settings: PolicySettings) -> None:
        self.store = store
        self.inventory = inventory
        self.actions = actions
        self.settings = settings

    def status(self, now: datetime, checks: Sequence[ConnectivityCheck], statuses: Mapping[str, PosStatus]) -> PolicyStatus:
        status, _, _ = self._evaluate(now, checks, statuses)
        return status

    def _evaluate(
        self, now: datetime, checks: Sequence[ConnectivityCheck], statuses: Mapping[str, PosStatus]
    ) -> tuple[PolicyStatus, list[str], list[str]]:
        return evaluate(
            self.settings,
            paused_by=self.store.policy_paused_by(),
            checks=checks,
            statuses=statuses,
            scope=scope_pos(self.inventory, self.settings),
            started=policy_events(self.store, now - HISTORY),
            now=now,
        )

    def run_once(self, now: datetime, checks: Sequence[ConnectivityCheck], statuses: Mapping[str, PosStatus]) -> PolicyStatus:
        status, to_start, to_end = self._evaluate(now, checks, statuses)
        cap = self.settings.max_pos_per_run
        to_start, to_end = to_start[:cap], to_end[: max(0, cap - len(to_start))]
        if not (to_start or to_end):
            return status
        if self.settings.mode is PolicyMode.DRY_RUN:
            log.info("política (simulación): iniciaría %d, finalizaría %d puntos de venta", len(to_start), len(to_end))
            return PolicyStatus(
                status.state, status.sentence, status.mode, open_events=status.open_events, started=to_start, ended=to_end
            )
        started: list[str] = []
        ended: list[str] = []
        if to_start:
            down_since = siat_down_since(checks) or now
            description = f"SIAT no responde desde las {fmt_hour(down_since)}. Iniciado por la política automática del tablero."
            results = self.actions.start(POLICY_ACTOR, to_start, Motive.FALLA_SIAT, description)
            started = [r.pos.id for r in results if r.outcome in (Outcome.OK, Outcome.VERIFYING)]
            log.info("política: contingencia iniciada en %d de %d puntos de venta", len(started), len(to_start))
        if to_end:
            results = self.actions.end(POLICY_ACTOR, self.actions.end_targets(to_end))
            ended = [r.pos.id for r in results if r.outcome in (Outcome.OK, Outcome.VERIFYING)]
            log.info("política: %d de %d eventos finalizados", len(ended), len(to_end))
        return PolicyStatus(
            status.state, status.sentence, status.mode, open_events=status.open_events, started=started, ended=ended
        )


def set_paused(store: Store, actor: Actor, paused: bool, now: datetime) -> None:
    """A supervisor pauses or resumes the policy; audited (Bitácora: "Pausar política"). Raises
    ``ActionError`` for anyone else."""
    if not can_act(actor):
        raise ActionError("Solo un supervisor puede pausar o reanudar la política automática.")
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


def policy_condition(status: PolicyStatus | None, settings: PolicySettings) -> dict[str, tuple[str, str]]:
    """What the alerts say of the policy: key -> (title, body) while it has events open (or, in dry
    run, while it would act); nothing otherwise (an open incident then closes)."""
    if status is None or status.mode is PolicyMode.OFF:
        return {}
    key = AlertRule.POLICY.value
    if status.mode is PolicyMode.DRY_RUN:
        if not (status.started or status.ended):
            return {}
        what = []
        if status.started:
            what.append(
                f"iniciaría contingencia por {Motive.FALLA_SIAT.label} en {fmt_count(len(status.started))} punto(s) de venta"
            )
        if status.ended:
            what.append(f"finalizaría {fmt_count(len(status.ended))} evento(s)")
        return {key: ("Política automática (simulación)", f"Simulación, nada se envió a cucu: la política {' y '.join(what)}.")}
    total = status.open_events + len(status.started)
    if not total:
        return {}
    return {
        key: (
            "Política automática: contingencia en curso",
            f"La política automática inició contingencia por {Motive.FALLA_SIAT.label} en {fmt_count(total)} punto(s) de venta "
            f"(en Bitácora, «{POLICY_ACTOR.name}»). Los finalizará cuando SIAT responda {settings.up_checks} comprobaciones seguidas.",
        )
    }
