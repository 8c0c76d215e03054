"""Actions against the simulator: validation, skips, refusals, no double actions, uncertain outcomes, audit."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.events.actions import (
    VERIFY_FOR,
    ActionError,
    Actions,
    Actor,
    EndTarget,
    validate_start,
)
from cucu.lapaz import now_la_paz
from cucu.simulator import DEFAULT_API_KEY
from cucu.store import Attempt, CufdFetch, Store
from cucu.vocabulary import ActionKind, Outcome, Role
from tests.support.waiting import wait_until

ANA = Actor("ana@empresa.bo", "Ana Quispe", Role.SUPERVISOR)
START_ROUTE = "POST /api/v1/events/start"
END_ROUTE = "POST /api/v1/events/end"


@pytest.fixture
def env(sim, sim_server, db):
    client = CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=0.5, sleep=lambda s: None)
    store = Store(db)
    collector = Collector(client, store, sim.inventory, concurrency=8)
    collector.sweep_once()  # the store knows every POS's state, as in the running app
    actions = Actions(client, store, sim.inventory, concurrency=8, settle_window_s=3)
    yield sim, actions, store
    actions.close()
    collector.stop()
    client.close()
    store.close()


def idle(sim, n=1):
    active = {e["posId"] for e in sim.events() if not e["finalizado"]}
    return [p for p in sim.inventory.all_pos if p.id not in active][:n]


def busy(sim):
    active = {e["posId"]: e["id"] for e in sim.events() if not e["finalizado"]}
    pos = next(p for p in sim.inventory.all_pos if p.id in active)
    return pos, active[pos.id]


def pending_start(pos, actor: str, requested_at) -> Attempt:
    """A start another session or process left in flight for ``pos``."""
    return Attempt(
        requested_at=requested_at,
        actor=actor,
        actor_name=None,
        role=None,
        action=ActionKind.START,
        branch_id=pos.branch_id,
        pos_id=pos.id,
        motive=1,
        description="en curso",
    )


def calls(sim, route):
    return sim.stats()["by_route"].get(route, 0)


# ---- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("motive", "description", "fragment"),
    [
        (None, "x", "motivo"),
        (0, "x", "motivo"),
        (5, "x", "motivo"),
        ("dos", "x", "motivo"),
        (2, "", "descripción"),
        (2, "   \n ", "descripción"),
        (2, "x" * 501, "demasiado larga"),
    ],
)
def test_validation_refusals(motive, description, fragment):
    with pytest.raises(ActionError, match=fragment):
        validate_start(motive, description)


def test_validation_trims():
    assert validate_start("2", "  SIAT caído  ") == (2, "SIAT caído")
    assert validate_start(4, "x" * 500)[1] == "x" * 500


def test_refusals_are_not_sent(env):
    sim, actions, store = env
    with pytest.raises(ActionError):
        actions.start(ANA, [idle(sim)[0].id], 2, " ")
    with pytest.raises(ActionError, match="no está en el inventario"):
        actions.start(ANA, ["00000000-0000-4000-8000-000000000000"], 2, "x")
    with pytest.raises(ActionError, match="al menos un punto"):
        actions.start(ANA, [], 2, "x")
    with pytest.raises(ActionError, match="No hay eventos activos"):
        actions.end(ANA, [])
    assert calls(sim, START_ROUTE) == 0 and store.audit_entries() == []


# ---- start ---------------------------------------------------------------------------


def test_start_one_is_audited_and_shown_at_once(env):
    sim, actions, store = env
    pos = idle(sim)[0]
    (result,) = actions.start(ANA, [pos.id], 2, "  SIAT no responde ")
    assert result.outcome == Outcome.OK and result.event.cufd_evento and result.event.codigo_motivo == 2
    assert store.pos_statuses()[pos.id].event.id == result.event.id  # no need to wait for a sweep
    (entry,) = store.audit_entries()
    assert (entry.actor, entry.actor_name, entry.role, entry.action, entry.pos_id, entry.branch_id) == (
        ANA.id,
        ANA.name,
        ANA.role,
        ActionKind.START,
        pos.id,
        pos.branch_id,
    )
    assert (entry.motive, entry.description, entry.outcome, entry.event_id) == (
        2,
        "SIAT no responde",
        Outcome.OK,
        result.event.id,
    )
    assert entry.completed_at >= entry.requested_at


def test_audit_row_is_written_before_the_call(env, sim_server):
    sim, actions, store = env
    seen = []

    class Spy(CucuClient):
        def start_event(self, pos_id, *args):
            seen.append([e.outcome for e in store.audit_entries() if e.pos_id == pos_id])
            return super().start_event(pos_id, *args)

    actions.client = Spy(sim_server.base_url, DEFAULT_API_KEY)
    actions.start(ANA, [idle(sim)[0].id], 1, "corte")
    assert seen == [["pendiente"]]


def test_pos_with_an_active_event_are_shown_and_skipped(env):
    sim, actions, store = env
    free = idle(sim, 2)
    taken, _ = busy(sim)
    plan = actions.plan_start([free[0].id, taken.id, free[1].id])
    assert [p.id for p in plan.to_start] == [free[0].id, free[1].id] and [p.id for p, _ in plan.skipped] == [taken.id]
    results = actions.start(ANA, [free[0].id, taken.id, free[1].id], 1, "corte de luz")
    outcomes = {r.pos.id: r.outcome for r in results}
    assert outcomes == {free[0].id: Outcome.OK, free[1].id: Outcome.OK, taken.id: Outcome.SKIPPED}
    assert calls(sim, START_ROUTE) == 2
    assert {e.pos_id: e.outcome for e in store.audit_entries()}[taken.id] == Outcome.SKIPPED


def test_refusal_by_cucu_is_reported_with_its_reason(env, sim_server):
    sim, actions, store = env
    pos = idle(sim)[0]
    with CucuClient(sim_server.base_url, DEFAULT_API_KEY) as other:  # another dashboard, unseen by this store
        other.start_event(pos.id, pos.branch_id, 1, "desde otro lado")
    (result,) = actions.start(ANA, [pos.id], 2, "x")
    assert result.outcome == Outcome.REJECTED and "cucu no lo inició" in result.message and "activo" in result.message
    assert store.audit_entries()[0].outcome == Outcome.REJECTED


def test_all_pos_run_concurrently(env):
    sim, actions, _ = env
    free = idle(sim, 20)
    sim.update_faults({"latency_ms": 200})
    started = time.monotonic()
    results = actions.start(ANA, [p.id for p in free], 4, "simulacro")
    elapsed = time.monotonic() - started
    assert all(r.outcome == Outcome.OK for r in results) and len(results) == len(free)
    assert elapsed < len(free) * 0.2 * 0.6  # one after another would take 4 s; room for a loaded machine


# ---- no double actions -----------------------------------------------------------------


def test_second_attempt_while_one_is_in_flight_is_not_sent(env):
    sim, actions, store = env
    pos = idle(sim)[0]
    store.audit_begin(pending_start(pos, "otra-sesion", now_la_paz()))
    (result,) = actions.start(ANA, [pos.id], 1, "doble clic")
    assert result.outcome == Outcome.DUPLICATE and "otra acción en curso" in result.message
    assert calls(sim, START_ROUTE) == 0
    assert [e.outcome for e in store.audit_entries() if e.actor == ANA.id] == [Outcome.DUPLICATE]


def test_two_tablets_at_once_send_one_start(env):
    sim, actions, _store = env
    pos = idle(sim)[0]
    sim.update_faults({"latency_ms": 300})
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(
            lambda who: actions.start(Actor(who, None, Role.SUPERVISOR), [pos.id], 1, "corte")[0], ["tablet-1", "tablet-2"]
        )
    assert sorted([a.outcome, b.outcome]) == sorted([Outcome.OK, Outcome.DUPLICATE])
    assert calls(sim, START_ROUTE) == 1


def test_ending_twice_sends_once(env):
    sim, actions, _store = env
    pos, event_id = busy(sim)
    first = actions.end(ANA, [EndTarget(pos, event_id)])
    second = actions.end(ANA, [EndTarget(pos, event_id)])  # a resubmitted form
    assert [first[0].outcome, second[0].outcome] == [Outcome.OK, Outcome.SKIPPED]
    assert calls(sim, END_ROUTE) == 1


def backdate(store, minutes: float) -> None:
    """Every audit row requested ``minutes`` earlier, on the database's clock (what time does to them)."""
    from cucu.store.schema import audit_log

    with store.engine.begin() as conn:
        for row_id, requested_at in list(conn.execute(sa.select(audit_log.c.id, audit_log.c.requested_at))):
            conn.execute(
                audit_log.update().where(audit_log.c.id == row_id).values(requested_at=requested_at - timedelta(minutes=minutes))
            )


