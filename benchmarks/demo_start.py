"""How long a newcomer waits for the chain demo: the first page in Chromium, and the first complete sweep.

Starts ``streamlit run app.py`` in DEMO mode with ``CUCU_DEMO_SIZE`` (1000x10 by default: 10 000
POS) on a database in a temporary folder, opens Estado in Chromium as soon as Streamlit answers its
health check, and times from the start of the process until the page's heading is drawn; then polls
the database until every POS has been answered once (the first sweep). Just before each run, a bare
``st.title`` script is started and timed the same way, for scale on a shared machine (the ratio).
The figures are the medians of ``--runs`` runs (3 by default).
Run: .venv/bin/python -m benchmarks.demo_start [--size 1000x10] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from benchmarks.common import Verdicts
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_for_app

FIRST_PAGE_S = 5.0
FIRST_SWEEP_S = 60.0
BARE_PAGE = 'import streamlit as st\n\nst.title("Bare")\n'


def first_page(browser: Browser, env: dict[str, str], script: Path | None = None) -> tuple[float, float]:
    """Seconds from ``streamlit run`` until the first page's heading is drawn, and until the sweep is done
    (``env["CUCU_DB"]`` polled; 0 for the bare script)."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    started = time.perf_counter()
    with streamlit_server(env, timeout_s=120, script=script) as base_url:
        page.goto(base_url)
        wait_for_app(page, timeout_ms=120_000)
        page.get_by_role("heading").first.wait_for(timeout=120_000)
        drawn = time.perf_counter() - started
        n_pos = _pos_count(env)
        answered = 0
        while answered < n_pos and time.perf_counter() - started < 900:
            time.sleep(0.5)
            try:
                with sqlite3.connect(env["CUCU_DB"], timeout=5) as conn:
                    answered = conn.execute("SELECT count(*) FROM pos_status WHERE ok_at IS NOT NULL").fetchone()[0]
            except sqlite3.OperationalError:  # the table is not there yet
                answered = 0
        swept = time.perf_counter() - started if n_pos else 0.0
    page.close()
    return drawn, swept


def _pos_count(env: dict[str, str]) -> int:
    if "CUCU_DEMO_SIZE" not in env:
        return 0
    branches, per_branch = (int(n) for n in env["CUCU_DEMO_SIZE"].lower().split("x"))
    return branches * per_branch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1000x10", help="CUCU_DEMO_SIZE (SUCURSALESxPUNTOS)")
    parser.add_argument("--runs", type=int, default=3, help="arranques medidos (la mediana)")
    args = parser.parse_args()
    pages, sweeps, bares, ratios, loads = [], [], [], [], []
    verdicts = Verdicts()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_PAGE)
        # The browser is open before the dashboard starts: its own launch is not the demo's.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for run in range(args.runs):
            loads.append(os.getloadavg()[0])
            bare_s, _ = first_page(browser, {"CUCU_DB": str(Path(tmp) / "bare.db")}, script=bare)
            page_s, sweep_s = first_page(browser, {"CUCU_DEMO_SIZE": args.size, "CUCU_DB": str(Path(tmp) / f"demo{run}.db")})
            bares.append(bare_s)
            pages.append(page_s)
            sweeps.append(sweep_s)
            ratios.append(page_s / bare_s)
            print(
                f"  arranque {run + 1}: primera página {page_s:.2f} s (Streamlit mínimo {bare_s:.2f} s, ×{page_s / bare_s:.2f}), "
                f"barrido {sweep_s:.1f} s, carga {loads[-1]:.1f}",
                flush=True,
            )
        browser.close()
    print(
        f"Demo de {args.size}, mediana de {args.runs} arranques (carga media {statistics.median(loads):.1f}; "
        f"una página mínima de Streamlit, desde su arranque: {statistics.median(bares):.2f} s):"
    )
    verdicts.check("primera página en Chromium (s)", statistics.median(pages), "<=", FIRST_PAGE_S)
    print(f"  primera página / página mínima de Streamlit: ×{statistics.median(ratios):.2f}")
    verdicts.check("primer barrido completo (s)", statistics.median(sweeps), "<=", FIRST_SWEEP_S)
    verdicts.exit()


if __name__ == "__main__":
    main()
