"""The automatic policy never acts on a false signal, never storms, never flaps, ends only what it
started, and reads one clock (issue "Never act on a false signal", items 1 and 2).

Each test drives the real chain (simulator over HTTP, client, collector, actions service, store on
both backends) on a clock the test moves: the store's clock stands in for the database's, and every
component reads it, as ``cucu.runtime`` wires them.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from cucu.alerts import CHECK_HISTORY
from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.rules import checks_for_rules, siat_rollup
from cucu.events.actions import Actions, Actor, settled_by
from cucu.events.policy import HALTED_KEY, POLICY_ACTOR, Policy, policy_condition, set_paused
from cucu.formatting import fmt_hour
from cucu.lapaz import now_la_paz
from cucu.settings import load_policy
from cucu.simulator import DEFAULT_API_KEY
from cucu.store import AuditFilter, Store
from cucu.vocabulary import ActionKind, Outcome, PolicyState, Role

START = "POST /api/v1/events/start"
END = "POST /api/v1/events/end"
CHECK = "GET /api/v1/events/check-connection"
SUPERVISOR = Actor("ana@empresa.bo", "Ana", Role.SUPERVISOR)


class Clock:
    """The database's clock, moved by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclasses.dataclass
class World:
    sim: object
    store: Store
    clock: Clock
    collector: Collector
    actions: Actions

    def policy(self, **section: object) -> Policy:
        settings = load_policy({"mode": "on", "down_minutes": 5, "up_checks": 3, **section}, {})
        return Policy(self.store, self.sim.inventory, self.actions, settings)  # type: ignore[attr-defined]

    def checks(self, states: str, pol: Policy | None = None, *, every: float = 30) -> list:
        """One scheduled check per character (``x`` SIAT down, ``.`` up, ``?`` cucu gave no answer),
        ``every`` seconds apart; the policy runs after each, as the lease holder's loop does."""
        done = []
        for state in states:
            self.clock.advance(seconds=every)
            ok = {"x": False, ".": True, "?": None}[state]
            self.store.add_check(ConnectivityCheck(self.store.now(), ok, error="sin respuesta" if ok is None else None))
            if pol is not None:
                done.append(self.run(pol))
        return done

    def run(self, pol: Policy):
        checks = checks_for_rules(self.store.recent_checks, self.store.checks_before, CHECK_HISTORY)  # as the alerts' loop
        return pol.run_once(self.store.now(), checks, self.store.pos_statuses())

    def calls(self, route: str) -> int:
        return self.sim.stats()["by_route"].get(route, 0)  # type: ignore[attr-defined]

    def policy_rows(self, action: ActionKind = ActionKind.START) -> list:
        return self.store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,), actions=(action,)))

    def idle(self) -> set[str]:
        return {p.id for p in self.sim.inventory.all_pos} - self.active()  # type: ignore[attr-defined]

    def active(self) -> set[str]:
        return {e["posId"] for e in self.sim.events() if not e["finalizado"]}  # type: ignore[attr-defined]


@pytest.fixture
def world(sim, sim_server, db):
    clock = Clock(now_la_paz().replace(microsecond=0))  # near the simulator's own clock, moved by hand
    client = CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=2, sleep=lambda s: None)
    store = Store(db, clock=clock)
    collector = Collector(client, store, sim.inventory, concurrency=8, clock=store.now)
    collector.sweep_once()
    # No background verification: what stays "En verificación" is the collector's to settle.
    actions = Actions(client, store, sim.inventory, concurrency=8, settle_window_s=0, clock=store.now)
    sim.reset_stats()
    yield World(sim, store, clock, collector, actions)
    actions.close()
    collector.stop()
    client.close()
    store.close()


# ---- 1. only what SIAT said ------------------------------------------------------------------


def test_cucu_answering_5xx_to_check_connection_starts_nothing(world):
    """Seen: with only check-connection answering 5xx, the policy started motive 2 on all 16 POS."""
    pol = world.policy()
    world.sim.update_faults({"error_rate": 1.0, "fault_routes": [CHECK]})
    for _ in range(30):  # 15 minutes of checks that got no answer from cucu
        world.clock.advance(seconds=30)
        world.collector.check_once()
        status = world.run(pol)
    assert world.calls(START) == 0 and not world.policy_rows()
    assert status.state is PolicyState.WAITING and "Sin respuesta de cucu" in status.sentence
    rollup = siat_rollup(world.store.recent_checks(20), world.store.now())
    assert rollup.word == "cucu no responde" and rollup.down_since is None  # never "Caído"


