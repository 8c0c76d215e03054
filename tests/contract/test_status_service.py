"""The status API (issue 26): ``python -m cucu.status_service`` as deployed, over real HTTP. A token is
required, no key or secret is in any answer, and the figures are Estado's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from cucu.access import token_digest
from cucu.status_service import main as status_main
from cucu.views.status import OPENMETRICS_TYPE
from tests.support.apptest import run_app
from tests.support.net import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "token-de-prueba-para-el-monitoreo-0123456789"


@contextmanager
def status_service(app_secrets: dict, tmp_path: Path, tokens: str | None = None) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "CUCU_BASE_URL": app_secrets["base_url"],
        "CUCU_API_KEY": app_secrets["api_key"],
        "CUCU_INVENTORY": app_secrets["inventory"],
        "CUCU_DB": app_secrets["db"],
        "CUCU_STATUS_TOKENS_SHA256": tokens if tokens is not None else token_digest(TOKEN),
    }
    log = (tmp_path / "status.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "cucu.status_service", "--port", str(port), "--secrets", str(tmp_path / "none.toml")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url) or process.poll() is not None, timeout_s=20, what="the status service")
        assert process.poll() is None, (tmp_path / "status.log").read_text()
        yield url
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _answers(url: str) -> bool:
    try:
        httpx.get(f"{url}/api/estado", timeout=1)
        return True
    except httpx.TransportError:
        return False


BEARER = {"Authorization": f"Bearer {TOKEN}"}


def test_the_token_is_required_on_both_routes(sim, seeded_runtime, app_secrets, tmp_path):
    with status_service(app_secrets, tmp_path) as url:
        for path in ("/api/estado", "/api/metricas"):
            for headers in ({}, {"Authorization": "Bearer otro"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}):
                answer = httpx.get(f"{url}{path}", headers=headers)
                assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
                assert "token" in answer.json()["error"]
            assert httpx.get(f"{url}{path}", headers=BEARER).status_code == 200


def test_the_figures_are_estados_and_no_secret_is_in_any_answer(sim, seeded_runtime, app_secrets, tmp_path):
    at = run_app(app_secrets)
    shown = {m.label: m.value for m in at.metric}
    with status_service(app_secrets, tmp_path) as url:
        state = httpx.get(f"{url}/api/estado", headers=BEARER)
        metrics = httpx.get(f"{url}/api/metricas", headers=BEARER)
    body = state.json()
    assert body["siat"]["label"] == "Operativo" and f"SIAT: :green[{body['siat']['label']}]" in "\n".join(
        m.value for m in at.markdown
    )
    assert str(body["pos"]["in_contingency"]) == shown["POS en contingencia"]
    assert body["pos"]["total"] == len(sim.inventory.all_pos)
    active = {e["posId"] for e in sim.events() if not e["finalizado"]}
    for region in body["regions"]:
        ids = {p.id for b in sim.inventory.branches if b.region == region["region"] for p in b.pos}
        assert (region["pos"], region["in_contingency"]) == (len(ids), len(ids & active))
    assert [r["region"] for r in body["regions"]] == ["La Paz", "Cochabamba", "Santa Cruz", "Chuquisaca"]
    assert body["incidents"]["open"] == len(seeded_runtime.store.open_incidents())
    assert metrics.headers["content-type"] == OPENMETRICS_TYPE
    text = metrics.text
    assert text.endswith("# EOF\n")
    assert 'contingencia_siat_state{state="operativo"} 1' in text
    assert f"contingencia_pos_in_contingency {body['pos']['in_contingency']}" in text
    assert 'contingencia_region_pos{region="La Paz"} 10' in text
    for answer in (state.text, text):
        assert app_secrets["api_key"] not in answer and TOKEN not in answer and token_digest(TOKEN) not in answer


def test_unknown_is_null_and_absent_never_zero(sim, app_secrets, tmp_path):
    """Before any sweep: no POS read. The counts that speak for them are null, their gauges have no sample."""
    from cucu.store import Store

    Store(app_secrets["db"]).close()  # the schema, nothing read
    with status_service(app_secrets, tmp_path) as url:
        body = httpx.get(f"{url}/api/estado", headers=BEARER).json()
        text = httpx.get(f"{url}/api/metricas", headers=BEARER).text
    assert body["pos"]["known"] == 0 and body["pos"]["in_contingency"] is None
    assert all(r["in_contingency"] is None for r in body["regions"])
    assert (body["siat"]["state"], body["siat"]["label"]) == ("sin_datos", "Sin datos")
    assert "\ncontingencia_pos_in_contingency " not in text and "contingencia_region_pos_in_contingency{" not in text
    assert "contingencia_pos_known 0" in text
    assert body["collector"] == {"polling": False, "last_renewal": None}  # no collector ever ran
    assert "\ncontingencia_collector_polling 0\n" in text and "\ncontingencia_collector_last_renewal_seconds " not in text


@pytest.mark.parametrize("tokens", ["", "abc", "g" * 64])
def test_without_a_well_formed_token_digest_it_does_not_start(app_secrets, tmp_path, monkeypatch, capsys, tokens):
    for key, value in {"CUCU_DB": app_secrets["db"], "CUCU_INVENTORY": app_secrets["inventory"]}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CUCU_STATUS_TOKENS_SHA256", tokens)
    assert status_main(["--secrets", str(tmp_path / "none.toml")]) == 2
    assert "TOKENS_SHA256" in capsys.readouterr().err


def test_a_new_token_is_printed_with_its_digest(capsys):
    assert status_main(["--nuevo-token"]) == 0
    out = capsys.readouterr().out.splitlines()
    token = out[0].split(": ", 1)[1]
    assert out[1] == f"CUCU_STATUS_TOKENS_SHA256={token_digest(token)}" and len(token) >= 40
