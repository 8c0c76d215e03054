"""Store: migrations, connectivity retention, POS status with stale-on-failure, the day cache."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from cucu.api.models import Event
from cucu.connectivity.checks import ConnectivityCheck
from cucu.lapaz import LA_PAZ
from cucu.store import Attempt, DayEvents, Lease, PosFetch, Store, database_url
from cucu.store.schema import MIGRATIONS, audit_log
from cucu.vocabulary import ActionKind, ErrorKind, Outcome

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=LA_PAZ)
EVENT = Event.from_api({"id": "e1", "posId": "p1", "codigoMotivo": 1, "fechaInicio": "2026-11-24T07:00:00", "finalizado": False})


def lease_of(store: Store, name: str) -> Lease:
    lease = store.lease(name)
    assert lease is not None
    return lease


def test_database_url():
    assert database_url("x.db") == "sqlite:///x.db"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_migrations_apply_once_and_are_recorded(db):
    store = Store(db)
    assert store.version() == MIGRATIONS[-1][0]
    store.close()
    again = Store(db)  # reopening does not re-run migrations (v1 would fail creating existing tables)
    assert again.version() == MIGRATIONS[-1][0]
    with again.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from schema_version")).scalar() == len(MIGRATIONS)
        names = set(sa.inspect(conn).get_table_names())
    assert {"connectivity_checks", "pos_status", "day_events", "audit_log"} <= names


def test_checks_round_trip_in_la_paz(db):
    store = Store(db)
    store.add_check(ConnectivityCheck(T0, True, 12.5))
    store.add_check(ConnectivityCheck(T0 + timedelta(seconds=30), False, 20.0))
    store.add_check(
        ConnectivityCheck(T0 + timedelta(seconds=60), None, 5.0, error="No se pudo conectar", error_kind=ErrorKind.CONNECTION)
    )
    checks = store.checks_since(T0)
    assert [c.siat_ok for c in checks] == [True, False, None]
    assert checks[0].checked_at == T0 and checks[0].checked_at.tzinfo == LA_PAZ
    latest = store.latest_check()
    assert latest is not None and latest.error_kind == "connection"
    assert [c.siat_ok for c in store.recent_checks(2)] == [False, None]
    assert store.checks_since(T0 + timedelta(seconds=45))[0].siat_ok is None


def test_old_checks_are_pruned(db):
    store = Store(db)
    old = T0 - timedelta(days=40)
    store.add_check(ConnectivityCheck(old, True, 1.0))
    store.add_check(ConnectivityCheck(T0, True, 1.0))
    assert store.prune_checks(T0 - timedelta(days=35)) == 1
    assert [c.checked_at for c in store.checks_since(old - timedelta(days=1))] == [T0]


def test_retention_runs_on_insert(db):
    store = Store(db)
    store.add_check(ConnectivityCheck(T0 - timedelta(days=60), True, 1.0))
    store.add_check(ConnectivityCheck(T0, True, 1.0))  # the first insert of a process prunes
    assert len(store.checks_since(T0 - timedelta(days=90))) == 2  # the 60-day one was inserted after the prune
    store._inserts = 0
    store.add_check(ConnectivityCheck(T0 + timedelta(seconds=1), True, 1.0))
    assert all(c.checked_at >= T0 for c in store.checks_since(T0 - timedelta(days=90)))


def test_failed_fetch_keeps_last_known_event_and_is_stale(db):
    store = Store(db)
    store.save_pos_fetches([PosFetch("p1", "b1", T0, event=EVENT), PosFetch("p2", "b1", T0)])
    later = T0 + timedelta(minutes=1)
    store.save_pos_fetches(
        [PosFetch("p1", "b1", later, error="cucu no respondió a tiempo."), PosFetch("p3", "b1", later, error="x")]
    )
    statuses = store.pos_statuses()
    p1 = statuses["p1"]
    assert p1.stale and p1.event is not None and p1.event.id == "e1" and p1.ok_at == T0 and p1.fetched_at == later
    assert not statuses["p2"].stale and statuses["p2"].event is None and statuses["p2"].known
    assert statuses["p3"].stale and not statuses["p3"].known
    assert store.statuses_with_events() == {"p1": p1}  # the event kept through the failure; none for p2, p3
    store.save_pos_fetches([PosFetch("p1", "b1", later, event=None)])
    assert store.statuses_with_events() == {}
    assert store.pos_statuses()["p1"].event is None and not store.pos_statuses()["p1"].stale


def test_day_cache(db):
    store = Store(db)
    day = date(2026, 11, 20)
    store.put_days([DayEvents("p1", "b1", day, T0, True, (EVENT,)), DayEvents("p2", "b1", day, T0, False, ())])
    got = store.get_days([("p1", day), ("p2", day), ("p1", date(2026, 11, 21))])
    assert set(got) == {("p1", day), ("p2", day)}
    assert got[("p1", day)].complete and got[("p1", day)].events[0].id == "e1"
    assert got[("p1", day)].fetched_at == T0
    store.put_days([DayEvents("p2", "b1", day, T0, True, (EVENT,))])  # replaced, not duplicated
    assert store.get_days([("p2", day)])[("p2", day)].complete
    assert store.days_with_ends_since(T0) == []  # EVENT is still open


def test_a_day_read_again_unchanged_is_not_a_change(db):
    # The backfill re-reads today's lists all day; only what changed may invalidate shared reads.
    store = Store(db)
    day = date(2026, 11, 20)
    first = [DayEvents("p1", "b1", day, T0, False, (EVENT,)), DayEvents("p2", "b1", day, T0, False, ())]
    assert store.put_days(first) == 2
    before = store.data_version("day_events")
    later = T0 + timedelta(minutes=10)
    again = [DayEvents("p1", "b1", day, later, False, (EVENT,)), DayEvents("p2", "b1", day, later, False, ())]
    assert store.put_days(again) == 0
    assert store.data_version("day_events") == before
    assert store.get_days([("p1", day)])[("p1", day)].fetched_at == T0  # when this copy was first read
    changed = [DayEvents("p1", "b1", day, later, False, (EVENT,)), DayEvents("p2", "b1", day, later, True, ())]
    assert store.put_days(changed) == 1
    assert store.data_version("day_events") > before
    assert store.get_days([("p2", day)])[("p2", day)].complete
    assert store.get_days([("p2", day)])[("p2", day)].fetched_at == later


def test_naive_datetimes_are_refused(db):
    store = Store(db)
    try:
        store.add_check(ConnectivityCheck(datetime(2026, 1, 1), True))
    except ValueError:
        return
    raise AssertionError("a naive datetime was stored")


def test_stored_times_are_utc(db):
    store = Store(db)
    store.add_check(ConnectivityCheck(T0, True))
    with store.engine.connect() as conn:
        raw = conn.execute(sa.text("select checked_at from connectivity_checks")).scalar()
    assert str(raw).startswith("2026-11-24 12:00:00")  # 08:00 La Paz = 12:00 UTC
    assert T0.astimezone(UTC).hour == 12


def test_add_checks_in_bulk(db):
    store = Store(db)
    store.add_checks([ConnectivityCheck(T0 + timedelta(minutes=i), i % 3 != 0, 10.0) for i in range(30)])
    checks = store.checks_since(T0)
    assert len(checks) == 30 and [c.siat_ok for c in checks[:3]] == [False, True, True]


def test_a_v1_database_upgrades_and_gains_the_one_pending_action_guard(db):
    from cucu.store import ActionInProgress
    from cucu.store.schema import schema_version

    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:  # a database as version 1 left it
        schema_version.create(conn)
        MIGRATIONS[0][1](conn)
        conn.execute(schema_version.insert().values(version=1))
    engine.dispose()
    store = Store(db)
    assert store.version() == MIGRATIONS[-1][0] == 18
    store.save_pos_fetches([active_fetch("p9", EVENT)])  # v18's counter exists on an upgraded database
    assert store.data_version("pos_events") == (1,)
    pending = Attempt(
        requested_at=T0, actor="a", actor_name=None, role=None, action=ActionKind.START, branch_id="b1", pos_id="p1"
    )
    store.audit_begin(pending)
    try:
        store.audit_begin(pending)
    except ActionInProgress:
        pass
    else:
        raise AssertionError("a second pending action for one POS was accepted")
    store.audit_begin(replace(pending, pos_id="p2"))  # other POS are free
    assert store.audit_begin(replace(pending, outcome=Outcome.DUPLICATE, message="x"))  # decided rows are not pending


def test_days_with_ends_since_finds_old_days_whose_event_ended_recently(db):
    store = Store(db)

    def ended(event_id: str, start: str, end: str) -> Event:
        return Event.from_api(
            {"id": event_id, "posId": "p", "codigoMotivo": 1, "fechaInicio": start, "fechaFin": end, "finalizado": True}
        )

    long_open = ended("largo", "2026-11-01T08:00:00", "2026-11-24T07:00:00")  # five weeks, ended an hour before T0
    old = ended("viejo", "2026-11-01T08:00:00", "2026-11-01T09:00:00")
    store.put_days(
        [
            DayEvents("p1", "b1", date(2026, 11, 1), T0, True, (old,)),  # read just now, but ended long ago
            DayEvents("p2", "b1", date(2026, 11, 1), T0 - timedelta(days=3), True, (long_open, old)),
            DayEvents("p3", "b1", date(2026, 11, 24), T0, False, (EVENT,)),  # still open
        ]
    )
    assert [d.pos_id for d in store.days_with_ends_since(T0 - timedelta(hours=48))] == ["p2"]


def test_lease_one_holder_at_a_time_until_released_or_lapsed(db):
    a, b = Store(db), Store(db)  # two processes' connections to one database
    ttl = timedelta(seconds=60)
    assert a.acquire_lease("collector", "A", T0, ttl)
    assert not b.acquire_lease("collector", "B", T0 + timedelta(seconds=30), ttl)
    assert a.acquire_lease("collector", "A", T0 + timedelta(seconds=30), ttl)  # renewed: now until T0+90
    assert not b.acquire_lease("collector", "B", T0 + timedelta(seconds=80), ttl)
    held = lease_of(b, "collector")
    assert (held.holder, held.acquired_at, held.renewed_at) == ("A", T0, T0 + timedelta(seconds=30))
    assert held.live(T0 + timedelta(seconds=89)) and not held.live(T0 + timedelta(seconds=90))
    # A stopped renewing: B takes over once it lapsed, and A is refused from then on.
    assert b.acquire_lease("collector", "B", T0 + timedelta(seconds=90), ttl)
    assert not a.acquire_lease("collector", "A", T0 + timedelta(seconds=91), ttl)
    assert lease_of(b, "collector").acquired_at == T0 + timedelta(seconds=90)
    a.release_lease("collector", "A")  # not A's any more: nothing happens
    assert lease_of(a, "collector").holder == "B"
    b.release_lease("collector", "B")
    assert a.lease("collector") is None and a.acquire_lease("collector", "A", T0 + timedelta(seconds=92), ttl)


def test_racing_processes_get_the_lease_once(db):
    from concurrent.futures import ThreadPoolExecutor

    Store(db)
    stores = [Store(db) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda i: stores[i].acquire_lease("collector", f"h{i}", T0, timedelta(seconds=60)), range(8)))
    assert won.count(True) == 1


def test_racing_standbys_take_a_lapsed_lease_once(db):
    from concurrent.futures import ThreadPoolExecutor

    assert Store(db).acquire_lease("collector", "dead", T0, timedelta(seconds=60))
    stores = [Store(db) for _ in range(8)]
    later = T0 + timedelta(minutes=5)
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda i: stores[i].acquire_lease("collector", f"h{i}", later, timedelta(seconds=60)), range(8)))
    assert won.count(True) == 1
    assert lease_of(stores[0], "collector").holder == f"h{won.index(True)}"


def test_a_migration_cut_short_is_completed_at_the_next_start(db):
    from cucu.store.schema import leases, schema_version

    Store(db).close()
    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:  # the work of v3 on is there, their version rows are not (died before the insert)
        conn.execute(schema_version.delete().where(schema_version.c.version >= 3))
    engine.dispose()
    assert leases.name in sa.inspect(engine).get_table_names()
    assert Store(db).version() == MIGRATIONS[-1][0] == 18


def test_concurrent_first_start_migrates_once(db):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: Store(db), range(4)))
    assert {s.version() for s in stores} == {MIGRATIONS[-1][0]}


def test_one_pending_action_per_pos_is_enforced_by_the_database(db):
    from cucu.store import ActionInProgress

    store = Store(db)
    pending = Attempt(
        requested_at=T0, actor="a", actor_name=None, role=None, action=ActionKind.START, branch_id="b1", pos_id="p1"
    )
    first = store.audit_begin(pending)
    with pytest.raises(ActionInProgress):
        store.audit_begin(pending)
    store.audit_begin(replace(pending, pos_id="p2"))
    store.audit_finish(first, completed_at=T0, outcome=Outcome.OK)
    store.audit_begin(pending)  # free again once the first one is decided


def test_an_attempt_under_verification_still_holds_its_pos_and_settles_once(db):
    from cucu.store import ActionInProgress

    store = Store(db)
    pending = Attempt(
        requested_at=T0, actor="a", actor_name=None, role=None, action=ActionKind.START, branch_id="b1", pos_id="p1"
    )
    first = store.audit_begin(pending)
    store.audit_finish(first, completed_at=T0, outcome=Outcome.VERIFYING, message="verificando")
    with pytest.raises(ActionInProgress):  # the first start may still land in cucu
        store.audit_begin(pending)
    assert [e.id for e in store.open_attempts()] == [first]
    assert store.audit_settle(first, outcome=Outcome.OK, message="sí", event_id="ev-1")
    assert not store.audit_settle(first, outcome=Outcome.UNCERTAIN, message="tarde")  # settled by someone else
    row = store.audit_rows([first])[first]
    assert (row.outcome, row.event_id, row.message) == (Outcome.OK, "ev-1", "sí") and row.completed_at is not None
    store.audit_begin(pending)  # free again


def test_open_attempts_age_by_the_database_clock(db):
    store = Store(db)
    pending = Attempt(  # requested_at says "a day ago": a skewed process; the database stamps its own time
        requested_at=datetime.now(UTC) - timedelta(days=1),
        actor="a",
        actor_name=None,
        role=None,
        action=ActionKind.START,
        branch_id="b1",
        pos_id="p1",
    )
    entry_id = store.audit_begin(pending)
    assert abs(store.audit_rows([entry_id])[entry_id].requested_at - datetime.now(UTC)) < timedelta(seconds=5)

    def ages() -> tuple[int, int]:
        return store.age_open_attempts(
            pending_after=timedelta(minutes=5), verify_for=timedelta(minutes=10), pending_message="p", given_up_message="g"
        )

    assert ages() == (0, 0)  # in flight: left alone
    with store.engine.begin() as conn:  # six minutes later, on the database's clock
        conn.execute(audit_log.update().values(requested_at=store.db_now() - timedelta(minutes=6)))
    assert ages() == (1, 0)
    assert store.audit_rows([entry_id])[entry_id].outcome == Outcome.VERIFYING
    with store.engine.begin() as conn:
        conn.execute(audit_log.update().values(requested_at=store.db_now() - timedelta(minutes=11)))
    assert ages() == (0, 1)
    assert store.audit_rows([entry_id])[entry_id].outcome == Outcome.UNCERTAIN


def test_a_v4_database_with_an_action_in_flight_upgrades(db):
    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE schema_version (version INTEGER NOT NULL)"))
        for _version, step in MIGRATIONS[:4]:
            step(conn)
        conn.execute(sa.text("INSERT INTO schema_version VALUES (4)"))
        conn.execute(
            sa.text(
                "INSERT INTO audit_log (requested_at, actor, action, branch_id, pos_id, outcome) "
                "VALUES ('2026-11-24 12:00:00', 'a', 'iniciar', 'b1', 'p1', 'pendiente')"
            )
        )
    engine.dispose()
    store = Store(db)
    assert store.version() == MIGRATIONS[-1][0]
    with store.engine.connect() as conn:
        names = {i["name"] for i in sa.inspect(conn).get_indexes(audit_log.name)}
    assert "ux_audit_one_open_per_pos" in names and "ux_audit_one_pending_per_pos" not in names


def test_a_v3_day_cache_gains_verified_from_complete(db):
    """v4 adds ``verified`` to a day cache written before it: a complete day was read after it ended."""
    from cucu.store.schema import UtcDateTime

    engine = sa.create_engine(database_url(db))
    timestamp = UtcDateTime().impl.compile(dialect=engine.dialect)  # as v1 created it on each backend
    with engine.begin() as conn:  # day_events as v1..v3 created it, with a row of each kind
        conn.execute(sa.text("CREATE TABLE schema_version (version INTEGER NOT NULL)"))
        conn.execute(
            sa.text(
                "CREATE TABLE day_events (pos_id VARCHAR(36) NOT NULL, day DATE NOT NULL, branch_id VARCHAR(36) NOT NULL, "
                f"fetched_at {timestamp} NOT NULL, complete BOOLEAN NOT NULL, events_json TEXT NOT NULL, PRIMARY KEY (pos_id, day))"
            )
        )
        for pos, complete in (("p1", "TRUE"), ("p2", "FALSE")):
            conn.execute(
                sa.text(f"INSERT INTO day_events VALUES ('{pos}', '2026-11-20', 'b1', '2026-11-21 12:00:00', {complete}, '[]')")
            )
        conn.execute(sa.text("INSERT INTO schema_version VALUES (1), (2), (3)"))
    engine.dispose()
    store = Store(db)  # creates the tables v1..v3 would have (checkfirst), then v4 and on
    assert store.version() == MIGRATIONS[-1][0]
    assert store.verified_per_day(date(2026, 11, 20), date(2026, 11, 20)) == {date(2026, 11, 20): 1}
    assert store.verified_pos(date(2026, 11, 20)) == {"p1"}


def active_fetch(pos_id: str, event: Event, at: datetime = T0) -> PosFetch:
    return PosFetch(pos_id, "b1", at, event=event)


def test_observed_events_land_in_their_start_day_once(db):
    store = Store(db)
    day = date(2026, 11, 24)  # EVENT started that day
    assert store.observe_events([active_fetch("p1", EVENT), PosFetch("p2", "b1", T0)]) == 1  # p2 has no event
    row = store.get_days([("p1", day)])[("p1", day)]
    assert [e.id for e in row.events] == ["e1"] and not row.complete and not row.verified
    assert store.observe_events([active_fetch("p1", EVENT, T0 + timedelta(minutes=1))]) == 0  # the same copy: no write
    changed = Event.from_api({**EVENT.raw, "descripcionMotivo": "otra"})
    assert store.observe_events([active_fetch("p1", changed, T0 + timedelta(minutes=2))]) == 1
    row = store.get_days([("p1", day)])[("p1", day)]
    assert row.events[0].raw["descripcionMotivo"] == "otra" and row.fetched_at == T0 + timedelta(minutes=2)


def test_an_observed_event_joins_a_listed_day_keeping_its_other_events_and_verification(db):
    store = Store(db)
    day = date(2026, 11, 24)  # EVENT started that day
    ended = Event.from_api(
        {
            "id": "e0",
            "posId": "p1",
            "codigoMotivo": 2,
            "fechaInicio": "2026-11-24T06:00:00",
            "fechaFin": "2026-11-24T06:30:00",
            "finalizado": True,
        }
    )
    store.put_days([DayEvents("p1", "b1", day, T0, False, (ended,), verified=True)])
    store.observe_events([active_fetch("p1", EVENT, T0 + timedelta(minutes=1))])
    row = store.get_days([("p1", day)])[("p1", day)]
    assert sorted(e.id for e in row.events) == ["e0", "e1"] and row.verified


def test_days_with_events_and_verified_counts_per_day(db):
    store = Store(db)
    d1, d2 = date(2026, 11, 20), date(2026, 11, 21)
    store.put_days(
        [
            DayEvents("p1", "b1", d1, T0, True, (EVENT,)),
            DayEvents("p2", "b1", d1, T0, True, ()),
            DayEvents("p1", "b1", d2, T0, False, ()),  # read while the day was going on
            DayEvents("p2", "b2", d2, T0, False, (EVENT,), verified=True),  # read after, an event still open
        ]
    )
    assert {(d.pos_id, d.day) for d in store.days_with_events(d1, d2)} == {("p1", d1), ("p2", d2)}
    assert {(d.pos_id, d.day) for d in store.days_with_events(d1, d2, pos_ids=["p2"])} == {("p2", d2)}
    assert store.verified_per_day(d1, d2) == {d1: 2, d2: 1}
    assert store.verified_per_day(d1, d2, pos_ids=["p1"]) == {d1: 1}
    assert store.verified_pos(d2) == {"p2"}


def test_every_write_raises_its_table_version_and_reads_do_not(db):
    store = Store(db)
    names = ("pos_status", "day_events", "connectivity_checks")
    start = store.data_version(*names)
    store.pos_statuses()
    store.days_with_events(date(2026, 11, 1), date(2026, 11, 30))
    assert store.data_version(*names) == start
    store.save_pos_fetches([PosFetch("p1", "b1", T0)])
    store.put_days([DayEvents("p1", "b1", date(2026, 11, 20), T0, True, ())])
    store.add_check(ConnectivityCheck(T0, True))
    assert store.data_version(*names) == tuple(v + 1 for v in start)
    assert store.observe_events([active_fetch("p1", EVENT)]) == 1
    assert store.data_version("day_events") == (start[1] + 2,)


def test_the_pos_events_counter_moves_only_when_an_active_event_changes(db):
    """The invoices' attribution to events (0.9 s at a chain) is built again per ``pos_events``, not per sweep:
    a sweep that finds what the last one did, or a failed read (the last event kept), must not move it."""
    store = Store(db)
    fetch = PosFetch("p1", "b1", T0)
    store.save_pos_fetches([fetch])  # a POS seen for the first time
    first = store.data_version("pos_status", "pos_events")
    later = T0 + timedelta(minutes=1)
    store.save_pos_fetches([replace(fetch, fetched_at=later)])  # the same answer a minute later
    store.save_pos_fetches([replace(fetch, fetched_at=later, error="cucu no responde")])
    status, events = store.data_version("pos_status", "pos_events")
    assert status == first[0] + 2 and events == first[1]
    store.save_pos_fetches([active_fetch("p1", EVENT, later)])  # an event began
    assert store.data_version("pos_events") == (events + 1,)
    store.save_pos_fetches([active_fetch("p1", EVENT, later + timedelta(minutes=1))])  # still the same event
    store.save_pos_fetches([replace(fetch, fetched_at=later, error="cucu no responde")])  # kept through a failure
    assert store.data_version("pos_events") == (events + 1,)
    store.save_pos_fetches([replace(fetch, fetched_at=later + timedelta(minutes=2))])  # it ended
    assert store.data_version("pos_events") == (events + 2,)
    store.close()


def test_a_stored_event_todays_checks_refuse_is_skipped_not_raised(db):
    """Rows written before Event.from_api checked lengths and types (from a cucu that sent odd data)
    read back as no event, so one row cannot break Estado, Eventos or Historial for everyone."""
    store = Store(db)
    old = replace(EVENT, raw={**EVENT.raw, "id": "x" * 100, "codigoMotivo": True})
    day = date(2026, 11, 24)
    store.save_pos_fetches([PosFetch("p1", "b1", T0, event=old), PosFetch("p2", "b1", T0, event=EVENT)])
    store.put_days([DayEvents("p1", "b1", day, T0, True, (old, EVENT))])
    statuses = store.pos_statuses()
    assert statuses["p1"].event is None and statuses["p2"].event == EVENT
    assert store.get_days([("p1", day)])[("p1", day)].events == (EVENT,)
    store.close()


def test_a_chains_day_written_again_unchanged_writes_nothing(db):
    """Past 500 POS a day's rows are compared in batches: the same content a round later (only the time it was
    read differs) writes no row and moves no version, or Historial's shared week is rebuilt for nothing."""
    store = Store(db)
    day = date(2026, 11, 24)
    store.put_days([DayEvents(f"p{i:05d}", "b1", day, T0, True, ()) for i in range(1_200)])
    version = store.data_version("day_events")
    later = T0 + timedelta(hours=1)
    assert store.put_days([DayEvents(f"p{i:05d}", "b1", day, later, True, ()) for i in range(1_200)]) == 0
    assert store.data_version("day_events") == version
    store.close()


