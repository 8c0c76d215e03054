"""Collector against the simulator over HTTP: sweeps, faults, stale state, lifecycle, ended events."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from cucu.api.client import CucuClient
from cucu.collector import LEASE, Collector, Polling
from cucu.simulator import DEFAULT_API_KEY, Faults, Simulator, SimulatorServer
from cucu.store import Store
from tests.support.waiting import wait_until

BY_DATE = "POST /api/v1/events"  # the simulator's route name for "events of a POS on a date"


@pytest.fixture
def client(sim_server):
    # No retries and a short timeout: these tests are about what the collector records, not retry timing.
    with CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=0.5, max_retries=0, sleep=lambda s: None) as c:
        yield c


@pytest.fixture
def collector(sim, client, db):
    store = Store(db)
    col = Collector(client, store, sim.inventory, check_interval_s=0.2, sweep_interval_s=0.3, concurrency=8)
    yield col
    col.stop()
    store.close()


def active_ids(sim):
    return {e["posId"]: e["id"] for e in sim.events() if not e["finalizado"]}


def test_sweep_records_every_pos(sim, collector):
    collector.sweep_once()
    statuses = collector.store.pos_statuses()
    assert set(statuses) == {p.id for p in sim.inventory.all_pos}
    assert {p: s.event.id for p, s in statuses.items() if s.event} == active_ids(sim)
    assert not any(s.stale for s in statuses.values())


def test_a_first_sweep_saves_as_it_goes_then_a_sweep_saves_once(sim, collector, monkeypatch):
    """A chain's first sweep takes minutes: Estado counts what it has read so far, not 0 until the end."""
    monkeypatch.setattr("cucu.collector.FIRST_SWEEP_SAVE_EVERY", 5)
    saved: list[int] = []
    save = collector.store.save_pos_fetches

    def counted(fetches):
        saved.append(len(fetches))
        save(fetches)

    monkeypatch.setattr(collector.store, "save_pos_fetches", counted)
    total = len(sim.inventory.all_pos)
    collector.sweep_once()
    assert saved == [min(5, total - n) for n in range(0, total, 5)] and len(saved) > 1
    assert set(collector.store.pos_statuses()) == {p.id for p in sim.inventory.all_pos}
    saved.clear()
    collector.sweep_once()  # every POS asked once: one save, one new version of the data
    assert saved == [total]


def test_check_once_records_each_state(sim, collector):
    assert collector.check_once().siat_ok is True
    sim.update_faults({"siat_down": True})
    assert collector.check_once().siat_ok is False
    sim.update_faults({"siat_down": False, "reject_key": True})
    check = collector.check_once()
    assert check.siat_ok is None and check.error_kind == "auth"
    assert [c.siat_ok for c in collector.store.recent_checks(10)] == [True, False, None]


@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 1.0},
        {"malformed_rate": 1.0},
        {"rate_limit_rate": 1.0, "retry_after_s": 0},
        {"reject_key": True},
        {"timeout_rate": 1.0, "hang_s": 1},
        {"hostile_rate": 1.0, "hostile_kind": "deep_nesting"},
        {"hostile_rate": 1.0, "hostile_kind": "oversized"},
    ],
    ids=["5xx", "malformed", "429", "key", "timeout", "hostile-deep", "hostile-oversized"],
)
def test_failures_keep_last_known_state_marked_stale(sim, collector, faults):
    collector.sweep_once()
    before = collector.store.pos_statuses()
    sim.update_faults(faults)
    collector.sweep_once()
    after = collector.store.pos_statuses()
    assert all(s.stale and s.error for s in after.values())
    assert {p: (s.event.id if s.event else None) for p, s in after.items()} == {
        p: (s.event.id if s.event else None) for p, s in before.items()
    }
    assert all(after[p].ok_at == before[p].ok_at for p in after)


def test_every_hostile_body_is_recorded_never_raised(sim, collector):
    """Rotating hostile bodies: each check, sweep and backfill round ends, and what failed is recorded
    with a Spanish message; the Markdown kind is read as data (its text is shown as text)."""
    from cucu.simulator import HOSTILE_KINDS

    collector.sweep_once()
    sim.update_faults({"hostile_rate": 1.0})
    checks = [collector.check_once() for _ in HOSTILE_KINDS]
    assert all(c.siat_ok is None and c.error for c in checks)
    for _ in range(2):
        fetches = collector.sweep_once()
        assert fetches and all(f.error is None or "cucu" in f.error for f in fetches)
    collector.backfill_once(budget=len(HOSTILE_KINDS) * 2)
    statuses = collector.store.pos_statuses()
    assert any(s.stale for s in statuses.values()) and all(s.error is None or "cucu" in s.error for s in statuses.values())


