"""The collector service (``python -m cucu.collector_service``): polls from start, holds the lease,
follows inventory edits, refuses DEMO, and stops cleanly on SIGTERM as systemd sends it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cucu.collector_service import ServiceError, read_settings
from cucu.runtime import build_runtime
from cucu.settings import load_settings
from cucu.simulator import DEFAULT_API_KEY
from cucu.store import Store
from tests.support.clock_ahead import inherited_clock
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


SERVICE_WAIT_S = 20  # a process's start-up and rounds, on a busy 2-core machine


def test_demo_and_broken_secrets_are_refused_in_spanish(tmp_path):
    with pytest.raises(ServiceError, match="modo DEMO"):
        read_settings(tmp_path / "no-existe.toml", {})
    broken = tmp_path / "secrets.toml"
    broken.write_text("[cucu\n")
    with pytest.raises(ServiceError, match="No se pudo leer"):
        read_settings(broken, {"CUCU_BASE_URL": "http://127.0.0.1:1"})
    proc = subprocess.run(
        [sys.executable, "-m", "cucu.collector_service", "--secrets", str(tmp_path / "x.toml")],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "modo DEMO" in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture
def service_env(tmp_path, sim, sim_server, demo_inventory_path):
    inventory = tmp_path / "inventario.toml"
    shutil.copy(demo_inventory_path, inventory)
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "CUCU_BASE_URL": sim_server.base_url,
        "CUCU_API_KEY": DEFAULT_API_KEY,
        "CUCU_INVENTORY": str(inventory),
        "CUCU_DB": str(tmp_path / "contingencia.db"),
        "CUCU_CHECK_INTERVAL_S": "1",
        "CUCU_SWEEP_INTERVAL_S": "1",
        # The service shares its SQLite database, and so the clock SQLite reads, with this test.
        **inherited_clock(),
    }
    return env, inventory


def test_service_polls_leads_follows_the_inventory_and_stops_on_sigterm(service_env, sim, tmp_path, monkeypatch):
    env, inventory = service_env
    log = tmp_path / "service.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cucu.collector_service", "--watch-s", "0.5"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        store = Store(env["CUCU_DB"])
        # Polls from start, nobody watching: checks and every POS's state reach the database.
        wait_until(
            lambda: len(store.pos_statuses()) == len(sim.inventory.all_pos) and store.latest_check(),
            SERVICE_WAIT_S,
            what="the first rounds",
        )
        lease = store.lease("collector")
        assert lease is not None and f":{proc.pid}:" in lease.holder

        # A web process on the same database stands by: it polls nothing while the service leads.
        web = build_runtime(load_settings({}, env), start_collector=False)
        polled: list[str] = []
        monkeypatch.setattr(web.collector, "check_once", lambda: polled.append("check"))
        monkeypatch.setattr(web.collector, "sweep_once", lambda: polled.append("sweep"))
        monkeypatch.setattr(web.collector, "backfill_once", lambda: polled.append("backfill"))
        web.collector.start()
        try:
            # Two rounds of each of its loops, standing by.
            wait_until(
                lambda: min(web.collector.rounds[loop] for loop in ("check", "sweep", "backfill")) >= 2,
                SERVICE_WAIT_S,
                what="two standby rounds",
            )
            assert web.collector.running and web.collector.leading is False and polled == []
        finally:
            web.close()

        # An edited inventory (a branch removed) is followed without a restart.
        text = inventory.read_text(encoding="utf-8")
        last_branch = text.rindex("[[branches]]")
        inventory.write_text(text[:last_branch], encoding="utf-8")
        wait_until(
            lambda: "inventario modificado" in log.read_text(encoding="utf-8"), SERVICE_WAIT_S, what="the inventory reload"
        )
        holder = wait_until(
            lambda: lease.holder if (lease := store.lease("collector")) is not None else "",
            SERVICE_WAIT_S,
            what="the lease after the reload",
        )
        assert f":{proc.pid}:" in holder

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert store.lease("collector") is None  # released: a standby takes over at its next round
        output = log.read_text(encoding="utf-8")
        assert "servicio colector detenido" in output and "Traceback" not in output
        assert DEFAULT_API_KEY not in output
    finally:
        if proc.poll() is None:
            proc.kill()
