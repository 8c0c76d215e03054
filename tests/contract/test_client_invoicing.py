"""The client's CUFD and invoice calls against ``httpx.MockTransport``: paths, bodies, the undocumented
shapes handled defensively, odd data refused as one documented error, a CUFD renewal never retried."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from cucu.api.errors import CucuBadResponseError, CucuServerError
from cucu.lapaz import LA_PAZ
from cucu.vocabulary import InvoiceState
from tests.contract.test_client import KEY, POS, Recorder, make_client, ok

CUFD = {"cufd": "BQUFDQ0JBQkE5QUFBQUFBQUFBQUE=", "codigoControl": "A1B2C3", "vigencia": "2026-12-04T08:00:00", "activo": True}
INVOICE = {
    "id": "f0000000-0000-4000-8000-000000000001",
    "invoiceNumber": 1042,
    "cuf": "46A4B3F1C2D",
    "state": "CONTINGENCY",
    "clientBusinessName": "Comercial Andina SRL",
    "amountTotal": 150.5,
    "emissionDate": "2026-12-03T09:30:00",
}
PAGE = {"content": [INVOICE], "page": 0, "size": 50, "totalElements": 1, "totalPages": 1, "first": True, "last": True}
STATUS = {
    "id": INVOICE["id"],
    "invoiceNumber": 1042,
    "cuf": "46A4B3F1C2D",
    "state": "REJECTED",
    "siatCode": 902,
    "siatDescription": "Rechazada: NIT inválido",
    "emissionType": "CONTINGENCIA",
    "lastChecked": "2026-12-03T10:00:00",
}


def test_get_cufd_reads_the_active_code_and_its_validity():
    rec = Recorder(ok(CUFD))
    cufd = make_client(rec).get_cufd(POS)
    assert rec.requests[0].method == "GET" and rec.requests[0].url.path == f"/api/v1/codes/cufd/{POS}"
    assert rec.requests[0].headers["X-API-Key"] == KEY
    assert cufd is not None and cufd.codigo_control == "A1B2C3" and cufd.activo
    assert cufd.vigencia == datetime(2026, 12, 4, 8, 0, tzinfo=LA_PAZ)
    assert cufd.valid_at(datetime(2026, 12, 4, 7, 59, tzinfo=LA_PAZ)) and not cufd.valid_at(
        datetime(2026, 12, 4, 8, 0, tzinfo=LA_PAZ)
    )


def test_an_inactive_cufd_is_not_valid_and_none_is_none():
    inactive = make_client(Recorder(ok({**CUFD, "activo": False}))).get_cufd(POS)
    assert inactive is not None and not inactive.valid_at(datetime(2026, 12, 3, tzinfo=LA_PAZ))
    missing = httpx.Response(404, json={"success": False, "message": "El punto de venta no tiene CUFD"})
    assert make_client(Recorder(missing)).get_cufd(POS) is None
    assert make_client(Recorder(ok(None))).get_cufd(POS) is None


def test_renewing_a_cufd_posts_the_pos_and_is_never_retried():
    rec = Recorder(ok({k: v for k, v in CUFD.items() if k != "activo"}))
    cufd = make_client(rec).renew_cufd(POS)
    assert rec.requests[0].method == "POST" and rec.requests[0].url.path == "/api/v1/codes/cufd"
    assert rec.requests[0].read() == b'{"posId":"' + POS.encode() + b'"}' and cufd.activo  # a new one is the active one
    failing = Recorder(httpx.Response(503, json={"success": False, "message": "no disponible"}))
    with pytest.raises(CucuServerError):
        make_client(failing).renew_cufd(POS)
    assert len(failing.requests) == 1  # a write whose outcome is unknown is not sent again


def test_list_invoices_pages_and_reads_the_pos_when_cucu_names_it():
    second = {**INVOICE, "id": "f2", "pointOfSaleId": POS, "state": "validated"}
    rec = Recorder(ok({**PAGE, "content": [INVOICE, second], "totalElements": 2}))
    page = make_client(rec).list_invoices(page=3, size=20)
    assert rec.requests[0].url.path == "/api/v1/invoices" and dict(rec.requests[0].url.params) == {"page": "3", "size": "20"}
    first, other = page.items
    assert first.state is InvoiceState.CONTINGENCY and first.pos_id is None and first.invoice_number == "1042"
    assert other.pos_id == POS and other.state is InvoiceState.VALIDATED  # posId or pointOfSaleId, any case
    assert first.emission_date == datetime(2026, 12, 3, 9, 30, tzinfo=LA_PAZ) and first.amount_total == 150.5
    assert page.total_elements == 2 and page.first and page.last
    with pytest.raises(ValueError):
        make_client(rec).list_invoices(size=51)  # cucu's limit


def test_an_unknown_state_is_kept_as_it_came():
    page = make_client(Recorder(ok({**PAGE, "content": [{**INVOICE, "state": "OBSERVED"}]}))).list_invoices()
    assert page.items[0].state == "OBSERVED"


def test_invoice_status_reads_siat_code_and_description():
    rec = Recorder(ok(STATUS))
    status = make_client(rec).invoice_status("f0000000/../x")
    assert rec.requests[0].url.raw_path == b"/api/v1/invoices/f0000000%2F..%2Fx/status"  # an id never becomes a path
    assert status.state is InvoiceState.REJECTED and status.siat_code == 902 and "NIT" in (status.siat_description or "")


@pytest.mark.parametrize(
    ("call", "data"),
    [
        ("cufd", {"codigoControl": "x"}),
        ("cufd", {**CUFD, "activo": "yes"}),
        ("cufd", {**CUFD, "vigencia": "mañana"}),
        ("cufd", {**CUFD, "cufd": "x" * 201}),
        ("page", {**PAGE, "content": None}),
        ("page", {**PAGE, "totalPages": -1}),
        ("page", {**PAGE, "last": "true"}),
        ("page", {**PAGE, "content": [{**INVOICE, "amountTotal": "150"}]}),
        ("page", {**PAGE, "content": [{**INVOICE, "state": None}]}),
        ("page", {**PAGE, "content": [{**INVOICE, "id": "x" * 65}]}),
        ("status", {**STATUS, "siatCode": "902"}),
        ("status", {**STATUS, "siatCode": True}),
        ("status", [STATUS]),
    ],
)
def test_odd_data_is_one_documented_error(call, data):
    client = make_client(Recorder(ok(data)))
    with pytest.raises(CucuBadResponseError):
        {"cufd": lambda: client.get_cufd(POS), "page": client.list_invoices, "status": lambda: client.invoice_status("f1")}[
            call
        ]()


@pytest.mark.parametrize(("size", "count"), [(50, 51), (20, 21), (50, 4000)])
def test_a_page_with_more_invoices_than_asked_is_refused_whole_with_a_clear_error(size, count):
    items = [{**INVOICE, "id": f"f{n:07d}"} for n in range(count)]
    client = make_client(Recorder(ok({**PAGE, "content": items, "size": size})))
    with pytest.raises(CucuBadResponseError) as refused:
        client.list_invoices(size=size)
    assert refused.value.message.startswith(f"cucu envió una página de facturas con {count:,}".replace(",", " "))
    assert f"cuando se pidieron {size}" in refused.value.message and "no se guardó nada" in refused.value.message


def test_a_page_of_exactly_size_invoices_is_read():
    items = [{**INVOICE, "id": f"f{n:07d}"} for n in range(20)]
    assert len(make_client(Recorder(ok({**PAGE, "content": items, "size": 20}))).list_invoices(size=20).items) == 20
