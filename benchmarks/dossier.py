"""An outage's dossier at a chain's size, in Chromium, against a bare Streamlit page (issue 25).

Runs a chain as deploy/ does (``benchmarks.common.deployed_chain``, 1 000 branches x 10 POS by default), makes
SIAT fail in the simulator, lets three checks declare it down, starts motive 2 on every POS without an event
(the actions service, as the policy would) and sweeps: an outage over the whole chain, with ~10 000 events.
Then loads, alternately in one run, the bare page and the outage's dossier (and Caídas' list, and Estado with
its queue) in a fresh tab at 820x1180, and prints the median of the ratios page / the bare load just before it.
Run: .venv/bin/python -m benchmarks.dossier [--branches 200 --pos-per-branch 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from benchmarks.common import API_KEY, Verdicts, deployed_chain, inventory_arguments
from benchmarks.pages import BARE_PAGE, LOAD_TIMEOUT_MS, timed_load
from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.events.actions import Actions, Actor
from cucu.inventory import load_inventory
from cucu.outages import read_outages
from cucu.store import Store
from cucu.vocabulary import Motive, OutageKind, Role
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, TABLET, streamlit_server, wait_for_app

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
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with deployed_chain(args.branches, args.pos_per_branch) as (env, db), tempfile.TemporaryDirectory() as tmp:
        key = siat_outage_over_the_chain(env, db)
        pages = {
            f"caidas?caida={key}": ("Caída: SIAT no responde", 2.0),
            "caidas": ("Caídas", 2.0),
            "": ("Estado", 2.0),
        }
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_PAGE)
        with (
            streamlit_server(env, timeout_s=300) as url,
            streamlit_server(script=bare) as bare_url,
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=TABLET)
            warm = context.new_page()
            warm.goto(url)  # the first visit builds the runtime
            wait_for_app(warm, timeout_ms=LOAD_TIMEOUT_MS)
            warm.close()
            times: dict[str, list[float]] = {path: [] for path in pages}
            bare_times: dict[str, list[float]] = {path: [] for path in pages}
            for _ in range(args.runs):
                for path, (heading, _target) in pages.items():
                    tab = context.new_page()
                    bare_times[path].append(timed_load(tab, bare_url, "Bare"))
                    tab.close()
                    tab = context.new_page()
                    times[path].append(timed_load(tab, f"{url}/{path}", heading))
                    tab.close()
            browser.close()

    verdicts = Verdicts()
    for path, (heading, target) in pages.items():
        ratios = [page / bare for page, bare in zip(times[path], bare_times[path], strict=True)]
        runs = ", ".join(f"{t:.1f}" for t in times[path])
        print(
            f"  {heading}: mediana {statistics.median(times[path]):.2f} s ({runs}); por par: {', '.join(f'{r:.2f}' for r in ratios)}"
        )
        verdicts.check(f"{heading} / página mínima (mediana por par)", statistics.median(ratios), "<=", target)
    verdicts.exit()


if __name__ == "__main__":
    main()
