"""Contract: the client's CUFD and invoice calls against the simulator over real HTTP on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cucu.api.client import CucuClient
from cucu.api.errors import CucuRejectedError, CucuServerError
from cucu.lapaz import now_la_paz
from cucu.simulator import DEFAULT_API_KEY, Simulator, SimulatorServer
from cucu.vocabulary import InvoiceState


@pytest.fixture
def client(sim, sim_server):
    with CucuClient(sim_server.base_url, DEFAULT_API_KEY, sleep=lambda s: None, timeout=5) as c:
        yield c


def test_cufds_tell_a_story_and_renewing_an_expired_one_lets_the_pos_invoice(sim, client):
    now = now_la_paz()
    codes = {p.id: client.get_cufd(p.id) for p in sim.inventory.all_pos}
    assert all(c is not None for c in codes.values())
    expired, inactive = sim.inventory.all_pos[1].id, sim.inventory.all_pos[2].id
    assert not codes[expired].valid_at(now) and codes[expired].activo
    assert not codes[inactive].valid_at(now) and not codes[inactive].activo
    soon = [
        c
        for c in codes.values()
        if c is not None and c.valid_at(now) and c.vigencia is not None and c.vigencia - now < timedelta(hours=2)
    ]
    assert soon  # some expire within two hours
    fresh = client.renew_cufd(expired)
    assert fresh.valid_at(now) and fresh.cufd != codes[expired].cufd
    again = client.get_cufd(expired)
    assert again is not None and again.valid_at(now) and again.cufd == fresh.cufd


def test_an_unknown_pos_has_no_cufd_and_cannot_renew(client):
    stranger = "00000000-0000-4000-8000-000000000000"
    assert client.get_cufd(stranger) is None
    with pytest.raises(CucuRejectedError):
        client.renew_cufd(stranger)


def test_invoices_page_newest_first_with_offline_ones_attributed_to_their_pos(sim, client):
    first = client.list_invoices(page=0, size=50)
    assert first.first and first.page == 0 and first.total_elements >= len(first.items) > 0
    dates = [i.emission_date for i in first.items]
    assert dates == sorted(dates, reverse=True)
    pos_ids = {p.id for p in sim.inventory.all_pos}
    assert all(i.pos_id in pos_ids for i in first.items)
    every = [i for n in range(first.total_pages) for i in client.list_invoices(page=n, size=50).items]
    assert len(every) == first.total_elements and {i.state for i in every} >= {InvoiceState.CONTINGENCY, InvoiceState.VALIDATED}
    offline = next(i for i in every if i.state is InvoiceState.CONTINGENCY)
    status = client.invoice_status(offline.id)
    assert status.state is InvoiceState.CONTINGENCY and status.siat_code == 901 and status.emission_type == "CONTINGENCIA"


def test_faults_apply_to_the_new_calls(sim, client):
    sim.update_faults({"error_rate": 1.0})
    with pytest.raises(CucuServerError):
        client.list_invoices()
    with pytest.raises(CucuServerError):
        client.renew_cufd(sim.inventory.all_pos[0].id)  # a write: one call, no retry


def test_ending_an_event_moves_its_offline_invoices_along():
    clock = [now_la_paz()]
    simulator = Simulator(now=lambda: clock[0])
    with SimulatorServer(simulator) as server, CucuClient(server.base_url, DEFAULT_API_KEY, sleep=lambda s: None, timeout=5) as c:
        active = {e["posId"]: e for e in simulator.events() if not e["finalizado"]}
        offline = [i for i in simulator._invoicing.invoices if i.event_id in {e["id"] for e in active.values()}]
        assert offline and all(c.invoice_status(i.id).state is InvoiceState.CONTINGENCY for i in offline)
        invoice = offline[0]
        event = next(e for e in active.values() if e["id"] == invoice.event_id)
        c.end_event(event["posId"], event["branchId"], event["id"])
        assert c.invoice_status(invoice.id).state is InvoiceState.CONTINGENCY  # not at once
        clock[0] += timedelta(minutes=10)
        moved = c.invoice_status(invoice.id)
        assert moved.state in (InvoiceState.VALIDATED, InvoiceState.REJECTED) and moved.siat_code in (908, 902, 1040)
