"""Property-based tests (Hypothesis): whatever cucu, the inventory file or a URL sends, the parsers
raise only their documented errors, and what they accept is safe for the frames and figures after them.

Examples per test come from the profile in ``tests/conftest.py`` (fast by default; set
``HYPOTHESIS_PROFILE=thorough`` for a long run).
"""

from __future__ import annotations

import json
import math
import tempfile
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from cucu.api.client import MAX_MESSAGE_LENGTH, CucuClient, extract_message, parse_json, parse_retry_after
from cucu.api.errors import CucuError
from cucu.api.models import (
    API_FIELDS,
    MAX_CODE_LENGTH,
    MAX_ID_LENGTH,
    MAX_TEXT_LENGTH,
    Branch,
    Event,
    Inventory,
    PointOfSale,
    parse_api_datetime,
)
from cucu.inventory import MAX_NAME_LENGTH, InventoryError, inventory_to_toml, load_inventory, parse_inventory
from cucu.lapaz import LA_PAZ
from cucu.periods import picked_range, range_problem
from cucu.store import DayEvents, PosStatus
from cucu.views.eventos import SEARCHED_COLUMNS, pos_table, search_mask
from cucu.views.figures.timeline import timeline_figure
from cucu.views.historial import events_frame, lanes
from cucu.views.pos import pos_frame

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=LA_PAZ)
B1, P1 = "11111111-1111-4111-8111-111111111111", "11111111-0000-4000-8000-000000000001"
INVENTORY = Inventory(branches=(Branch(B1, "Casa Matriz", (PointOfSale(P1, "Caja 1", B1),)),))

# ---- strategies -------------------------------------------------------------------------

# What odd data looks like: the edges of every type JSON carries, and a few values no JSON has.
odd_numbers = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63, 10**30, 10**400, True, False]),
    st.floats(allow_nan=True, allow_infinity=True),
)
odd_texts = st.one_of(
    st.text(max_size=50),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\ufeff",
            "NaN",
            "Infinity",
            "-1",
            "1e400",
            "99999-01-01T00:00:00",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00",
            "2026-11-24T08:15:00",
            "2026-11-24 08:15:00",
            "2026-02-30T00:00:00",
            "true",
            "false",
            '<a href="http://x">y</a>',
            "[x](http://x)",
            "x" * 100_000,
        ]
    ),
)
scalars = st.one_of(st.none(), st.booleans(), odd_numbers, odd_texts)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=20,
)
GOOD_EVENT = {
    "id": "a1b2c3d4-0000-4000-8000-000000000001",
    "posId": P1,
    "branchId": B1,
    "codigoMotivo": 2,
    "descripcionMotivo": "Falla SIAT",
    "descripcion": "Sin conexión",
    "fechaInicio": "2026-11-24T08:15:00",
    "fechaFin": None,
    "cufdEvento": "BQUFDQ0JBQkE",
    "codigoEventoSiat": 123456,
    "finalizado": False,
    "createdAt": "2026-11-24T08:15:01",
}
# An event with some fields replaced by odd values (closer to what a buggy release sends), or any object.
events = st.one_of(
    st.dictionaries(st.sampled_from(API_FIELDS), json_values).map(lambda odd: {**GOOD_EVENT, **odd}),
    st.dictionaries(st.sampled_from(API_FIELDS), scalars).map(lambda odd: {"id": "e1", **odd}),
    json_values,
)
envelopes = st.one_of(
    st.fixed_dictionaries(
        {"success": st.one_of(st.booleans(), scalars)},
        optional={
            "data": st.one_of(json_values, events, st.lists(events, max_size=3)),
            "message": st.one_of(odd_texts, json_values),
            "error": st.one_of(odd_texts, st.fixed_dictionaries({"message": scalars}), json_values),
            "errors": st.one_of(st.lists(st.one_of(odd_texts, json_values), max_size=3), json_values),
            "timestamp": odd_texts,
        },
    ),
    json_values,
)


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


bodies = st.one_of(
    envelopes.map(as_json),
    st.binary(max_size=200),
    st.sampled_from([b"", b"\xef\xbb\xbf{}", b"[" * 5000, b'{"success": true, "data": ' + b"[" * 5000, b"\x00" * 10]),
)
statuses = st.sampled_from([200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, 302, 418])
retry_afters = st.one_of(st.none(), odd_texts, st.sampled_from(["0", "2", "inf", "nan", "-5", "Wed, 21 Oct 2015 07:28:00 GMT"]))