def test_an_attempt_cut_off_mid_call_is_verified_not_forgotten(env):
    sim, actions, store = env
    pos = idle(sim)[0]
    store.audit_begin(pending_start(pos, "caido", now_la_paz()))
    backdate(store, 6)  # its process died six minutes ago, mid-call
    (result,) = actions.start(ANA, [pos.id], 1, "x")
    assert result.outcome == Outcome.DUPLICATE and calls(sim, START_ROUTE) == 0  # it may have landed: held
    old = next(e for e in store.audit_entries() if e.actor == "caido")
    assert old.outcome == Outcome.VERIFYING and "se detuvo" in old.message
    backdate(store, 5)  # eleven minutes, and cucu never showed it
    (result,) = actions.start(ANA, [pos.id], 1, "x")
    assert result.outcome == Outcome.OK
    old = next(e for e in store.audit_entries() if e.actor == "caido")
    assert old.outcome == Outcome.UNCERTAIN and "Revise el punto de venta" in old.message


def test_an_attempt_in_flight_is_not_expired_by_a_process_whose_clock_runs_ahead(env):
    sim, actions, store = env
    pos = idle(sim)[0]
    store.audit_begin(pending_start(pos, "tablet-a", now_la_paz()))  # in flight in another process
    ahead = Actions(actions.client, Store(store.url), sim.inventory, clock=lambda: now_la_paz() + timedelta(minutes=30))
    (result,) = ahead.start(ANA, [pos.id], 1, "x")
    assert result.outcome == Outcome.DUPLICATE and calls(sim, START_ROUTE) == 0
    assert next(e for e in store.audit_entries() if e.actor == "tablet-a").outcome == Outcome.PENDING


