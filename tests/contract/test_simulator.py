"""Tests of the cucu events simulator, over raw HTTP against a real uvicorn server."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest

from cucu.api.models import parse_api_datetime
from cucu.lapaz import LA_PAZ
from cucu.simulator import HOSTILE_KINDS, Faults, Simulator, SimulatorServer, synthetic_inventory
from tests.support.waiting import wait_until

KEY = "sk_test_demo"
FIXED_NOW = datetime(2026, 11, 24, 10, 30, tzinfo=LA_PAZ)


def api_time(value: object) -> datetime:
    """A timestamp the simulator must have sent (``parse_api_datetime`` is ``None`` for an empty one)."""
    parsed = parse_api_datetime(value)
    assert parsed is not None
    return parsed


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(Simulator()) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.base_url, headers={"X-API-Key": KEY}, timeout=5) as c:
        yield c


@pytest.fixture(autouse=True)
def _reset(client):
    client.post("/_sim/reset").raise_for_status()


@pytest.fixture
def sim(server) -> Simulator:
    return server.simulator


def set_faults(client: httpx.Client, **faults) -> dict:
    r = client.put("/_sim/faults", json=faults)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def wait_idle(client: httpx.Client, timeout: float = 3.0) -> None:
    """Wait until no API call is in flight (hung calls of a timeout test have answered)."""
    wait_until(lambda: client.get("/_sim/stats").json()["data"]["in_flight"] == 0, timeout, what="hung calls to answer")


def idle_pos(sim: Simulator):
    """A POS with no active event (the seed leaves three quarters of them idle)."""
    active = {e["posId"] for e in sim.events() if not e["finalizado"]}
    return next(p for p in sim.inventory.all_pos if p.id not in active)


def start_body(pos, **over):
    body = {"posId": pos.id, "branchId": pos.branch_id, "codigoMotivo": 1, "descripcion": "Sin internet"}
    body.update(over)
    return body


def assert_error(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False
    assert isinstance(body["message"], str) and body["message"]
    return body


# --------------------------------------------------------------------------- auth


def test_missing_and_wrong_key(server):
    url = f"{server.base_url}/api/v1/events/check-connection"
    assert_error(httpx.get(url), 401)
    assert_error(httpx.get(url, headers={"X-API-Key": "sk_test_otra"}), 401)
    assert httpx.get(url, headers={"X-API-Key": KEY}).status_code == 200


def test_reject_key_fault(client):
    set_faults(client, reject_key=True)
    assert_error(client.get("/api/v1/events/check-connection"), 401)
    # Admin routes are not under the key nor the faults.
    assert client.get("/_sim/faults").json()["data"]["reject_key"] is True


# --------------------------------------------------------------------------- happy path


def test_full_cycle(client, sim):
    pos = idle_pos(sim)
    r = client.post("/api/v1/events/start", json=start_body(pos, codigoMotivo=2, descripcion="  SIAT caído  "))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and parse_api_datetime(body["timestamp"])
    event = body["data"]
    assert uuid.UUID(event["id"]).version == 4
    assert event["posId"] == pos.id and event["branchId"] == pos.branch_id
    assert event["codigoMotivo"] == 2 and event["descripcionMotivo"] == "Falla SIAT"
    assert event["descripcion"] == "SIAT caído"
    assert event["fechaFin"] is None and event["finalizado"] is False
    assert isinstance(event["codigoEventoSiat"], int)
    assert event["cufdEvento"].isupper() and 40 <= len(event["cufdEvento"]) <= 60
    start = api_time(event["fechaInicio"])
    assert "+" not in event["fechaInicio"] and abs(start - datetime.now(LA_PAZ)) < timedelta(minutes=1)
    assert parse_api_datetime(event["createdAt"])

    active = client.get(f"/api/v1/events/active/{pos.id}").json()
    assert active["success"] is True and active["data"] == event

    r = client.post("/api/v1/events/end", json={"posId": pos.id, "branchId": pos.branch_id, "eventoId": event["id"]})
    assert r.status_code == 200, r.text
    ended = r.json()["data"]
    assert ended["id"] == event["id"] and ended["finalizado"] is True
    assert api_time(ended["fechaFin"]) >= start

    day = start.date().isoformat()
    r = client.post("/api/v1/events", json={"posId": pos.id, "branchId": pos.branch_id, "fechaEvento": day})
    assert r.status_code == 200
    listed = r.json()["data"]
    assert ended in listed
    starts = [e["fechaInicio"] for e in listed]
    assert starts == sorted(starts)

    none = client.get(f"/api/v1/events/active/{pos.id}").json()
    assert none["success"] is True and none["data"] is None


def test_events_by_date_empty_list(client, sim):
    pos = sim.inventory.all_pos[0]
    r = client.post("/api/v1/events", json={"posId": pos.id, "branchId": pos.branch_id, "fechaEvento": "2001-01-01"})
    assert r.status_code == 200 and r.json() == {"success": True, "data": [], "timestamp": r.json()["timestamp"]}


def test_check_connection(client):
    assert client.get("/api/v1/events/check-connection").json()["data"] is True


@pytest.mark.parametrize(
    ("shape", "status"),
    [("null", 200), ("404", 404), ("success_false", 200)],
)
def test_no_active_shapes(client, sim, shape, status):
    pos = idle_pos(sim)
    set_faults(client, no_active_shape=shape)
    r = client.get(f"/api/v1/events/active/{pos.id}")
    assert r.status_code == status
    body = r.json()
    if shape == "null":
        assert body["success"] is True and body["data"] is None
    else:
        assert body["success"] is False and body["message"]


# --------------------------------------------------------------------------- validation


def test_start_requires_all_fields(client):
    body = assert_error(client.post("/api/v1/events/start", json={}), 400)
    fields = {e.split(":")[0] for e in body["errors"]}
    assert fields == {"posId", "branchId", "codigoMotivo", "descripcion"}


def test_start_rejects_bodies_that_are_not_objects(client):
    assert_error(client.post("/api/v1/events/start", content=b"{no es json"), 400)
    assert_error(client.post("/api/v1/events/start", json=[1, 2]), 400)


@pytest.mark.parametrize("field", ["posId", "branchId"])
@pytest.mark.parametrize("value", ["123", "not-a-uuid", "{dabd8f03-616a-4696-b1ac-683789e5ea98}", 42])
def test_start_uuid_format(client, sim, field, value):
    body = assert_error(client.post("/api/v1/events/start", json=start_body(idle_pos(sim), **{field: value})), 400)
    assert any(e.startswith(field) for e in body["errors"])


@pytest.mark.parametrize("motive", [0, 5, -1, "1", 1.0, 2.5, True, None])
def test_start_motive(client, sim, motive):
    body = assert_error(client.post("/api/v1/events/start", json=start_body(idle_pos(sim), codigoMotivo=motive)), 400)
    assert any(e.startswith("codigoMotivo") for e in body["errors"])


@pytest.mark.parametrize("motive", [1, 2, 3, 4])
def test_start_each_valid_motive(client, sim, motive):
    r = client.post("/api/v1/events/start", json=start_body(idle_pos(sim), codigoMotivo=motive))
    assert r.status_code == 200
    assert r.json()["data"]["descripcionMotivo"] == ["Corte de internet", "Falla SIAT", "Virus informático", "Otro"][motive - 1]


@pytest.mark.parametrize("text", ["", "   \n\t", "x" * 501, 12, None])
def test_start_description(client, sim, text):
    body = assert_error(client.post("/api/v1/events/start", json=start_body(idle_pos(sim), descripcion=text)), 400)
    assert any(e.startswith("descripcion") for e in body["errors"])


def test_start_description_of_500_chars_is_accepted(client, sim):
    r = client.post("/api/v1/events/start", json=start_body(idle_pos(sim), descripcion="x" * 500))
    assert r.status_code == 200


def test_start_unknown_pos_and_branch(client, sim):
    pos = idle_pos(sim)
    assert_error(client.post("/api/v1/events/start", json=start_body(pos, posId=str(uuid.uuid4()))), 404)
    assert_error(client.post("/api/v1/events/start", json=start_body(pos, branchId=str(uuid.uuid4()))), 404)


def test_start_pos_of_another_branch(client, sim):
    pos = idle_pos(sim)
    other = next(b for b in sim.inventory.branches if b.id != pos.branch_id)
    body = assert_error(client.post("/api/v1/events/start", json=start_body(pos, branchId=other.id)), 404)
    assert "no pertenece" in body["message"]


def test_start_already_active(client, sim):
    pos = idle_pos(sim)
    assert client.post("/api/v1/events/start", json=start_body(pos)).status_code == 200
    assert_error(client.post("/api/v1/events/start", json=start_body(pos)), 409)
    # A seeded active POS is refused as well.
    busy = next(e for e in sim.events() if not e["finalizado"])
    body = {"posId": busy["posId"], "branchId": busy["branchId"], "codigoMotivo": 1, "descripcion": "otra vez"}
    assert_error(client.post("/api/v1/events/start", json=body), 409)


def test_end_validation(client, sim):
    body = assert_error(client.post("/api/v1/events/end", json={}), 400)
    assert {e.split(":")[0] for e in body["errors"]} == {"posId", "branchId", "eventoId"}
    pos = idle_pos(sim)
    ids = {"posId": pos.id, "branchId": pos.branch_id}
    assert_error(client.post("/api/v1/events/end", json={**ids, "eventoId": "abc"}), 400)
    assert_error(client.post("/api/v1/events/end", json={**ids, "eventoId": str(uuid.uuid4())}), 404)


def test_end_already_ended(client, sim):
    pos = idle_pos(sim)
    event = client.post("/api/v1/events/start", json=start_body(pos)).json()["data"]
    body = {"posId": pos.id, "branchId": pos.branch_id, "eventoId": event["id"]}
    assert client.post("/api/v1/events/end", json=body).status_code == 200
    assert_error(client.post("/api/v1/events/end", json=body), 409)
    # A seeded, long-ended event too.
    old = next(e for e in sim.events() if e["finalizado"])
    body = {"posId": old["posId"], "branchId": old["branchId"], "eventoId": old["id"]}
    assert_error(client.post("/api/v1/events/end", json=body), 409)


def test_end_event_of_another_pos(client, sim):
    busy = next(e for e in sim.events() if not e["finalizado"])
    other = next(p for p in sim.inventory.all_pos if p.id != busy["posId"])
    body = {"posId": other.id, "branchId": other.branch_id, "eventoId": busy["id"]}
    assert_error(client.post("/api/v1/events/end", json=body), 404)
    assert client.get(f"/api/v1/events/active/{busy['posId']}").json()["data"]["id"] == busy["id"]


@pytest.mark.parametrize("day", ["2026-02-30", "24-11-2026", "2026-1-5", "20261124", "2026-11-24T00:00:00", "", 20261124])
def test_events_by_date_bad_dates(client, sim, day):
    pos = sim.inventory.all_pos[0]
    body = assert_error(client.post("/api/v1/events", json={"posId": pos.id, "branchId": pos.branch_id, "fechaEvento": day}), 400)
    assert any(e.startswith("fechaEvento") for e in body["errors"])


def test_events_by_date_requires_fields_and_known_pos(client, sim):
    body = assert_error(client.post("/api/v1/events", json={}), 400)
    assert {e.split(":")[0] for e in body["errors"]} == {"posId", "branchId", "fechaEvento"}
    pos = sim.inventory.all_pos[0]
    assert_error(
        client.post("/api/v1/events", json={"posId": str(uuid.uuid4()), "branchId": pos.branch_id, "fechaEvento": "2026-11-24"}),
        404,
    )


def test_active_bad_and_unknown_pos(client):
    assert_error(client.get("/api/v1/events/active/no-es-uuid"), 400)
    assert_error(client.get(f"/api/v1/events/active/{uuid.uuid4()}"), 404)


# --------------------------------------------------------------------------- seed data


def _check_seed(sim: Simulator, now: datetime) -> None:
    events = sim.events()
    assert len(sim.inventory.branches) >= 4
    assert all(3 <= len(b.pos) <= 6 for b in sim.inventory.branches)
    active = [e for e in events if not e["finalizado"]]
    n_pos = len(sim.inventory.all_pos)
    assert 0.15 * n_pos <= len(active) <= 0.35 * n_pos
    ages = [now - api_time(e["fechaInicio"]) for e in active]
    assert any(a > timedelta(hours=24) for a in ages)
    assert all(timedelta(0) <= a for a in ages)
    ended = [e for e in events if e["finalizado"]]
    starts = [api_time(e["fechaInicio"]) for e in ended]
    assert now - min(starts) > timedelta(days=11)
    assert now - min(starts) <= timedelta(days=14)
    recent = [e for e in ended if now - api_time(e["fechaFin"]) < timedelta(hours=48)]
    assert len(recent) >= 2
    for e in ended:
        duration = api_time(e["fechaFin"]) - api_time(e["fechaInicio"])
        assert timedelta(minutes=9) <= duration <= timedelta(hours=8, minutes=1)
        assert isinstance(e["codigoEventoSiat"], int)
        assert api_time(e["fechaFin"]) <= now
    motives = Counter(e["codigoMotivo"] for e in events)
    assert motives[1] + motives[2] > motives[3] + motives[4]
    # No two events of a POS overlap, and at most one is open.
    for pos in sim.inventory.all_pos:
        mine = sim.events(pos.id)
        assert sum(not e["finalizado"] for e in mine) <= 1
        for a, b in itertools.pairwise(mine):
            assert a["finalizado"] and api_time(a["fechaFin"]) <= api_time(b["fechaInicio"])


def test_seed_data_properties_pinned_now():
    sim = Simulator(now=lambda: FIXED_NOW)
    _check_seed(sim, FIXED_NOW)
    # Reproducible: same seed and time, same data.
    assert Simulator(now=lambda: FIXED_NOW).events() == sim.events()
    assert Simulator(now=lambda: FIXED_NOW, seed=7).events() != sim.events()


def test_seed_data_of_the_server_is_served(client, sim):
    _check_seed(sim, sim.now())
    for e in sim.events():
        if not e["finalizado"]:
            assert client.get(f"/api/v1/events/active/{e['posId']}").json()["data"] == e
    old = next(e for e in sim.events() if e["finalizado"])
    day = api_time(old["fechaInicio"]).date().isoformat()
    r = client.post("/api/v1/events", json={"posId": old["posId"], "branchId": old["branchId"], "fechaEvento": day})
    assert old in r.json()["data"]


def test_clean_slate_and_synthetic_inventory():
    inv = synthetic_inventory(50, 4)
    assert len(inv.branches) == 50 and len(inv.all_pos) == 200
    assert synthetic_inventory(50, 4) == inv
    sim = Simulator(inv, history_days=0, active_share=0)
    assert sim.events() == []
    pos = inv.all_pos[-1]
    event = sim.start_event(start_body(pos))
    assert sim.active_event(pos.id) == event


def test_synthetic_inventory_seeds_many_active():
    sim = Simulator(synthetic_inventory(25, 4), now=lambda: FIXED_NOW)
    assert len([e for e in sim.events() if not e["finalizado"]]) == 25


# --------------------------------------------------------------------------- faults


def test_siat_down(client, sim):
    set_faults(client, siat_down=True)
    assert client.get("/api/v1/events/check-connection").json() == {
        "success": True,
        "data": False,
        "timestamp": client.get("/api/v1/events/check-connection").json()["timestamp"],
    }
    pos = idle_pos(sim)
    event = client.post("/api/v1/events/start", json=start_body(pos)).json()["data"]
    assert event["codigoEventoSiat"] is None
    set_faults(client, siat_down=False)
    body = {"posId": pos.id, "branchId": pos.branch_id, "eventoId": event["id"]}
    ended = client.post("/api/v1/events/end", json=body).json()["data"]
    assert isinstance(ended["codigoEventoSiat"], int)


def test_latency(client):
    set_faults(client, latency_ms=200)
    t = time.monotonic()
    assert client.get("/api/v1/events/check-connection").status_code == 200
    assert time.monotonic() - t >= 0.2
    set_faults(client, latency_ms=0, latency_jitter_ms=100)
    t = time.monotonic()
    client.get("/api/v1/events/check-connection")
    assert time.monotonic() - t < 0.5


def test_error_rate(client):
    set_faults(client, error_rate=1.0)
    statuses = set()
    for _ in range(20):
        r = client.get("/api/v1/events/check-connection")
        statuses.add(r.status_code)
        if r.headers["content-type"].startswith("application/json"):
            assert r.json()["success"] is False and r.json()["message"]
        else:
            with pytest.raises(json.JSONDecodeError):
                json.loads(r.text)
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    # Admin is never faulty.
    assert client.get("/_sim/stats").status_code == 200
    set_faults(client, error_rate=0.0)
    assert client.get("/api/v1/events/check-connection").status_code == 200


def test_rate_limit(client):
    set_faults(client, rate_limit_rate=1.0, retry_after_s=2)
    r = client.get("/api/v1/events/check-connection")
    assert_error(r, 429)
    assert r.headers["Retry-After"] == "2"


def test_timeout_without_commit_does_not_write(client, sim):
    pos = idle_pos(sim)
    set_faults(client, timeout_rate=1.0, hang_s=0.4)
    with pytest.raises(httpx.TimeoutException):
        client.post("/api/v1/events/start", json=start_body(pos), timeout=0.1)
    t = time.monotonic()
    r = client.get("/api/v1/events/check-connection", timeout=2)
    assert time.monotonic() - t >= 0.35 and r.status_code == 504
    set_faults(client, timeout_rate=0.0)
    wait_idle(client)  # the hung start call has answered on the server...
    assert client.get(f"/api/v1/events/active/{pos.id}").json()["data"] is None  # ...without writing


def test_timeout_after_commit_applies_the_write(client, sim):
    pos = idle_pos(sim)
    set_faults(client, timeout_rate=1.0, hang_s=0.5, hang_after_commit=True)
    with pytest.raises(httpx.TimeoutException):
        client.post("/api/v1/events/start", json=start_body(pos, descripcion="tardía"), timeout=0.1)
    set_faults(client, timeout_rate=0.0)
    active = client.get(f"/api/v1/events/active/{pos.id}").json()["data"]
    assert active["descripcion"] == "tardía"
    assert_error(client.post("/api/v1/events/start", json=start_body(pos)), 409)
    wait_idle(client)


def _assert_kind(r: httpx.Response, kind: str) -> None:
    assert r.status_code == 200
    if kind == "html":
        assert r.headers["content-type"].startswith("text/html") and "<html" in r.text
    elif kind == "truncated":
        assert r.headers["content-type"].startswith("application/json")
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.text)
    else:
        body = r.json()
        assert isinstance(body, dict) and "success" not in body


@pytest.mark.parametrize("kind", ["html", "truncated", "no_success"])
def test_malformed_kinds(client, kind):
    set_faults(client, malformed_rate=1.0, malformed_kind=kind)
    _assert_kind(client.get("/api/v1/events/check-connection"), kind)


def test_malformed_rotates_and_spares_errors(client):
    set_faults(client, malformed_rate=1.0)
    for kind in ["html", "truncated", "no_success", "html"]:
        _assert_kind(client.get("/api/v1/events/check-connection"), kind)
    assert_error(client.get(f"/api/v1/events/active/{uuid.uuid4()}"), 404)


def _active_pos(sim: Simulator):
    return next(p for p in sim.inventory.all_pos if sim.active_event(p.id))


def test_hostile_kinds_are_odd_data_in_a_body_that_still_parses(client, sim):
    """Each kind on the events and connectivity calls: HTTP 200, the envelope (or cucu's "no" with a
    Markdown message), with data no real answer holds. Oversized and deep bodies are checked unparsed."""
    pos = _active_pos(sim)
    for kind in HOSTILE_KINDS:
        set_faults(client, hostile_rate=1.0, hostile_kind=kind)
        for r in (client.get("/api/v1/events/check-connection"), client.get(f"/api/v1/events/active/{pos.id}")):
            assert r.status_code == 200 and r.text.startswith('{"success": ')
            if kind == "oversized":
                assert len(r.content) > 2 * 1024 * 1024
            elif kind == "deep_nesting":
                assert "[" * 10_000 in r.text
            elif kind == "huge_numbers":  # valid JSON; Python's own json refuses the 5000-digit integer
                assert "1e400" in r.text or "9" * 5000 in r.text
            else:
                body = json.loads(r.text)
                assert isinstance(body.get("success"), bool)
        if kind in ("wrong_types", "long_strings", "markup"):
            event = client.get(f"/api/v1/events/active/{pos.id}").json()["data"]
            if kind == "wrong_types":
                assert isinstance(event["codigoMotivo"], str) and event["finalizado"] == "false"
            if kind == "long_strings":
                assert len(event["id"]) > 100_000
            if kind == "markup":
                assert "<a href" in event["descripcionMotivo"] and "](http" in event["descripcion"]
    set_faults(client, hostile_rate=1.0, hostile_kind="huge_numbers")
    assert "1e400" in client.get("/api/v1/events/check-connection").text


def test_hostile_rotates_and_leaves_the_other_faults_draws_alone(client, sim):
    set_faults(client, hostile_rate=1.0)
    seen = [client.get("/api/v1/events/check-connection") for _ in HOSTILE_KINDS]
    assert seen[-1].content[-1:] == b" " and len(seen[-1].content) > 2 * 1024 * 1024  # oversized comes last
    assert len({r.content[:40] for r in seen}) > 3

    # Same seed, same error draws with and without hostile bodies on (they have their own generator).
    def errors(**extra) -> list[int]:
        client.post("/_sim/reset")
        set_faults(client, error_rate=0.5, **extra)
        return [client.get("/api/v1/events/check-connection").status_code >= 500 for _ in range(12)]

    assert errors() == errors(hostile_rate=0.5)


def test_admin_faults_validation(client):
    for bad in [
        {"nope": 1},
        {"siat_down": "yes"},
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"latency_ms": "100"},
        {"latency_ms": True},
        {"retry_after_s": 1.5},
        {"no_active_shape": "empty"},
        {"malformed_kind": "xml"},
        {"hostile_rate": 2},
        {"hostile_rate": "0.5"},
        {"hostile_kind": "zip_bomb"},
        [1, 2],
    ]:
        assert_error(client.put("/_sim/faults", json=bad), 400)
    assert_error(client.put("/_sim/faults", content=b"{roto"), 400)
    # A partly bad update changes nothing.
    assert_error(client.put("/_sim/faults", json={"siat_down": True, "error_rate": 2}), 400)
    assert client.get("/_sim/faults").json()["data"] == Faults().to_dict()
    data = set_faults(client, latency_ms=5, no_active_shape="404")
    assert data["latency_ms"] == 5 and data["no_active_shape"] == "404" and data["siat_down"] is False


def test_stats(client, sim):
    wait_idle(client)
    client.post("/_sim/stats/reset")
    pos = sim.inventory.all_pos[0]
    client.get("/api/v1/events/check-connection")
    client.get("/api/v1/events/check-connection")
    client.get(f"/api/v1/events/active/{pos.id}")
    client.post("/api/v1/events", json={})
    httpx.get(f"{client.base_url}/api/v1/events/check-connection")  # 401 still counts
    client.get("/_sim/faults")  # admin does not count
    stats = client.get("/_sim/stats").json()["data"]
    assert stats["total"] == 5
    assert stats["by_route"] == {
        "GET /api/v1/events/check-connection": 3,
        "GET /api/v1/events/active/{posId}": 1,
        "POST /api/v1/events": 1,
    }
    assert stats["by_status"] == {"200": 3, "400": 1, "401": 1}
    assert stats["in_flight"] == 0
    assert client.post("/_sim/stats/reset").json()["data"]["total"] == 0


def test_reset_restores_data_and_faults(client, sim):
    before = sim.events()
    pos = idle_pos(sim)
    client.post("/api/v1/events/start", json=start_body(pos))
    set_faults(client, siat_down=True, error_rate=0.5)
    r = client.post("/_sim/reset")
    assert r.status_code == 200 and r.json()["success"] is True
    assert client.get("/_sim/faults").json()["data"] == Faults().to_dict()
    assert client.get(f"/api/v1/events/active/{pos.id}").json()["data"] is None
    # Same events; the seed is relative to now, so compare identities and the shape.
    after = sim.events()
    assert [e["id"] for e in after] == [e["id"] for e in before]
    assert client.get("/_sim/stats").json()["data"]["total"] == 1


def test_rates_zero_never_fault(client):
    set_faults(client, error_rate=0.0, rate_limit_rate=0.0, timeout_rate=0.0, malformed_rate=0.0)
    for _ in range(30):
        assert client.get("/api/v1/events/check-connection").json()["success"] is True


def test_partial_rates_are_deterministic():
    def run() -> list[bool]:
        s = Simulator(history_days=0, active_share=0)
        s.update_faults({"error_rate": 0.3})
        return [s.plan_call("x").error_status is not None for _ in range(200)]

    first = run()
    assert first == run() and 30 < sum(first) < 90


# --------------------------------------------------------------------------- concurrency


def test_concurrent_slow_calls_run_in_parallel(client, server):
    set_faults(client, latency_ms=200)

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=server.base_url, headers={"X-API-Key": KEY}, limits=limits, timeout=10) as ac:
            pos = server.simulator.inventory.all_pos
            calls = [
                ac.get(f"/api/v1/events/active/{pos[i % len(pos)].id}") if i % 2 else ac.get("/api/v1/events/check-connection")
                for i in range(50)
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    t = time.monotonic()
    # Own thread: AppTest tests in the same session may leave an event loop on the main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        statuses = pool.submit(asyncio.run, burst()).result()
    elapsed = time.monotonic() - t
    assert statuses == [200] * 50
    assert 0.2 <= elapsed < 5.0, elapsed  # one after another: 10 s


def test_server_starts_fast_on_free_port():
    t = time.monotonic()
    with SimulatorServer(Simulator(history_days=0, active_share=0)) as srv:
        assert time.monotonic() - t < 1.0
        assert srv.base_url.startswith("http://127.0.0.1:") and srv.port > 0
        assert httpx.get(f"{srv.base_url}/api/v1/events/check-connection", headers={"X-API-Key": KEY}).status_code == 200
    assert not srv.running


def test_connectivity_history_follows_the_seeded_siat_failures():
    from cucu.lapaz import now_la_paz

    pinned = now_la_paz()
    sim = Simulator(now=lambda: pinned)
    history = sim.connectivity_history()
    assert len(history) > 14 * 24 * 12 * 0.95  # every 5 minutes over two weeks
    assert history == Simulator(now=lambda: pinned).connectivity_history()  # deterministic
    down = [when for when, ok, _ in history if not ok]
    assert down, "the seed has ended 'Falla SIAT' events, so SIAT was down some of the time"
    outages = [(e["fechaInicio"], e["fechaFin"]) for e in sim.events() if e["codigoMotivo"] == 2 and e["fechaFin"]]
    spans = [(api_time(a), api_time(b)) for a, b in outages]
    assert all(any(a <= when < b for a, b in spans) for when in down)


def test_faults_can_target_some_routes(client, server):
    set_faults(client, error_rate=1.0, fault_routes=["POST /api/v1/events/start"])
    assert client.get("/api/v1/events/check-connection").status_code == 200
    pos = server.simulator.inventory.all_pos[0]
    body = {"posId": pos.id, "branchId": pos.branch_id, "codigoMotivo": 1, "descripcion": "x"}
    assert client.post("/api/v1/events/start", json=body).status_code >= 500
    bad = client.put("/_sim/faults", json={"fault_routes": ["GET /nada"]})
    assert bad.status_code == 400 and "fault_routes" in bad.json()["message"]


def test_the_command_line_switches_hostile_bodies_on():
    from cucu.simulator.__main__ import build_parser, initial_faults

    parser = build_parser()
    assert initial_faults(parser.parse_args(["--hostile-rate", "0.5"])).hostile_rate == 0.5
    assert initial_faults(parser.parse_args([])).hostile_rate == 0.0
    assert "cuerpos hostiles" in parser.format_help()


@pytest.mark.parametrize("inventory", [None, synthetic_inventory(100, 10)], ids=["demo", "generated"])
def test_the_seeded_check_history_and_events_tell_one_siat_story(inventory):
    # The chain demo once showed SIAT down for 6 d 23 h (any of thousands of events open) while Estado said Operativo.
    sim = Simulator(inventory, now=lambda: FIXED_NOW)
    history = sim.connectivity_history()
    interval = history[1][0] - history[0][0]
    outages, down_since = [], None  # as a collector would see them: from the last good check to the next good one
    for when, ok, _ in history:
        if not ok and down_since is None:
            down_since = when - interval
        elif ok and down_since is not None:
            outages.append((down_since, when))
            down_since = None
    assert history[-1][1] and down_since is None, "SIAT is up now, as Estado says"
    assert history[-1][0] == FIXED_NOW  # a first page before the collector's first check finds a fresh one
    assert 3 <= len(outages) <= 10
    assert all(timedelta(minutes=5) <= b - a <= timedelta(hours=5) for a, b in outages), "minutes to hours"
    siat = [api_time(e["fechaInicio"]) for e in sim.events() if e["codigoMotivo"] == 2]
    assert len(siat) >= len(outages)
    assert all(any(a <= start < b for a, b in outages) for start in siat), "every 'Falla SIAT' began in an outage"
    day = [ok for when, ok, _ in history if when >= FIXED_NOW - timedelta(hours=24)]
    assert 0.85 <= sum(day) / len(day) < 1  # the last outage ended an hour or so ago
    assert 0.95 <= sum(ok for _, ok, _ in history) / len(history) < 0.995


def test_a_chain_demo_runs_its_simulator_in_its_own_process(tmp_path):
    # In the web process a chain's simulator shared the interpreter with Streamlit: a first sweep of 10 000 POS took 5 min.
    from cucu.runtime import build_runtime
    from cucu.settings import load_settings
    from cucu.simulator.demo import DEMO_PROCESS_POS
    from cucu.simulator.server import RemoteSimulator, SimulatorProcess

    branches = DEMO_PROCESS_POS // 10
    settings = load_settings({"demo_size": f"{branches}x10", "db": str(tmp_path / "d.db")}, {})
    runtime = build_runtime(settings, start_collector=False)
    server = runtime.simulator_server
    try:
        assert isinstance(server, SimulatorProcess) and isinstance(runtime.simulator, RemoteSimulator)
        # The first page waits for nothing the child does (it took 7-12 s at 10 000 POS): the runtime is
        # back before the child answers, with SIAT's seeded checks already in the database, up to now.
        assert not server.wait_ready(0)
        latest = runtime.store.latest_check()
        assert latest is not None and latest.siat_ok and latest.checked_at == server.seed_time
        # A call made while the child seeds is late, not failed ("cucu no responde" would be false).
        assert runtime.client.check_connection() is True
        pos = runtime.inventory.all_pos[-1]
        runtime.client.get_active_event(pos.id)  # the child serves the same generated POS
        runtime.simulator.update_faults({"siat_down": True})  # Alertas' demo switch works across processes
        assert runtime.simulator.faults.siat_down and runtime.client.check_connection() is False
        # The child fills the fresh database with the seeded history, as the in-process demo does.
        today = latest.checked_at.date()
        wait_until(lambda: runtime.store.days_with_events(today - timedelta(days=13), today), 60, what="the seeded days")
    finally:
        runtime.close()
    assert not server.running


def test_the_web_process_writes_the_check_history_of_the_story_its_simulator_process_seeds():
    # A chain demo's web process writes the checks (its first page needs a fresh one) while the child seeds the
    # events: both from the same seed and instant, so every "Falla SIAT" event began while the checks said down.
    from cucu.simulator.seed import siat_story, story_checks

    seed_time = FIXED_NOW - timedelta(seconds=7)  # the child starts seconds after the instant it is given
    sim = Simulator(now=lambda: FIXED_NOW, seed_time=seed_time)
    checks = story_checks(sim.seed, seed_time, sim.history_days)
    assert checks == Simulator(now=lambda: seed_time).connectivity_history()
    siat = {api_time(e["fechaInicio"]) for e in sim.events() if e["codigoMotivo"] == 2}
    outages = siat_story(sim.seed, seed_time, sim.history_days)
    assert outages and {start for start, _ in outages} <= siat, "the first cashier started as each outage began"


def test_a_collector_that_waits_for_its_simulator_process_does_not_time_the_wait_as_cucu(sim, sim_server, db):
    # A chain demo's first check waited for the child's seed inside the call: Conectividad drew a 10 s answer.
    from cucu.api.client import CucuClient
    from cucu.collector import Collector
    from cucu.store import Store

    waited: list[float] = []

    def seeding() -> None:  # what SimulatorProcess.wait_ready does while the child seeds
        time.sleep(1.0)
        waited.append(1.0)

    store = Store(db)
    client = CucuClient(sim_server.base_url, sim.api_key, max_retries=0)
    collector = Collector(
        client, store, sim.inventory, check_interval_s=60, backfill_per_minute=0, invoice_pages_per_round=0, wait_for_cucu=seeding
    )
    try:
        collector.start()
        check = wait_until(store.latest_check, 30, what="the first check")
        assert check is not None and waited and check.siat_ok and check.latency_ms is not None and check.latency_ms < 1000
    finally:
        collector.stop()
        client.close()
        store.close()
