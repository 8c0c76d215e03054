"""An outage's dossier at a chain's size, in Chromium, against a bare Streamlit page (issue 25).

Runs a chain as deploy/ does (``benchmarks.common.deployed_chain``, 1 000 branches x 10 POS by default), makes
SIAT fail in the simulator, lets three checks declare it down, starts motive 2 on every POS without an event
(the actions service, as the policy would) and sweeps: an outage over the whole chain, with ~10 000 events.
Then loads, alternately in one run, the bare page and the outage's dossier (and Caídas' list, and Estado with
its queue) in a fresh tab at 820x1180, and prints the median of the ratios page / the bare load just before it.
Run: .venv/bin/python -m benchmarks.dossier [--branches 200 --pos-per-branch 10] [--runs 9]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

import httpx

from benchmarks.common import API_KEY, deployed_chain, inventory_arguments
from benchmarks.pages import RUNS, paired_loads, report
from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.connectivity.outages import read_outages
from cucu.events.actions import Actions, Actor
from cucu.inventory import load_inventory
from cucu.store import Store
from cucu.vocabulary import Motive, OutageKind, Role

ACTOR = Actor("benchmark", "Benchmark", Role.SUPERVISOR)


def siat_outage_over_the_chain(env: dict[str, str], db: str) -> str:
    """SIAT down in the simulator, declared by three checks, motive 2 started on every POS without an event;
    returns the outage's key."""
    url = env["CUCU_BASE_URL"]
    httpx.put(f"{url}/_sim/faults", json={"siat_down": True}, timeout=5).raise_for_status()
    inventory = load_inventory(env["CUCU_INVENTORY"])
    store = Store(db)
    with CucuClient(url, API_KEY, max_connections=68) as client:
        collector = Collector(client, store, inventory, concurrency=64)
        for _ in range(3):
            collector.check_once()
        started = time.perf_counter()
        actions = Actions(client, store, inventory, concurrency=64, settle_window_s=0)
        free = [p.id for p in actions.plan_siat_outage().to_start]
        actions.start(ACTOR, free, Motive.SIAT_FAILURE, "SIAT no responde (benchmark)")
        actions.close()
        collector.sweep_once()
        collector.stop()
        print(f"motivo 2 iniciado en {len(free)} puntos de venta en {time.perf_counter() - started:.0f} s")
    now = store.now()
    outage = next(o for o in read_outages(store, now - timedelta(hours=1), now) if o.kind is OutageKind.SIAT)
    store.close()
    return outage.key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()

    with deployed_chain(args.branches, args.pos_per_branch) as (env, db):
        key = siat_outage_over_the_chain(env, db)
        pages = {
            f"caidas?caida={key}": ("Caída: SIAT no responde", 2.0),
            "caidas": ("Caídas", 2.0),
            "": ("Estado", 2.0),
        }
        times, bare_times = paired_loads(env, pages, args.runs)
    report(pages, times, bare_times).exit()


if __name__ == "__main__":
    main()
