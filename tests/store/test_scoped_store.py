"""The store as a scoped person reads it (issue 26, part 2): no read a page can make returns another region's
rows, on SQLite and PostgreSQL; every Store method is decided (read as is, narrowed, a write, or refused)."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest

from cucu.alerts import acknowledge
from cucu.inventory import DEMO_INVENTORY_PATH
from cucu.organization.scope import Scope
from cucu.runtime import build_runtime
from cucu.settings import load_settings
from cucu.simulator import DEFAULT_API_KEY
from cucu.store import AuditFilter, Store
from cucu.store.scoped import COMPANY_READS, NARROWED, WRITES, ScopedStore
from cucu.vocabulary import Outcome
from tests.support.scoped import ANA, seed_every_region

MINE = "La Paz"


def public_methods() -> set[str]:
    return {n for n, v in inspect.getmembers(Store) if not n.startswith("_") and (callable(v) or isinstance(v, property))}


def test_every_store_method_is_decided_for_a_scoped_person():
    decided = COMPANY_READS | WRITES | NARROWED
    undecided = public_methods() - decided - set(dir(object))
    # What no page calls (the collector's, the alerter's, the migrations') is refused: reading it would be unscoped.
    for name in sorted(undecided):
        with pytest.raises(AttributeError, match="no está decidido"):
            getattr(ScopedStore.__new__(ScopedStore), name)
    assert all(name in vars(ScopedStore) for name in NARROWED), sorted(n for n in NARROWED if n not in vars(ScopedStore))
    assert not (NARROWED & (COMPANY_READS | WRITES))


@pytest.fixture
def chain(sim, sim_server, db):
    settings = load_settings(
        {"base_url": sim_server.base_url, "api_key": DEFAULT_API_KEY, "inventory": str(DEMO_INVENTORY_PATH), "db": db,
         "collector": False},
        {},
    )  # fmt: skip
    runtime = build_runtime(settings, start_collector=False)
    runtime.collector.check_once()
    runtime.collector.sweep_once()
    runtime.collector.cufd_once()
    runtime.collector.invoices_once()
    forbidden, _mine = seed_every_region(sim, runtime, MINE)
    runtime.collector.backfill_once()
    yield runtime, forbidden
    runtime.close()


def test_no_read_of_a_scoped_store_returns_another_regions_rows(chain):
    runtime, forbidden = chain
    store = runtime.store
    scoped = ScopedStore(store, runtime.inventory, Scope(frozenset({MINE})))
    now = store.now()
    day = now.date()
    week = (day - timedelta(days=7), day)
    since = now - timedelta(days=7)
    incident_ids = [i.id for i in store.recent_incidents(100)]
    for incident in store.open_incidents():  # every branch's alert handled: the header names who, per scope
        if incident.branch_id is not None:
            acknowledge(store, ANA, incident.id, "Lo reviso", timedelta(hours=1), now, runtime.inventory)
    window_ids = [w.id for w in store.maintenance_windows(ending_after=since, cancelled=True)]
    every_pos_day = [(p.id, d.day) for d in store.days_with_events(*week) for p in [runtime.inventory.pos(d.pos_id)]]
    reads = {
        "pos_statuses": lambda s: s.pos_statuses(),
        "statuses_with_events": lambda s: s.statuses_with_events(),
        "cufds": lambda s: s.cufds(),
        "days_with_events": lambda s: s.days_with_events(*week),
        "days_reaching": lambda s: s.days_reaching(*week, now),
        "verified_per_day": lambda s: s.verified_per_day(*week),
        "verified_per_pos": lambda s: s.verified_per_pos(*week),
        "get_days": lambda s: s.get_days(every_pos_day),
        "days_with_ends_since": lambda s: s.days_with_ends_since(since),
        "invoices_since": lambda s: s.invoices_since(since),
        "invoice_states_since": lambda s: s.invoice_states_since(since),
        "audit_count": lambda s: s.audit_count(),
        "audit_page": lambda s: s.audit_page(AuditFilter()),
        "audit_chunks": lambda s: list(s.audit_chunks(AuditFilter())),
        "audit_entries": lambda s: s.audit_entries(AuditFilter()),
        "audit_actors": lambda s: s.audit_actors(),
        "audit_rows": lambda s: s.audit_rows(range(1, 500)),
        "open_attempts": lambda s: s.open_attempts(Outcome.OK) + s.open_attempts(),
        "open_incidents": lambda s: s.open_incidents(),
        "open_incident_counts": lambda s: s.open_incident_counts(),
        "open_incidents_handled": lambda s: s.open_incidents_handled(100),
        "recent_incidents": lambda s: s.recent_incidents(100),
        "incidents_between": lambda s: s.incidents_between(since, now + timedelta(hours=1)),
        "incidents_by_key": lambda s: [x for i in store.recent_incidents(100) for x in s.incidents_by_key(i.key, 5)],
        "incident_notes": lambda s: [s.incident_notes(i) for i in incident_ids],
        "outbox_entries": lambda s: s.outbox_entries(500),
        "maintenance_windows": lambda s: s.maintenance_windows(ending_after=since, cancelled=True),
        "maintenance_window": lambda s: [s.maintenance_window(i) for i in window_ids],
    }
    assert set(reads) | {"incident"} == NARROWED  # each narrowed read is exercised here (incident: as stored, below)
    for name, read in reads.items():
        everything, theirs = repr(read(store)), repr(read(scoped))
        leaked = [f for f in forbidden if f in theirs]
        if name != "maintenance_window":  # as stored: cancelling checks every branch (cucu.events.maintenance.cancel)
            assert not leaked, (name, leaked)
        assert everything != theirs or name in ("audit_actors", "open_incident_counts", "verified_per_day"), name
    # the test can fail: the whole company's reads hold the other regions
    assert any(f in repr(store.pos_statuses()) for f in forbidden)
    # SIAT's alert is everyone's; a branch alert of another region is nobody's here
    assert {i.rule for i in scoped.open_incidents()} >= {"siat_caido"}
    assert all(i.branch_id is None or i.branch_id in scoped.branch_ids for i in scoped.recent_incidents(100))


def test_a_scoped_persons_downloads_hold_their_branches_only(chain, monkeypatch):
    """Bitácora's CSV and the monthly report's workbook, built from what the scoped store reads."""
    from cucu.connectivity.outages import dossier_of, outages_within
    from cucu.organization.scope import within
    from cucu.reports.compliance import compliance_report
    from cucu.views.alertas import export_sheets
    from cucu.views.bitacora import audit_csv
    from cucu.views.informe import report_sheets
    from ui import resources

    runtime, forbidden = chain
    scoped = ScopedStore(runtime.store, runtime.inventory, Scope(frozenset({MINE})))
    mine = within(runtime.inventory, scoped.scope)
    # Alertas' download: its alerts as the page lists them, through the person's store, with their notes
    listed = scoped.open_incidents() + [i for i in scoped.recent_incidents(50) if i.closed_at is not None]
    alerts_text = "".join(frame.to_csv() for _name, frame in export_sheets(listed, scoped.incident_notes))
    assert "Llamé a" in alerts_text and not [f for f in forbidden if f in alerts_text]
    everyone = runtime.store.open_incidents()
    assert [f for f in forbidden if f in "".join(f.to_csv() for _n, f in export_sheets(everyone, runtime.store.incident_notes))]
    csv = audit_csv(scoped.as_store(), AuditFilter(), mine).read().decode("utf-8-sig")
    assert csv.count("\n") > 1 and not [f for f in forbidden if f in csv]
    assert [f for f in forbidden if f in audit_csv(runtime.store, AuditFilter(), runtime.inventory).read().decode("utf-8-sig")]
    now = runtime.store.now()
    report = compliance_report(scoped.as_store(), mine, now - timedelta(days=1), now, now)
    text = "".join(frame.to_csv() for _name, frame in report_sheets(report, mine))
    assert "Casa Matriz" in text and not [f for f in forbidden if f in text]
    # Informe mensual builds it in the worker process, from the database itself: the same report, the same cut.
    monkeypatch.setattr(resources, "APART_FROM_POS", 0)  # the demo's 22 POS, as a chain's
    view = runtime.for_scope(scoped.scope)
    apart = resources.apart(view, compliance_report, now - timedelta(days=1), now, now)
    assert apart == report and apart.branches.keys() == {b.id for b in mine.branches}
    # and Caídas' list and dossier, on their store cut to the scope as here
    since = now - timedelta(days=7)
    found, states = resources.apart(view, outages_within, since, now, now)
    assert (found, states) == outages_within(scoped.as_store(), mine, since, now, now) and found
    key = next(o.key for o in found if o.branch_id is None)  # SIAT's: reaches every branch
    assert resources.apart(view, dossier_of, key, now) == dossier_of(scoped.as_store(), mine, key, now) is not None


def test_a_scoped_views_shared_frames_are_the_companys_cut_to_its_branches(chain, monkeypatch):
    """Estado's frames, its invoices and queue for a scoped view are cut from the whole company's (one read of every
    POS and invoice for fifty scopes): the very frames its own store would build, at the same moment."""
    import pandas as pd

    from cucu.inventory import branch_labels
    from cucu.invoicing import invoice_picture
    from cucu.views.estado import overview
    from cucu.views.facturas import invoices_frame
    from cucu.views.pos import pos_frame
    from cucu.views.queue import pos_part
    from ui import resources

    monkeypatch.setattr(resources, "_own_write_unseen", lambda name: False)  # no Streamlit session here
    runtime, forbidden = chain
    view = runtime.for_scope(Scope(frozenset({MINE})))
    assert view.company is runtime and view.shared is not runtime.shared
    settings = view.settings

    frames = resources.current_frames(view).value
    at = frames.built_at
    direct = pos_frame(
        view.inventory, view.store.pos_statuses(), at, settings.long_open_hours, view.store.cufds(),
        timedelta(hours=settings.cufd_expiring_hours),
    )  # fmt: skip
    pd.testing.assert_frame_equal(frames.pos, direct)
    expected = overview(direct, view.inventory, at)
    for name in vars(expected):  # longest_open is a row: compared as one
        mine, theirs = getattr(frames.overview, name), getattr(expected, name)
        assert mine.equals(theirs) if isinstance(mine, pd.Series) else mine == theirs, name
    assert 0 < len(frames.pos) < len(resources.current_frames(runtime).value.pos)
    assert not [f for f in forbidden if f in frames.pos.to_csv()]

    tables = resources.current_invoices(view).value
    window = timedelta(hours=settings.invoice_window_hours)
    picture = invoice_picture(view.store, view.inventory, tables.built_at, window, open_only=True)
    assert [a.invoice.id for a in tables.picture.invoices] == [a.invoice.id for a in picture.invoices]
    assert tables.picture.backlog == picture.backlog
    pd.testing.assert_frame_equal(tables.open_invoices, invoices_frame(picture.invoices, view.inventory))
    assert sorted(tables.states) == sorted(view.store.invoice_states_since(tables.built_at - window))
    assert tables.states and not [f for f in forbidden if f in repr(tables.states)]
    # the company's queue cut to the scope's branches: what a queue of its own frames and invoices says
    queue = resources.current_queue(view).value
    own = pos_part(
        frames.pos, tables.picture, tables.states, view.inventory, branch_labels(view.inventory), at,
        long_open_hours=settings.long_open_hours, invoice_window=window,
    )  # fmt: skip

    def rows(part):  # "since when" of a POS without a CUFD is its build's moment: the rest must be equal
        return sorted((i.kind, i.branch_id, i.pos_id, i.deadline, i.detail, i.link) for i in part.items)

    assert queue.items and rows(queue) == rows(own) and queue.counts == own.counts
    assert queue.items == sorted(queue.items)
    assert not [f for f in forbidden if f in repr(queue.items)]


def test_at_a_chain_the_companys_frames_are_built_in_the_worker_and_are_the_frames_read_here(chain, monkeypatch):
    """Every POS's state is read and parsed in the worker process at a chain (0.4-0.9 s a minute at 10 000 POS, off
    the web server's interpreter): the very frame and rollup the web server would build at that moment."""
    import pandas as pd

    from cucu.organization.scope import within
    from cucu.views.estado import estado_frames, overview
    from cucu.views.pos import PosColumn, pos_frame
    from ui import resources

    monkeypatch.setattr(resources, "_own_write_unseen", lambda name: False)  # no Streamlit session here
    monkeypatch.setattr(resources, "APART_FROM_POS", 0)  # the demo's 22 POS, as a chain's
    runtime, _forbidden = chain
    sent = []
    run = runtime.workers.run

    def recorded(fn, *args, **kwargs):
        sent.append(args[3])
        return run(fn, *args, **kwargs)

    monkeypatch.setattr(runtime.workers, "run", recorded)
    frames = resources.current_frames(runtime).value
    assert sent == [estado_frames]  # read_apart(db, branches, scope, read, ...) in the worker process
    settings = runtime.settings
    direct = pos_frame(
        runtime.inventory, runtime.store.pos_statuses(), frames.built_at, settings.long_open_hours,
        runtime.store.cufds(), timedelta(hours=settings.cufd_expiring_hours),
    )  # fmt: skip
    pd.testing.assert_frame_equal(frames.pos, direct)
    expected = overview(direct, runtime.inventory, frames.built_at)
    for name in vars(expected):
        mine, theirs = getattr(frames.overview, name), getattr(expected, name)
        assert mine.equals(theirs) if isinstance(mine, pd.Series) else mine == theirs, name
    # a scoped view's are still cut from them, here
    view = runtime.for_scope(Scope(frozenset({MINE})))
    cut = resources.current_frames(view).value.pos
    assert len(cut) and set(cut[PosColumn.BRANCH_ID]) == set(within(runtime.inventory, view.scope).branch_ids)
    assert sent == [estado_frames]


def test_every_scope_shares_one_read_of_the_pos_tables_per_write(chain, monkeypatch):
    """Fifty scopes' pages read every POS's state: once per write of the table for all of them, each scope keeping
    only its own (``LatestReads``)."""
    from cucu.organization.regions import branches_by_region
    from cucu.store.scoped import LatestReads

    runtime, _forbidden = chain
    store = runtime.store
    reads: list[str] = []
    real = store.pos_statuses

    def counted() -> dict:
        reads.append("pos")
        return real()

    monkeypatch.setattr(store, "pos_statuses", counted)
    latest = LatestReads(store)
    scoped = [ScopedStore(store, runtime.inventory, Scope(frozenset({r})), latest) for r in branches_by_region(runtime.inventory)]
    assert len(scoped) > 1
    for _ in range(3):
        views = [s.pos_statuses() for s in scoped]
    assert reads == ["pos"]
    every = real()
    for s, view in zip(scoped, views, strict=True):
        assert view == {k: v for k, v in every.items() if k in s.pos_ids} and view
    runtime.collector.sweep_once()  # a write: read again, once
    reads.clear()
    after = [s.pos_statuses() for s in scoped for _ in range(2)]
    assert reads == ["pos"] and sum(len(v) for v in after) == 2 * len(every)