def test_hostile_answers_start_nothing(world):
    """Seen: under the simulator's --hostile-rate 0.3 the policy started 14 POS."""
    pol = world.policy()
    world.sim.update_faults({"hostile_rate": 0.3})
    for _ in range(40):
        world.clock.advance(seconds=30)
        world.collector.check_once()
        world.run(pol)
    assert world.calls(START) == 0 and not world.policy_rows()


def test_it_starts_once_cucu_said_down_for_down_minutes(world):
    pol = world.policy()
    idle = world.idle()
    statuses = world.checks("x" * 10, pol)  # 4 min 30 s after the first "down"
    assert {s.state for s in statuses} == {PolicyState.ARMED, PolicyState.WAITING} and world.calls(START) == 0
    (acted,) = world.checks("x", pol)
    assert set(acted.started) == idle and world.calls(START) == len(idle)


# ---- no retry storms --------------------------------------------------------------------------


def test_refused_starts_are_not_retried_every_round_and_halt_it_with_an_alert(world):
    """Seen: 160 calls and 160 audit rows in 10 rounds for 16 POS."""
    pol = world.policy(refusals_to_halt=5)
    batch = world.actions.concurrency  # 8: the pause, the lease and the halt are read between batches
    world.sim.update_faults({"reject_key": True, "fault_routes": [START]})
    idle = world.idle()
    assert len(idle) > batch
    statuses = world.checks("x" * 21, pol)  # 10 rounds once down for 5 min
    assert world.calls(START) == batch and len(world.policy_rows()) == batch  # one batch, then halted
    halted = statuses[-1]
    assert halted.state is PolicyState.HALTED and halted.refusals == batch
    assert HALTED_KEY in policy_condition(halted, pol.settings)
    # SIAT comes back and goes down again: still halted, until a person resumes it.
    world.checks("." * 4 + "x" * 12, pol)
    assert world.calls(START) == batch and world.run(pol).state is PolicyState.HALTED
    # A supervisor resumes it (audited): one more batch (their backoff is over), refused again, halts again.
    set_paused(world.store, SUPERVISOR, False, world.store.now())
    world.checks("x", pol)
    assert world.calls(START) == 2 * batch and world.run(pol).state is PolicyState.HALTED
    # cucu accepts again and a supervisor resumes: the POS never tried go at once; those refused twice
    # wait their doubled backoff (4 min) first.
    world.sim.update_faults({"reject_key": False})
    set_paused(world.store, SUPERVISOR, False, world.store.now())
    world.checks("x", pol)
    assert world.calls(START) == 2 * batch + (len(idle) - batch)
    world.checks("x" * 6, pol)
    assert world.calls(START) == 2 * batch + (len(idle) - batch)
    world.checks("x", pol)
    assert world.calls(START) == 2 * batch + len(idle) and world.active() >= idle


def test_refusals_halt_it_between_the_batches_of_one_round(world):
    pol = world.policy(refusals_to_halt=5)
    world.actions.concurrency = 2
    world.sim.update_faults({"reject_key": True, "fault_routes": [START]})
    world.checks("x" * 11, pol)
    assert world.calls(START) == 6  # three batches of two: the fifth refusal halts it before the fourth


def test_a_start_left_in_verification_is_not_sent_again_nor_written_duplicate(world):
    """Seen: a start staying "En verificación" was sent again every round (1 024 "Duplicado" rows)."""
    pol = world.policy()
    world.sim.update_faults({"error_rate": 1.0, "fault_routes": [START]})
    idle = world.idle()
    statuses = world.checks("x" * 30, pol)
    assert world.calls(START) == len(idle)
    rows = world.policy_rows()
    assert len(rows) == len(idle) and {r.outcome for r in rows} == {Outcome.VERIFYING}
    assert not world.store.audit_entries(AuditFilter(outcomes=(Outcome.DUPLICATE,)))
    # Its starts still in verification are its open events: nothing says "sin eventos abiertos".
    assert statuses[-1].open_events == len(idle)
    assert policy_condition(statuses[-1], pol.settings)


