"""Maintenance windows (issue 25, part 3, first step): scheduled and cancelled by supervisors (audited), and
while one runs, the alert rules it silences open, remind and escalate nothing in its scope."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cucu.events.actions import ActionError, Actor
from cucu.events.maintenance import cancel, current_and_upcoming, schedule, silences
from cucu.store import Store
from cucu.vocabulary import ActionKind, AlertRule, Role
from tests.store.test_alerts import INVENTORY, NORTE, SUR, T0, channels, down, run, up

ANA = Actor("ana@empresa.bo", "Ana Quispe", Role.SUPERVISOR)
VIEWER = Actor("vera@empresa.bo", "Vera", Role.VIEWER)
SIAT_ONLY = [AlertRule.SIAT_DOWN]


def window(store, start_min=0, end_min=60, *, branches=(), rules=SIAT_ONLY, reason="Mantenimiento de SIAT anunciado", actor=ANA):
    return schedule(
        store, actor, INVENTORY, starts_at=T0 + timedelta(minutes=start_min), ends_at=T0 + timedelta(minutes=end_min),
        branch_ids=list(branches), silenced=rules, reason=reason, now=T0,
    )  # fmt: skip


def test_a_window_silences_its_rules_while_it_runs_and_no_longer(db):
    store = Store(db)
    settings = channels()
    window(store, 0, 60)
    assert run(store, down(T0 + timedelta(minutes=10)), settings).opened == 0  # SIAT down inside the window
    assert not store.open_incidents()
    assert run(store, down(T0 + timedelta(minutes=61)), settings).opened == 1  # still down once it ended


def test_what_is_open_stays_open_and_quiet_and_closes_on_recovery(db):
    """A window must not read as "SIAT is back": an open alert is not closed by it, only not reminded."""
    store = Store(db)
    settings = channels(remind_minutes=30)
    assert run(store, down(T0 - timedelta(minutes=5)), settings).opened == 1
    window(store, 0, 120)
    assert run(store, down(T0 + timedelta(minutes=40)), settings).reminded == 0  # due at 25 without the window
    assert len(store.open_incidents()) == 1
    assert run(store, up(T0 + timedelta(minutes=50)), settings).closed == 1


def test_without_a_window_the_same_outage_alerts(db):
    """The control of the two tests above."""
    store = Store(db)
    settings = channels(remind_minutes=30)
    assert run(store, down(T0 + timedelta(minutes=10)), settings).opened == 1
    assert run(store, down(T0 + timedelta(minutes=41)), settings).reminded == 1


def test_a_branch_window_silences_only_that_branchs_incidents():
    from cucu.store import MaintenanceWindow

    w = MaintenanceWindow(1, T0, T0 + timedelta(hours=1), (NORTE,), (AlertRule.LONG_OPEN.value,), "Inventario", "Ana", T0)
    at = T0 + timedelta(minutes=5)
    assert silences([w], AlertRule.LONG_OPEN, NORTE, at)
    assert not silences([w], AlertRule.LONG_OPEN, SUR, at)
    assert not silences([w], AlertRule.LONG_OPEN, None, at)  # the company's summary: not by a branch's window
    assert not silences([w], AlertRule.SIAT_DOWN, NORTE, at)  # not a rule it silences
    assert not silences([w], AlertRule.LONG_OPEN, NORTE, T0 + timedelta(hours=1))  # its end is outside it
    company = MaintenanceWindow(2, T0, T0 + timedelta(hours=1), (), (AlertRule.SIAT_DOWN.value,), "SIAT", "Ana", T0)
    assert silences([company], AlertRule.SIAT_DOWN, None, at)


def test_every_page_names_the_running_and_the_next_days_windows(db):
    store = Store(db)
    running, soon, later = window(store, -10, 30), window(store, 120, 180), window(store, 60 * 30, 60 * 31)
    now, upcoming = current_and_upcoming(store.maintenance_windows(ending_after=T0), T0)
    assert [w.id for w in now] == [running] and [w.id for w in upcoming] == [soon]
    assert later not in {w.id for w in [*now, *upcoming]}
    cancel(store, ANA, INVENTORY, soon, T0)
    assert current_and_upcoming(store.maintenance_windows(ending_after=T0), T0)[1] == []


def test_scheduling_and_cancelling_are_audited(db):
    store = Store(db)
    wid = window(store, 0, 60, branches=[NORTE], reason="Inventario anual")
    cancel(store, ANA, INVENTORY, wid, T0 + timedelta(minutes=5))
    entries = store.audit_entries()
    assert [e.action for e in entries] == [ActionKind.CANCEL_MAINTENANCE, ActionKind.SCHEDULE_MAINTENANCE]
    assert all("Sucursal Norte" in (e.message or "") and "Inventario anual" in (e.message or "") for e in entries)
    stored = store.maintenance_window(wid)
    assert stored is not None and stored.cancelled_at is not None and stored.created_by == "Ana Quispe"
    with pytest.raises(ActionError, match="ya fue cancelado"):
        cancel(store, ANA, INVENTORY, wid, T0 + timedelta(minutes=6))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ({"actor": VIEWER}, "Solo un supervisor"),
        ({"reason": "  "}, "Escriba el motivo"),
        ({"reason": "x" * 301}, "demasiado largo"),
        ({"start_min": 60, "end_min": 60}, "posterior a su inicio"),
        ({"start_min": -120, "end_min": -60}, "ya terminó"),
        ({"end_min": 60 * 24 * 8}, "7 días"),
        ({"branches": ["no-existe"]}, "no están en el inventario"),
    ],
)
def test_a_refused_window_says_why_and_writes_nothing(db, args, says):
    store = Store(db)
    with pytest.raises(ActionError, match=says):
        window(store, **args)
    assert not store.maintenance_windows(ending_after=T0 - timedelta(days=30), cancelled=True)
    assert not store.audit_entries()


def test_pre_flight_names_the_pos_whose_cufd_does_not_last_through_the_window():
    """Offline invoices need a valid CUFD from before the outage: before a window, those that expire inside it
    (or earlier), are inactive or missing are to renew; those never read are counted apart, not as fine."""
    from cucu.api.models import Cufd
    from cucu.events.maintenance import cufds_to_renew
    from cucu.store import MaintenanceWindow, StoredCufd

    start, end = T0 + timedelta(hours=2), T0 + timedelta(hours=4)

    def stored(pos_id, branch, until=None, *, active=True, read=True, missing=False):
        cufd = None if missing else Cufd("C" + pos_id, "x", until, active)
        return StoredCufd(pos_id, branch, T0, T0 if read else None, cufd if read else None, None)

    cufds = {
        "p1": stored("p1", NORTE, end + timedelta(minutes=1)),  # lasts: fine
        "p2": stored("p2", NORTE, start + timedelta(hours=1)),  # expires inside the window
        "p3": stored("p3", SUR, end + timedelta(days=1), active=False),  # inactive
    }
    window = MaintenanceWindow(1, start, end, (), ("siat_caido",), "SIAT", "Ana", T0)
    assert cufds_to_renew(window, cufds, INVENTORY) == (["p2", "p3"], 0)
    assert cufds_to_renew(window, {**cufds, "p1": stored("p1", NORTE, read=False)}, INVENTORY) == (["p2", "p3"], 1)
    assert cufds_to_renew(window, {**cufds, "p3": stored("p3", SUR, missing=True)}, INVENTORY) == (["p2", "p3"], 0)
    north = MaintenanceWindow(2, start, end, (NORTE,), (), "Inventario", "Ana", T0)
    assert cufds_to_renew(north, cufds, INVENTORY) == (["p2"], 0)  # only its branches


def test_pre_flight_lists_branch_pos_and_expiry_soonest_first_and_counts_the_rest():
    """What cannot invoice at all first (no CUFD, inactive), then by expiry in La Paz time; names escaped; a
    chain's hundreds: the first ones listed and "y M más"."""
    from cucu.api.models import Branch, Cufd, Inventory, PointOfSale
    from cucu.events.maintenance import renewal_list, renewal_text
    from cucu.formatting import fmt_datetime, md_text
    from cucu.store import StoredCufd

    inventory = Inventory(
        (
            Branch(NORTE, "Sucursal *Norte*", (PointOfSale("p1", "Caja 1", NORTE), PointOfSale("p2", "Caja 2", NORTE)), None),
            Branch(SUR, "Sucursal Sur", (PointOfSale("p3", "Caja 3", SUR), PointOfSale("p4", "Caja 4", SUR)), None),
            Branch("b-este", "Sucursal Este", (PointOfSale("p5", "Caja 5", "b-este"),), None),
        )
    )
    late, soon, past = T0 + timedelta(hours=3), T0 + timedelta(hours=1), T0 - timedelta(minutes=5)
    cufds = {
        "p1": StoredCufd("p1", NORTE, T0, T0, Cufd("C1", "x", late, True), None),
        "p2": StoredCufd("p2", NORTE, T0, T0, Cufd("C2", "x", soon, True), None),
        "p3": StoredCufd("p3", SUR, T0, T0, None, None),  # cucu has none
        "p4": StoredCufd("p4", SUR, T0, T0, Cufd("C4", "x", late, False), None),  # inactive
        "p5": StoredCufd("p5", "b-este", T0, T0, Cufd("C5", "x", past, True), None),  # expired already
    }
    rows = renewal_list(["p1", "p2", "p3", "p4", "p5"], cufds, inventory, T0)
    assert [(r.pos, r.expires_at, r.state) for r in rows] == [
        ("Caja 3", None, "sin CUFD"),
        ("Caja 4", late, f"inactivo, vence el {fmt_datetime(late)}"),
        ("Caja 5", past, f"venció el {fmt_datetime(past)}"),
        ("Caja 2", soon, f"vence el {fmt_datetime(soon)}"),
        ("Caja 1", late, f"vence el {fmt_datetime(late)}"),
    ]
    text = renewal_text(rows, listed=4)
    assert text.splitlines() == [
        "- **Sucursal Sur** · Caja 3 · sin CUFD",
        f"- **Sucursal Sur** · Caja 4 · inactivo, vence el {fmt_datetime(late)}",
        f"- **Sucursal Este** · Caja 5 · venció el {fmt_datetime(past)}",
        f"- **{md_text('Sucursal *Norte*')}** · Caja 2 · vence el {fmt_datetime(soon)}",
        "- … y 1 más",
    ]
    assert "más" not in renewal_text(rows)  # all five listed: nothing more


