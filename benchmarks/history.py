"""Benchmark 3: reading 31 days x 100 POS from cucu into the store at 100 ms latency.

What the collector's backfill (and an ended event's re-read) does with ``load_days``; Historial
itself reads only the store (``benchmarks.pages`` times it in Chromium). First load / repeat load
>= 20, and the repeat makes no API call for completed days (only today's, which can still change).
Run: .venv/bin/python -m benchmarks.history
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks.common import (
    API_KEY,
    Verdicts,
    inventory_arguments,
    sim_calls,
    sim_reset_stats,
    simulator_arguments,
    simulator_process,
)
from cucu.api.client import CucuClient
from cucu.events.history import load_days
from cucu.lapaz import now_la_paz
from cucu.periods import date_range
from cucu.simulator import synthetic_inventory
from cucu.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=31)
    inventory_arguments(parser, branches=10, pos_per_branch=10)
    simulator_arguments(parser, concurrency=16)
    args = parser.parse_args()

    inventory = synthetic_inventory(args.branches, args.pos_per_branch)
    pos = inventory.all_pos
    today = now_la_paz().date()
    days = date_range(today - timedelta(days=args.days - 1), today)
    print(
        f"Historial de {len(days)} días x {len(pos)} puntos de venta, latencia {args.latency_ms:g} ms, concurrencia {args.concurrency}"
    )
    sim_args = (
        "--synthetic",
        f"{args.branches}x{args.pos_per_branch}",
        "--history-days",
        str(args.days),
        "--latency-ms",
        str(args.latency_ms),
    )
    with (
        simulator_process(*sim_args) as url,
        tempfile.TemporaryDirectory() as tmp,
        CucuClient(url, API_KEY, max_connections=args.concurrency + 4) as client,
    ):
        store = Store(str(Path(tmp) / "h.db"))
        sim_reset_stats(url)
        started = time.perf_counter()
        first = load_days(client, store, pos, days, concurrency=args.concurrency)
        first_s = time.perf_counter() - started
        first_calls = sim_calls(url)

        sim_reset_stats(url)
        started = time.perf_counter()
        repeat = load_days(client, store, pos, days, concurrency=args.concurrency)
        repeat_s = time.perf_counter() - started
        repeat_calls = sim_calls(url)
    events = sum(len(d.events) for d in repeat.days)
    # Not complete after the first load: today, and past days that still hold an open event.
    incomplete = sum(1 for d in first.days if not d.complete)
    open_past = sum(1 for d in first.days if not d.complete and d.day != today)
    print(
        f"  primera carga {first_s:.2f} s ({first_calls} llamadas) · repetición {repeat_s:.2f} s "
        f"({repeat_calls} llamadas: {len(pos)} de hoy + {open_past} de días pasados con un evento aún abierto; "
        f"{repeat.from_cache} días desde la base) · {events} eventos · errores {len(first.errors) + len(repeat.errors)}"
    )
    v = Verdicts()
    v.check("primera / repetición", first_s / repeat_s, ">=", 20)
    v.check("llamadas de la repetición por días completos", repeat_calls - incomplete, "<=", 0)
    v.exit()


if __name__ == "__main__":
    main()