def test_loops_survive_faults_and_stop_cleanly(sim, collector):
    sim.update_faults({"error_rate": 1.0})
    collector.start()
    wait_until(lambda: collector.rounds["check"] >= 2 and collector.rounds["sweep"] >= 1, what="rounds under the fault")
    assert collector.store.latest_check().siat_ok is None  # recorded, not raised
    assert all(s.stale for s in collector.store.pos_statuses().values())
    sim.update_faults({"error_rate": 0.0})

    def recovered() -> bool:
        statuses = collector.store.pos_statuses()
        latest = collector.store.latest_check()
        return bool(statuses) and not any(s.stale for s in statuses.values()) and latest is not None and latest.siat_ok is True

    wait_until(recovered, what="the collector to recover after the fault ended")
    assert collector.running
    collector.stop()
    assert not collector.running


def test_concurrency_is_bounded(db):
    # A simulator of its own: the session's may still be answering calls another test left hanging.
    with SimulatorServer(Simulator(faults=Faults(latency_ms=150))) as server:
        sim = server.simulator
        with CucuClient(server.base_url, DEFAULT_API_KEY, max_retries=0) as own_client:
            col = Collector(own_client, Store(db), sim.inventory, concurrency=4)
            col.sweep_once()
            col.stop()
        stats = sim.stats()
    assert stats["by_route"]["GET /api/v1/events/active/{posId}"] == len(sim.inventory.all_pos)  # 22
    # The simulator's gauge: 4 calls were in flight at once (150 ms each overlap), never more.
    assert stats["peak_in_flight"] == 4


def test_ended_event_is_settled_in_the_day_cache(sim, collector, client):
    pos = next(p for p in sim.inventory.all_pos if p.id not in active_ids(sim))
    started = client.start_event(pos.id, pos.branch_id, 1, "corte de prueba")
    collector.sweep_once()
    assert collector.store.pos_statuses()[pos.id].event.id == started.id
    client.end_event(pos.id, pos.branch_id, started.id)
    collector.sweep_once()
    day = started.fecha_inicio.date()
    cached = collector.store.get_days([(pos.id, day)])[(pos.id, day)]
    ended = next(e for e in cached.events if e.id == started.id)
    assert ended.fecha_fin is not None and not ended.active


def test_every_active_event_a_sweep_sees_is_in_its_start_day_for_historial(sim, collector):
    collector.sweep_once()
    stored = collector.store.days_with_events(collector.clock().date() - timedelta(days=30), collector.clock().date())
    seen = {e.id for day in stored for e in day.events}
    assert set(active_ids(sim).values()) <= seen and seen  # observed, without one call to list a day
    assert sim.stats()["by_route"].get(BY_DATE, 0) == 0
    written = {(d.pos_id, d.day): d.fetched_at for d in stored}
    collector.sweep_once()  # nothing changed: nothing rewritten
    again = collector.store.days_with_events(collector.clock().date() - timedelta(days=30), collector.clock().date())
    assert {(d.pos_id, d.day): d.fetched_at for d in again} == written


def test_backfill_reads_today_then_completed_days_newest_first_within_its_budget(sim, sim_server, db):
    store = Store(db)
    # Counts every call: a 0.5 s timeout on a loaded machine made one an "error" (CI, session 16), so 5 s here.
    client = CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=5, max_retries=0, sleep=lambda s: None)
    collector = Collector(client, store, sim.inventory, concurrency=8, backfill_days=3)
    n = len(sim.inventory.all_pos)  # 22
    today = collector.clock().date()
    yesterday, first = today - timedelta(days=1), today - timedelta(days=3)
    sim.reset_stats()

    round1 = collector.backfill_once(budget=30)
    assert sim.stats()["by_route"][BY_DATE] == round1.fetched == 30 and round1.errors == 0
    # A third of the budget re-reads today (10 POS), the rest goes to the newest completed day.
    assert store.verified_per_day(first, yesterday) == {yesterday: 20}
    assert len(round1.listed_today) == 10 and round1.remaining == 3 * n - 20

    round2 = collector.backfill_everything()  # everything that is due
    assert store.verified_per_day(first, yesterday) == {first: n, first + timedelta(days=1): n, yesterday: n}
    assert round2.remaining == 0 and round2.fetched == (3 * n - 20) + (n - 10)  # today's other 12 POS too
    round3 = collector.backfill_everything()
    assert round3.fetched == 0  # verified days are never read again; today's lists are minutes old
    store.close()
    client.close()