def test_a_past_outage_is_marked_as_maintenance_after_the_fact_audited(db):
    from cucu.events.maintenance import company_periods, mark_past

    store = Store(db)
    now = T0 + timedelta(days=1)
    wid = mark_past(store, ANA, INVENTORY, starts_at=T0, ends_at=T0 + timedelta(hours=2), reason="SIAT avisó tarde", now=now)
    (entry,) = store.audit_entries()
    assert entry.action is ActionKind.MARK_MAINTENANCE and "SIAT avisó tarde" in (entry.message or "")
    marked = store.maintenance_window(wid)
    assert marked is not None and marked.branch_ids == () and marked.silenced == () and not marked.covers(now)
    assert company_periods([marked]) == [(T0, T0 + timedelta(hours=2))]
    for kwargs, says in (
        ({"starts_at": T0, "ends_at": now + timedelta(minutes=1)}, "ya pasado"),
        ({"starts_at": now - timedelta(days=32), "ends_at": now - timedelta(days=31, hours=23)}, "31 días"),
        ({"starts_at": T0, "ends_at": T0}, "posterior a su inicio"),
    ):
        with pytest.raises(ActionError, match=says):
            mark_past(store, ANA, INVENTORY, reason="x", now=now, **kwargs)
    with pytest.raises(ActionError, match="Solo un supervisor"):
        mark_past(store, VIEWER, INVENTORY, starts_at=T0, ends_at=T0 + timedelta(hours=1), reason="x", now=now)
    assert len(store.audit_entries()) == 1