def test_each_pos_event_is_parsed_once_however_often_the_states_are_read(db):
    """Every POS's state is read again after each sweep (Estado, Eventos activos, Facturas): an unchanged event
    comes from what was parsed before (the same object), not from its JSON and its checks again."""
    store = Store(db)
    store.save_pos_fetches([PosFetch("p1", "b1", T0, event=EVENT), PosFetch("p2", "b1", T0)])
    first = store.pos_statuses()
    store.save_pos_fetches([PosFetch("p1", "b1", T0 + timedelta(minutes=1), event=EVENT)])
    again = store.pos_statuses()
    assert first["p1"].event == EVENT and first["p2"].event is None
    assert again["p1"].event is first["p1"].event and again["p1"].fetched_at > first["p1"].fetched_at
    store.close()


def test_a_days_events_are_parsed_once_however_often_the_week_is_read_again(db):
    """Historial's shared week is rebuilt whenever a sweep changes a day: an unchanged day's events come from
    what was parsed before (the same objects), not from its JSON and every event's checks again."""
    store = Store(db)
    day = date(2026, 11, 24)
    store.put_days([DayEvents("p1", "b1", day, T0, True, (EVENT,)), DayEvents("p2", "b1", day, T0, True, ())])
    first, again = store.days_with_events(day, day), store.days_with_events(day, day)
    assert [d.pos_id for d in first] == ["p1"] and first == again
    assert first[0].events[0] is again[0].events[0]
    store.close()