# ---- end -----------------------------------------------------------------------------


def test_end_one_updates_state_day_cache_and_audit(env):
    sim, actions, store = env
    pos, event_id = busy(sim)
    targets = actions.end_targets([pos.id, idle(sim)[0].id])
    assert targets == [EndTarget(pos, event_id)]  # only POS with an active event
    (result,) = actions.end(ANA, targets)
    assert result.outcome == Outcome.OK and result.event.fecha_fin is not None
    assert store.pos_statuses()[pos.id].event is None
    day = result.event.fecha_inicio.date()
    cached = store.get_days([(pos.id, day)])[(pos.id, day)]
    assert any(e.id == event_id and e.fecha_fin for e in cached.events)
    entry = store.audit_entries()[0]
    assert (entry.action, entry.outcome, entry.event_id) == (ActionKind.END, Outcome.OK, event_id)


def test_end_refused_by_cucu(env, sim_server):
    sim, actions, _store = env
    pos, event_id = busy(sim)
    with CucuClient(sim_server.base_url, DEFAULT_API_KEY) as other:
        other.end_event(pos.id, pos.branch_id, event_id)  # ended elsewhere; this store still shows it active
    (result,) = actions.end(ANA, [EndTarget(pos, event_id)])
    assert result.outcome == Outcome.REJECTED and "cucu no lo finalizó" in result.message


# ---- uncertain outcomes ------------------------------------------------------------


def test_start_timing_out_after_commit_is_verified_as_done(env):
    sim, actions, store = env
    pos = idle(sim)[0]
    sim.update_faults({"timeout_rate": 1.0, "hang_s": 2, "hang_after_commit": True, "fault_routes": [START_ROUTE]})
    (result,) = actions.start(ANA, [pos.id], 2, "x")
    assert result.outcome == Outcome.OK and "sí se inició" in result.message
    assert calls(sim, START_ROUTE) == 1  # verified by reading, never resent
    assert store.pos_statuses()[pos.id].event is not None
    assert store.audit_entries()[0].outcome == Outcome.OK


def test_start_timing_out_before_commit_stays_in_verification(env):
    """A read right after a timeout cannot prove a negative: never "puede intentarlo de nuevo"."""
    sim, actions, store = env
    pos = idle(sim)[0]
    sim.update_faults({"timeout_rate": 1.0, "hang_s": 2, "fault_routes": [START_ROUTE]})
    (result,) = actions.start(ANA, [pos.id], 2, "x")
    assert result.outcome == Outcome.VERIFYING and "Se verifica en cucu" in result.message
    assert "intentarlo de nuevo" not in result.message
    (again,) = actions.start(ANA, [pos.id], 2, "x")  # while it is verified, nothing else goes out for that POS
    assert again.outcome == Outcome.DUPLICATE and calls(sim, START_ROUTE) == 1
    wait_until(lambda: actions.verifying() == 0, timeout_s=10, what="the verification window to close")
    entry = store.audit_rows([result.audit_id])[result.audit_id]
    assert entry.outcome == Outcome.VERIFYING and entry.completed_at is None  # handed to the collector, still open