def test_a_failing_backfill_counts_its_errors_and_leaves_the_days_to_verify(sim, client, db):
    store = Store(db)
    collector = Collector(client, store, sim.inventory, concurrency=8, backfill_days=2)
    sim.update_faults({"error_rate": 1.0})
    failed = collector.backfill_once(budget=12)
    assert failed.fetched == 12 and failed.errors == 12 and failed.remaining == 2 * len(sim.inventory.all_pos)
    assert failed.listed_today == ()  # not remembered as read: due again next round
    store.close()


@pytest.fixture
def shared_pair(sim, client, db, monkeypatch):
    """Two processes' collectors on one database, each counting its own check-connection calls.

    No invoice walk: its first round (1 600 invoices, 50 status calls) holds the database for longer than
    the 0.6 s lease on a busy machine, and these tests are about the lease (production's is 60 s or more)."""
    pair = [
        Collector(
            client,
            Store(db),
            sim.inventory,
            check_interval_s=0.1,
            sweep_interval_s=0.1,
            lease_ttl_s=0.6,
            invoice_pages_per_round=0,
        )
        for _ in range(2)
    ]
    calls = [0, 0]
    for i, col in enumerate(pair):

        def counted(i=i, original=col.check_once):
            calls[i] += 1
            return original()

        monkeypatch.setattr(col, "check_once", counted)
    yield pair, calls
    for col in pair:
        col.stop()
        col.store.close()


def test_only_the_lease_holder_polls_and_a_clean_stop_hands_over(shared_pair):
    (first, second), calls = shared_pair
    first.start()
    wait_until(lambda: first.leading and calls[0] > 0, what="the first collector to lead")
    led_before = calls[0]
    second.start()
    # Several rounds of both: the holder keeps polling, the standby's rounds call nothing.
    wait_until(
        lambda: min(second.rounds["check"], second.rounds["sweep"]) >= 3 and calls[0] >= led_before + 3,
        what="rounds of both collectors",
    )
    assert first.leading is True and second.leading is False and second.running
    assert calls[1] == 0
    assert second.store.lease("collector").holder == first.holder
    first.stop()  # joins its loops, then releases the lease: the standby takes the next round, not after the TTL
    rounds_before = second.rounds["check"]  # after the release (joining a loaded machine's loops takes rounds)
    wait_until(lambda: second.leading and calls[1] > 0, what="the standby to take over")
    # Taken at its very next round (0.1 s apart), not after the 0.6 s TTL (six rounds).
    assert second.rounds["check"] - rounds_before <= 2


def test_a_dead_holder_is_replaced_when_its_lease_lapses(shared_pair):
    (first, second), calls = shared_pair
    first.start()
    wait_until(lambda: first.leading, what="the first collector to lead")
    second.start()
    first._stop.set()  # a process that died: its loops are gone, its lease is still in the database
    for thread in first._threads:
        thread.join(2)
    left_behind = second.store.lease("collector")
    assert left_behind is not None and left_behind.holder == first.holder
    wait_until(lambda: second.leading and calls[1] > 0, timeout_s=5, what="the standby to take the lapsed lease")
    taken = second.store.lease("collector")
    assert taken is not None and taken.holder == second.holder
    assert taken.acquired_at >= left_behind.expires_at  # not before the dead holder's lease lapsed


def test_polling_is_this_collector_or_another_process_lease(sim, collector):
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    assert collector.polling() == Polling(False, None)  # stopped, and no lease anywhere
    assert collector.store.acquire_lease(LEASE, "servicio:1", now, timedelta(minutes=2))
    assert collector.polling() == Polling(True, collector.store.lease(LEASE).renewed_at)
    collector.store.release_lease(LEASE, "servicio:1")
    assert collector.store.acquire_lease(LEASE, "servicio:1", now - timedelta(minutes=3), timedelta(minutes=2))
    assert not collector.polling().active  # that lease lapsed
    collector.store.release_lease(LEASE, "servicio:1")
    collector.start()
    wait_until(lambda: collector.rounds["check"] >= 1, what="a first round")
    assert collector.polling().active  # this process polls (or stands by)


