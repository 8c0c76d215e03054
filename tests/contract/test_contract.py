"""Contract: CucuClient against the simulator served over real HTTP on loopback."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from cucu.api.client import CucuClient
from cucu.api.errors import (
    CucuAuthError,
    CucuBadResponseError,
    CucuRateLimitError,
    CucuRejectedError,
    CucuServerError,
    CucuTimeoutError,
)
from cucu.simulator import DEFAULT_API_KEY, NO_ACTIVE_SHAPES
from cucu.vocabulary import Motive


@pytest.fixture
def client(sim, sim_server):
    with CucuClient(sim_server.base_url, DEFAULT_API_KEY, sleep=lambda s: None, timeout=5) as c:
        yield c


def idle_pos(sim, client):
    """A POS of the demo inventory with no active event."""
    for pos in sim.inventory.all_pos:
        if client.get_active_event(pos.id) is None:
            return pos
    raise AssertionError("every POS is in contingency")


def test_check_connection(sim, client):
    assert client.check_connection() is True
    sim.update_faults({"siat_down": True})
    assert client.check_connection() is False


def test_full_lifecycle(sim, client):
    pos = idle_pos(sim, client)
    started = client.start_event(pos.id, pos.branch_id, Motive.SIAT_FAILURE, "  SIAT no responde  ")
    assert started.active and started.pos_id == pos.id and started.codigo_motivo == 2
    assert started.motive_text == "Falla SIAT" and started.cufd_evento
    assert started.fecha_inicio.tzinfo is not None

    active = client.get_active_event(pos.id)
    assert active.id == started.id

    with pytest.raises(CucuRejectedError) as info:
        client.start_event(pos.id, pos.branch_id, 1, "otra vez")
    assert info.value.status_code == 409 and info.value.api_message

    ended = client.end_event(pos.id, pos.branch_id, started.id)
    assert not ended.active and ended.fecha_fin >= ended.fecha_inicio
    assert client.get_active_event(pos.id) is None

    with pytest.raises(CucuRejectedError):
        client.end_event(pos.id, pos.branch_id, started.id)

    today = started.fecha_inicio.date()
    assert started.id in [e.id for e in client.list_events(pos.id, pos.branch_id, today)]


def test_seeded_history_is_readable(sim, client):
    pos = sim.inventory.all_pos[0]
    events = [
        e for d in range(1, 15) for e in client.list_events(pos.id, pos.branch_id, date.fromordinal(date.today().toordinal() - d))
    ]
    assert all(not e.active and e.fecha_fin for e in events)


@pytest.mark.parametrize("shape", NO_ACTIVE_SHAPES)
def test_every_no_active_shape_is_none(sim, client, shape):
    pos = idle_pos(sim, client)
    sim.update_faults({"no_active_shape": shape})
    assert client.get_active_event(pos.id) is None


def test_validation_messages_reach_the_caller(sim, client):
    pos = idle_pos(sim, client)
    with pytest.raises(CucuRejectedError) as info:
        client.start_event(pos.id, pos.branch_id, 9, "x")
    assert info.value.status_code == 400 and info.value.api_message
    with pytest.raises(CucuRejectedError):
        client.start_event("no-es-uuid", pos.branch_id, 1, "x")


def test_rejected_key(sim_server, sim):
    with CucuClient(sim_server.base_url, "sk_test_wrong", sleep=lambda s: None) as bad, pytest.raises(CucuAuthError):
        bad.check_connection()


def test_rate_limit_then_recovery(sim, client):
    sim.update_faults({"rate_limit_rate": 1.0, "retry_after_s": 2})
    with pytest.raises(CucuRateLimitError) as info:
        client.check_connection()
    assert info.value.retry_after == 2


def test_server_errors(sim, client):
    sim.update_faults({"error_rate": 1.0})
    with pytest.raises(CucuServerError):
        client.check_connection()


def test_malformed_bodies(sim, client):
    sim.update_faults({"malformed_rate": 1.0})
    for _ in range(3):  # the simulator rotates its kinds of broken body
        with pytest.raises(CucuBadResponseError):
            client.check_connection()


def test_timeout_after_commit_leaves_the_event_started(sim, sim_server):
    with CucuClient(sim_server.base_url, DEFAULT_API_KEY, timeout=httpx.Timeout(0.3), sleep=lambda s: None) as c:
        pos = idle_pos(sim, c)
        sim.update_faults({"timeout_rate": 1.0, "hang_s": 2, "hang_after_commit": True})
        with pytest.raises(CucuTimeoutError) as info:
            c.start_event(pos.id, pos.branch_id, 1, "corte")
        assert info.value.request_sent is True
        sim.update_faults({"timeout_rate": 0.0})
        assert c.get_active_event(pos.id) is not None  # it did happen: the caller must verify, not retry


def test_hostile_bodies_are_only_documented_errors(sim, client):
    """Every call against every kind of hostile body: a CucuBadResponseError (or cucu's "no" when the
    kind is Markdown in its message), or, for Markdown in an event's texts, the event with its text
    kept as it came (the pages show it as text)."""
    from cucu.simulator import HOSTILE_KINDS
    from cucu.simulator.hostile import MARKUP

    active = next(p for p in sim.inventory.all_pos if sim.active_event(p.id))
    idle = idle_pos(sim, client)
    day = date.fromisoformat(sim.active_event(active.id)["fechaInicio"][:10])
    calls = {
        "check": client.check_connection,
        "active": lambda: client.get_active_event(active.id),
        "none": lambda: client.get_active_event(idle.id),
        "list": lambda: client.list_events(active.id, active.branch_id, day),
        "empty list": lambda: client.list_events(idle.id, idle.branch_id, date(2020, 1, 1)),
    }
    outcomes = {}
    for kind in HOSTILE_KINDS:
        sim.update_faults({"hostile_rate": 1.0, "hostile_kind": kind})
        for name, call in calls.items():
            try:
                outcomes[kind, name] = call()
            except (CucuBadResponseError, CucuRejectedError) as exc:
                outcomes[kind, name] = type(exc)
    bad = {key for key, value in outcomes.items() if value is CucuBadResponseError}
    assert bad == {(k, n) for k in HOSTILE_KINDS if k != "markup" for n in calls}
    assert outcomes["markup", "check"] is CucuRejectedError and outcomes["markup", "empty list"] is CucuRejectedError
    assert outcomes["markup", "active"].descripcion_motivo == MARKUP and outcomes["markup", "none"] is None
    assert all(e.descripcion_motivo == MARKUP for e in outcomes["markup", "list"])
    # A write is answered with a hostile body after it took effect: an error the caller settles by reading.
    sim.update_faults({"hostile_kind": "deep_nesting"})
    with pytest.raises(CucuBadResponseError):
        client.start_event(idle.id, idle.branch_id, 1, "corte")
    sim.update_faults({"hostile_rate": 0.0})
    assert client.get_active_event(idle.id) is not None
