"""CucuClient against httpx.MockTransport: every call, every error kind, retries, key hygiene."""

from __future__ import annotations

import gzip
import json
import logging
from datetime import date, datetime

import httpx
import pytest

from cucu.api.client import MAX_BODY_BYTES, MAX_MESSAGE_LENGTH, CucuClient, extract_message, parse_retry_after
from cucu.api.errors import (
    CucuAuthError,
    CucuBadResponseError,
    CucuConnectionError,
    CucuError,
    CucuHTTPStatusError,
    CucuRateLimitError,
    CucuRejectedError,
    CucuServerError,
    CucuTimeoutError,
)
from cucu.lapaz import LA_PAZ

KEY = "sk_test_unit_secret_value"
POS = "660e8400-e29b-41d4-a716-446655440004"
BRANCH = "660e8400-e29b-41d4-a716-446655440003"
EVENT = {
    "id": "a1b2c3d4-0000-4000-8000-000000000001",
    "posId": POS,
    "codigoMotivo": 2,
    "descripcionMotivo": "Falla SIAT",
    "fechaInicio": "2026-11-24T08:15:00",
    "fechaFin": None,
    "cufdEvento": "BQUFDQ0JBQkE",
    "codigoEventoSiat": 123456,
    "finalizado": False,
    "createdAt": "2026-11-24T08:15:01",
}


def ok(data, status=200):
    return httpx.Response(status, json={"success": True, "data": data})


def make_client(handler, **kw):
    kw.setdefault("sleep", lambda s: None)
    return CucuClient("https://cucu.test", KEY, transport=httpx.MockTransport(handler), **kw)


