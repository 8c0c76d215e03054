"""Collector against the simulator over HTTP: sweeps, faults, stale state, lifecycle, ended events."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from cucu.client import CucuClient
from cucu.collector import Collector
from cucu.simulator import DEFAULT_API_KEY
from cucu.store import Store


@pytest.fixture
def client(sim_server):
    # No retries and a short timeout: these tests are about what the collector records, not retry timing.
    with CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=0.5, max_retries=0, sleep=lambda s: None) as c:
        yield c


@pytest.fixture
def collector(sim, client, tmp_path):
    store = Store(str(tmp_path / "c.db"))
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
    ],
    ids=["5xx", "malformed", "429", "key", "timeout"],
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


def test_loops_survive_faults_and_stop_cleanly(sim, collector):
    sim.update_faults({"error_rate": 1.0})
    collector.start()
    deadline = time.monotonic() + 5
    while len(collector.store.recent_checks(10)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert collector.store.latest_check().siat_ok is None  # recorded, not raised
    sim.update_faults({"error_rate": 0.0})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        statuses = collector.store.pos_statuses()
        if statuses and not any(s.stale for s in statuses.values()) and collector.store.latest_check().siat_ok:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the collector did not recover after the fault ended")
    assert collector.running
    collector.stop()
    assert not collector.running


def test_concurrency_is_bounded(sim, client, tmp_path):
    sim.update_faults({"latency_ms": 150})
    pos_count = len(sim.inventory.all_pos)  # 22
    col = Collector(client, Store(str(tmp_path / "b.db")), sim.inventory, concurrency=4)
    started = time.monotonic()
    col.sweep_once()
    elapsed = time.monotonic() - started
    col.stop()
    waves = -(-pos_count // 4)
    assert elapsed >= waves * 0.15 * 0.9  # never more than 4 calls at once
    assert elapsed < waves * 0.15 * 3  # and the waves do overlap (generous on a noisy machine)


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


def test_recent_days_refresh_fills_the_48h_window(sim, collector):
    result = collector.refresh_recent_days()
    today = collector.clock().date()
    assert result.fetched == 3 * len(sim.inventory.all_pos) and not result.errors
    keys = [(pos.id, today - timedelta(days=i)) for pos in sim.inventory.all_pos for i in range(3)]
    days = {d.day for d in collector.store.get_days(keys).values()}
    assert days == {today - timedelta(days=i) for i in range(3)}
    again = collector.refresh_recent_days()
    assert again.fetched < result.fetched  # completed past days are not asked again


def wait_for(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def shared_pair(sim, client, tmp_path):
    """Two processes' collectors on one database, each counting its own check-connection calls."""
    db = str(tmp_path / "shared.db")
    pair = [
        Collector(client, Store(db), sim.inventory, check_interval_s=0.1, sweep_interval_s=0.1, lease_ttl_s=0.6) for _ in range(2)
    ]
    calls = [0, 0]
    for i, col in enumerate(pair):

        def counted(i=i, original=col.check_once):
            calls[i] += 1
            return original()

        col.check_once = counted
    yield pair, calls
    for col in pair:
        col.stop()
        col.store.close()


def test_only_the_lease_holder_polls_and_a_clean_stop_hands_over(shared_pair):
    (first, second), calls = shared_pair
    first.start()
    assert wait_for(lambda: first.leading and calls[0] > 0)
    second.start()
    time.sleep(0.8)  # several rounds of both loops
    assert first.leading is True and second.leading is False and second.running
    assert calls[1] == 0 and calls[0] >= 4
    assert second.store.lease("collector").holder == first.holder
    first.stop()  # releases the lease: the standby takes the next round, not after the TTL
    assert wait_for(lambda: second.leading and calls[1] > 0, timeout_s=0.5)


def test_a_dead_holder_is_replaced_when_its_lease_lapses(shared_pair):
    (first, second), calls = shared_pair
    first.start()
    assert wait_for(lambda: first.leading)
    second.start()
    first._stop.set()  # a process that died: its loops are gone, its lease is still in the database
    for thread in first._threads:
        thread.join(2)
    died = time.monotonic()
    assert wait_for(lambda: second.leading and calls[1] > 0, timeout_s=3)
    assert time.monotonic() - died >= 0.3  # it waited for the lease to lapse (0.6 s after the last renewal)
    assert second.store.lease("collector").holder == second.holder
