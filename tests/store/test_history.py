"""load_days: completed days come from the store, today is always fresh, failures are reported."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cucu.api.client import CucuClient
from cucu.events.history import load_days
from cucu.lapaz import now_la_paz
from cucu.periods import date_range
from cucu.simulator import DEFAULT_API_KEY, Simulator
from cucu.store import Store


@pytest.fixture
def env(sim, sim_server, db):
    client = CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=2, sleep=lambda s: None)
    store = Store(db)
    yield sim, client, store
    client.close()
    store.close()


def test_second_load_of_completed_days_makes_no_call(env):
    sim, client, store = env
    today = now_la_paz().date()
    days = date_range(today - timedelta(days=6), today - timedelta(days=1))
    # POS without an open event: a day whose event is still open is not complete, and is read again.
    open_pos = {e["posId"] for e in sim.events() if not e["finalizado"]}
    pos = [p for p in sim.inventory.all_pos if p.id not in open_pos][:5]
    progress = []
    first = load_days(client, store, pos, days, progress=lambda d, t: progress.append((d, t)))
    assert first.fetched == 30 and first.from_cache == 0 and not first.errors
    assert progress[0] == (0, 30) and progress[-1] == (30, 30)
    sim.reset_stats()
    second = load_days(client, store, pos, days)
    assert second.fetched == 0 and second.from_cache == 30
    assert sim.stats()["total"] == 0
    assert sorted(e.id for d in second.days for e in d.events) == sorted(e.id for d in first.days for e in d.events)


def test_today_is_always_fetched(env):
    sim, client, store = env
    today = now_la_paz().date()
    pos = sim.inventory.all_pos[:3]
    load_days(client, store, pos, [today])
    again = load_days(client, store, pos, [today])
    assert again.fetched == 3 and again.from_cache == 0


def test_seeded_events_match_the_simulator(env):
    sim, client, store = env
    today = now_la_paz().date()
    pos = sim.inventory.all_pos
    result = load_days(client, store, pos, date_range(today - timedelta(days=15), today))
    loaded = {e.id for d in result.days for e in d.events}
    assert loaded == {e["id"] for e in sim.events()}


def test_failures_are_reported_and_older_copies_served(env):
    sim, client, store = env
    today = now_la_paz().date()
    pos = sim.inventory.all_pos[:2]
    load_days(client, store, pos, [today])  # an incomplete (today) copy in the store
    sim.update_faults({"error_rate": 1.0})
    result = load_days(client, store, pos, [today, today - timedelta(days=1)])
    assert len(result.errors) == 4 and all("cucu" in e.message for e in result.errors)
    assert result.stale == 2 and {d.day for d in result.days} == {today}


def test_a_fresh_demo_database_starts_with_the_seeded_history_verified(clean_env):
    from cucu.api.models import parse_api_datetime
    from cucu.events.history import stored_history
    from cucu.lapaz import now_la_paz, to_la_paz
    from cucu.periods import day_bounds
    from cucu.runtime import build_runtime
    from cucu.settings import load_settings

    runtime = build_runtime(load_settings({"collector": False}, {}), start_collector=False)
    try:
        now = now_la_paz()
        first = now.date() - timedelta(days=6)
        history = stored_history(
            runtime.store, runtime.inventory, [p.id for p in runtime.inventory.all_pos], first, now.date(), now
        )
        assert len(history.coverage) == 6 and not history.incomplete  # every closed day, every POS
        stored = {e.id for d in history.days for e in d.events}
        assert isinstance(runtime.simulator, Simulator)
        # Events are stored by start day: the range's days, and the earlier POS-days with an event that
        # reaches into the range (open, or ended after it began: Historial shows what overlaps it).
        first_instant = day_bounds(first, first)[0]

        def at(value: str) -> datetime:
            when = parse_api_datetime(value)
            assert when is not None
            return to_la_paz(when)

        by_day: dict[tuple[str, date], list[dict]] = {}
        for e in runtime.simulator.events():
            by_day.setdefault((e["posId"], at(e["fechaInicio"]).date()), []).append(e)
        seeded = {
            e["id"]
            for (_, day), events in by_day.items()
            if day >= first or any(e["fechaFin"] is None or at(e["fechaFin"]) >= first_instant for e in events)
            for e in events
        }
        assert stored == seeded and stored
    finally:
        runtime.close()


def test_stored_history_finds_the_events_that_began_before_the_range_and_run_into_it(db):
    from datetime import date, datetime

    from cucu.api.models import Branch, Event, Inventory, PointOfSale
    from cucu.events.history import LOOKBACK_DAYS, stored_history
    from cucu.lapaz import LA_PAZ
    from cucu.store import DayEvents
    from cucu.views.historial import events_frame

    b = "11111111-1111-4111-8111-111111111111"
    p1, p2 = "11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002"
    inventory = Inventory(branches=(Branch(b, "Casa Matriz", (PointOfSale(p1, "Caja 1", b), PointOfSale(p2, "Caja 2", b))),))
    first = date(2026, 11, 20)
    now = datetime(2026, 11, 21, 12, tzinfo=LA_PAZ)

    def moment(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=LA_PAZ)

    def stored(event_id, pos, day, start_hour, end=None):
        event = Event.from_api(
            {
                "id": event_id,
                "posId": pos,
                "codigoMotivo": 1,
                "fechaInicio": moment(day, start_hour).isoformat(),
                "fechaFin": end.isoformat() if end else None,
                "finalizado": end is not None,
            }
        )
        return DayEvents(pos, b, day, now, end is not None, (event,), verified=True)

    before, long_ago = first - timedelta(days=1), first - timedelta(days=3)
    store = Store(db)
    try:
        store.put_days(
            [
                stored("open", p1, before, 21),  # open since the evening before: Caja 6's empty lane
                stored("over", p2, before, 8, moment(before, 9)),  # over before the range
                stored("long", p2, long_ago, 8, moment(first, 3)),  # three days, into the range
                stored("ancient", p2, first - timedelta(days=LOOKBACK_DAYS + 1), 8),  # open beyond the look-back
                stored("inside", p1, first, 10, moment(first, 11)),
            ]
        )
        history = stored_history(store, inventory, [p1, p2], first, first, now)
        frame = events_frame(history.days, inventory, now, history.bounds).set_index("ID evento")
        assert sorted(frame.index) == ["inside", "long", "open"]
        assert frame.loc["open", "En el período (h)"] == pytest.approx(24.0)
        assert frame.loc["long", "En el período (h)"] == pytest.approx(3.0)
        only_p1 = stored_history(store, inventory, [p1], first, first, now)  # a POS filter applies before too
        assert {e.id for d in only_p1.days for e in d.events} == {"open", "inside"}
    finally:
        store.close()