def test_the_caps_per_outage_and_per_hour_hold(world):
    pol = world.policy(max_starts_per_outage=3, max_starts_per_hour=5)
    world.checks("x" * 40, pol)
    assert world.calls(START) == 3 and "límite" in world.run(pol).sentence


def test_the_hourly_cap_spans_outages(world):
    pol = world.policy(max_starts_per_hour=4, max_pos_per_run=2, rearm_minutes=0, cooldown_minutes=0)
    world.checks("x" * 14, pol)
    assert world.calls(START) == 4


# ---- a flapping SIAT --------------------------------------------------------------------------


def test_a_flapping_siat_starts_and_ends_once(world):
    """Seen: 4 cycles of down and up gave 64 starts and 64 ends for 16 POS in 32 minutes."""
    pol = world.policy(rearm_minutes=15)
    idle = world.idle()
    for _ in range(4):
        world.checks("x" * 12 + "." * 4, pol)  # 6 min down, 2 min up (the policy ends after 3)
    assert world.calls(START) == len(idle) and world.calls(END) == len(idle)
    assert world.idle() == idle  # everything it started was ended, nothing else
    world.checks("." * 40, pol)  # 20 minutes stable: armed again
    world.checks("x" * 12, pol)
    assert world.calls(START) == 2 * len(idle)


def test_a_pos_a_person_ended_is_not_started_again_within_the_cooldown(world):
    pol = world.policy(rearm_minutes=0, cooldown_minutes=30)
    world.checks("x" * 11, pol)
    world.collector.sweep_once()
    mine = {r.pos_id: r.event_id for r in world.policy_rows()}
    by_hand = sorted(mine)[0]
    world.actions.end(SUPERVISOR, world.actions.end_targets([by_hand]))
    world.checks("x" * 4, pol)  # same outage
    world.checks("." * 4, pol)  # back: the policy ends the rest
    world.checks("x" * 12, pol)  # a new outage, within the cooldown of every end
    assert world.calls(START) == len(mine)
    world.clock.advance(minutes=31)
    world.checks("." * 2 + "x" * 12, pol)
    assert by_hand in {r.pos_id for r in world.policy_rows() if r.requested_at > world.clock.at - timedelta(minutes=10)}


def test_at_most_max_starts_per_pos_per_day(world):
    pol = world.policy(rearm_minutes=0, cooldown_minutes=0, max_starts_per_pos_per_day=2)
    idle = world.idle()
    for _ in range(4):
        world.checks("x" * 11 + "." * 4, pol)
    assert world.calls(START) == 2 * len(idle)


# ---- nobody steers it with a click -------------------------------------------------------------


def test_checks_asked_for_by_people_count_for_no_rule_and_are_throttled(world):
    """Seen: 3 clicks on "Comprobar ahora" in 0.1 s ended all of the policy's events."""
    pol = world.policy()
    world.checks("x" * 11, pol)
    started = {r.pos_id for r in world.policy_rows()}
    assert started
    world.sim.update_faults({"siat_down": False})
    for _ in range(3):
        check = world.collector.check_on_request()
    assert check.on_request and world.calls(CHECK) == 1  # one call to cucu for three clicks
    status = world.run(pol)
    assert not status.ended and world.calls(END) == 0 and started <= world.active()
    assert siat_rollup(world.store.recent_checks(20), world.store.now()).word == "Caído"


# ---- it ends only what it started, by the ids it recorded ------------------------------------------


def test_it_ends_only_the_events_it_recorded(world):
    pol = world.policy()
    people = world.active()
    world.checks("x" * 11, pol)
    world.collector.sweep_once()
    world.checks("." * 3, pol)
    ended = world.store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,), actions=(ActionKind.END,)))
    recorded = {r.pos_id: r.event_id for r in world.policy_rows()}
    assert {(e.pos_id, e.event_id) for e in ended} == set(recorded.items())
    assert world.active() == people


# ---- the pause between batches ------------------------------------------------------------------


