"""The automatic contingency policy against the simulator: it starts exactly the POS without an event
after SIAT is down long enough, ends exactly its own events after SIAT is back, never touches a
person's, acts once per outage, dry run writes nothing, the pause holds, the cap holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cucu.alerts import Alerter
from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.connectivity.checks import ConnectivityCheck
from cucu.events.actions import ActionError, Actions, Actor
from cucu.events.policy import POLICY_ACTOR, Policy, policy_condition, set_paused
from cucu.lapaz import now_la_paz
from cucu.settings import AlertSettings, load_policy
from cucu.simulator import DEFAULT_API_KEY
from cucu.store import AuditFilter, Store
from cucu.vocabulary import ActionKind, AlertRule, Outcome, PolicyState, Role
from tests.support.waiting import wait_until

WRITES = ("POST /api/v1/events/start", "POST /api/v1/events/end")
SUPERVISOR = Actor("ana@empresa.bo", "Ana", Role.SUPERVISOR)


@pytest.fixture
def env(sim, sim_server, db):
    client = CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=2, sleep=lambda s: None)
    store = Store(db)
    collector = Collector(client, store, sim.inventory, concurrency=8)
    collector.sweep_once()
    actions = Actions(client, store, sim.inventory, concurrency=8, settle_window_s=3)
    yield sim, store, collector, actions
    actions.close()
    collector.stop()
    client.close()
    store.close()


def policy(env, **section):
    sim, store, _, actions = env
    return Policy(store, sim.inventory, actions, load_policy({"mode": "on", **section}, {}))


def down_for(minutes, now, *, back=0):
    """Checks every 30 s: SIAT failing for ``minutes``, then answering ``back`` times."""
    start = now - timedelta(minutes=minutes) - timedelta(seconds=30 * back)
    failed = [ConnectivityCheck(start + timedelta(seconds=30 * i), False) for i in range(int(minutes * 2) + 1)]
    ok = [ConnectivityCheck(failed[-1].checked_at + timedelta(seconds=30 * (i + 1)), True) for i in range(back)]
    return [ConnectivityCheck(start - timedelta(seconds=30), True), *failed, *ok]


def active(sim):
    return {e["posId"]: e["id"] for e in sim.events() if not e["finalizado"]}


def writes(sim):
    return sum(sim.stats()["by_route"].get(route, 0) for route in WRITES)


def run(env, pol, checks, now=None):
    store = env[1]
    return pol.run_once(now or now_la_paz(), checks, store.pos_statuses())


def test_down_long_enough_starts_exactly_the_pos_without_an_event_and_back_ends_exactly_its_own(env):
    sim, store, collector, _ = env
    pol = policy(env, down_minutes=5, up_checks=3)
    people = active(sim)  # events people started: the policy never touches them
    assert people and len(people) < len(sim.inventory.all_pos)
    now = now_la_paz()

    waiting = run(env, pol, down_for(3, now), now)
    assert waiting.state is PolicyState.WAITING and not waiting.started and writes(sim) == 0

    acted = run(env, pol, down_for(6, now), now)
    idle = {p.id for p in sim.inventory.all_pos} - set(people)
    assert acted.state is PolicyState.ACTING and set(acted.started) == idle
    now_active = active(sim)
    assert set(now_active) == {p.id for p in sim.inventory.all_pos}
    assert all(now_active[pos] == event for pos, event in people.items())  # theirs unchanged
    entries = store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,)))
    assert {e.pos_id for e in entries} == idle and {e.actor_name for e in entries} == {"Política automática"}
    assert all("política automática" in (e.description or "") for e in entries)

    collector.sweep_once()
    assert not run(env, pol, down_for(7, now), now).started  # once per outage: nothing more to start

    still = run(env, pol, down_for(8, now, back=2), now)
    assert still.state is PolicyState.WAITING and not still.ended and set(active(sim)) == set(now_active)
    done = run(env, pol, down_for(8, now, back=3), now)
    assert set(done.ended) == idle
    assert active(sim) == people  # exactly the policy's events ended, the people's still open


def test_a_pos_a_person_ended_during_the_outage_is_not_started_again(env):
    sim, _, collector, actions = env
    pol = policy(env)
    now = now_la_paz()
    first = run(env, pol, down_for(6, now), now)
    collector.sweep_once()
    ended_by_hand = first.started[0]
    actions.end(SUPERVISOR, actions.end_targets([ended_by_hand]))
    collector.sweep_once()
    again = run(env, pol, down_for(7, now), now)
    assert ended_by_hand not in again.started and ended_by_hand not in active(sim)


def test_dry_run_sends_no_write_and_says_what_it_would_do(env):
    sim, store, *_ = env
    pol = policy(env, mode="dry-run")
    sim.reset_stats()
    status = run(env, pol, down_for(6, now_la_paz()))
    assert status.started and writes(sim) == 0 and not store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,)))
    ((title, body),) = policy_condition(status, pol.settings).values()  # the alert says what it would do
    assert "simulación" in title and f"en {len(status.started)} puntos de venta" in body and "nada se envió" in body


def test_the_pause_holds_and_is_audited_and_only_a_supervisor_may_pause(env):
    sim, store, *_ = env
    pol = policy(env)
    with pytest.raises(ActionError):
        set_paused(store, Actor("beto", None, Role.VIEWER), True, now_la_paz())
    set_paused(store, SUPERVISOR, True, now_la_paz())
    sim.reset_stats()
    status = run(env, pol, down_for(6, now_la_paz()))
    assert status.state is PolicyState.PAUSED and "Ana" in status.sentence and writes(sim) == 0
    set_paused(store, SUPERVISOR, False, now_la_paz())
    assert run(env, pol, down_for(6, now_la_paz())).started
    kinds = [e.action for e in store.audit_entries(AuditFilter(actors=(SUPERVISOR.id,)))]
    assert sorted(kinds) == sorted([ActionKind.PAUSE_POLICY, ActionKind.RESUME_POLICY])


def test_the_cap_and_the_scope_hold(env):
    sim, *_ = env
    branch = sim.inventory.branches[0]
    pol = policy(env, branches=[branch.name], max_pos_per_run=1)
    people = active(sim)
    status = run(env, pol, down_for(6, now_la_paz()))
    assert len(status.started) == 1 and status.started[0] in {p.id for p in branch.pos} and status.started[0] not in people


def test_what_the_policy_did_is_an_alert(env):
    sim, store, *_ = env
    pol = policy(env)
    now = now_la_paz()
    for check in down_for(6, now):
        store.add_check(check)
    alerter = Alerter(
        store,
        sim.inventory,
        AlertSettings(),
        leading=lambda: True,
        polling=lambda: (True, None),
        holder="yo",
        long_open_hours=24,
        check_interval_s=30,
        policy=pol,
        clock=lambda: now,
    )
    alerter.run_once()
    incident = wait_until(lambda: {i.rule: i for i in store.open_incidents()}.get(AlertRule.POLICY), what="the policy's incident")
    assert incident is not None and "inició contingencia" in incident.body and alerter.last_policy is not None
    assert all(e.outcome is Outcome.OK for e in store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,))))