def test_start_on_5xx_is_verified_not_called_a_failure(env):
    sim, actions, _ = env
    pos = idle(sim)[0]
    sim.update_faults({"error_rate": 1.0, "fault_routes": [START_ROUTE]})
    (result,) = actions.start(ANA, [pos.id], 2, "x")
    assert result.outcome == Outcome.VERIFYING and calls(sim, START_ROUTE) == 1


@pytest.mark.parametrize("kind", ["deep_nesting", "oversized", "wrong_types"])
def test_start_answered_with_a_body_that_cannot_be_read_is_verified(env, kind):
    sim, actions, store = env
    pos = idle(sim)[0]
    sim.update_faults({"hostile_rate": 1.0, "hostile_kind": kind, "fault_routes": [START_ROUTE]})
    (result,) = actions.start(ANA, [pos.id], 2, "x")
    assert result.outcome == Outcome.OK and "sí se inició" in result.message
    assert calls(sim, START_ROUTE) == 1 and store.pos_statuses()[pos.id].event is not None


def test_unverifiable_start_stays_in_verification_then_is_given_up(env):
    sim, actions, store = env
    pos = idle(sim)[0]
    sim.update_faults({"timeout_rate": 1.0, "hang_s": 2})  # the reads time out too
    (result,) = actions.start(ANA, [pos.id], 2, "x")
    assert result.outcome == Outcome.VERIFYING
    sim.update_faults({"timeout_rate": 0.0})
    actions.close()
    backdate(store, VERIFY_FOR.total_seconds() / 60 + 1)
    Collector(actions.client, store, sim.inventory, concurrency=8).sweep_once()  # sees no event, and it is too old
    entry = store.audit_rows([result.audit_id])[result.audit_id]
    assert entry.outcome == Outcome.UNCERTAIN and "Revise el punto de venta" in entry.message
    assert calls(sim, START_ROUTE) == 1


def test_a_start_that_lands_after_the_timeout_is_settled_by_the_re_reads(env):
    sim, actions, store = env
    pos = idle(sim)[0]
    sim.update_faults({"timeout_rate": 1.0, "hang_s": 1, "late_write_s": 1, "fault_routes": [START_ROUTE]})
    (result,) = actions.start(ANA, [pos.id], 2, "x")
    assert result.outcome == Outcome.VERIFYING and not any(not e["finalizado"] and e["posId"] == pos.id for e in sim.events())
    wait_until(lambda: actions.verifying() == 0, timeout_s=10, what="the re-reads to settle it")
    created = next(e for e in sim.events() if e["posId"] == pos.id and not e["finalizado"])
    entry = store.audit_rows([result.audit_id])[result.audit_id]
    assert (entry.outcome, entry.event_id) == (Outcome.OK, created["id"]) and "sí se inició" in entry.message
    assert store.pos_statuses()[pos.id].event.id == created["id"]  # shown at once, without waiting for a sweep
    assert calls(sim, START_ROUTE) == 1


def test_a_start_that_lands_after_the_window_is_settled_by_the_collector(env):
    sim, actions, store = env
    pos = idle(sim)[0]
    actions.settle_window_s = 0.5
    sim.update_faults({"timeout_rate": 1.0, "hang_s": 1, "late_write_s": 2, "fault_routes": [START_ROUTE]})
    (result,) = actions.start(ANA, [pos.id], 2, "x")
    wait_until(lambda: actions.verifying() == 0, timeout_s=5, what="the window to close")
    assert store.audit_rows([result.audit_id])[result.audit_id].outcome == Outcome.VERIFYING
    wait_until(lambda: any(e["posId"] == pos.id and not e["finalizado"] for e in sim.events()), what="the late write")
    collector = Collector(actions.client, store, sim.inventory, concurrency=8)
    collector.sweep_once()
    created = next(e for e in sim.events() if e["posId"] == pos.id and not e["finalizado"])
    entry = store.audit_rows([result.audit_id])[result.audit_id]
    assert (entry.outcome, entry.event_id) == (Outcome.OK, created["id"]) and entry.completed_at is not None
    assert calls(sim, START_ROUTE) == 1