def test_a_pause_during_a_round_stops_the_next_batches(world):
    pol = world.policy()
    world.actions.concurrency = 2
    sent = []
    original = world.actions.start

    def start_then_pause(actor, pos_ids, motive, description):
        sent.append(list(pos_ids))
        results = original(actor, pos_ids, motive, description)
        set_paused(world.store, SUPERVISOR, True, world.store.now())  # a supervisor clicks "Pausar" meanwhile
        return results

    world.actions.start = start_then_pause
    world.checks("x" * 11, pol)
    assert len(sent) == 1 and world.calls(START) == 2


# ---- 2. one clock -------------------------------------------------------------------------------


def test_a_clock_stepped_back_does_not_reorder_checks(world):
    """Seen: the clock stepped back 30 min left Estado "Caído" after 10 good checks, and the policy
    never ended its events."""
    pol = world.policy()
    world.checks("x" * 11, pol)
    world.collector.sweep_once()
    mine = {r.pos_id for r in world.policy_rows()}
    world.clock.advance(minutes=-30)
    statuses = world.checks("." * 10, pol)
    assert siat_rollup(world.store.recent_checks(20), world.store.now()).word == "Operativo"
    assert set(statuses[2].ended) == mine and not (mine & world.active())


def test_a_process_whose_clock_runs_ahead_stamps_and_compares_with_the_database_clock(clean_env, tmp_path, monkeypatch):
    """Seen: a process 10 min ahead took the lease and acted after 3 checks instead of 5 minutes, and a
    database 10 min behind restarted an event a supervisor ended. The runtime wires the database's clock
    into every component, so this process's own clock is read by none of them."""
    import cucu.lapaz as lapaz
    from cucu.runtime import build_runtime
    from cucu.settings import load_settings

    class Ahead(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(minutes=10)

    monkeypatch.setattr(lapaz, "datetime", Ahead)  # what this process's clock says
    assert lapaz.now_la_paz() - datetime.now(lapaz.LA_PAZ) > timedelta(minutes=9)
    runtime = build_runtime(load_settings({"db": str(tmp_path / "c.db")}, {}), start_collector=False)
    try:
        store = runtime.store
        assert runtime.collector.clock == store.now and runtime.actions.clock == store.now
        assert runtime.alerter.clock == store.now
        check = runtime.collector.check_once()
        assert abs(check.checked_at - store.db_now()) < timedelta(minutes=1)  # not 10 min ahead
        result = runtime.actions.start(SUPERVISOR, [runtime.inventory.all_pos[0].id], 1, "Corte de internet")[0]
        assert result.audit_id is not None
        row = store.audit_rows([result.audit_id])[result.audit_id]
        assert abs(row.requested_at - store.db_now()) < timedelta(minutes=1)
    finally:
        runtime.close()


def test_a_database_behind_this_process_does_not_restart_an_event_a_supervisor_ended(clean_env, tmp_path, monkeypatch):
    """Seen: with the database 10 min behind the process, the policy's start (stamped by the database)
    looked older than the outage (stamped by the process), so an event a supervisor ended was started
    again. Through the runtime's own wiring and the lease holder's loop, with this process 10 min ahead."""
    import cucu.lapaz as lapaz
    from cucu.runtime import build_runtime
    from cucu.settings import load_settings

    class Ahead(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(minutes=10)

    monkeypatch.setattr(lapaz, "datetime", Ahead)
    settings = load_settings({"db": str(tmp_path / "c.db")}, {}, policy={"mode": "on", "down_minutes": 1, "cooldown_minutes": 0})
    runtime = build_runtime(settings, start_collector=False)
    try:
        store, alerter = runtime.store, runtime.alerter
        assert runtime.collector.lead()  # this process holds the lease, as the lease holder's loop does
        alerter.leading = lambda: True
        runtime.collector.sweep_once()
        for i in range(4):  # cucu said "SIAT does not respond" over the last 2 minutes (the database's)
            store.add_check(ConnectivityCheck(store.now() - timedelta(seconds=120 - 30 * i), False))
        alerter.run_once()
        started = {e.pos_id: e.event_id for e in store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,)))}
        assert started and all(started.values())
        by_hand = sorted(started)[0]
        runtime.actions.end(SUPERVISOR, runtime.actions.end_targets([by_hand]))
        store.add_check(ConnectivityCheck(store.now(), False))
        alerter.run_once()
        again = store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,), actions=(ActionKind.START,)))
        assert [e.pos_id for e in again].count(by_hand) == 1  # not started again
    finally:
        runtime.close()


