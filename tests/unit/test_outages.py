"""Outages without a store (issue 25, part 5): a branch's internet outage is motive-1 events at two or more of
its POS within 15 minutes of each other; a dossier's timeline names each branch's events when few branches
have them, and says it once per who at a chain's size."""

from __future__ import annotations

from datetime import timedelta

from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.outages import BRANCHES_ON_TIMELINE, Outage, branch_clusters, dossier, outage_key
from cucu.simulator.seed import synthetic_inventory
from cucu.vocabulary import Motive, OutageKind
from tests.unit.test_frames import B1, B2, NOW, event


def placed(pos, start, end=None, motive=Motive.INTERNET_OUTAGE, eid=None):
    from dataclasses import replace

    return replace(event(pos, start, end, motive=int(motive), eid=eid), branch_id=pos.branch_id)


def test_a_branchs_internet_outage_is_two_pos_within_fifteen_minutes():
    p1, p2, p3 = B1.pos[:3]
    found = branch_clusters(
        [
            placed(p1, NOW, NOW + timedelta(hours=1)),
            placed(p2, NOW + timedelta(minutes=10), NOW + timedelta(hours=2)),
            placed(p3, NOW + timedelta(minutes=50)),  # 40 min after the last: a run of its own, of one POS
            placed(B2.pos[0], NOW),  # another branch, alone
            placed(B2.pos[1], NOW + timedelta(minutes=5), motive=Motive.SIAT_FAILURE),  # not internet
        ]
    )
    (outage,) = found
    assert outage.branch_id == B1.id and outage.pos_ids == tuple(sorted((p1.id, p2.id)))
    assert outage.started_at == NOW and outage.declared_at == NOW + timedelta(minutes=10)
    assert outage.ended_at == NOW + timedelta(hours=2) and outage.key == outage_key(OutageKind.BRANCH_INTERNET, NOW, B1.id)


def siat_dossier(inventory, pos):
    outage = Outage("k", OutageKind.SIAT, None, NOW - timedelta(minutes=5), NOW, None, False)
    events = [placed(p, NOW + timedelta(minutes=1), motive=Motive.SIAT_FAILURE, eid=f"ev-{p.id}") for p in pos]
    from cucu.store import DayEvents

    days = [DayEvents(e.pos_id, e.branch_id or "", NOW.date(), NOW, False, (e,)) for e in events]
    return dossier(
        outage, checks=[ConnectivityCheck(NOW - timedelta(minutes=5), False)], days=days, statuses={}, audit=[],
        incidents=[], deliveries={}, notes={}, invoices=[], inventory=inventory, now=NOW + timedelta(minutes=30),
    )  # fmt: skip


def test_the_timeline_names_each_branch_when_few_and_says_it_once_at_a_chains_size():
    few = synthetic_inventory(3, 2)
    started = [t for t in siat_dossier(few, few.all_pos).timeline if t.what == "Eventos iniciados"]
    assert len(started) == 3 and all("2 eventos" in t.detail for t in started)
    chain = synthetic_inventory(BRANCHES_ON_TIMELINE + 5, 2)
    started = [t for t in siat_dossier(chain, chain.all_pos).timeline if t.what == "Eventos iniciados"]
    (once,) = started
    assert once.detail.startswith(f"{2 * (BRANCHES_ON_TIMELINE + 5)} eventos en {BRANCHES_ON_TIMELINE + 5} sucursales")