# ---- the envelope parser and the client --------------------------------------------------


class Answer:
    """One MockTransport answer at a time (Hypothesis runs examples in one thread)."""

    response: httpx.Response = httpx.Response(200)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.response


ANSWER = Answer()
CLIENT = CucuClient("https://cucu.test", "sk_test_x", transport=httpx.MockTransport(ANSWER), max_retries=0, sleep=lambda s: None)


@given(status=statuses, body=bodies, retry_after=retry_afters, call=st.sampled_from(["check", "active", "list", "start", "end"]))
def test_every_call_raises_only_cucu_errors(status, body, retry_after, call):
    headers = {"Content-Type": "application/json"}
    if retry_after is not None and retry_after.isprintable() and retry_after.isascii() and len(retry_after) < 100:
        headers["Retry-After"] = retry_after
    ANSWER.response = httpx.Response(status, content=body, headers=headers)
    calls = {
        "check": CLIENT.check_connection,
        "active": lambda: CLIENT.get_active_event(P1),
        "list": lambda: CLIENT.list_events(P1, B1, date(2026, 11, 24)),
        "start": lambda: CLIENT.start_event(P1, B1, 1, "x"),
        "end": lambda: CLIENT.end_event(P1, B1, "e1"),
    }
    try:
        result: Any = calls[call]()
    except CucuError as exc:
        result = exc
    if isinstance(result, CucuError):
        assert isinstance(result.message, str) and result.message
        assert len(result.message) < MAX_MESSAGE_LENGTH + 200  # cucu's message, quoted in one sentence
    elif call == "check":
        assert isinstance(result, bool)
    elif call == "list":
        assert all(isinstance(e, Event) for e in result)
    elif call == "active":
        assert result is None or isinstance(result, Event)
    else:
        assert isinstance(result, Event)


@given(
    text=st.one_of(
        st.text(), st.binary().map(lambda b: b.decode("latin-1")), envelopes.map(lambda v: as_json(v).decode("utf-8", "replace"))
    )
)
def test_parse_json_raises_only_value_error(text):
    try:
        value = parse_json(text)
    except ValueError:
        return
    assert value is None or isinstance(value, (dict, list, str, int, float, bool))
    if isinstance(value, float):
        assert math.isfinite(value)


@given(body=json_values)
def test_extract_message_is_text_of_bounded_length_or_none(body):
    message = extract_message(body)
    assert message is None or (isinstance(message, str) and 0 < len(message) <= MAX_MESSAGE_LENGTH)


@given(value=retry_afters)
def test_retry_after_is_a_finite_pause_or_none(value):
    seconds = parse_retry_after(value)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


# ---- the event model ----------------------------------------------------------------------


@given(data=events)
def test_event_from_api_raises_only_value_error_and_what_it_accepts_is_safe(data):
    try:
        event = Event.from_api(data)
    except ValueError:
        return
    assert isinstance(event.id, str) and 0 < len(event.id) <= MAX_ID_LENGTH
    assert isinstance(event.pos_id, str) and len(event.pos_id) <= MAX_ID_LENGTH
    assert event.codigo_motivo is None or (type(event.codigo_motivo) is int and 0 <= event.codigo_motivo <= 999)
    assert type(event.finalizado) is bool
    for text in (event.descripcion_motivo, event.descripcion):
        assert text is None or (isinstance(text, str) and len(text) <= MAX_TEXT_LENGTH)
    for code in (event.cufd_evento, event.codigo_evento_siat):
        assert code is None or (isinstance(code, str) and len(code) <= MAX_CODE_LENGTH)
    assert Event.from_api(json.loads(json.dumps(dict(event.raw)))) == event  # the store reads it back the same
    # And every frame and figure a page builds from it.
    moment = event.fecha_inicio or NOW
    day = DayEvents(P1, B1, moment.date(), NOW, False, (event,))
    frame = events_frame([day], INVENTORY, NOW)
    timeline_figure(frame, NOW, moment.date(), moment.date(), lanes=lanes(INVENTORY)).to_json()
    status = PosStatus(P1, B1, NOW, NOW, event if event.active else None, None)
    pos_table(pos_frame(INVENTORY, {P1: status}, NOW), 24.0, NOW)


