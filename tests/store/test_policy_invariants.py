"""The automatic policy's invariants, over random sequences of what can happen (Hypothesis stateful).

Steps: SIAT up, down or unknown to cucu; cucu answering 5xx, 401, 429, timeouts or late writes on
any route; a person's starts and ends; pause and resume; maintenance windows scheduled and cancelled
(the whole company or a branch, holding "SIAT no responde" or not) under either ``[policy].maintenance``;
the clock stepping either way; a second process taking the lease; sweeps; policy rounds. After every
step, whatever the sequence:

- no start without cucu having said SIAT is down for ``down_minutes``, except, with ``maintenance =
  "start"``, on a POS that SIAT's announced maintenance (a running window over the whole company that
  holds "SIAT no responde") covers, and then not while cucu's latest answer was none;
- no start and no end on a POS a running window covers, but for that exception;
- at most one open attempt per POS;
- never more starts than the caps (per outage, per hour, per POS per day);
- never an end of an event the policy did not start.

The real chain runs (simulator over HTTP, client, collector, actions, store), on each backend, on a
clock the machine moves (the store's clock stands in for the database's).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from cucu.alerts import CHECK_HISTORY
from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.connectivity.rules import DOWN_AFTER, checks_for_rules
from cucu.events.actions import Actions, Actor
from cucu.events.maintenance import cancel, schedule
from cucu.events.policy import POLICY_ACTOR, STARTED, Policy, set_paused
from cucu.lapaz import now_la_paz
from cucu.settings import load_policy
from cucu.simulator import DEFAULT_API_KEY
from cucu.store import AuditFilter, Store
from cucu.vocabulary import OPEN_OUTCOMES, ActionKind, AlertRule, Motive, Role

ROUTES = (
    "GET /api/v1/events/check-connection",
    "GET /api/v1/events/active/{posId}",
    "POST /api/v1/events/start",
    "POST /api/v1/events/end",
)
FAULTS: dict[str, dict[str, object]] = {
    "5xx": {"error_rate": 1.0},
    "401": {"reject_key": True},
    "429": {"rate_limit_rate": 1.0, "retry_after_s": 0},
    "timeout": {"timeout_rate": 1.0, "hang_s": 0.3},
    "late write": {"timeout_rate": 1.0, "hang_s": 0.3, "hang_after_commit": True},
}
CLEAR: dict[str, object] = {
    "error_rate": 0.0,
    "reject_key": False,
    "rate_limit_rate": 0.0,
    "timeout_rate": 0.0,
    "hang_after_commit": False,
    "fault_routes": [],
}
POLICY = {
    "mode": "on",
    "down_minutes": 2,
    "up_checks": 2,
    "max_pos_per_run": 6,
    "max_starts_per_outage": 9,
    "max_starts_per_hour": 12,
    "max_starts_per_pos_per_day": 2,
    "backoff_minutes": 1,
    "refusals_to_halt": 4,
    "rearm_minutes": 3,
    "cooldown_minutes": 4,
}
PERSON = Actor("ana@empresa.bo", "Ana", Role.SUPERVISOR)


class Clock:
    def __init__(self) -> None:
        self.at = now_la_paz().replace(microsecond=0)

    def __call__(self):
        return self.at


class Process:
    """One dashboard process: its own store connection, client, collector, actions and policy."""

    def __init__(self, db: str, clock: Clock, sim, base_url: str, maintenance: str) -> None:
        self.store = Store(db, clock=clock)
        self.client = CucuClient(base_url, DEFAULT_API_KEY, timeout=0.2, max_retries=0, sleep=lambda s: None)
        self.collector = Collector(self.client, self.store, sim.inventory, concurrency=8, clock=self.store.now)
        self.actions = Actions(self.client, self.store, sim.inventory, concurrency=8, settle_window_s=0, clock=self.store.now)
        settings = load_policy(POLICY | {"maintenance": maintenance}, {})
        self.policy = Policy(self.store, sim.inventory, self.actions, settings)

    def close(self) -> None:
        self.actions.close()
        self.collector.stop()
        self.client.close()
        self.store.close()


@dataclass
class Window:
    """The test's own record of a window it scheduled (not the rule under test's reading of it)."""

    id: int
    starts_at: datetime
    ends_at: datetime
    branch_id: str | None  # None: the whole company
    holds_siat_down: bool
    cancelled: bool = False

    def covers(self, pos_branch: str, at: datetime) -> bool:
        return not self.cancelled and self.starts_at <= at < self.ends_at and self.branch_id in (None, pos_branch)


def machine(sim_server, new_db):
    sim = sim_server.simulator
    cap = load_policy(POLICY, {})

    class PolicyMachine(RuleBasedStateMachine):
        @initialize(maintenance=st.sampled_from(["nothing", "start"]))
        def start(self, maintenance: str) -> None:
            sim.reset()
            self.clock = Clock()
            db = new_db()
            self.maintenance = maintenance
            self.windows: list[Window] = []
            self.branch_of = {p.id: p.branch_id for p in sim.inventory.all_pos}
            self.processes = [Process(db, self.clock, sim, sim_server.base_url, maintenance) for _ in range(2)]
            self.leader = 0
            self.store = self.processes[0].store
            self.pos_ids = [p.id for p in sim.inventory.all_pos]
            self.processes[0].collector.sweep_once()
            self.said: list[tuple[datetime, bool | None]] = []

        def teardown(self) -> None:
            for process in getattr(self, "processes", []):
                process.close()
            sim.update_faults(CLEAR | {"siat_down": False})

        @property
        def here(self) -> Process:
            return self.processes[self.leader]

        # ---- the world ----

        @rule(siat=st.sampled_from(["up", "down", "unknown"]), checks=st.integers(1, 10))
        def siat_says(self, siat: str, checks: int) -> None:
            route = "GET /api/v1/events/check-connection"
            saved = sim.faults
            sim.update_faults({"siat_down": siat == "down"})
            if siat == "unknown":
                sim.update_faults(CLEAR | {"error_rate": 1.0, "fault_routes": [route]})
            for _ in range(checks):
                self.clock.at += timedelta(seconds=30)
                check = self.here.collector.check_once()
                self.said.append((check.checked_at, check.siat_ok))  # the test's own record of what cucu said
                self.policy_round()
            if siat == "unknown":
                sim.update_faults({k: getattr(saved, k) for k in CLEAR} | {"fault_routes": list(saved.fault_routes)})

        @rule(kind=st.sampled_from(sorted(FAULTS)), route=st.sampled_from(ROUTES))
        def cucu_fails(self, kind: str, route: str) -> None:
            sim.update_faults(CLEAR | FAULTS[kind] | {"fault_routes": [route]})

        @rule()
        def cucu_heals(self) -> None:
            sim.update_faults(CLEAR)

        @rule(i=st.integers(0, 15))
        def person_starts(self, i: int) -> None:
            pos = self.pos_ids[i % len(self.pos_ids)]
            if not self.here.actions.plan_start([pos]).skipped:
                self.here.actions.start(PERSON, [pos], Motive.INTERNET_OUTAGE, "Corte de internet en la sucursal")

        @rule(i=st.integers(0, 15))
        def person_ends(self, i: int) -> None:
            targets = self.here.actions.end_targets([self.pos_ids[i % len(self.pos_ids)]])
            if targets:
                self.here.actions.end(PERSON, targets)

        @rule(paused=st.booleans())
        def pause_or_resume(self, paused: bool) -> None:
            set_paused(self.store, PERSON, paused, self.store.now())

        @rule(
            start=st.integers(-5, 5),  # near now: a window that runs while the rest of the sequence happens
            length=st.integers(5, 60),
            branch=st.sampled_from([None, 0, 1]),
            siat=st.booleans(),
        )
        def schedule_a_window(self, start: int, length: int, branch: int | None, siat: bool) -> None:
            now = self.store.now()
            starts_at, ends_at = now + timedelta(minutes=start), now + timedelta(minutes=start + length)
            if ends_at <= now:
                return
            branch_id = None if branch is None else sim.inventory.branches[branch].id
            rules = [AlertRule.SIAT_DOWN] if siat else [AlertRule.LONG_OPEN]
            window_id = schedule(
                self.store, PERSON, sim.inventory, starts_at=starts_at, ends_at=ends_at,
                branch_ids=[] if branch_id is None else [branch_id], silenced=rules, reason="Mantenimiento", now=now,
            )  # fmt: skip
            self.windows.append(Window(window_id, starts_at, ends_at, branch_id, siat))

        @rule(i=st.integers(0, 5))
        def cancel_a_window(self, i: int) -> None:
            now = self.store.now()
            live = [w for w in self.windows if not w.cancelled and w.ends_at > now]
            if live:
                window = live[i % len(live)]
                cancel(self.store, PERSON, sim.inventory, window.id, now)
                window.cancelled = True

        @rule(minutes=st.integers(-30, 30))
        def clock_steps(self, minutes: int) -> None:
            self.clock.at += timedelta(minutes=minutes)

        @rule()
        def other_process_takes_the_lease(self) -> None:
            self.leader = 1 - self.leader

        @rule()
        def sweep(self) -> None:
            self.here.collector.sweep_once()

        @rule()
        def policy_round(self) -> None:
            checks = checks_for_rules(self.store.recent_checks, self.store.checks_before, CHECK_HISTORY)  # as the loop
            before = {e.id for e in self._policy_rows()}
            now = self.store.now()
            self.here.policy.run_once(now, checks, self.store.pos_statuses())
            new = [e for e in self._policy_rows() if e.id not in before]
            on_cucus_word = []
            for entry in new:
                covering = [w for w in self.windows if w.covers(self.branch_of[entry.pos_id], now)]
                announced = self.maintenance == "start" and any(w.branch_id is None and w.holds_siat_down for w in covering)
                if entry.action == ActionKind.START and announced:
                    answers = [ok for _, ok in self.said]
                    assert not answers or answers[-1] is not None, "a window's start while cucu did not answer"
                    continue
                assert not covering, f"the policy acted ({entry.action}) on a POS a running window holds"
                if entry.action == ActionKind.START:
                    on_cucus_word.append(entry)
            if on_cucus_word:
                self._cucu_said_down_long_enough(min(e.requested_at for e in on_cucus_word))

        def _cucu_said_down_long_enough(self, at: datetime) -> None:
            """No start without cucu having said SIAT is down for down_minutes, read from the test's own
            record (not the rule under test): the latest answer said down, and the first "down" of the run
            (since the last "SIAT responds", or the last DOWN_AFTER checks in a row without an answer: what
            SIAT was before cucu went silent is not what it is after) is at least down_minutes old."""
            answers = [ok for _, ok in self.said if ok is not None]
            assert answers and answers[-1] is False, "a start while cucu's latest answer was not 'SIAT down'"
            first_down, silent = None, 0
            for when, ok in self.said:
                if ok is None:
                    silent += 1
                    if silent >= DOWN_AFTER:
                        first_down = None
                    continue
                silent = 0
                if ok:
                    first_down = None
                elif first_down is None:
                    first_down = when
            assert first_down is not None and at - first_down >= timedelta(minutes=cap.down_minutes), (
                "a start before down_minutes had passed"
            )

        # ---- invariants ----

        def _policy_starts(self):
            return self.store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,), actions=(ActionKind.START,)))

        def _policy_rows(self):
            return self.store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,), actions=(ActionKind.START, ActionKind.END)))

        @invariant()
        def one_open_attempt_per_pos(self) -> None:
            if not hasattr(self, "store"):
                return
            open_pos = [e.pos_id for o in OPEN_OUTCOMES for e in self.store.open_attempts(o)]
            assert len(open_pos) == len(set(open_pos))

        @invariant()
        def never_more_than_the_caps(self) -> None:
            if not hasattr(self, "store"):
                return
            sent = [e for e in self._policy_starts() if e.outcome not in ("omitido", "duplicado", "denegado")]
            per_pos: dict[str, int] = {}
            for e in sent:
                per_pos[e.pos_id] = per_pos.get(e.pos_id, 0) + 1
                in_hour = sum(1 for o in sent if e.requested_at - timedelta(hours=1) < o.requested_at <= e.requested_at)
                assert in_hour <= cap.max_starts_per_hour
            # The clock may step back, so "a day" and "an outage" are bounded by the whole run here.
            assert all(n <= cap.max_starts_per_pos_per_day for n in per_pos.values())

        @invariant()
        def never_ends_an_event_it_did_not_start(self) -> None:
            if not hasattr(self, "store"):
                return
            started = {e.event_id for e in self._policy_starts() if e.outcome in STARTED and e.event_id}
            ends = self.store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,), actions=(ActionKind.END,)))
            assert all(e.event_id in started for e in ends), "the policy ended an event it did not start"

    return PolicyMachine


@pytest.fixture
def new_db(db, request, tmp_path):
    """A fresh database on the test's backend for each example."""
    if "://" not in db:
        return lambda: str(Path(tmp_path) / f"{uuid.uuid4().hex}.db")
    from tests.support.postgres import fresh_database

    server = request.getfixturevalue("postgres_server")
    return lambda: fresh_database(server)


def test_the_policy_invariants_hold_under_any_sequence(sim_server, new_db):
    run_state_machine_as_test(
        machine(sim_server, new_db),
        settings=settings(
            max_examples=10,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
