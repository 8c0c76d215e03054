"""A scoped supervisor acts on their branches only (issue 26, part 2). Enforced where the action is carried out,
not by hiding buttons: a forged request for another region's POS, a company-wide window, SIAT's alert or the
policy's pause is refused, sends nothing, and is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cucu.alerts import acknowledge, add_note
from cucu.api.client import CucuClient
from cucu.events.actions import COMPANY_ONLY, OUTSIDE_SCOPE, OUTSIDE_SCOPE_BRANCHES, ActionError, Actions, Actor, EndTarget
from cucu.events.maintenance import cancel, mark_past, schedule
from cucu.events.policy import set_paused
from cucu.organization.scope import Scope
from cucu.simulator import DEFAULT_API_KEY
from cucu.store import AuditFilter, Store
from cucu.vocabulary import ActionKind, AlertRule, Outcome, Role
from tests.store.test_alerts import INVENTORY, NORTE, SUR, T0, channels, down, run

LA_PAZ = Scope(frozenset({"La Paz"}))
LUIS = Actor("luis@empresa.bo", "Luis", Role.SUPERVISOR, LA_PAZ)
START_ROUTE = "POST /api/v1/events/start"


@pytest.fixture
def env(sim, sim_server, db):
    client = CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=0.5, sleep=lambda s: None)
    store = Store(db)
    actions = Actions(client, store, sim.inventory, concurrency=4, settle_window_s=3)
    yield sim, actions, store
    actions.close()
    client.close()
    store.close()


def region_pos(sim, region):
    return [p for b in sim.inventory.branches if b.region == region for p in b.pos]


def denied_rows(store, action):
    return [e for e in store.audit_page() if e.action == action and e.outcome == Outcome.DENIED]


def test_a_scoped_supervisor_starts_and_ends_events_in_their_region(env):
    sim, actions, _store = env
    mine = region_pos(sim, "La Paz")[0]
    [started] = actions.start(LUIS, [mine.id], 2, "Corte de internet en El Alto")
    assert started.outcome == Outcome.OK
    [ended] = actions.end(LUIS, [EndTarget(mine, started.event.id)])
    assert ended.outcome == Outcome.OK


def test_a_forged_request_naming_another_regions_pos_sends_nothing_and_is_audited(env):
    sim, actions, store = env
    mine, theirs = region_pos(sim, "La Paz")[0], region_pos(sim, "Santa Cruz")[0]
    before = sim.stats()["by_route"].get(START_ROUTE, 0)
    results = actions.start(LUIS, [mine.id, theirs.id], 2, "forzado")
    assert [r.outcome for r in results] == [Outcome.DENIED, Outcome.DENIED]  # all of it: the request is forged
    assert {r.message for r in results} == {OUTSIDE_SCOPE}
    assert sim.stats()["by_route"].get(START_ROUTE, 0) == before  # nothing reached cucu
    rows = denied_rows(store, ActionKind.START)
    assert {(e.actor, e.pos_id) for e in rows} == {(LUIS.id, mine.id), (LUIS.id, theirs.id)}
    [renew] = actions.renew_cufd(LUIS, [theirs.id])
    assert renew.outcome == Outcome.DENIED and denied_rows(store, ActionKind.RENEW_CUFD)
    # the same request from a supervisor of the whole company goes through
    whole = Actor("ana@empresa.bo", "Ana", Role.SUPERVISOR)
    assert {r.outcome for r in actions.start(whole, [theirs.id], 2, "Corte")} == {Outcome.OK}
    busy = next(r for r in actions.start(whole, [theirs.id], 2, "Corte"))  # now skipped: it has one
    [end] = actions.end(LUIS, [EndTarget(theirs, busy.event_id or "")])
    assert end.outcome == Outcome.DENIED and end.message == OUTSIDE_SCOPE


NORTE_ONLY = Scope(branches=frozenset({NORTE}))
NORA = Actor("nora@empresa.bo", "Nora", Role.SUPERVISOR, NORTE_ONLY)


def window(store, actor, branches):
    return schedule(
        store, actor, INVENTORY, starts_at=T0, ends_at=T0 + timedelta(hours=1), branch_ids=branches,
        silenced=[AlertRule.SIAT_DOWN], reason="Inventario anual", now=T0,
    )  # fmt: skip


def test_a_scoped_supervisor_schedules_maintenance_for_their_branches_only(db):
    store = Store(db)
    mine = window(store, NORA, [NORTE])
    assert mine
    for branches in ([NORTE, SUR], []):  # another branch, or the whole company
        with pytest.raises(ActionError) as refused:
            window(store, NORA, branches)
        assert str(refused.value) in (OUTSIDE_SCOPE_BRANCHES, COMPANY_ONLY.format(scope=NORTE_ONLY.label(INVENTORY)))
    with pytest.raises(ActionError):
        mark_past(store, NORA, INVENTORY, starts_at=T0 - timedelta(hours=2), ends_at=T0 - timedelta(hours=1),
                  reason="SIAT avisó tarde", now=T0)  # fmt: skip
    company = window(store, Actor("ana@empresa.bo", "Ana", Role.SUPERVISOR), [])
    with pytest.raises(ActionError):
        cancel(store, NORA, INVENTORY, company, T0)
    cancel(store, NORA, INVENTORY, mine, T0)
    refused_rows = store.audit_entries(AuditFilter(outcomes=(Outcome.DENIED,)))
    assert {(e.action, e.branch_id) for e in refused_rows} == {
        (ActionKind.SCHEDULE_MAINTENANCE, SUR),
        (ActionKind.SCHEDULE_MAINTENANCE, ""),
        (ActionKind.MARK_MAINTENANCE, ""),
        (ActionKind.CANCEL_MAINTENANCE, ""),
    }


def test_a_scoped_supervisor_neither_handles_siats_alert_nor_pauses_the_policy(db):
    store = Store(db)
    assert run(store, down(T0 + timedelta(minutes=2)), channels()).opened == 1
    [incident] = store.open_incidents()
    assert incident.branch_id is None  # SIAT's: the whole company's
    with pytest.raises(ActionError, match="toda la empresa"):
        acknowledge(store, NORA, incident.id, "Lo veo", timedelta(hours=1), T0 + timedelta(minutes=3), INVENTORY)
    with pytest.raises(ActionError, match="toda la empresa"):
        add_note(store, NORA, incident.id, "Nota", T0 + timedelta(minutes=3), INVENTORY)
    with pytest.raises(ActionError, match="toda la empresa"):
        acknowledge(store, NORA, incident.id, "Sin inventario", timedelta(hours=1), T0 + timedelta(minutes=3))
    with pytest.raises(ActionError, match="toda la empresa"):
        set_paused(store, NORA, True, T0 + timedelta(minutes=3))
    assert store.policy_paused_by() is None and store.open_incidents()[0].acknowledged_by is None
    assert {e.action for e in store.audit_entries(AuditFilter(outcomes=(Outcome.DENIED,)))} == {
        ActionKind.ACKNOWLEDGE,
        ActionKind.NOTE,
        ActionKind.PAUSE_POLICY,
    }
