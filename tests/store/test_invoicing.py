"""Invoicing: CUFD reads and the invoice walk against the simulator over HTTP, the store's tables, and
what the invoices mean (attribution to events, deadlines, each ended event's closing state)."""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from cucu.api.client import CucuClient
from cucu.api.models import Cufd, Invoice, InvoiceStatus
from cucu.collector import Collector
from cucu.invoicing import (
    INVOICE_JOB,
    OPEN_STATES,
    EventSpan,
    InvoiceRound,
    InvoiceWalk,
    attribute,
    backlog,
    cufd_due,
    cufd_health,
    event_closes,
    invoice_round,
    left_out_sentences,
    walk_progress,
)
from cucu.lapaz import now_la_paz
from cucu.simulator import DEFAULT_API_KEY, Simulator, SimulatorServer
from cucu.simulator.seed import synthetic_inventory
from cucu.store import CufdFetch, JobNotes, StatusRead, Store, StoredCufd, StoredInvoice
from cucu.vocabulary import CufdHealth, EventClosing, InvoiceState

NOW = now_la_paz().replace(microsecond=0)
TWO_HOURS = timedelta(hours=2)


class Clock:
    def __init__(self) -> None:
        self.now = now_la_paz().replace(microsecond=0)

    def __call__(self):
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def world(clock, db):
    """A simulator on the test's clock, a client and a collector on it (nothing runs in the background)."""
    sim = Simulator(now=clock)
    with SimulatorServer(sim) as server, CucuClient(server.base_url, DEFAULT_API_KEY, timeout=5, sleep=lambda s: None) as client:
        store = Store(db)
        collector = Collector(client, store, sim.inventory, concurrency=8, invoice_pages_per_round=20, clock=clock)
        yield sim, client, store, collector
        collector.stop()
        store.close()


def stored(pos_id="p", *, cufd=None, ok=True, error=None, fetched=NOW):
    return StoredCufd(pos_id, "b", fetched, fetched if ok else None, cufd, error)


# ---- CUFD ---------------------------------------------------------------------------


def test_cufd_health_from_the_last_answer():
    assert cufd_health(None, NOW, TWO_HOURS) is CufdHealth.UNKNOWN
    assert cufd_health(stored(ok=False, error="x"), NOW, TWO_HOURS) is CufdHealth.UNKNOWN
    assert cufd_health(stored(), NOW, TWO_HOURS) is CufdHealth.MISSING
    assert cufd_health(stored(cufd=Cufd("C", None, NOW + timedelta(hours=5), False)), NOW, TWO_HOURS) is CufdHealth.INACTIVE
    assert cufd_health(stored(cufd=Cufd("C", None, NOW - timedelta(seconds=1), True)), NOW, TWO_HOURS) is CufdHealth.EXPIRED
    assert cufd_health(stored(cufd=Cufd("C", None, NOW + TWO_HOURS, True)), NOW, TWO_HOURS) is CufdHealth.EXPIRING
    valid = stored(cufd=Cufd("C", None, NOW + TWO_HOURS + timedelta(seconds=1), True))
    assert cufd_health(valid, NOW, TWO_HOURS) is CufdHealth.VALID
    # read as valid, its vigencia has since passed: expired now, whatever the last read said
    assert cufd_health(valid, NOW + timedelta(hours=3), TWO_HOURS) is CufdHealth.EXPIRED
    assert CufdHealth.EXPIRING.can_invoice and not CufdHealth.EXPIRED.can_invoice


def test_a_cufd_is_due_on_its_interval_and_sooner_when_it_cannot_invoice():
    interval = timedelta(minutes=10)
    good = stored(cufd=Cufd("C", None, NOW + timedelta(hours=8), True))
    assert cufd_due(None, NOW, interval)
    assert not cufd_due(good, NOW + timedelta(minutes=9), interval)
    assert cufd_due(good, NOW + timedelta(minutes=10), interval)
    expired = stored(cufd=Cufd("C", None, NOW - timedelta(hours=1), True))
    assert not cufd_due(expired, NOW + timedelta(seconds=59), interval)
    assert cufd_due(expired, NOW + timedelta(minutes=1), interval)
    assert cufd_due(stored(ok=False, error="cucu no responde"), NOW + timedelta(minutes=1), interval)
    assert cufd_due(stored(), NOW + timedelta(minutes=1), interval)  # cucu has none: asked again soon


def test_the_collector_reads_every_cufd_then_only_what_is_due(world, clock):
    sim, client, store, collector = world
    first = collector.cufd_once()
    assert {f.pos_id for f in first} == {p.id for p in sim.inventory.all_pos} and all(f.error is None for f in first)
    health = {p: cufd_health(s, clock(), TWO_HOURS) for p, s in store.cufds().items()}
    expired, inactive = sim.inventory.all_pos[1].id, sim.inventory.all_pos[2].id
    assert health[expired] is CufdHealth.EXPIRED and health[inactive] is CufdHealth.INACTIVE
    assert CufdHealth.EXPIRING in health.values() and CufdHealth.VALID in health.values()
    assert collector.cufd_once() == []  # nothing due a moment later
    clock.advance(minutes=1)
    again = {f.pos_id for f in collector.cufd_once()}
    assert {expired, inactive} <= again and len(again) < len(first)  # the troubled ones only
    client.renew_cufd(expired)
    clock.advance(minutes=1)
    collector.cufd_once()
    assert cufd_health(store.cufds()[expired], clock(), TWO_HOURS) is CufdHealth.VALID


