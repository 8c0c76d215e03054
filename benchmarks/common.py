"""Shared pieces: a standalone simulator process, and a verdict line per target."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.net import free_port  # noqa: E402
from tests.support.waiting import served  # noqa: E402

API_KEY = "sk_test_demo"


def inventory_arguments(parser: argparse.ArgumentParser, *, branches: int, pos_per_branch: int) -> None:
    """A generated inventory of any size (``synthetic_inventory``): --branches x --pos-per-branch."""
    parser.add_argument("--branches", type=int, default=branches)
    parser.add_argument("--pos-per-branch", type=int, default=pos_per_branch)


def simulator_arguments(parser: argparse.ArgumentParser, *, concurrency: int) -> None:
    """The simulator's latency per call and the client's calls in flight."""
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=concurrency)


@contextmanager
def simulator_process(*args: str):
    """``python -m cucu.simulator`` in its own process (its own GIL, like the real remote service)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "cucu.simulator", "--port", str(port), *args]
    with served(cmd, f"{base_url}/_sim/faults", "the simulator", cwd=ROOT, env=os.environ.copy()):
        yield base_url


@contextmanager
def deployed_chain(
    branches: int, pos_per_branch: int, *, history_days: int = 0, latency_ms: float = 100.0
) -> Iterator[tuple[dict[str, str], str]]:
    """A chain as deploy/ runs it: the simulator in its own process (standing in for cucu), an
    inventory file, a database filled by a first sweep (and by the backfill of today and the
    ``history_days`` before it), and the collector service polling into it from then on, with
    cucu answering in ``latency_ms`` as a remote service does (the fill runs without it): a sweep
    spreads over half the interval instead of a burst that takes both cores. Yields the web
    server's environment (its own collector off) and the database's path."""
    from cucu.api.client import CucuClient
    from cucu.collector import Collector
    from cucu.inventory import inventory_to_toml
    from cucu.settings import ENV_PREFIX
    from cucu.simulator.seed import synthetic_inventory
    from cucu.store import Store

    inventory = synthetic_inventory(branches, pos_per_branch)
    with tempfile.TemporaryDirectory() as tmp, simulator_process("--synthetic", f"{branches}x{pos_per_branch}") as sim_url:
        path = Path(tmp) / "inventario.toml"
        path.write_text(inventory_to_toml(inventory), encoding="utf-8")
        db = str(Path(tmp) / "contingencia.db")
        started = time.perf_counter()
        with CucuClient(sim_url, API_KEY, max_connections=68) as client:
            store = Store(db)
            # No page budget in the fill: the window's invoices are read in one go, as after a day of rounds.
            collector = Collector(
                client, store, inventory, concurrency=64, backfill_days=history_days, invoice_pages_per_round=10_000
            )
            collector.check_once()
            collector.sweep_once()
            if history_days:
                collector.backfill_everything()
            collector.cufd_once()
            while not collector.invoices_once().pass_done:
                pass
            invoices = len(store.invoices_since(collector.clock() - collector.invoice_window))
            collector.stop()
            store.close()
        httpx.put(f"{sim_url}/_sim/faults", json={"latency_ms": latency_ms}, timeout=5).raise_for_status()
        print(
            f"{len(inventory.all_pos)} puntos de venta en {branches} sucursales, {invoices} facturas de "
            f"{collector.invoice_window.total_seconds() / 3600:g} h; base llenada en {time.perf_counter() - started:.0f} s;"
            f" cucu responde en {latency_ms:.0f} ms"
        )
        env = {"CUCU_BASE_URL": sim_url, "CUCU_API_KEY": API_KEY, "CUCU_INVENTORY": str(path), "CUCU_DB": db}
        service_env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)} | env
        service = subprocess.Popen(
            [sys.executable, "-m", "cucu.collector_service"],
            cwd=ROOT,
            env=service_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # Sign-in off and everyone a supervisor, as in the demo: every page can be opened.
            access = {"CUCU_ACCESS_MODE": "off", "CUCU_ACCESS_ALLOW_ANONYMOUS_SUPERVISORS": "true"}
            yield env | access | {"CUCU_COLLECTOR": "off"}, db
        finally:
            service.terminate()
            service.wait(timeout=30)


def sim_calls(base_url: str) -> int:
    return httpx.get(f"{base_url}/_sim/stats", timeout=5).json()["data"]["total"]


def sim_reset_stats(base_url: str) -> None:
    httpx.post(f"{base_url}/_sim/stats/reset", timeout=5).raise_for_status()


def calls_per_minute(base_url: str, window_s: float) -> float:
    """Calls the simulator receives per minute, counted over the next ``window_s`` seconds."""
    sim_reset_stats(base_url)
    time.sleep(window_s)
    return sim_calls(base_url) * 60 / window_s


class Verdicts:
    """Collects ``name: value (target) OK/FALLA`` lines; the exit code says whether all held."""

    def __init__(self) -> None:
        self.failed = False

    def check(self, name: str, value: float, op: str, target: float) -> None:
        ok = value >= target if op == ">=" else value <= target if op == "<=" else value < target
        self.failed |= not ok
        print(f"  {name}: {value:.2f}  (objetivo {op} {target})  {'OK' if ok else 'FALLA'}")

    def exit(self) -> None:
        sys.exit(1 if self.failed else 0)