def test_a_chains_six_days_of_events_stay_parsed_from_one_rebuild_to_the_next():
    """Facturas attributes invoices from the days of the last 72 h and two before; at 1 000 x 10 POS that is
    ~19 000 days with events. A cache smaller than what one pass reads keeps nothing: each pass evicts,
    oldest first, what the next one needs first (every read parsed again, 0.8 s of a chain's rebuild)."""
    from cucu.store.days import _stored_events

    texts = [json.dumps([{**EVENT.raw, "id": f"e{i}", "posId": f"p{i}"}]) for i in range(19_000)]
    for text in texts:
        _stored_events(text)
    hits = _stored_events.cache_info().hits
    for text in texts:
        _stored_events(text)
    assert _stored_events.cache_info().hits - hits == len(texts)


# ---- the audit log at Bitácora's scale -------------------------------------------------------

PLACES = [(f"b{i % 5}", f"p{i}") for i in range(40)]


def test_a_v4_audit_log_gains_bitacoras_indexes_and_keeps_its_rows(db):
    from cucu.store.schema import audit_log, schema_version

    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:  # a database as version 4 left it, with an attempt in its log
        schema_version.create(conn)
        for version, step in MIGRATIONS[:4]:
            step(conn)
            conn.execute(schema_version.insert().values(version=version))
        for name in ("requested_at_id", "branch_requested_at_id", "actor_requested_at_id", "outcome_requested_at_id"):
            conn.execute(sa.text(f"DROP INDEX ix_audit_log_{name}"))  # v1 created only this one:
        conn.execute(sa.text("CREATE INDEX ix_audit_log_requested_at ON audit_log (requested_at)"))
        conn.execute(
            audit_log.insert().values(requested_at=T0, actor="a", action="iniciar", branch_id="b", pos_id="p", outcome="ok")
        )
    engine.dispose()
    store = Store(db)
    assert store.version() == MIGRATIONS[-1][0]
    with store.engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("audit_log")}
    assert "ix_audit_log_requested_at" not in indexes
    assert {f"ix_audit_log_{c}requested_at_id" for c in ("", "branch_", "actor_", "outcome_")} <= indexes
    assert store.audit_count() == 1 and store.audit_page()[0].actor == "a"


