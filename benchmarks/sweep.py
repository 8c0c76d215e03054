"""Benchmark 1: one sweep of active events over 500 POS at 100 ms latency, and a chain's sweep.

sequential time / collector time >= 25, and collector time / ideal <= 1.3 where
ideal = ceil(N / concurrency) x latency. Then a collector with the default settings sweeps a chain
(1 000 branches x 10 POS by default) at the same latency, twice (the first sweep inserts every row,
the second is the steady state): the second sweep / the default sweep interval <= 1.
Run: .venv/bin/python -m benchmarks.sweep [--chain-branches 1000]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from benchmarks.common import API_KEY, Verdicts, inventory_arguments, simulator_arguments, simulator_process
from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.settings import Settings
from cucu.simulator import synthetic_inventory
from cucu.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=50, pos_per_branch=10)
    simulator_arguments(parser, concurrency=32)
    parser.add_argument("--chain-branches", type=int, default=1000, help="sucursales de 10 POS del barrido de cadena (0: no)")
    args = parser.parse_args()

    inventory = synthetic_inventory(args.branches, args.pos_per_branch)
    n = len(inventory.all_pos)
    latency = args.latency_ms / 1000
    print(f"Barrido de {n} puntos de venta, latencia {args.latency_ms:g} ms, concurrencia {args.concurrency}")
    with (
        simulator_process("--synthetic", f"{args.branches}x{args.pos_per_branch}", "--latency-ms", str(args.latency_ms)) as url,
        tempfile.TemporaryDirectory() as tmp,
        CucuClient(url, API_KEY, max_connections=args.concurrency + 4) as client,
    ):
        client.check_connection()  # warm the connection pool's first socket
        started = time.perf_counter()
        for pos in inventory.all_pos:  # what a naive dashboard would do
            client.get_active_event(pos.id)
        sequential = time.perf_counter() - started

        collector = Collector(client, Store(str(Path(tmp) / "b.db")), inventory, concurrency=args.concurrency)
        started = time.perf_counter()
        fetches = collector.sweep_once()
        swept = time.perf_counter() - started
        collector.stop()
    errors = sum(1 for f in fetches if f.error)
    ideal = math.ceil(n / args.concurrency) * latency
    print(f"  secuencial {sequential:.2f} s · colector {swept:.2f} s · ideal {ideal:.2f} s · errores {errors}")
    v = Verdicts()
    v.check("secuencial / colector", sequential / swept, ">=", 25)
    v.check("colector / ideal", swept / ideal, "<=", 1.3)
    v.check("errores", errors, "<=", 0)
    if args.chain_branches:
        chain_sweep(args, v)
    v.exit()


def chain_sweep(args: argparse.Namespace, v: Verdicts) -> None:
    """A collector as the dashboard builds it (default concurrency) sweeping a chain, timed on its second sweep."""
    inventory = synthetic_inventory(args.chain_branches, 10)
    n = len(inventory.all_pos)
    print(f"Barrido de una cadena: {n} puntos de venta, latencia {args.latency_ms:g} ms, concurrencia {Settings.concurrency}")
    with (
        simulator_process("--synthetic", f"{args.chain_branches}x10", "--latency-ms", str(args.latency_ms)) as url,
        tempfile.TemporaryDirectory() as tmp,
        CucuClient(url, API_KEY, max_connections=Settings.concurrency + 4) as client,
    ):
        collector = Collector(client, Store(str(Path(tmp) / "chain.db")), inventory)
        times = []
        for _ in range(2):
            started = time.perf_counter()
            fetches = collector.sweep_once()
            times.append(time.perf_counter() - started)
        collector.stop()
    errors = sum(1 for f in fetches if f.error)
    print(
        f"  primer barrido {times[0]:.1f} s · segundo {times[1]:.1f} s · intervalo {Settings.sweep_interval_s:g} s · errores {errors}"
    )
    v.check("barrido de la cadena / intervalo", times[1] / Settings.sweep_interval_s, "<=", 1.0)
    v.check("errores en la cadena", errors, "<=", 0)


if __name__ == "__main__":
    main()