class Recorder:
    """A handler that answers from a list and records each request."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request):
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item


# ---- the five calls ------------------------------------------------------------------


def test_check_connection_sends_key_and_reads_bool():
    rec = Recorder(ok(True))
    assert make_client(rec).check_connection() is True
    req = rec.requests[0]
    assert req.method == "GET" and req.url.path == "/api/v1/events/check-connection"
    assert req.headers["X-API-Key"] == KEY


@pytest.mark.parametrize(("data", "expected"), [(False, False), ("true", True), ({"connected": False}, False)])
def test_check_connection_tolerates_shapes(data, expected):
    assert make_client(Recorder(ok(data))).check_connection() is expected


def test_check_connection_rejects_nonsense():
    with pytest.raises(CucuBadResponseError):
        make_client(Recorder(ok("quizás")), max_retries=0).check_connection()


def test_active_event_parses_to_la_paz_aware_times():
    rec = Recorder(ok(EVENT))
    event = make_client(rec).get_active_event(POS)
    assert rec.requests[0].url.path == f"/api/v1/events/active/{POS}"
    assert event.id == EVENT["id"] and event.active and event.codigo_motivo == 2
    assert event.fecha_inicio == datetime(2026, 11, 24, 8, 15, tzinfo=LA_PAZ)
    assert event.fecha_inicio.utcoffset().total_seconds() == -4 * 3600
    assert event.codigo_evento_siat == "123456" and event.cufd_evento == "BQUFDQ0JBQkE"
    assert event.motive_text == "Falla SIAT"


def test_active_event_with_offset_is_converted():
    event = make_client(Recorder(ok({**EVENT, "fechaInicio": "2026-11-24T12:15:00Z"}))).get_active_event(POS)
    assert event.fecha_inicio.hour == 8 and event.fecha_inicio.tzinfo == LA_PAZ


@pytest.mark.parametrize(
    "response",
    [
        ok(None),
        ok({}),
        ok([]),
        httpx.Response(404, json={"success": False, "message": "No hay evento activo"}),
        httpx.Response(404, text="Not Found"),
        httpx.Response(200, json={"success": False, "message": "No existe evento activo"}),
        ok({**EVENT, "finalizado": True, "fechaFin": "2026-11-24T09:00:00"}),
    ],
    ids=["data-null", "data-empty", "data-empty-list", "404-envelope", "404-text", "success-false", "ended"],
)
def test_no_active_event_in_every_shape_is_none(response):
    assert make_client(Recorder(response)).get_active_event(POS) is None


def test_list_events_posts_the_query():
    ended = {**EVENT, "finalizado": True, "fechaFin": "2026-11-24T09:00:00"}
    rec = Recorder(ok([ended, EVENT]))
    events = make_client(rec).list_events(POS, BRANCH, date(2026, 11, 24))
    req = rec.requests[0]
    assert req.method == "POST" and req.url.path == "/api/v1/events"
    assert json.loads(req.content) == {"posId": POS, "branchId": BRANCH, "fechaEvento": "2026-11-24"}
    assert [e.active for e in events] == [False, True]
    assert events[0].fecha_fin == datetime(2026, 11, 24, 9, 0, tzinfo=LA_PAZ)


def test_list_events_null_is_empty_and_object_is_bad():
    assert make_client(Recorder(ok(None))).list_events(POS, BRANCH, date(2026, 11, 24)) == []
    with pytest.raises(CucuBadResponseError):
        make_client(Recorder(ok({"x": 1})), max_retries=0).list_events(POS, BRANCH, date(2026, 11, 24))


def test_start_event_sends_trimmed_body():
    rec = Recorder(ok(EVENT))
    event = make_client(rec).start_event(POS, BRANCH, 2, "  SIAT no responde  ")
    req = rec.requests[0]
    assert req.url.path == "/api/v1/events/start"
    assert json.loads(req.content) == {"posId": POS, "branchId": BRANCH, "codigoMotivo": 2, "descripcion": "SIAT no responde"}
    assert event.id == EVENT["id"]


def test_end_event_sends_ids():
    ended = {**EVENT, "finalizado": True, "fechaFin": "2026-11-24T09:00:00"}
    rec = Recorder(ok(ended))
    event = make_client(rec).end_event(POS, BRANCH, EVENT["id"])
    assert rec.requests[0].url.path == "/api/v1/events/end"
    assert json.loads(rec.requests[0].content) == {"posId": POS, "branchId": BRANCH, "eventoId": EVENT["id"]}
    assert not event.active


def test_event_without_id_is_bad_response():
    with pytest.raises(CucuBadResponseError):
        make_client(Recorder(ok({"posId": POS}))).start_event(POS, BRANCH, 1, "x")


# ---- error kinds ---------------------------------------------------------------------


def test_connect_error():
    rec = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(CucuConnectionError) as info:
        make_client(rec, max_retries=0).check_connection()
    assert not isinstance(info.value, CucuTimeoutError)
    assert info.value.request_sent is False
    assert "cucu.test" in info.value.message


def test_read_timeout_marks_request_sent():
    with pytest.raises(CucuTimeoutError) as info:
        make_client(Recorder(httpx.ReadTimeout("slow")), max_retries=0).check_connection()
    assert info.value.request_sent is True
    assert "no respondió a tiempo" in info.value.message


def test_connect_timeout_marks_request_not_sent():
    with pytest.raises(CucuTimeoutError) as info:
        make_client(Recorder(httpx.ConnectTimeout("slow")), max_retries=0).check_connection()
    assert info.value.request_sent is False


def test_dropped_connection_may_have_been_processed():
    with pytest.raises(CucuConnectionError) as info:
        make_client(Recorder(httpx.RemoteProtocolError("closed")), max_retries=0).start_event(POS, BRANCH, 1, "x")
    assert info.value.request_sent is True


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key(status):
    rec = Recorder(httpx.Response(status, json={"success": False, "message": "API key inválida"}))
    with pytest.raises(CucuAuthError) as info:
        make_client(rec).check_connection()
    assert "clave API" in info.value.message and info.value.status_code == status
    assert len(rec.requests) == 1  # never retried


def test_rate_limited_carries_retry_after():
    resp = httpx.Response(429, headers={"Retry-After": "7"}, json={"success": False, "message": "Too many"})
    with pytest.raises(CucuRateLimitError) as info:
        make_client(Recorder(resp), max_retries=0).check_connection()
    assert info.value.retry_after == 7.0 and "7 s" in info.value.message


def test_server_error():
    with pytest.raises(CucuServerError) as info:
        make_client(Recorder(httpx.Response(503, text="<html>Bad gateway</html>")), max_retries=0).check_connection()
    assert info.value.status_code == 503 and "503" in info.value.message


def test_api_said_no_with_success_false():
    rec = Recorder(httpx.Response(200, json={"success": False, "message": "El punto de venta ya tiene un evento activo"}))
    with pytest.raises(CucuRejectedError) as info:
        make_client(rec).start_event(POS, BRANCH, 1, "x")
    assert info.value.api_message == "El punto de venta ya tiene un evento activo"
    assert "ya tiene un evento activo" in info.value.message


def test_api_said_no_with_4xx_and_errors_list():
    body = {"success": False, "message": "Datos inválidos", "errors": [{"field": "posId", "message": "no es UUID"}]}
    with pytest.raises(CucuRejectedError) as info:
        make_client(Recorder(httpx.Response(400, json=body))).start_event("x", BRANCH, 1, "x")
    assert info.value.status_code == 400
    assert info.value.api_message == "Datos inválidos; posId: no es UUID"


def test_4xx_without_message_is_status_error():
    with pytest.raises(CucuHTTPStatusError) as info:
        make_client(Recorder(httpx.Response(418, text="teapot"))).start_event(POS, BRANCH, 1, "x")
    assert not isinstance(info.value, CucuRejectedError) and "418" in info.value.message


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html><body>Proxy error</body></html>"),
        httpx.Response(200, text='{"success": true, "data": {'),
        httpx.Response(200, json={"data": True}),
        httpx.Response(200, json=[True]),
    ],
    ids=["html", "truncated-json", "no-success", "list"],
)
def test_body_that_is_not_the_envelope(response):
    with pytest.raises(CucuBadResponseError) as info:
        make_client(Recorder(response), max_retries=0).check_connection()
    assert "no se pudo interpretar" in info.value.message


class Drip(httpx.SyncByteStream):
    """A body of ``total`` bytes in 64 KiB chunks that counts how much the client pulled."""

    def __init__(self, total: int, head: bytes = b'{"success": true, "data": [], "x": "', chunk: int = 65_536):
        self.total, self.head, self.chunk, self.pulled = total, head, chunk, 0

    def __iter__(self):
        yield self.head
        self.pulled = len(self.head)
        while self.pulled < self.total:
            self.pulled += self.chunk
            yield b"x" * self.chunk
        yield b'"}'


def test_a_body_beyond_the_cap_is_refused_without_reading_it_all():
    stream = Drip(8 * MAX_BODY_BYTES)
    rec = Recorder(httpx.Response(200, stream=stream))
    with pytest.raises(CucuBadResponseError) as info:
        make_client(rec, max_retries=0).list_events(POS, BRANCH, date(2026, 11, 24))
    assert "demasiado grande" in info.value.message
    assert stream.pulled <= MAX_BODY_BYTES + stream.chunk


def test_a_declared_length_beyond_the_cap_is_refused_before_reading():
    stream = Drip(2 * MAX_BODY_BYTES)
    response = httpx.Response(200, stream=stream, headers={"Content-Length": str(2 * MAX_BODY_BYTES + 40)})
    with pytest.raises(CucuBadResponseError):
        make_client(Recorder(response), max_retries=0).list_events(POS, BRANCH, date(2026, 11, 24))
    assert stream.pulled == 0


def test_the_cap_is_on_the_decoded_body_a_small_gzip_bomb_is_refused():
    body = b'{"success": true, "data": [' + b" " * (4 * MAX_BODY_BYTES) + b"]}"
    packed = gzip.compress(body)
    assert len(packed) < MAX_BODY_BYTES // 50
    response = httpx.Response(200, content=packed, headers={"Content-Encoding": "gzip"})
    with pytest.raises(CucuBadResponseError):
        make_client(Recorder(response), max_retries=0).list_events(POS, BRANCH, date(2026, 11, 24))


def test_a_small_gzip_body_still_reads():
    packed = gzip.compress(json.dumps({"success": True, "data": [EVENT]}).encode())
    response = httpx.Response(200, content=packed, headers={"Content-Encoding": "gzip"})
    assert len(make_client(Recorder(response)).list_events(POS, BRANCH, date(2026, 11, 24))) == 1


def test_a_body_dripped_slowly_ends_within_three_read_timeouts():
    ticks = iter(range(10_000))
    client = make_client(
        Recorder(httpx.Response(200, stream=Drip(MAX_BODY_BYTES // 2))),
        max_retries=0,
        timeout=1.0,
        monotonic=lambda: float(next(ticks)),
    )
    with pytest.raises(CucuTimeoutError) as info:
        client.list_events(POS, BRANCH, date(2026, 11, 24))
    assert info.value.request_sent


@pytest.mark.parametrize(
    "text",
    [
        '{"success": true, "data": ' + "[" * 100_000 + "]" * 100_000 + "}",  # json.loads: RecursionError
        '{"success": true, "data": ' + "[" * 40 + "]" * 40 + "}",
        '{"success": true, "data": [{"id": "e", "codigoMotivo": 1e400}]}',  # int(inf): OverflowError
        '{"success": true, "data": [{"id": "e", "codigoMotivo": NaN}]}',
        '{"success": true, "data": [{"id": "e", "codigoMotivo": -Infinity}]}',
        '{"success": true, "data": [{"id": "e", "codigoMotivo": ' + "9" * 5000 + "}]}",
        '{"success": true, "data": [{"id": "e", "codigoMotivo": ' + "9" * 4000 + "}]}",
        '{"success": true, "data": [{"id": "e", "codigoMotivo": true}]}',
        '{"success": true, "data": [{"id": "e", "finalizado": "no"}]}',
        '{"success": true, "data": [{"id": "e", "fechaInicio": "+99999-01-01T00:00:00"}]}',
        '{"success": true, "data": [["e"]]}',
        '{"success": true, "data": {"id": "e"}}',
    ],
    ids=[
        "deep",
        "deeper-than-cap",
        "1e400",
        "nan",
        "infinity",
        "5000-digits",
        "4000-digits",
        "bool-code",
        "text-bool",
        "year-99999",
        "list-for-object",
        "object-for-list",
    ],
)
def test_hostile_json_is_a_bad_response(text):
    rec = Recorder(httpx.Response(200, text=text, headers={"Content-Type": "application/json"}))
    with pytest.raises(CucuBadResponseError):
        make_client(rec, max_retries=0).list_events(POS, BRANCH, date(2026, 11, 24))


@pytest.mark.parametrize("value", ["inf", "nan", "1e400", "-inf"])
def test_a_non_finite_retry_after_is_ignored(value):
    rec = Recorder(httpx.Response(429, headers={"Retry-After": value}, json={"success": False}))
    with pytest.raises(CucuRateLimitError) as info:
        make_client(rec, max_retries=0).check_connection()
    assert info.value.retry_after is None


def test_cucus_message_is_cut_to_a_sentence():
    rec = Recorder(httpx.Response(400, json={"success": False, "message": "m" * 100_000}))
    with pytest.raises(CucuRejectedError) as info:
        make_client(rec).list_events(POS, BRANCH, date(2026, 11, 24))
    assert info.value.api_message is not None and len(info.value.api_message) == MAX_MESSAGE_LENGTH


def test_invalid_base_url_scheme():
    client = CucuClient("ftp://cucu.test", KEY)
    with pytest.raises(CucuConnectionError) as info:
        client.check_connection()
    assert "no es válida" in info.value.message


# ---- retries -------------------------------------------------------------------------


def test_reads_retry_transient_failures_with_backoff():
    sleeps: list[float] = []
    rec = Recorder(httpx.ConnectError("x"), httpx.Response(502, text="bad gateway"), ok(True))
    assert make_client(rec, sleep=sleeps.append).check_connection() is True
    assert len(rec.requests) == 3
    assert 0.375 <= sleeps[0] <= 0.5 and 0.75 <= sleeps[1] <= 1.0  # jittered exponential


def test_reads_honour_retry_after():
    sleeps: list[float] = []
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "3"}, json={"success": False}), ok(True))
    assert make_client(rec, sleep=sleeps.append).check_connection() is True
    assert sleeps == [pytest.approx(3.0, abs=0.05)]


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_429_pauses_every_caller_of_the_client_not_only_the_one_that_got_it():
    clock = FakeTime()
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "4"}, json={"success": False}), ok(True), ok(EVENT))
    client = make_client(rec, max_retries=0, sleep=clock.sleep, monotonic=lambda: clock.now)
    with pytest.raises(CucuRateLimitError):
        client.check_connection()  # no retries: this caller gives up at once
    assert clock.sleeps == []
    # Another caller (the sweep, an action) sends nothing before the pause is over, then goes on.
    assert client.check_connection() is True
    assert clock.sleeps == [4.0] and len(rec.requests) == 2
    client.start_event(POS, BRANCH, 1, "x")  # a write too, but no further wait: the pause is over
    assert clock.sleeps == [4.0]


def test_429s_without_retry_after_back_off_longer_each_time_until_an_answer():
    clock = FakeTime()
    limited = httpx.Response(429, json={"success": False})
    rec = Recorder(limited, limited, limited, ok(True), ok(True))
    client = make_client(rec, max_retries=3, sleep=clock.sleep, monotonic=lambda: clock.now)
    assert client.check_connection() is True
    assert clock.sleeps == [0.5, 1.0, 2.0]  # the gate's pauses, one per 429 in a row
    assert client.check_connection() is True and clock.sleeps == [0.5, 1.0, 2.0]  # an answer reset it


def test_too_long_retry_after_is_not_waited():
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}, json={"success": False}))
    with pytest.raises(CucuRateLimitError):
        make_client(rec).check_connection()
    assert len(rec.requests) == 1


def test_reads_give_up_after_max_retries():
    rec = Recorder(httpx.Response(500, json={"success": False, "message": "boom"}))
    with pytest.raises(CucuServerError):
        make_client(rec, max_retries=2).list_events(POS, BRANCH, date(2026, 11, 24))
    assert len(rec.requests) == 3


def test_rejections_are_not_retried():
    rec = Recorder(httpx.Response(400, json={"success": False, "message": "fecha inválida"}))
    with pytest.raises(CucuRejectedError):
        make_client(rec).list_events(POS, BRANCH, date(2026, 11, 24))
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("t"),
        httpx.ConnectError("c"),
        httpx.Response(503, text="x"),
        httpx.Response(429, headers={"Retry-After": "1"}),
    ],
    ids=["timeout", "connect", "503", "429"],
)
@pytest.mark.parametrize("call", ["start", "end"])
def test_writes_are_never_retried(failure, call):
    rec = Recorder(failure, ok(EVENT))
    client = make_client(rec)
    send = (
        (lambda: client.start_event(POS, BRANCH, 1, "x"))
        if call == "start"
        else (lambda: client.end_event(POS, BRANCH, EVENT["id"]))
    )
    with pytest.raises(CucuError):
        send()
    assert len(rec.requests) == 1


# ---- the key stays secret ------------------------------------------------------------


def test_key_never_in_repr_errors_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(Recorder(httpx.ReadTimeout("slow")), max_retries=1)
    with pytest.raises(CucuError) as info:
        client.check_connection()
    texts = [repr(client), str(info.value), repr(info.value), str(info.value.detail), caplog.text, repr(client._http.headers)]
    assert all(KEY not in t for t in texts)
    assert KEY not in repr(client._http.auth)


# ---- helpers -------------------------------------------------------------------------


def test_extract_message_variants():
    assert extract_message({"error": {"message": "x"}}) == "x"
    assert extract_message({"error": "y", "errors": {"posId": "malo"}}) == "y; posId: malo"
    assert extract_message({"errors": ["a", {"defaultMessage": "b"}]}) == "a; b"
    assert extract_message("text") is None and extract_message({}) is None


def test_parse_retry_after_date():
    header = "Tue, 24 Nov 2026 16:00:10 GMT"
    assert parse_retry_after(header, now=datetime.fromisoformat("2026-11-24T16:00:00+00:00")) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