def test_twelve_thousand_attempts_are_counted_paged_and_read_in_chunks_all_of_them(db):
    from cucu.store import AUDIT_CHUNK, AuditFilter, page_count
    from tests.support.audit import audit_rows, insert_audit_rows

    store = Store(db)
    rows = list(audit_rows(12_000, T0, PLACES))
    assert insert_audit_rows(store, iter(rows)) == 12_000
    newest_first = [i + 1 for i in sorted(range(len(rows)), key=lambda i: (rows[i]["requested_at"], i + 1), reverse=True)]
    assert store.audit_count() == 12_000

    size = 500
    pages = [store.audit_page(page=n, size=size) for n in range(1, page_count(12_000, size) + 1)]
    assert [len(p) for p in pages] == [size] * 24
    assert [e.id for p in pages for e in p] == newest_first  # every row once, newest first, ties by id
    assert pages[-1][-1].requested_at == min(r["requested_at"] for r in rows)  # the last page reaches the oldest
    assert store.audit_page(page=25, size=size) == [] and store.audit_page(page=0) == []

    chunks = list(store.audit_chunks())
    assert [len(c) for c in chunks] == [AUDIT_CHUNK, AUDIT_CHUNK, 2_000]
    assert [e.id for c in chunks for e in c] == newest_first

    where = AuditFilter(
        since=T0 - timedelta(hours=30),
        until=T0 - timedelta(hours=10),
        branch_ids=("b1", "b3"),
        outcomes=(Outcome.OK, Outcome.ERROR),
        actors=("usuario2@empresa.bo", "usuario5@empresa.bo", "nadie"),
    )
    wanted = [
        i
        for i in newest_first
        if where.since <= rows[i - 1]["requested_at"] < where.until
        and rows[i - 1]["branch_id"] in where.branch_ids
        and rows[i - 1]["outcome"] in where.outcomes
        and rows[i - 1]["actor"] in where.actors
    ]
    assert wanted and store.audit_count(where) == len(wanted)
    assert [e.id for n in range(1, page_count(len(wanted), 7) + 1) for e in store.audit_page(where, page=n, size=7)] == wanted
    assert [e.id for e in store.audit_entries(where)] == wanted
    assert store.audit_count(replace(where, actions=(ActionKind.START,))) == sum(
        rows[i - 1]["action"] == ActionKind.START for i in wanted
    )


