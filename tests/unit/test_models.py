"""Event.from_api and parse_api_datetime on odd data from cucu: one documented error (ValueError), never
TypeError, OverflowError or a value that breaks a page later."""

from __future__ import annotations

from datetime import datetime

import pytest

from cucu.api.models import MAX_TEXT_LENGTH, Event, parse_api_datetime

EVENT = {
    "id": "a1b2c3d4-0000-4000-8000-000000000001",
    "posId": "660e8400-e29b-41d4-a716-446655440004",
    "codigoMotivo": 2,
    "descripcionMotivo": "Falla SIAT",
    "fechaInicio": "2026-11-24T08:15:00",
    "fechaFin": None,
    "cufdEvento": "BQUFDQ0JBQkE",
    "codigoEventoSiat": 123456,
    "finalizado": False,
    "createdAt": "2026-11-24T08:15:01",
}


def test_a_plain_event_still_parses():
    event = Event.from_api(EVENT)
    assert event.codigo_motivo == 2 and event.codigo_evento_siat == "123456" and event.active


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("codigoMotivo", 10**30),  # would overflow PostgreSQL's integer and means nothing
        ("codigoMotivo", -1),
        ("codigoMotivo", True),  # a bool is not a code, although Python's int(True) is 1
        ("codigoMotivo", float("inf")),  # int(inf) raised OverflowError
        ("codigoMotivo", 2.5),
        ("codigoMotivo", "dos"),
        ("codigoMotivo", [2]),
        ("finalizado", "false"),  # bool("false") is True: an ended event would have looked active, or worse
        ("finalizado", 0),
        ("descripcionMotivo", ["Falla"]),
        ("descripcionMotivo", {"texto": "x"}),
        ("id", "x" * 65),  # refused, not cut: a cut id names another event
        ("id", ["a"]),
        ("id", True),
        ("posId", 123),
        ("cufdEvento", "C" * 201),
        ("cufdEvento", 12345),
        ("codigoEventoSiat", 10**500),
        ("codigoEventoSiat", -5),
        ("codigoEventoSiat", 1.5),
        ("fechaInicio", "99999-01-01T00:00:00"),
        ("fechaInicio", "0001-01-01T00:00:00+05:00"),  # astimezone raised OverflowError
        ("fechaInicio", "2500-01-01T00:00:00"),  # outside pandas' nanosecond range: every frame would fail
        ("fechaInicio", "1969-12-31T23:59:59"),
        ("fechaInicio", "NaN"),
        ("fechaInicio", -1),
        ("fechaInicio", 1e400),
        ("fechaInicio", "2026-11-24T08:15:00" + " " * 100),
        ("createdAt", ["2026-11-24"]),
    ],
)
def test_odd_fields_are_one_documented_error(key, value):
    with pytest.raises(ValueError, match=key):
        Event.from_api({**EVENT, key: value})


@pytest.mark.parametrize("data", [None, [], "evento", 7, [EVENT]])
def test_what_is_not_an_object_is_refused(data):
    with pytest.raises(ValueError):
        Event.from_api(data)


def test_long_descriptions_are_cut_for_display_and_stay_cut_in_the_store():
    event = Event.from_api({**EVENT, "descripcionMotivo": "m" * 100_000, "descripcion": "d" * 600})
    assert event.descripcion_motivo is not None and len(event.descripcion_motivo) == MAX_TEXT_LENGTH
    assert event.descripcion_motivo.endswith("…") and event.descripcion == "d" * (MAX_TEXT_LENGTH - 1) + "…"
    assert len(event.raw["descripcionMotivo"]) == MAX_TEXT_LENGTH
    assert Event.from_api(event.raw) == event  # what the store keeps reads back as the same event


def test_the_store_keeps_only_the_fields_it_reads():
    event = Event.from_api({**EVENT, "extra": [[["x" * 1000]]] * 100})
    assert "extra" not in event.raw and set(event.raw) == set(EVENT)


@pytest.mark.parametrize("value", ["2000-01-01T00:00:00", "2100-12-31T23:59:59", "2026-11-24T08:15:00-04:00"])
def test_dates_in_range_parse(value):
    assert isinstance(parse_api_datetime(value), datetime)