# ---- what the review found -------------------------------------------------------------------------


def test_an_outage_longer_than_the_checks_read_keeps_its_start(world):
    """An outage of 2 h 30 min outlasts the 240 checks a round reads: it is still one outage, so a
    POS a person ended in it is not started again once the cooldown has passed, and its start stays."""
    pol = world.policy(cooldown_minutes=30)
    world.checks("x" * 11, pol)
    first = world.store.checks_before(10**9, 11)[0].checked_at
    world.collector.sweep_once()
    by_hand = sorted(r.pos_id for r in world.policy_rows())[0]
    world.actions.end(SUPERVISOR, world.actions.end_targets([by_hand]))
    world.checks("x" * 300)  # 2 h 30 min more, no "SIAT responde" in between
    world.collector.sweep_once()
    status = world.run(pol)
    assert by_hand not in status.started and world.calls(START) == len(world.policy_rows())
    assert fmt_hour(first) in status.sentence


def test_a_silent_cucu_ends_what_cucu_said_before(world):
    """Down, then an hour with no answer from cucu, then down again: a new run, not an hour-old one."""
    pol = world.policy()
    world.checks("xx" + "?" * 120 + "xxx", pol)
    assert world.calls(START) == 0


def test_a_start_given_up_unconfirmed_is_settled_when_its_event_shows_up(world, monkeypatch):
    monkeypatch.setattr(world.sim, "_now", world.clock)  # cucu's clock follows the test's
    pol = world.policy()
    world.sim.update_faults({"error_rate": 1.0, "fault_routes": [START]})
    world.checks("x" * 11, pol)
    rows = world.policy_rows()
    assert rows and {r.outcome for r in rows} == {Outcome.VERIFYING}
    world.clock.advance(minutes=11)
    world.collector.sweep_once()  # ages them: "Sin confirmar"
    assert {r.outcome for r in world.policy_rows()} == {Outcome.UNCERTAIN}
    late = rows[0]  # its write landed late after all
    pos = world.sim.inventory.pos(late.pos_id)
    world.sim.start_event({"posId": pos.id, "branchId": pos.branch_id, "codigoMotivo": 2, "descripcion": "tarde"})
    world.collector.sweep_once()
    settled = {r.pos_id: r for r in world.policy_rows()}[late.pos_id]
    assert settled.outcome is Outcome.OK and settled.event_id
    assert world.run(pol).open_events == 1


def test_an_event_of_another_motive_is_not_credited_to_a_start():
    from cucu.api.models import Event

    at = now_la_paz()
    event = Event.from_api(
        {"id": "e1", "posId": "p", "codigoMotivo": 1, "fechaInicio": at.strftime("%Y-%m-%dT%H:%M:%S"), "finalizado": False}
    )
    assert settled_by(ActionKind.START, event, requested_at=at, event_id=None, motive=1)
    assert not settled_by(ActionKind.START, event, requested_at=at, event_id=None, motive=2)


def test_a_process_that_lost_the_lease_mid_round_sends_no_more_batches(world):
    held = [True]
    pol = world.policy()
    pol.leading = lambda: held[0]
    world.actions.concurrency = 2
    original = world.actions.start

    def start_then_lose_the_lease(actor, pos_ids, motive, description):
        results = original(actor, pos_ids, motive, description)
        held[0] = False  # another process took the lease meanwhile
        return results

    world.actions.start = start_then_lose_the_lease
    world.checks("x" * 11, pol)
    assert world.calls(START) == 2


def test_the_database_clock_never_raises_while_the_database_fails(db, monkeypatch):
    store = Store(db)
    before = store.now()
    base = store._clock_base
    assert base is not None
    store._clock_base = (base[0], base[1] - 60)  # due for a new reading

    def failing():
        raise RuntimeError("la base de datos no responde")

    monkeypatch.setattr(store, "db_now", failing)
    later = store.now()  # the last reading carried on
    assert timedelta(seconds=59) <= later - before <= timedelta(minutes=5)
    store.close()
