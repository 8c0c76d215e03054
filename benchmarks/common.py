"""Shared pieces: a standalone simulator process, and a verdict line per target."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_support import free_port, wait_until_ok  # noqa: E402

API_KEY = "sk_test_demo"


@contextmanager
def simulator_process(*args: str):
    """``python -m cucu.simulator`` in its own process (its own GIL, like the real remote service)."""
    port = free_port()
    cmd = [sys.executable, "-m", "cucu.simulator", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ok(f"{base_url}/_sim/faults", proc, "the simulator", timeout_s=30)
        yield base_url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
