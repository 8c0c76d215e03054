"""Benchmark 5: calls per minute to cucu with 3 processes on one database / with 1 <= 1.1.

Every dashboard process and the collector service run a collector; the database lease lets only
one of them poll. This starts 1, then 3 collector processes (``python -m cucu.collector_service``)
on one SQLite file against a standalone simulator and counts the calls cucu receives in equal
windows. For contrast it also runs 3 processes on 3 separate databases (no shared lease), which is
what three installations would cost. Run: .venv/bin/python -m benchmarks.replicas
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.common import API_KEY, ROOT, Verdicts, calls_per_minute, simulator_process
from cucu.inventory import DEMO_INVENTORY_PATH


@contextmanager
def collector_process(sim_url: str, db: str):
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "CUCU_BASE_URL": sim_url,
        "CUCU_API_KEY": API_KEY,
        "CUCU_INVENTORY": str(DEMO_INVENTORY_PATH),
        "CUCU_DB": db,
        "CUCU_CHECK_INTERVAL_S": "1",
        "CUCU_SWEEP_INTERVAL_S": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cucu.collector_service", "--secrets", os.devnull],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--window-s", type=float, default=20)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="contingencia-bench-"))
    shared = str(directory / "compartida.db")
    with simulator_process("--api-key", API_KEY) as sim_url, ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
        with ExitStack() as stack:
            stack.enter_context(collector_process(sim_url, shared))
            time.sleep(6)  # past start-up: the first sweep and the recent-days warm-up
            one = calls_per_minute(sim_url, args.window_s)
            for _ in range(args.processes - 1):
                stack.enter_context(collector_process(sim_url, shared))
            time.sleep(6)
            many_shared = calls_per_minute(sim_url, args.window_s)
        with ExitStack() as stack:
            for i in range(args.processes):
                stack.enter_context(collector_process(sim_url, str(directory / f"propia-{i}.db")))
            time.sleep(6)
            many_separate = calls_per_minute(sim_url, args.window_s)
    print(
        f"Llamadas a cucu por minuto (ventanas de {args.window_s:g} s, comprobación y barrido cada 1 s): "
        f"1 proceso {one:.0f} · {args.processes} sobre una base {many_shared:.0f} · "
        f"{args.processes} con bases separadas {many_separate:.0f} (sin turno compartido)"
    )
    v = Verdicts()
    v.check(f"{args.processes} procesos sobre una base / 1 proceso", many_shared / one, "<=", 1.1)
    v.check(
        f"{args.processes} procesos con bases separadas / 1 proceso (contraste)",
        many_separate / one,
        ">=",
        round(args.processes * 0.8, 2),
    )
    v.exit()


if __name__ == "__main__":
    main()