def test_lease_follows_the_database_clock_not_a_skewed_machine(sim, client, db, monkeypatch):
    """Two processes on one database; the second's clock runs an hour ahead. It must neither take
    the first's live lease nor think it lapsed."""
    from datetime import UTC, datetime

    import cucu.collector as collector_module

    first = Collector(client, Store(db), sim.inventory, check_interval_s=60, sweep_interval_s=60)
    assert first.lead()

    class Ahead(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(hours=1)

    monkeypatch.setattr(collector_module, "datetime", Ahead)  # what "datetime.now()" means in that process
    second = Collector(client, Store(db), sim.inventory, check_interval_s=60, sweep_interval_s=60, clock=lambda: Ahead.now(UTC))
    assert not second.lead()
    assert second.polling().active and not second.running  # first's lease, live by the database's clock
    lease = first.store.lease(LEASE)
    assert lease is not None and lease.holder == first.holder


def test_a_round_that_outlives_the_stop_ends_quietly(db, caplog):
    """stop() waits a bounded time; an invoice round still reading then sees the stop and ends without
    handing work to the shut pool (once a traceback in the server's log at SIGTERM)."""
    with SimulatorServer(Simulator(faults=Faults(latency_ms=300))) as server:
        sim = server.simulator
        with CucuClient(server.base_url, DEFAULT_API_KEY, max_retries=0) as own_client:
            col = Collector(own_client, Store(db), sim.inventory, check_interval_s=60, sweep_interval_s=60)
            col.start()
            threads = list(col._threads)
            wait_until(lambda: sim.stats()["by_route"].get("GET /api/v1/invoices", 0) >= 1, what="an invoice round reading")
            col.stop(timeout=0.01)  # the round is mid-call: stop() returns before it ends
            for thread in threads:
                thread.join(10)
            assert not any(t.is_alive() for t in threads)
            col.store.close()
    failures = [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
    assert failures == []


def test_stop_waits_its_timeout_in_all_not_once_per_loop(collector):
    """Five loops each in the middle of a long round: stop(1 s) returns after about 1 s, not 5 (a chain's server
    asked to stop mid-way through its first sweep and backfill took 40 s)."""
    release = threading.Event()

    def busy(*_args, **_kwargs):
        release.wait(30)  # a round in flight, deaf to the stop until its calls end

    for job in ("check_once", "sweep_once", "cufd_once", "invoices_once", "backfill_once"):
        setattr(collector, job, busy)
    collector.start()
    try:
        assert len(collector._threads) == 5
        time.sleep(0.2)  # every loop inside its round
        started = time.monotonic()
        collector.stop(timeout=1.0)
        assert time.monotonic() - started < 2.0
    finally:
        release.set()


@pytest.mark.parametrize(
    ("stopping", "error"),
    [
        # stop() gave up waiting on a round; runtime.close() went on to close the store
        (True, "closed-store"),
        # SIGTERM: Python's exit shuts every thread pool before the atexit hook stops the collector, and
        # a pool worker that sees it marks the pool shut; submit then says "after shutdown"
        (False, "cannot schedule new futures after shutdown"),
        (False, "cannot schedule new futures after interpreter shutdown"),
    ],
)
def test_a_failure_of_the_stop_is_not_logged_as_one(collector, caplog, stopping, error):
    import logging
    import sqlite3

    caplog.set_level(logging.INFO, logger="cucu.collector")

    calls = []

    def job():
        calls.append(1)
        if len(calls) > 1:  # a loop that went on ends here (and the test fails on the logged error)
            collector._stop.set()
            return
        if stopping:
            collector._stop.set()
        if error == "closed-store":
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        raise RuntimeError(error)

    collector._loop("invoices", 0.0, job)
    assert calls == [1]  # the loop ended with the stop
    assert [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info] == []
    assert "se detiene" in caplog.text


def test_any_other_failure_is_logged_and_the_loop_goes_on(collector, caplog):
    calls = []

    def job():
        calls.append(1)
        if len(calls) == 2:
            collector._stop.set()  # ends the loop after its second round
        raise RuntimeError("cucu did something new")

    collector._loop("invoices", 0.0, job)
    assert len(calls) == 2 and "invoices falló" in caplog.text
