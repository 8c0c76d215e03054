"""The automatic policy and maintenance windows (issue 25, part 3: ``[policy].maintenance``).

- ``nothing`` (the default): while a window runs, the policy starts and ends nothing on the POS it covers, even
  with SIAT down by cucu's word; after it, the usual rules.
- ``start``: SIAT's announced maintenance (a window over the whole company that holds "SIAT no responde") starts
  motive 2 at its start on the POS without an event, with every guard, and ends them only after the window,
  once SIAT answered ``up_checks`` in a row. A branch's window, a window that does not hold "SIAT no responde",
  a cancelled one or a period marked after the fact start nothing; nor does a window while cucu does not answer.

The real chain (simulator over HTTP, client, collector, actions, store on both backends), on the test's clock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from cucu.events.maintenance import cancel, schedule
from cucu.events.policy import POLICY_ACTOR, maintenance_hold
from cucu.settings import SettingsError, load_policy
from cucu.store import AuditFilter, MaintenanceWindow
from cucu.vocabulary import ActionKind, AlertRule, PolicyMaintenance, PolicyState
from tests.store import test_policy_safety
from tests.store.test_policy_safety import END, START, SUPERVISOR, World

world = test_policy_safety.world  # the fixture: the real chain on the test's clock

REASON = "Mantenimiento de SIAT anunciado para la noche"


def window(w: World, start_min: float, end_min: float, *, branches=(), rules=(AlertRule.SIAT_DOWN,)) -> int:
    now = w.store.now()
    return schedule(
        w.store, SUPERVISOR, w.sim.inventory, starts_at=now + timedelta(minutes=start_min),  # type: ignore[attr-defined]
        ends_at=now + timedelta(minutes=end_min), branch_ids=list(branches), silenced=list(rules), reason=REASON, now=now,
    )  # fmt: skip


def pos_of(w: World, branch_id: str) -> set[str]:
    return {p.id for p in w.sim.inventory.branch(branch_id).pos}  # type: ignore[attr-defined]


# ---- nothing (the default) ----------------------------------------------------------------------


def test_by_default_a_company_window_keeps_siat_down_from_starting_anything_until_it_ends(world):
    pol = world.policy()
    assert pol.settings.maintenance is PolicyMaintenance.NOTHING
    window(world, 0, 10)
    statuses = world.checks("x" * 14, pol)  # 7 min down, all inside the window
    assert world.calls(START) == 0 and not world.policy_rows()
    assert statuses[-1].state is PolicyState.WAITING and "Mantenimiento en curso" in statuses[-1].sentence
    idle = world.idle()
    world.checks("x" * 8, pol)  # past the window's end, SIAT still down: the usual rule, at once
    assert {e.pos_id for e in world.policy_rows()} == idle


def test_a_branch_window_holds_only_that_branchs_pos(world):
    pol = world.policy()
    held_branch = world.sim.inventory.branches[0].id
    window(world, 0, 60, branches=[held_branch], rules=[AlertRule.LONG_OPEN])
    idle = world.idle()
    world.checks("x" * 14, pol)
    started = {e.pos_id for e in world.policy_rows()}
    assert started == idle - pos_of(world, held_branch) and started


@pytest.mark.parametrize("scope", ["company", "branch"])
def test_by_default_its_events_wait_for_a_windows_end_to_be_ended(world, scope):
    pol = world.policy(cooldown_minutes=0, rearm_minutes=0)
    world.checks("x" * 12, pol)
    started = {e.pos_id for e in world.policy_rows()}
    assert started
    world.collector.sweep_once()
    held_branch = world.sim.inventory.branches[0].id
    held = started if scope == "company" else started & pos_of(world, held_branch)
    assert held and (scope == "company" or held != started)
    window(world, 0, 5, branches=[] if scope == "company" else [held_branch])  # announced while its events are open
    statuses = world.checks("." * 6, pol)  # SIAT answers inside the window
    assert {e.pos_id for e in world.policy_rows(ActionKind.END)} == started - held
    assert "mantenimiento" in statuses[-1].sentence
    world.checks("." * 10, pol)  # the window ended: ended as usual
    assert {e.pos_id for e in world.policy_rows(ActionKind.END)} == started


# ---- start at the window's start ------------------------------------------------------------------


def test_start_mode_starts_at_siat_maintenances_start_and_ends_only_after_it(world):
    pol = world.policy(maintenance="start")
    window(world, 5, 15)
    world.checks("." * 8, pol)  # before the window: SIAT answers, nothing to do
    assert world.calls(START) == 0
    idle = world.idle()
    world.checks("." * 4, pol)  # the window began at minute 5: started, SIAT answering or not
    rows = world.policy_rows()
    assert {e.pos_id for e in rows} == idle and world.calls(START) == len(idle)
    assert all(REASON in (e.description or "") and "Mantenimiento de SIAT" in (e.description or "") for e in rows)
    world.collector.sweep_once()
    world.checks("." * 8, pol)  # SIAT keeps answering inside the window: nothing ended, nothing started again
    assert world.calls(END) == 0 and world.calls(START) == len(idle)
    world.checks("." * 12, pol)  # past minute 15: ended, exactly its own
    assert {e.pos_id for e in world.policy_rows(ActionKind.END)} == idle
    assert world.idle() == idle


@pytest.mark.parametrize(
    "kind",
    ["a branch's window", "a window that does not hold SIAT down", "a cancelled window", "cucu silent", "paused"],
)
def test_start_mode_starts_nothing_for(world, kind):
    pol = world.policy(maintenance="start")
    if kind == "a branch's window":
        window(world, 0, 30, branches=[world.sim.inventory.branches[0].id])
    elif kind == "a window that does not hold SIAT down":
        window(world, 0, 30, rules=[AlertRule.LONG_OPEN])
    else:
        window_id = window(world, 0, 30)
        if kind == "a cancelled window":
            cancel(world.store, SUPERVISOR, world.sim.inventory, window_id, world.store.now())
        if kind == "paused":
            from cucu.events.policy import set_paused

            set_paused(world.store, SUPERVISOR, True, world.store.now())
    world.checks("?" * 6 if kind == "cucu silent" else "." * 6, pol)
    assert world.calls(START) == 0 and not world.policy_rows()


def test_start_mode_keeps_every_guard_once_per_window_and_a_persons_end_holds(world):
    pol = world.policy(maintenance="start", cooldown_minutes=0)
    window(world, 0, 60)
    world.checks(".", pol)
    first = {e.pos_id for e in world.policy_rows()}
    world.collector.sweep_once()
    ended_by_hand = sorted(first)[0]
    world.actions.end(SUPERVISOR, world.actions.end_targets([ended_by_hand]))
    world.collector.sweep_once()
    world.checks("." * 6, pol)
    assert ended_by_hand not in world.active()  # a person ended it during the window: not started again
    assert len(world.policy_rows()) == len(first)  # once per window


def test_start_mode_caps_hold(world):
    pol = world.policy(maintenance="start", max_starts_per_outage=3)
    window(world, 0, 60)
    world.checks("." * 4, pol)
    assert world.calls(START) == 3


# ---- what a window holds -------------------------------------------------------------------------


def test_a_period_marked_after_the_fact_holds_nothing_even_on_a_clock_before_its_end(world):
    now = world.store.now()
    marked = MaintenanceWindow(1, now - timedelta(hours=2), now, (), (AlertRule.SIAT_DOWN.value,), "Tarde", "Ana", now)
    inventory = world.sim.inventory
    hold = maintenance_hold([marked], inventory, now - timedelta(hours=1), PolicyMaintenance.START)
    assert not hold.held and not hold.announced
    scheduled = MaintenanceWindow(
        2, now - timedelta(hours=2), now, (), (AlertRule.SIAT_DOWN.value,), "SIAT", "Ana", now - timedelta(hours=3)
    )
    hold = maintenance_hold([scheduled], inventory, now - timedelta(hours=1), PolicyMaintenance.START)
    assert hold.held == {p.id for p in inventory.all_pos} and set(hold.announced) == hold.held
    assert not maintenance_hold([scheduled], inventory, now - timedelta(hours=1), PolicyMaintenance.NOTHING).announced


def test_the_setting_is_nothing_or_start():
    assert load_policy({}, {}).maintenance is PolicyMaintenance.NOTHING
    assert load_policy({"maintenance": "start"}, {}).maintenance is PolicyMaintenance.START
    assert load_policy({}, {"CUCU_POLICY_MAINTENANCE": "start"}).maintenance is PolicyMaintenance.START
    with pytest.raises(SettingsError, match=r"\[policy\]\.maintenance .*nothing.*start.*«siempre»"):
        load_policy({"maintenance": "siempre"}, {})


def test_the_policys_events_for_a_window_name_it_in_bitacora(world):
    pol = world.policy(maintenance="start")
    window(world, 0, 60)
    world.checks(".", pol)
    rows = world.store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,), actions=(ActionKind.START,)))
    assert rows and all(e.actor_name == "Política automática" for e in rows)