def test_an_end_that_lands_after_the_timeout_is_settled(env):
    sim, actions, store = env
    pos, event_id = busy(sim)
    sim.update_faults({"timeout_rate": 1.0, "hang_s": 1, "late_write_s": 1, "fault_routes": [END_ROUTE]})
    (result,) = actions.end(ANA, [EndTarget(pos, event_id)])
    assert result.outcome == Outcome.VERIFYING
    wait_until(lambda: actions.verifying() == 0, timeout_s=10, what="the re-reads to settle it")
    entry = store.audit_rows([result.audit_id])[result.audit_id]
    assert entry.outcome == Outcome.OK and "sí se finalizó" in entry.message
    assert store.pos_statuses()[pos.id].event is None and calls(sim, END_ROUTE) == 1


def test_an_end_that_lands_after_the_window_is_settled_by_the_collector(env):
    sim, actions, store = env
    pos, event_id = busy(sim)
    actions.settle_window_s = 0.5
    sim.update_faults({"timeout_rate": 1.0, "hang_s": 1, "late_write_s": 2, "fault_routes": [END_ROUTE]})
    (result,) = actions.end(ANA, [EndTarget(pos, event_id)])
    wait_until(lambda: actions.verifying() == 0, timeout_s=5, what="the window to close")
    wait_until(lambda: any(e["id"] == event_id and e["finalizado"] for e in sim.events()), what="the late write")
    Collector(actions.client, store, sim.inventory, concurrency=8).sweep_once()
    assert store.audit_rows([result.audit_id])[result.audit_id].outcome == Outcome.OK


def test_an_audit_row_the_database_refuses_loses_nothing(env, monkeypatch, caplog):
    """cucu said yes; completing the audit row fails (locked, then for good on one POS): every POS still
    gets its result, the retry lands where it can, and the event id is logged at ERROR with the audit id."""
    sim, actions, store = env
    first, second, third = idle(sim, 3)
    real_finish = store.audit_finish
    tries: dict[int, int] = {}
    doomed: set[int] = set()

    def flaky_finish(entry_id, **values):
        tries[entry_id] = tries.get(entry_id, 0) + 1
        row = store.audit_rows([entry_id])[entry_id]
        if row.pos_id == second.id and tries[entry_id] == 1:
            raise sa.exc.OperationalError("UPDATE audit_log", {}, Exception("database is locked"))
        if row.pos_id == third.id:
            doomed.add(entry_id)
            raise sa.exc.OperationalError("UPDATE audit_log", {}, Exception("database is locked"))
        return real_finish(entry_id, **values)

    monkeypatch.setattr(store, "audit_finish", flaky_finish)
    with caplog.at_level("ERROR", logger="cucu.events.actions"):
        results = actions.start(ANA, [first.id, second.id, third.id], 1, "corte")
    assert [r.outcome for r in results] == [Outcome.OK] * 3 and all(r.event for r in results)
    by_pos = {r.pos.id: r for r in results}
    assert store.audit_rows([by_pos[second.id].audit_id])[by_pos[second.id].audit_id].outcome == Outcome.OK  # retried
    (doomed_id,) = doomed
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(by_pos[third.id].event.id in m and str(doomed_id) in m for m in logged)
    monkeypatch.undo()
    # Still open in the database: the collector settles it from what cucu shows, with the event's id.
    backdate(store, 6)
    Collector(actions.client, store, sim.inventory, concurrency=8).sweep_once()
    entry = store.audit_rows([doomed_id])[doomed_id]
    assert (entry.outcome, entry.event_id) == (Outcome.OK, by_pos[third.id].event.id)


def test_end_timing_out_after_commit_is_verified_as_done(env):
    sim, actions, store = env
    pos, event_id = busy(sim)
    sim.update_faults({"timeout_rate": 1.0, "hang_s": 2, "hang_after_commit": True, "fault_routes": [END_ROUTE]})
    (result,) = actions.end(ANA, [EndTarget(pos, event_id)])
    assert result.outcome == Outcome.OK and "sí se finalizó" in result.message and calls(sim, END_ROUTE) == 1
    assert store.pos_statuses()[pos.id].event is None


