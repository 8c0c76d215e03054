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
    [{"error_rate": 1.0}, {"malformed_rate": 1.0}, {"rate_limit_rate": 1.0, "retry_after_s": 0}, {"reject_key": True},
     {"timeout_rate": 1.0, "hang_s": 1}],
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
    days = {d.day for d in collector.store.days_since(today - timedelta(days=2))}
    assert days == {today - timedelta(days=i) for i in range(3)}
    again = collector.refresh_recent_days()
    assert again.fetched < result.fetched  # completed past days are not asked again