def test_a_failed_cufd_read_keeps_the_last_answer(world, clock):
    sim, _client, store, collector = world
    collector.cufd_once()
    before = store.cufds()
    version = store.data_version("pos_cufd")
    sim.update_faults({"error_rate": 1.0})
    clock.advance(minutes=11)
    fetches = collector.cufd_once()
    assert fetches and all(f.error for f in fetches)
    after = store.cufds()
    assert all(after[f.pos_id].cufd == before[f.pos_id].cufd and after[f.pos_id].error for f in fetches)
    assert store.data_version("pos_cufd") != version  # the error is news to the pages
    sim.update_faults({"error_rate": 0.0})


def test_cufd_reads_spread_over_the_interval_instead_of_coming_back_together(world, clock):
    sim, _client, _store, collector = world
    total = len(sim.inventory.all_pos)
    assert len(collector.cufd_once()) == total  # a start reads them all
    share = -(-2 * total * 60 // 600)  # twice a minute's fair share of a 10 min interval
    clock.advance(minutes=10)
    rounds = []
    for _ in range(10):
        rounds.append(len(collector.cufd_once()))
        clock.advance(minutes=1)
    assert max(rounds) <= share and sum(rounds) >= total  # each read again, none in a burst


def test_saving_the_same_cufd_again_is_not_a_change(db):
    store = Store(db)
    code = Cufd("C", "K", NOW + timedelta(hours=4), True)
    assert store.save_cufds([CufdFetch("p", "b", NOW, cufd=code)]) == 1
    version = store.data_version("pos_cufd")
    assert store.save_cufds([CufdFetch("p", "b", NOW + timedelta(minutes=10), cufd=code)]) == 0
    assert store.data_version("pos_cufd") == version
    assert store.cufds()["p"].fetched_at == NOW + timedelta(minutes=10)
    assert store.save_cufds([CufdFetch("p", "b", NOW, cufd=None)]) == 1  # cucu has none now
    assert store.cufds()["p"].cufd is None and store.cufds()["p"].ok_at is not None


# ---- the invoice walk ---------------------------------------------------------------


def sim_ids_within(sim, since):
    return {i.id for i in sim._invoicing.invoices if i.emitted >= since}


def test_a_full_pass_reads_every_invoice_of_the_window_within_the_page_budget(world, clock):
    sim, _client, store, collector = world
    total = len(sim._invoicing.invoices)
    rounds: list[InvoiceRound] = []
    while not rounds or not rounds[-1].pass_done:
        rounds.append(collector.invoices_once())
        assert rounds[-1].pages <= 20 and rounds[-1].statuses <= 50 and rounds[-1].error is None
        assert len(rounds) < 10
    pages = math.ceil(total / 50)
    assert len(rounds) == math.ceil(pages / 20)  # pages of 50, 20 a round
    held = {i.id for i in store.invoices_since(clock() - timedelta(hours=72))}
    assert held >= sim_ids_within(sim, clock() - timedelta(hours=72))
    assert store.job_run(INVOICE_JOB).error is None
    # the next round reads the top, finds it known, and goes on where the pass stands
    assert collector.invoices_once().pages >= 1


def test_the_figures_say_they_are_partial_until_the_first_full_pass(world, clock):
    """Seen: the rejected count went 36, 46, 502, 584 while the page said only "leídas de cucu hace 58 s"."""
    _sim, _client, store, collector = world
    collector.invoice_pages_per_round = 2
    done = collector.invoices_once()
    assert not done.pass_done
    run = store.job_run(INVOICE_JOB)
    assert run.passed_at is None and run.pass_pages == 2
    assert walk_progress(run, 72) == (
        "Primer recorrido de las facturas en curso: 2 páginas de cucu leídas, de las últimas 72 h. "
        "Las cifras de facturas cuentan solo lo leído y crecerán hasta completarlo."
    )
    collector.invoices_once()
    assert store.job_run(INVOICE_JOB).pass_pages == 4
    while not collector.invoices_once().pass_done:
        pass
    run = store.job_run(INVOICE_JOB)
    assert run.passed_at is not None and walk_progress(run, 72) is None
    assert walk_progress(None, 72) is None  # nothing read at all: the pages say so their own way


def test_invoices_arriving_on_top_during_a_pass_are_not_skipped(world, clock):
    sim, _client, store, collector = world
    collector.invoice_pages_per_round = 3
    for _ in range(40):
        done = collector.invoices_once()
        clock.advance(minutes=7)  # about 2 invoices a minute arrive on top of the list
        if done.pass_done and collector.invoice_walk.passes >= 1:
            break
    assert collector.invoice_walk.passes >= 1
    window_start = clock() - timedelta(hours=72) + timedelta(minutes=7 * 40)  # what was in the window all along
    held = {i.id for i in store.invoices_since(window_start - timedelta(days=1))}
    assert sim_ids_within(sim, window_start) - held == set()


def test_offline_invoices_are_followed_up_and_settle_after_their_event_ends(world, clock):
    sim, client, store, collector = world
    while not collector.invoices_once().pass_done:
        pass
    offline = [i for i in store.invoices_since(clock() - timedelta(days=4)) if i.state is InvoiceState.CONTINGENCY]
    assert offline
    read = [i for i in offline if i.status_at is not None]
    assert read and all(i.siat_code == 901 for i in read)  # "pendiente de envío"
    active = {e["id"]: e for e in sim.events() if not e["finalizado"]}
    target = next(i for i in sim._invoicing.invoices if i.event_id in active)
    event = active[target.event_id]
    client.end_event(event["posId"], event["branchId"], event["id"])
    clock.advance(minutes=7)  # past the simulator's settling (1-6 min)
    for _ in range(30):
        collector.invoices_once()
        now_held = {i.id: i for i in store.invoices_since(clock() - timedelta(days=4))}
        if now_held[target.id].state is not InvoiceState.CONTINGENCY:
            break
        clock.advance(minutes=6)
    settled = now_held[target.id]
    assert settled.state in (InvoiceState.VALIDATED, InvoiceState.REJECTED)
    # the pending answer (901) is not kept beside the new state; a rejection is read again for its code
    assert settled.siat_code != 901
    if settled.state is InvoiceState.REJECTED:
        collector.invoices_once()
        settled = {i.id: i for i in store.invoices_since(clock() - timedelta(days=4))}[target.id]
        assert settled.siat_code in (902, 1040) and settled.siat_description


def test_a_failing_list_keeps_the_walk_where_it_was_and_says_so(world, clock):
    sim, _client, store, collector = world
    collector.invoices_once()
    offset = collector.invoice_walk.offset
    sim.update_faults({"error_rate": 1.0})
    done = collector.invoices_once()
    assert done.error and done.pages == 1 and collector.invoice_walk.offset == offset
    run = store.job_run(INVOICE_JOB)
    assert done.statuses == 0  # no follow-ups into a failing cucu
    assert run.error == done.error and run.ok_at is not None and run.ok_at <= run.ran_at
    sim.update_faults({"error_rate": 0.0})


def test_the_calls_per_round_stay_within_the_budgets_at_a_chain_s_volume(clock, db):
    sim = Simulator(synthetic_inventory(100, 10), now=clock, invoices_per_day=10_000)
    with SimulatorServer(sim) as server, CucuClient(server.base_url, DEFAULT_API_KEY, timeout=10, sleep=lambda s: None) as client:
        store = Store(db)
        with ThreadPoolExecutor(8) as pool:
            walk = InvoiceWalk()
            for _ in range(3):
                done = invoice_round(
                    client,
                    store,
                    walk,
                    pool,
                    now=clock(),
                    window=timedelta(hours=72),
                    page_budget=5,
                    status_budget=7,
                    clock=clock,
                )
                assert done.pages <= 5 and done.statuses <= 7 and done.error is None
                clock.advance(minutes=1)
        store.close()


# ---- the store's invoices -----------------------------------------------------------


def invoice(id_, state=InvoiceState.CONTINGENCY, *, pos="p1", at=NOW):
    return Invoice(id_, "1", "CUF", state, pos, "Cliente", 10.0, at)


def test_saving_invoices_counts_new_and_changed_and_skips_the_unchanged(db):
    store = Store(db)
    assert store.save_invoices([invoice("a"), invoice("b")], NOW) == (2, 0)
    version = store.data_version("invoices")
    assert store.save_invoices([invoice("a"), invoice("b")], NOW) == (0, 0)
    assert store.data_version("invoices") == version
    assert store.save_invoices([invoice("a", InvoiceState.VALIDATED)], NOW) == (0, 1)
    assert store.known_invoice_ids(["a", "z"]) == {"a"}
    assert store.unsettled_invoices(["CONTINGENCY"]) == [("b", "p1", None)]
    status = InvoiceStatus("b", "1", "CUF", InvoiceState.REJECTED, 902, "NIT inválido", "CONTINGENCIA", NOW)
    assert store.save_invoice_statuses([StatusRead("b", NOW, status=status), StatusRead("gone", NOW, error="x")]) == 1
    b = {i.id: i for i in store.invoices_since(NOW - timedelta(days=1))}["b"]
    assert b.state is InvoiceState.REJECTED and b.siat_code == 902 and b.siat_description == "NIT inválido"
    assert store.save_invoice_statuses([StatusRead("b", NOW, error="cucu no responde")]) == 1
    b = {i.id: i for i in store.invoices_since(NOW - timedelta(days=1))}["b"]
    assert b.siat_code == 902 and b.status_error == "cucu no responde"  # the last answer stays


def test_pruning_forgets_old_settled_invoices_only(db):
    store = Store(db)
    old = NOW - timedelta(days=6)
    store.save_invoices(
        [invoice("v", InvoiceState.VALIDATED, at=old), invoice("c", at=old), invoice("n", InvoiceState.VALIDATED)], NOW
    )
    assert store.prune_invoices(NOW - timedelta(days=4)) == 1
    assert {i.id for i in store.invoices_since(NOW - timedelta(days=1))} == {"c", "n"}  # offline ones of any age


def test_invoices_issued_offline_are_kept_for_the_monthly_report(db):
    """Validated offline (a status read said CONTINGENCIA) they stay for REPORT_RETENTION; online ones go."""
    store = Store(db)
    old = NOW - timedelta(days=20)
    store.save_invoices([invoice("online", InvoiceState.VALIDATED, at=old), invoice("offline", at=old)], NOW)
    validated = InvoiceStatus("offline", "1", "CUF", InvoiceState.VALIDATED, 908, "Validada", "CONTINGENCIA", NOW)
    store.save_invoice_statuses([StatusRead("offline", NOW, status=validated)])
    assert store.prune_invoices(NOW - timedelta(days=4), reported_before=NOW - timedelta(days=400)) == 1
    assert {i.id for i in store.invoices_since(NOW - timedelta(days=30))} == {"offline"}
    assert store.prune_invoices(NOW - timedelta(days=4), reported_before=NOW - timedelta(days=10)) == 1
    assert not store.invoices_since(NOW - timedelta(days=30))


# ---- what the invoices mean ----------------------------------------------------------


def stored_invoice(id_, state, *, pos="p1", at=NOW):
    return StoredInvoice(id_, None, None, pos, state, None, None, at, NOW)


def test_invoices_are_attributed_to_the_event_open_when_they_were_issued(sim):
    inv = sim.inventory
    pos = inv.all_pos[0]
    ended = EventSpan("e1", pos.id, pos.branch_id, NOW - timedelta(hours=12), NOW - timedelta(hours=8))
    open_ = EventSpan("e2", pos.id, pos.branch_id, NOW - timedelta(hours=2), None)
    items = [
        stored_invoice("in-ended", InvoiceState.CONTINGENCY, pos=pos.id, at=NOW - timedelta(hours=10)),
        stored_invoice("in-open", InvoiceState.CONTINGENCY, pos=pos.id.upper(), at=NOW - timedelta(hours=1)),
        stored_invoice("between", InvoiceState.VALIDATED, pos=pos.id, at=NOW - timedelta(hours=5)),
        stored_invoice("nobody", InvoiceState.CONTINGENCY, pos=None, at=NOW - timedelta(hours=30)),
        stored_invoice("rejected", InvoiceState.REJECTED, pos=pos.id, at=NOW - timedelta(hours=9)),
    ]
    got = {a.invoice.id: a for a in attribute(items, inv, [ended, open_])}
    assert ended.end is not None
    assert got["in-ended"].event == ended and got["in-ended"].deadline == ended.end + timedelta(hours=48)
    assert got["in-open"].event == open_ and got["in-open"].deadline is None and got["in-open"].pos_id == pos.id
    assert got["between"].event is None
    assert got["nobody"].pos_id is None and got["nobody"].deadline == NOW - timedelta(hours=30) + timedelta(hours=48)
    summary = backlog(list(got.values()))
    assert summary.count == 3 and summary.rejected == 1 and summary.unattributed == 1
    assert summary.oldest is not None and summary.nearest is not None
    assert summary.oldest.invoice.id == "nobody" and summary.nearest.invoice.id == "nobody"
    assert summary.time_left(NOW) == timedelta(hours=18)
    closes = event_closes(got.values(), [ended, open_], NOW - timedelta(hours=72))
    assert [c.span.event_id for c in closes] == ["e1"]  # the open one has not ended
    assert closes[0].issued == 2 and closes[0].to_send == 1 and closes[0].rejected == 1
    assert closes[0].closing is EventClosing.TO_SEND
    # Facturas lists the open ones nearest deadline first, those of the open event (no deadline yet) last
    from cucu.views.facturas import invoices_frame

    open_ones = [a for a in got.values() if a.invoice.state is not InvoiceState.VALIDATED]
    assert list(invoices_frame(open_ones, inv)["invoice_id"]) == [
        "nobody",
        "rejected",
        "in-ended",
        "in-open",
    ]  # same deadline: newest first


def test_an_event_is_closed_when_all_its_invoices_are_validated():
    span = EventSpan("e", "p1", "b", NOW - timedelta(hours=3), NOW - timedelta(hours=1))
    from cucu.invoicing import AttributedInvoice, EventClose

    def close(*states):
        items = [AttributedInvoice(stored_invoice(str(n), s), "p1", "b", span) for n, s in enumerate(states)]
        return event_closes(items, [span], NOW - timedelta(days=1))[0]

    assert close(InvoiceState.VALIDATED, InvoiceState.VALIDATED).closing is EventClosing.CLOSED
    assert close(InvoiceState.VALIDATED, InvoiceState.REJECTED).closing is EventClosing.REJECTED
    assert close(InvoiceState.VALIDATED, InvoiceState.CONTINGENCY).closing is EventClosing.TO_SEND
    assert close().closing is EventClosing.NO_INVOICES
    assert span.end is not None and isinstance(close(), EventClose)
    assert close().deadline == span.end + timedelta(hours=48)


def test_follow_ups_go_first_to_invoices_whose_event_has_ended(db):
    from cucu.invoicing import follow_statuses

    store = Store(db)
    store.save_invoices(
        [invoice("open-never", pos="P-OPEN"), invoice("ended-old", pos="p2"), invoice("ended-never", pos="p3")], NOW
    )
    read = InvoiceStatus("ended-old", None, None, InvoiceState.CONTINGENCY, 901, "Pendiente", "CONTINGENCIA", NOW)
    store.save_invoice_statuses([StatusRead("ended-old", NOW - timedelta(minutes=10), status=read)])
    asked = []

    class Client:
        def invoice_status(self, invoice_id):
            asked.append(invoice_id)
            return InvoiceStatus(invoice_id, None, None, InvoiceState.VALIDATED, 908, "Validada", "CONTINGENCIA", NOW)

    with ThreadPoolExecutor(1) as pool:
        client: Any = Client()  # the one call follow_statuses makes
        calls, changed = follow_statuses(client, store, pool, now=NOW, budget=2, clock=lambda: NOW, in_contingency={"p-open"})
    assert (calls, changed) == (2, 2) and asked == ["ended-never", "ended-old"]
    with ThreadPoolExecutor(1) as pool:  # read a moment ago: not again before STATUS_EVERY
        assert follow_statuses(client, store, pool, now=NOW, budget=5, clock=lambda: NOW)[0] == 1
    assert asked[-1] == "open-never"


def test_an_unexpected_failure_reading_one_status_is_recorded_for_that_invoice_and_the_round_goes_on(db, caplog):
    """Like the sweep's and the CUFD reads: a bug or an odd answer on one invoice is that invoice's failed read
    (logged with its traceback), not the end of the invoice round for all the others."""
    from cucu.invoicing import follow_statuses

    store = Store(db)
    store.save_invoices([invoice("odd", pos="p2"), invoice("fine", pos="p3")], NOW)

    class Client:
        def invoice_status(self, invoice_id):
            if invoice_id == "odd":
                raise RuntimeError("an answer nobody expected")
            return InvoiceStatus(invoice_id, None, None, InvoiceState.VALIDATED, 908, "Validada", "CONTINGENCIA", NOW)

    with ThreadPoolExecutor(1) as pool, caplog.at_level(logging.ERROR, logger="cucu"):
        client: Any = Client()
        calls, changed = follow_statuses(client, store, pool, now=NOW, budget=5, clock=lambda: NOW)
    assert calls == 2 and changed == 2
    by_id = {i.id: i for i in store.invoices_since(NOW - timedelta(days=1))}
    assert by_id["fine"].state == InvoiceState.VALIDATED
    assert by_id["odd"].status_error == "Error inesperado al leer el estado de esta factura."
    assert "odd" in caplog.text and "RuntimeError" in caplog.text
    store.close()


# ---- the alerts of invoicing ------------------------------------------------------------


def test_the_cufd_and_invoice_alerts_fire_at_their_thresholds_and_name_what_to_do(sim):
    from cucu.alerts import Snapshot, conditions
    from cucu.invoicing import InvoicePicture
    from cucu.settings import AlertSettings
    from cucu.vocabulary import AlertRule

    inv = sim.inventory
    first, second = inv.all_pos[0], inv.all_pos[1]

    def snap(cufds=None, invoices=None):
        return Snapshot(NOW, [], {}, [], True, None, cufds=cufds or {}, invoices=invoices)

    def rules(s, **kw):
        return {c.rule: c for c in conditions(s, inv, AlertSettings(), long_open_hours=24, check_interval_s=30, **kw).values()}

    good = {
        p.id: StoredCufd(p.id, p.branch_id, NOW, NOW, Cufd("C", None, NOW + timedelta(hours=8), True), None) for p in inv.all_pos
    }
    assert AlertRule.CUFD not in rules(snap(good))
    expiring = dict(good) | {
        first.id: StoredCufd(first.id, first.branch_id, NOW, NOW, Cufd("C", None, NOW + timedelta(hours=1), True), None)
    }
    cond = rules(snap(expiring))[AlertRule.CUFD]
    assert cond.title == "CUFD por vencer" and first.name in cond.body and cond.path == "facturas"
    assert AlertRule.CUFD not in rules(snap(expiring), cufd_expiring_hours=0.5)  # the setting decides "soon"
    blocked = dict(expiring) | {
        second.id: StoredCufd(second.id, second.branch_id, NOW, NOW, Cufd("C", None, NOW - timedelta(hours=1), True), None)
    }
    cond = rules(snap(blocked))[AlertRule.CUFD]
    assert (
        cond.title == "CUFD vencidos o por vencer"
        and "1 punto de venta no puede facturar" in cond.body
        and "1 lo tiene por vencer" in cond.body
        and second.name in cond.body
    )

    span = EventSpan("e", first.id, first.branch_id, NOW - timedelta(hours=50), NOW - timedelta(hours=44))
    from cucu.invoicing import AttributedInvoice

    def picture(*items):
        return InvoicePicture(list(items), backlog(list(items)), [])

    late_soon = AttributedInvoice(
        stored_invoice("x", InvoiceState.CONTINGENCY, at=NOW - timedelta(hours=46)), first.id, first.branch_id, span
    )
    found = rules(snap(good, picture(late_soon)))
    assert "quedan 4 h" in found[AlertRule.INVOICES_DEADLINE].body  # 48 h after the end, 44 h ago
    assert AlertRule.INVOICES_REJECTED not in found
    far = EventSpan("f", first.id, first.branch_id, NOW - timedelta(hours=3), NOW - timedelta(hours=1))
    relaxed = AttributedInvoice(
        stored_invoice("y", InvoiceState.CONTINGENCY, at=NOW - timedelta(hours=2)), first.id, first.branch_id, far
    )
    assert AlertRule.INVOICES_DEADLINE not in rules(snap(good, picture(relaxed)))
    rejected = StoredInvoice("r", "9", None, first.id, InvoiceState.REJECTED, None, None, NOW, NOW, NOW, 902, "NIT inválido")
    cond = rules(snap(good, picture(AttributedInvoice(rejected, first.id, first.branch_id, far))))[AlertRule.INVOICES_REJECTED]
    assert "902 NIT inválido" in cond.body and "estado_factura" in cond.path


def test_a_cufd_alert_reaches_the_channels_once_and_recovers(db, sim):
    from cucu.alerts import Snapshot, decide
    from cucu.settings import load_alerts
    from cucu.vocabulary import AlertKind

    store = Store(db)
    settings = load_alerts({"channels": [{"url": "json://127.0.0.1:9/x"}]}, {})
    pos = sim.inventory.all_pos[1]
    bad = {pos.id: StoredCufd(pos.id, pos.branch_id, NOW, NOW, Cufd("C", None, NOW - timedelta(hours=1), True), None)}
    for _ in range(2):
        decide(
            store,
            sim.inventory,
            settings,
            Snapshot(NOW, [], {}, [], True, None, cufds=bad),
            long_open_hours=24,
            check_interval_s=30,
            leading=True,
        )
    sent = store.outbox_entries(10)
    assert [m.kind for m in sent] == [AlertKind.OPENED] and "1 punto de venta no puede facturar" in sent[0].body
    good = {pos.id: StoredCufd(pos.id, pos.branch_id, NOW, NOW, Cufd("D", None, NOW + timedelta(hours=20), True), None)}
    decide(
        store,
        sim.inventory,
        settings,
        Snapshot(NOW, [], {}, [], True, None, cufds=good),
        long_open_hours=24,
        check_interval_s=30,
        leading=True,
    )
    assert {m.kind for m in store.outbox_entries(10)} == {AlertKind.OPENED, AlertKind.CLOSED}


# ---- bounded outside data: what a hostile list cannot put in the store ---------------------------


class HostileList:
    """A cucu whose invoice list is ``rows`` (newest first, as dicts), paged as asked; ``flood`` makes
    every page a full one of invoices never seen before, and ``oversized`` pages hold that many rows."""

    def __init__(self, rows=(), *, flood_state=None, oversized=0):
        self.rows = list(rows)
        self.flood_state = flood_state
        self.oversized = oversized
        self.pages_served = 0
        self.minted = 0

    def item(self, n, state, at):
        return {"id": f"f{n:08d}", "invoiceNumber": n, "state": state, "emissionDate": at}

    def __call__(self, request):
        import httpx

        page, size = int(request.url.params["page"]), int(request.url.params["size"])
        self.pages_served += 1
        at = NOW.strftime("%Y-%m-%dT%H:%M:%S")
        if self.oversized:
            content = [self.item(n, "CONTINGENCY", at) for n in range(self.oversized)]
        elif self.flood_state is not None:
            content = [self.item(self.minted + n, self.flood_state, at) for n in range(size)]
            self.minted += size
        else:
            content = self.rows[page * size : (page + 1) * size]
        total = 10**6 if self.flood_state else len(self.rows)
        last = self.flood_state is None and (page + 1) * size >= len(self.rows)
        data = {"content": content, "page": page, "size": size, "totalElements": total, "totalPages": 1, "first": page == 0}
        return httpx.Response(200, json={"success": True, "data": {**data, "last": last}})


@pytest.fixture
def hostile(tmp_path):
    """A collector on a hostile cucu (``httpx.MockTransport``) and a store; the test sets the list."""
    import httpx

    cucu = HostileList()
    client = CucuClient("https://cucu.test", "sk_test_x", transport=httpx.MockTransport(cucu), sleep=lambda s: None)
    store = Store(str(tmp_path / "h.db"))
    collector = Collector(client, store, synthetic_inventory(1, 1), concurrency=2, invoice_pages_per_round=5)
    collector.invoice_statuses_per_round = 0
    yield cucu, store, collector
    collector.stop()
    client.close()
    store.close()


def test_an_oversized_page_stores_nothing_and_is_recorded_as_a_failed_read(hostile):
    cucu, store, collector = hostile
    cucu.oversized = 4000  # the flood that put 400 000 rows in the store in 5 rounds
    for _ in range(5):
        done = collector.invoices_once()
        assert done.error is not None and "4 000 facturas cuando se pidieron 50" in done.error and done.pages == 1
    assert store.count_invoices([s.value for s in InvoiceState]) == 0
    run = store.job_run(INVOICE_JOB)
    assert run is not None and run.error == done.error and run.ok_at is None


def test_open_invoices_stop_being_stored_at_the_maximum_and_it_is_said(hostile):
    cucu, store, collector = hostile
    collector.invoice_max_open = 120
    cucu.flood_state = "CONTINGENCY"  # every page 50 new offline invoices, without end
    first = collector.invoices_once()
    assert first.pages == 5 and first.new == 120 and first.notes.over_cap == 130
    for _ in range(3):
        done = collector.invoices_once()
    assert store.count_invoices([s.value for s in OPEN_STATES]) == 120  # it was 400 000 rows in 5 rounds
    assert done.notes.over_cap >= 130 and done.error is None
    run = store.job_run(INVOICE_JOB)
    assert run is not None and run.notes.over_cap == done.notes.over_cap
    cap, aside = left_out_sentences(run.notes, 120)
    assert cap is not None and cap.startswith("Se guardan como máximo 120 facturas por enviar o rechazadas")
    assert "CUCU_INVOICE_MAX_OPEN" in cap and aside is None
    # settled invoices are not open: a flood of validated ones is not what the cap counts
    cucu.flood_state = "VALIDATED"
    assert collector.invoices_once().new == 250


def test_future_dated_and_undated_rows_are_set_aside_and_counted(hostile):
    cucu, store, collector = hostile
    fmt = "%Y-%m-%dT%H:%M:%S"
    soon, later = NOW + timedelta(minutes=5), NOW + timedelta(days=400)
    rows = [
        {"id": "futura", "state": "CONTINGENCY", "emissionDate": later.strftime(fmt)},
        {"id": "sin-fecha", "state": "CONTINGENCY"},
        {"id": "reloj-adelantado", "state": "CONTINGENCY", "emissionDate": soon.strftime(fmt)},  # within the slack
        *({"id": f"f{n}", "state": "VALIDATED", "emissionDate": (NOW - timedelta(hours=n)).strftime(fmt)} for n in range(60)),
    ]
    cucu.rows = rows
    first = collector.invoices_once()
    assert first.pass_done and first.notes.future == 1 and first.notes.undated == 1
    held = {i.id for i in store.invoices_since(NOW - timedelta(days=30))}
    assert "futura" not in held and "sin-fecha" not in held and {"reloj-adelantado", "f0", "f59"} <= held
    again = collector.invoices_once()  # read again: the same rows, the same counts
    assert (again.notes.future, again.notes.undated) == (1, 1)
    run = store.job_run(INVOICE_JOB)
    assert run is not None and (run.notes.future, run.notes.undated) == (1, 1)
    cap, aside = left_out_sentences(run.notes, 50_000)
    assert cap is None and aside == (
        "2 filas de la lista de cucu apartadas, no se guardan como facturas: 1 con fecha de emisión futura y 1 sin fecha de emisión."
    )
    cucu.rows = rows[2:]  # cucu no longer lists them: gone from the count after a pass without them
    collector.invoices_once()
    assert collector.invoices_once().notes == JobNotes()


def test_a_page_of_rows_set_aside_does_not_hold_the_walk_at_the_top(hostile):
    cucu, _store, collector = hostile
    fmt = "%Y-%m-%dT%H:%M:%S"
    future = [{"id": f"x{n}", "state": "VALIDATED", "emissionDate": (NOW + timedelta(days=2)).strftime(fmt)} for n in range(100)]
    older = [
        {"id": f"f{n}", "state": "VALIDATED", "emissionDate": (NOW - timedelta(minutes=n)).strftime(fmt)} for n in range(400)
    ]
    cucu.rows = future + older
    collector.invoice_pages_per_round = 3
    collector.invoices_once()  # two pages of future rows, then one of invoices
    served = cucu.pages_served
    second = collector.invoices_once()
    # the top (set aside last round) is read once, then the walk goes on where it stopped
    assert second.pages == 3 and second.new == 100 and cucu.pages_served - served == 3


def test_a_rejected_invoice_whose_status_was_never_read_says_so_not_blank():
    from dataclasses import replace

    from cucu.views.facturas import UNREAD_REASON, siat_description

    rejected = stored_invoice("r", InvoiceState.REJECTED)
    assert siat_description(rejected) == UNREAD_REASON
    read = replace(rejected, status_at=NOW, siat_code=1001, siat_description="NIT inválido")
    assert siat_description(read) == "NIT inválido"
    assert siat_description(replace(rejected, status_at=NOW, status_error="cucu no respondió")) == "⚠ cucu no respondió"
    assert siat_description(replace(rejected, status_at=NOW)) is None  # read, and SIAT gave no reason
    assert siat_description(stored_invoice("c", InvoiceState.CONTINGENCY)) is None  # nothing to explain


def test_the_queue_reads_each_recent_invoices_pos_time_and_state_only(db):
    """``invoice_states_since``: what Estado's queue counts of open events' invoices (a chain's 50 000 rows read as
    three columns); older ones and those without a POS are left out."""
    store = Store(db)
    store.save_invoices(
        [
            invoice("a", InvoiceState.VALIDATED, at=NOW - timedelta(hours=1)),
            invoice("b", at=NOW - timedelta(hours=2)),
            invoice("old", at=NOW - timedelta(days=4)),
            Invoice("c", "1", "CUF", InvoiceState.CONTINGENCY, None, "Cliente", 10.0, NOW),
        ],
        NOW,
    )
    found = sorted(store.invoice_states_since(NOW - timedelta(hours=3)), key=lambda row: row[1])
    assert found == [("p1", NOW - timedelta(hours=2), "CONTINGENCY"), ("p1", NOW - timedelta(hours=1), "VALIDATED")]


def test_the_shared_invoice_tables_are_built_again_when_an_event_changes_not_at_every_sweep(world, clock, monkeypatch):
    """``ui.resources.current_invoices`` (0.9 s of the server's CPU at a chain) follows the invoices and the POS'
    events: a sweep that finds what the last one did (every minute) is no reason to build it again."""
    from types import SimpleNamespace

    from cucu.organization.scope import Scope
    from cucu.views.shared_reads import SharedReads
    from cucu.workers import Workers
    from tests.support.waiting import wait_until
    from ui import resources

    sim, _client, store, collector = world
    monkeypatch.setattr(resources, "_own_write_unseen", lambda name: False)  # no Streamlit session here
    monkeypatch.setattr(resources.time, "time", lambda: 1_200_000.0)  # one ten-minute span throughout
    monkeypatch.setattr(resources, "APART_FROM_POS", 0)  # built in the worker process, as a chain's
    settings = SimpleNamespace(invoice_window_hours=72)
    runtime: Any = SimpleNamespace(
        company=None, store=store, inventory=sim.inventory, settings=settings, shared=SharedReads(), scope=Scope(),
        workers=Workers(),
    )  # fmt: skip
    collector.sweep_once()
    collector.invoices_once()
    first = resources.current_invoices(runtime).version
    clock.advance(minutes=1)
    collector.sweep_once()  # the same answers a minute later
    assert resources.current_invoices(runtime).version == first and runtime.shared.builds == 1
    pos = sim.inventory.all_pos[0]
    event = sim.start_event({"posId": pos.id, "branchId": pos.branch_id, "codigoMotivo": 1, "descripcion": "Corte"})
    collector.sweep_once()
    # A build that took long (the worker process's start) is done again in the background: waited for here.
    wait_until(lambda: resources.current_invoices(runtime).version != first, what="the build after the start")
    started = resources.current_invoices(runtime).version
    clock.advance(minutes=1)
    sim.end_event({"posId": pos.id, "branchId": pos.branch_id, "eventoId": event["id"]})
    collector.sweep_once()
    wait_until(lambda: resources.current_invoices(runtime).version != started, what="the build after the end")
    runtime.workers.close()


def test_rejected_invoices_get_a_share_of_the_status_calls_when_offline_ones_outnumber_the_budget(db):
    """Seen at 1 000 x 10: 5 300 offline invoices due every 5 min against 50 calls a round, and 2 276 rejected
    ones whose SIAT reason was never read ("Sin leer todavía") because they only got what the others left."""
    from cucu.invoicing import follow_statuses
    from cucu.invoicing.walk import REJECTED_SHARE

    store = Store(db)
    store.save_invoices([invoice(f"off-{n}", pos="p2") for n in range(20)], NOW)
    store.save_invoices([invoice(f"rej-{n}", InvoiceState.REJECTED, pos="p3") for n in range(3)], NOW)
    asked = []

    class Client:
        def invoice_status(self, invoice_id):
            asked.append(invoice_id)
            state = InvoiceState.REJECTED if invoice_id.startswith("rej") else InvoiceState.CONTINGENCY
            return InvoiceStatus(invoice_id, None, None, state, 902, "NIT inválido", "CONTINGENCIA", NOW)

    client: Any = Client()
    budget = 2 * REJECTED_SHARE
    with ThreadPoolExecutor(1) as pool:
        calls, _ = follow_statuses(client, store, pool, now=NOW, budget=budget, clock=lambda: NOW)
    assert calls == budget and [a for a in asked if a.startswith("rej")] == ["rej-0", "rej-1"]  # a fifth, first
    said = {i.id: i.siat_description for i in store.invoices_since(NOW - timedelta(days=1))}
    assert said["rej-0"] == "NIT inválido"
    # With no offline invoice due, the rejected ones take what is left.
    asked.clear()
    with ThreadPoolExecutor(1) as pool:
        follow_statuses(client, store, pool, now=NOW + timedelta(minutes=1), budget=budget, clock=lambda: NOW)
    assert asked[0] == "rej-2"