def test_not_sent_is_a_plain_error(env, tmp_path):
    sim, actions, _store = env
    pos = idle(sim)[0]
    actions.client = CucuClient("http://127.0.0.1:9", DEFAULT_API_KEY, sleep=lambda s: None)  # nothing listens
    (result,) = actions.start(ANA, [pos.id], 2, "x")
    assert result.outcome == Outcome.ERROR and "No se envió" in result.message


def test_the_key_is_in_no_audit_row(env):
    sim, actions, store = env
    sim.update_faults({"reject_key": True})
    actions.start(ANA, [idle(sim)[0].id], 1, "x")
    entry = store.audit_entries()[0]
    assert entry.outcome == Outcome.ERROR and "clave" in entry.message
    assert all(DEFAULT_API_KEY not in str(v) for v in entry.__dict__.values())


def test_audit_log_survives_a_restart(sim, app_secrets, db):
    from cucu.runtime import build_runtime
    from cucu.settings import load_settings

    settings = load_settings({**app_secrets, "db": db}, {})
    first = build_runtime(settings, start_collector=False)
    first.collector.sweep_once()
    pos = idle(sim)[0]
    first.actions.start(ANA, [pos.id], 1, "antes del reinicio")
    first.close()
    again = build_runtime(settings, start_collector=False)  # a new process on the same database
    entries = again.store.audit_entries()
    again.close()
    assert [(e.actor, e.pos_id, e.description, e.outcome) for e in entries] == [
        (ANA.id, pos.id, "antes del reinicio", Outcome.OK)
    ]


@pytest.mark.parametrize("role", [Role.VIEWER, None])
def test_only_supervisors_act_and_refusals_are_audited(env, role):
    sim, actions, store = env
    someone = Actor("beto@empresa.bo", "Beto", role)
    free = idle(sim, 2)
    taken, event_id = busy(sim)
    started = actions.start(someone, [p.id for p in free], 1, "forzado")
    ended = actions.end(someone, [EndTarget(taken, event_id)])
    assert {r.outcome for r in started + ended} == {"denegado"} and len(started) == 2
    assert "no permite" in started[0].message
    assert calls(sim, START_ROUTE) == 0 and calls(sim, END_ROUTE) == 0
    rows = store.audit_entries()
    assert len(rows) == 3 and {(r.actor, r.outcome, r.role) for r in rows} == {("beto@empresa.bo", "denegado", role)}


def test_what_the_confirmation_may_queue_is_checked_by_the_service(env):
    sim, actions, _ = env
    free = idle(sim, 2)
    pos, event_id = busy(sim)
    code, text, plan = actions.check_start([p.id for p in free] + [pos.id], "2", "  SIAT caído  ")
    assert (code, text) == (2, "SIAT caído")
    assert plan.to_start == tuple(free) and [p for p, _ in plan.skipped] == [pos]
    with pytest.raises(ActionError, match="al menos un punto"):
        actions.check_start([], 1, "x")
    assert actions.check_end([pos.id, free[0].id]) == [EndTarget(pos, event_id)]
    with pytest.raises(ActionError, match="No hay eventos activos"):
        actions.check_end([free[0].id])
    assert calls(sim, "POST /api/v1/events/start") == calls(sim, "POST /api/v1/events/end") == 0  # nothing sent


def test_siat_outage_plan_is_every_pos_without_an_event(env):
    from datetime import datetime

    from cucu.events.actions import siat_outage_description
    from cucu.lapaz import LA_PAZ

    sim, actions, _ = env
    plan = actions.plan_siat_outage()
    active = {e["posId"] for e in sim.events() if not e["finalizado"]}
    assert {p.id for p in plan.to_start} == {p.id for p in sim.inventory.all_pos} - active
    assert {p.id for p, _ in plan.skipped} == active
    assert siat_outage_description(datetime(2026, 12, 2, 9, 10, 30, tzinfo=LA_PAZ)) == (
        "SIAT no responde desde las 09:10. Iniciado desde la alerta del tablero."
    )


# ---- renewing a CUFD ------------------------------------------------------------------

RENEW_ROUTE = "POST /api/v1/codes/cufd"