def test_an_outage_marked_from_its_dossier_is_found_marked_after_the_round_trip(db):
    """Caídas marks a SIAT outage with its own start and end (stored checks' times, to the microsecond); the mark
    read back holds it whole on either database, and a mark of a neighbouring outage does not."""
    from cucu.connectivity.checks import ConnectivityCheck
    from cucu.connectivity.outages import maintenance_marks, read_outages
    from cucu.events.maintenance import mark_past

    store = Store(db)
    first = T0 + timedelta(microseconds=123_456)
    store.add_checks(
        [ConnectivityCheck(first + timedelta(minutes=m), m >= 30 or 5 <= m < 10, 80.0) for m in range(0, 40)]
    )  # down 0–4 and 10–29: two outages
    now = T0 + timedelta(hours=2)
    outages = read_outages(store, T0 - timedelta(hours=1), now)
    newer, older = outages
    assert older.started_at == first and newer.started_at == first + timedelta(minutes=10)
    assert older.ended_at is not None
    mark_past(store, ANA, INVENTORY, starts_at=older.started_at, ends_at=older.ended_at, reason="SIAT avisó tarde", now=now)
    (marked,) = store.maintenance_windows(ending_after=T0 - timedelta(hours=1))
    assert maintenance_marks(outages, store.maintenance_windows(ending_after=T0 - timedelta(hours=1))) == {older.key: marked}