@given(value=st.one_of(odd_texts, odd_numbers, st.none(), st.datetimes(timezones=st.just(LA_PAZ)), st.datetimes()))
def test_parse_api_datetime_raises_only_value_error(value):
    try:
        parsed = parse_api_datetime(value)
    except ValueError:
        return
    assert parsed is None or (parsed.tzinfo is not None and 2000 <= parsed.year <= 2100)


# ---- the inventory loader -----------------------------------------------------------------

names = st.one_of(st.text(max_size=130), st.sampled_from(["", " ", "\x00", "a\nb", '"', "\\", "<b>x</b>", "x" * 121]))
ids = st.one_of(
    st.uuids().map(str), st.sampled_from([B1, P1, "no-uuid", "", str(uuid.UUID(int=0)).upper()]), st.text(max_size=40)
)
inventories = st.lists(st.tuples(ids, names, st.lists(st.tuples(ids, names), max_size=3)), min_size=0, max_size=3).map(
    lambda rows: Inventory(
        branches=tuple(
            Branch(b_id, b_name, tuple(PointOfSale(p_id, p_name, b_id) for p_id, p_name in pos)) for b_id, b_name, pos in rows
        )
    )
)
TOML_PIECES = [
    "[[branches]]",
    "[[branches.pos]]",
    'id = "',
    'name = "',
    "city = ",
    "= [",
    "]",
    "{",
    "}",
    "\n",
    '"',
    "'''",
    "1e400",
    "9" * 5000,
    "\x00",
    "\ufeff",
    "[" * 1000,
]


def assert_usable(inventory: Inventory) -> None:
    for branch in inventory.branches:
        assert branch.pos and branch.name.strip() and len(branch.name) <= MAX_NAME_LENGTH
        assert all(p.name.strip() and len(p.name) <= MAX_NAME_LENGTH for p in branch.pos)


@given(
    text=st.one_of(
        st.text(), st.lists(st.sampled_from(TOML_PIECES), max_size=12).map("".join), inventories.map(inventory_to_toml)
    )
)
def test_parse_inventory_raises_only_inventory_error(text):
    try:
        inventory = parse_inventory(text)
    except InventoryError:
        return
    assert_usable(inventory)


FILE = Path(tempfile.mkdtemp(prefix="inventario-")) / "inventario.toml"


@given(
    raw=st.one_of(
        st.binary(max_size=300),
        inventories.map(lambda inv: inventory_to_toml(inv).encode("utf-8", "surrogatepass")),
        inventories.map(lambda inv: b"\xef\xbb\xbf" + inventory_to_toml(inv).encode("utf-8", "surrogatepass")),
        inventories.map(lambda inv: inventory_to_toml(inv).encode("utf-16")),
    )
)
def test_load_inventory_raises_only_inventory_error(raw):
    FILE.write_bytes(raw)
    try:
        inventory = load_inventory(FILE)
    except InventoryError:
        return
    assert_usable(inventory)


# ---- what a page reads from its URL -----------------------------------------------------
# Streamlit turns ?fechas=… (and every other bound filter) into a widget value; the pages hand that
# value to these functions. Whatever arrives, they answer.

dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
picks = st.one_of(
    st.none(),
    dates,
    st.datetimes(),
    st.lists(st.one_of(dates, st.none(), odd_texts, odd_numbers), max_size=4).flatmap(lambda v: st.sampled_from([v, tuple(v)])),
    odd_texts,
    odd_numbers,
)


@given(pick=picks, today=dates)
def test_a_date_pick_from_the_url_is_a_range_or_none_and_a_range_is_checked(pick, today):
    chosen = picked_range(pick)
    if chosen is None:
        return
    start, end = chosen
    assert isinstance(start, date) and isinstance(end, date)
    problem = range_problem(start, end, today)
    assert problem is None or isinstance(problem, str)
    if problem is None:
        assert start <= end <= today and (end - start) < timedelta(days=62)


@given(name=st.text(max_size=60), elsewhere=st.text(max_size=60), search=st.text(max_size=120))
def test_a_search_never_fails_and_a_pos_is_found_by_its_own_name(name, elsewhere, search):
    """Eventos activos' Buscar box comes from the URL: any text is a search, never a pattern that breaks; and
    whatever a name holds (accents, signs, numbers), typing it finds that POS."""
    frame = pd.DataFrame([[elsewhere, name, None, None, None]], columns=SEARCHED_COLUMNS)
    assert search_mask(frame, search).dtype == bool
    assert search_mask(frame, name).all()