def test_renewing_one_cufd_is_sent_once_audited_and_shown_at_once(env):
    sim, actions, store = env
    expired = sim.inventory.all_pos[1]
    [result] = actions.renew_cufd(ANA, [expired.id])
    assert result.outcome == Outcome.OK and result.message.startswith("CUFD renovado: vigente hasta")
    assert sim.stats()["by_route"].get(RENEW_ROUTE) == 1
    stored = store.cufds()[expired.id]  # before the collector's next read
    assert stored.cufd is not None and stored.cufd.valid_at(now_la_paz())
    [entry] = [e for e in store.audit_page() if e.action == ActionKind.RENEW_CUFD]
    assert (entry.actor, entry.pos_id, entry.outcome) == (ANA.id, expired.id, Outcome.OK)


def test_renewing_several_and_a_refusal_and_a_viewer(env):
    sim, actions, _store = env
    several = [p.id for p in sim.inventory.all_pos[1:4]]  # expired, inactive, expiring within 2 h
    assert [r.outcome for r in actions.renew_cufd(ANA, several)] == [Outcome.OK] * 3
    viewer = Actor("beto", "Beto", Role.VIEWER)
    [denied] = actions.renew_cufd(viewer, [several[0]])
    assert denied.outcome == Outcome.DENIED and "renovar CUFD" in denied.message
    with pytest.raises(ActionError):
        actions.renew_cufd(ANA, [])
    with pytest.raises(ActionError):
        actions.renew_cufd(ANA, ["00000000-0000-4000-8000-000000000000"])
    sim.update_faults({"error_rate": 1.0, "fault_routes": [RENEW_ROUTE]})
    [uncertain] = actions.renew_cufd(ANA, [sim.inventory.all_pos[8].id])  # expiring; not renewed within the cooldown
    # a 5xx may have renewed it: read, never resent; cucu shows the CUFD of a moment ago, so unconfirmed
    assert uncertain.outcome == Outcome.UNCERTAIN and "revise" in uncertain.message
    assert sim.stats()["by_route"].get(RENEW_ROUTE) == 4


def test_a_renewal_whose_answer_was_lost_is_confirmed_by_reading_the_new_cufd(env):
    sim, actions, store = env
    expired = sim.inventory.all_pos[1]
    sim.update_faults({"timeout_rate": 1.0, "hang_s": 1, "hang_after_commit": True, "fault_routes": [RENEW_ROUTE]})
    [result] = actions.renew_cufd(ANA, [expired.id])
    assert result.outcome == Outcome.OK and "Se verificó en cucu: el CUFD sí se renovó" in result.message
    assert sim.stats()["by_route"].get(RENEW_ROUTE) == 1  # never sent twice
    stored = store.cufds()[expired.id]
    assert stored.cufd is not None and stored.cufd.valid_at(now_la_paz())


def test_a_collector_sweep_does_not_settle_a_renewal_as_if_it_were_an_event(env, sim):
    _sim, actions, store = env
    pos = sim.inventory.all_pos[0]
    audit_id = store.audit_begin(
        Attempt(
            requested_at=now_la_paz(),
            actor="x",
            actor_name=None,
            role=Role.SUPERVISOR,
            action=ActionKind.RENEW_CUFD,
            branch_id=pos.branch_id,
            pos_id=pos.id,
        )
    )
    store.audit_finish(audit_id, completed_at=None, outcome=Outcome.VERIFYING, event_id=None, message="?")
    Collector(actions.client, store, sim.inventory, concurrency=8).sweep_once()
    assert store.audit_rows([audit_id])[audit_id].outcome == Outcome.VERIFYING


# ---- a renewal confirmed from a stale list: re-read first, and a cooldown per POS -----------------

CUFD_READ_ROUTE = "GET /api/v1/codes/cufd/{posId}"
BETO = Actor("beto@empresa.bo", "Beto Mamani", Role.SUPERVISOR)


@pytest.fixture
def renewals(sim, sim_server, db):
    """Actions on a store of each backend, with nothing read yet (the stale list is the test's)."""
    client = CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=0.5, sleep=lambda s: None)
    store = Store(db)
    store.migrate()
    actions = Actions(client, store, sim.inventory, concurrency=8, settle_window_s=0, renew_cooldown_s=300)
    yield sim, actions, store
    actions.close()
    client.close()
    store.close()


def stale_expired(store, pos, *, at):
    """What a supervisor's list showed: the POS's CUFD expired, as read at ``at``."""
    from cucu.api.models import Cufd
    from cucu.store import CufdFetch

    store.save_cufds([CufdFetch(pos.id, pos.branch_id, at, cufd=Cufd("VIEJO", None, at - timedelta(hours=1), True))])