def test_availability_leaves_out_the_companys_maintenance_and_counts_it_apart():
    from cucu.connectivity.checks import ConnectivityCheck
    from cucu.connectivity.rules import uptime
    from cucu.events.maintenance import company_periods
    from cucu.store import MaintenanceWindow
    from cucu.views.conectividad import maintenance_in

    checks = [ConnectivityCheck(T0 + timedelta(minutes=10 * i), i not in (3, 4, 5)) for i in range(12)]  # 3 of 12 failed
    assert uptime(checks, T0) == pytest.approx(9 / 12)
    during = (T0 + timedelta(minutes=30), T0 + timedelta(minutes=60))  # the three failures, [start, end)
    assert uptime(checks, T0, [during]) == pytest.approx(1.0)
    company = MaintenanceWindow(1, *during, (), (), "SIAT", "Ana", T0)
    branch = MaintenanceWindow(2, T0, T0 + timedelta(hours=2), (NORTE,), (), "Inventario", "Ana", T0)
    cut = MaintenanceWindow(3, T0 + timedelta(hours=1), T0 + timedelta(hours=3), (), (), "x", "Ana", T0,
                            cancelled_at=T0 + timedelta(minutes=80))  # fmt: skip
    periods = company_periods([company, branch, cut])  # a branch's window is not SIAT's; a cancelled one until then
    assert periods == [during, (T0 + timedelta(hours=1), T0 + timedelta(minutes=80))]
    assert maintenance_in(periods, T0, T0 + timedelta(hours=2)) == timedelta(minutes=50)
    assert maintenance_in([during, during], T0, T0 + timedelta(hours=2)) == timedelta(minutes=30)  # overlaps once


def test_a_period_picked_as_a_day_and_two_times_ends_the_next_day_when_its_end_is_not_after_its_start():
    from datetime import date, datetime, time

    from cucu.events.maintenance import period
    from cucu.lapaz import LA_PAZ

    day = date(2026, 12, 3)
    assert period(day, time(22), time(23)) == (datetime(2026, 12, 3, 22, tzinfo=LA_PAZ), datetime(2026, 12, 3, 23, tzinfo=LA_PAZ))
    assert period(day, time(22), time(2)) == (datetime(2026, 12, 3, 22, tzinfo=LA_PAZ), datetime(2026, 12, 4, 2, tzinfo=LA_PAZ))
    assert period(day, time(22), time(22))[1] == datetime(2026, 12, 4, 22, tzinfo=LA_PAZ)  # a whole day, not nothing