def test_count_pages_and_users_of_the_audit_log_are_read_through_its_indexes(tmp_path):
    """What keeps Bitácora quick on a million rows (see benchmarks.bitacora): for the count, a first
    page, a deep one and a CSV chunk, each filter is an index search, never a scan of the log, and with
    one value per list the index gives the order too (no sort). SQLite's plans, without statistics
    (the store never runs ANALYZE); PostgreSQL has the same indexes."""
    from cucu.periods import day_bounds
    from cucu.store import AuditFilter

    store = Store(str(tmp_path / "plan.db"))
    since, until = day_bounds(date(2026, 11, 18), date(2026, 11, 24))
    week = AuditFilter(since=since, until=until)
    cases = {
        "ix_audit_log_requested_at_id": [week, AuditFilter(), replace(week, actions=(ActionKind.START,))],
        "ix_audit_log_branch_requested_at_id": [replace(week, branch_ids=("b1",)), AuditFilter(branch_ids=("b1",))],
        "ix_audit_log_actor_requested_at_id": [replace(week, actors=("ana",))],
        "ix_audit_log_outcome_requested_at_id": [replace(week, outcomes=(Outcome.ERROR,))],
    }
    several = replace(week, branch_ids=("b1", "b2"))  # each branch's rows from the index, then their order
    captured: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    def plans(where: AuditFilter) -> list[list[str]]:
        captured.clear()
        store.audit_count(where)
        store.audit_page(where, page=1)
        store.audit_page(where, page=400)
        list(store.audit_chunks(where))
        assert len(captured) == 4
        return [
            [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)] for statement, parameters in captured
        ]

    sa.event.listen(store.engine, "before_cursor_execute", keep)
    raw = store.engine.raw_connection()
    for index, filters in cases.items():
        for where in filters:
            for plan in plans(where):
                on_the_log = [step for step in plan if "audit_log" in step]
                assert on_the_log and all(index in step or "PRIMARY KEY" in step for step in on_the_log), (where, plan)
                assert not any("TEMP B-TREE" in step for step in plan), (where, plan)
    for plan in plans(several):
        assert all("ix_audit_log_branch_requested_at_id" in step or "PRIMARY KEY" in step for step in plan if "audit_log" in step)
    captured.clear()
    store.audit_actors()
    (statement, parameters), *_ = captured
    plan = [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert all("ix_audit_log_actor_requested_at_id" in step for step in plan if "audit_log" in step), plan
    raw.close()


def test_an_unknown_stored_outcome_action_or_role_is_read_as_its_raw_value(db):
    """A value this version does not know (a newer process wrote it, or a person by hand) must not keep
    the log from being read: it comes back as the raw text, which Bitácora shows marked unknown."""
    from cucu.store.schema import audit_log
    from cucu.vocabulary import Role, stored_label

    store = Store(db)
    known = Attempt(
        requested_at=T0, actor="a", actor_name=None, role=Role.SUPERVISOR, action=ActionKind.END, branch_id="b", pos_id="p1"
    )
    store.audit_begin(replace(known, outcome=Outcome.OK))
    with store.engine.begin() as conn:
        conn.execute(
            audit_log.insert().values(
                requested_at=T0 + timedelta(minutes=1),
                actor="b",
                role="auditor",
                action="anular",
                branch_id="b",
                pos_id="p2",
                outcome="reintentado",
            )
        )
    newest, oldest = store.audit_entries()
    assert (newest.role, newest.action, newest.outcome) == ("auditor", "anular", "reintentado")
    assert newest.role is not None
    assert [stored_label(v) for v in (newest.role, newest.action, newest.outcome)] == [
        "⚠ auditor (desconocido)",
        "⚠ anular (desconocido)",
        "⚠ reintentado (desconocido)",
    ]
    assert (oldest.role, oldest.action, oldest.outcome) == (Role.SUPERVISOR, ActionKind.END, Outcome.OK)
    assert stored_label(oldest.outcome) == "Hecho"
    assert store.audit_count() == 2 and [e.actor for e in store.audit_page()] == ["b", "a"]


def test_the_user_list_is_everyone_in_the_log_once_sorted(db):
    from tests.support.audit import ACTORS, audit_rows, insert_audit_rows

    store = Store(db)
    assert store.audit_actors() == []
    insert_audit_rows(store, audit_rows(200, T0, PLACES))
    late = Attempt(requested_at=T0, actor="Zoe", actor_name=None, role=None, action=ActionKind.START, branch_id="b", pos_id="p")
    store.audit_begin(replace(late, outcome=Outcome.DENIED))
    store.audit_begin(replace(late, actor="sesión 0f3a", outcome=Outcome.DENIED))
    assert store.audit_actors() == sorted({*ACTORS, "Zoe", "sesión 0f3a"})


def test_v12_gives_job_runs_the_walk_s_counts_and_keeps_older_rows(db):
    from cucu.store import JobNotes
    from cucu.store.schema import job_runs, schema_version

    store = Store(db)
    store.record_job("facturas", T0, None)
    with store.engine.begin() as conn:  # job_runs as v11 left it: without the counts, and no v12 row or later
        for name in ("future", "undated", "over_cap"):
            conn.execute(sa.text(f"ALTER TABLE {job_runs.name} DROP COLUMN {name}"))
        conn.execute(schema_version.delete().where(schema_version.c.version >= 12))
    store.close()
    store = Store(db)
    assert store.version() == MIGRATIONS[-1][0] == 18
    store.save_pos_fetches([active_fetch("p9", EVENT)])  # v18's counter exists on an upgraded database
    assert store.data_version("pos_events") == (1,)
    old = store.job_run("facturas")
    assert old is not None and old.notes == JobNotes()  # an older row reads as nothing left out
    store.record_job("facturas", T0 + timedelta(minutes=1), "falló", JobNotes(future=2, undated=1, over_cap=40))
    run = store.job_run("facturas")
    assert run is not None and run.notes == JobNotes(2, 1, 40) and run.error == "falló" and run.ok_at == T0
    store.close()


def test_v14_job_runs_record_whether_the_walk_ever_completed_a_pass(db):
    """The invoice figures are partial until the walk has read its whole window once; that survives a
    restart (the walk's own memory does not), and an older row reads as "never"."""
    from cucu.store.schema import job_runs, schema_version

    store = Store(db)
    store.record_job("facturas", T0, None)
    with store.engine.begin() as conn:  # job_runs as v13 left it
        for name in ("passed_at", "pass_pages"):
            conn.execute(sa.text(f"ALTER TABLE {job_runs.name} DROP COLUMN {name}"))
        conn.execute(schema_version.delete().where(schema_version.c.version >= 14))
    store.close()
    store = Store(db)
    old = store.job_run("facturas")
    assert old is not None and (old.passed_at, old.pass_pages) == (None, 0)
    store.record_job("facturas", T0 + timedelta(minutes=1), None, pass_pages=7)
    partial = store.job_run("facturas")
    assert partial is not None and (partial.passed_at, partial.pass_pages) == (None, 7)
    store.record_job("facturas", T0 + timedelta(minutes=2), None, passed=True)
    store.record_job("facturas", T0 + timedelta(minutes=3), "falló", pass_pages=2)  # a new pass under way
    run = store.job_run("facturas")
    assert run is not None and run.passed_at == T0 + timedelta(minutes=2) and run.pass_pages == 2
    store.close()