def test_a_cufd_found_valid_when_the_renewal_is_confirmed_is_skipped_after_one_read(renewals):
    sim, actions, store = renewals
    valid, expiring = sim.inventory.all_pos[0], sim.inventory.all_pos[3]  # valid for hours; expires within 2 h
    for pos in (valid, expiring):
        stale_expired(store, pos, at=now_la_paz() - timedelta(hours=2))
    skipped, renewed = actions.renew_cufd(ANA, [valid.id, expiring.id])
    assert skipped.outcome == Outcome.SKIPPED and skipped.message.startswith("Ya vigente hasta")
    assert skipped.label == "Omitido" and "no se envió" in skipped.message
    assert renewed.outcome == Outcome.OK  # about to expire: renewed
    assert calls(sim, RENEW_ROUTE) == 1 and calls(sim, CUFD_READ_ROUTE) == 2  # one read per POS
    assert store.cufds()[valid.id].cufd.cufd != "VIEJO"  # the read is kept: the list shows it valid now
    [entry] = [e for e in store.audit_entries() if e.pos_id == valid.id]
    assert entry.outcome == Outcome.SKIPPED and entry.actor == ANA.id


def test_a_cufd_read_seconds_ago_is_not_read_again(renewals):
    sim, actions, store = renewals
    valid = sim.inventory.all_pos[0]
    store.save_cufds([CufdFetch(valid.id, valid.branch_id, now_la_paz(), cufd=actions.client.get_cufd(valid.id))])
    reads = calls(sim, CUFD_READ_ROUTE)
    [skipped] = actions.renew_cufd(ANA, [valid.id])
    assert skipped.outcome == Outcome.SKIPPED
    assert calls(sim, CUFD_READ_ROUTE) == reads and calls(sim, RENEW_ROUTE) == 0


def test_a_second_renewal_of_a_pos_within_the_cooldown_is_refused_in_spanish(renewals):
    sim, actions, store = renewals
    expired = sim.inventory.all_pos[1]
    sim.update_faults({"error_rate": 1.0, "fault_routes": [RENEW_ROUTE]})
    [first] = actions.renew_cufd(ANA, [expired.id])  # a 5xx: it may have renewed; cucu still shows the old one
    assert first.outcome == Outcome.UNCERTAIN
    sim.update_faults({"error_rate": 0.0})
    [second] = actions.renew_cufd(BETO, [expired.id])
    assert second.outcome == Outcome.SKIPPED and calls(sim, RENEW_ROUTE) == 1
    assert second.message.startswith("Ya se pidió renovar este CUFD hace") and "(Ana Quispe)" in second.message
    assert "espere" in second.message and "No se envió" in second.message
    assert store.audit_rows([second.audit_id])[second.audit_id].outcome == Outcome.SKIPPED
    # a refusal by cucu did not renew it: no cooldown after one
    other = sim.inventory.all_pos[2]
    refused = Attempt(
        requested_at=store.db_now(),
        actor=ANA.id,
        actor_name=ANA.name,
        role=ANA.role,
        action=ActionKind.RENEW_CUFD,
        branch_id=other.branch_id,
        pos_id=other.id,
        outcome=Outcome.REJECTED,
        message="cucu no lo renovó",
    )
    store.audit_begin(refused)
    assert actions.renew_cufd(ANA, [other.id])[0].outcome == Outcome.OK
    # without a cooldown the second is sent
    actions.renew_cooldown = timedelta(0)
    assert actions.renew_cufd(BETO, [expired.id])[0].outcome == Outcome.OK


def test_two_supervisors_renewing_from_one_stale_list_send_one_renewal_per_pos(renewals):
    sim, actions, store = renewals
    two = sim.inventory.all_pos[1:3]  # expired and inactive
    for pos in two:
        stale_expired(store, pos, at=now_la_paz() - timedelta(minutes=5))
    ids = [p.id for p in two]
    with ThreadPoolExecutor(2) as pool:
        results = [*pool.submit(actions.renew_cufd, ANA, ids).result(), *pool.submit(actions.renew_cufd, BETO, ids).result()]
    assert calls(sim, RENEW_ROUTE) == 2  # it was 4
    assert sorted(r.outcome for r in results if r.outcome == Outcome.OK) == [Outcome.OK, Outcome.OK]
    assert {r.pos.id for r in results if r.outcome == Outcome.OK} == set(ids)
    assert all(r.outcome in (Outcome.OK, Outcome.SKIPPED, Outcome.DUPLICATE) for r in results)
