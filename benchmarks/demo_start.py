"""How long a newcomer waits for the chain demo: the first page in Chromium, and the first complete sweep.

Starts ``streamlit run app.py`` in DEMO mode with ``CUCU_DEMO_SIZE`` (1000x10 by default: 10 000
POS) on a database in a temporary folder, opens Estado in Chromium as soon as Streamlit answers its
health check, and times from the start of the process until the page's run state is back to
``notRunning``; then polls the database until every POS has been answered once (the first sweep).
Run: .venv/bin/python -m benchmarks.demo_start [--size 1000x10]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.common import Verdicts
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_for_app

FIRST_PAGE_S = 5.0
FIRST_SWEEP_S = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1000x10", help="CUCU_DEMO_SIZE (SUCURSALESxPUNTOS)")
    args = parser.parse_args()
    branches, per_branch = (int(n) for n in args.size.lower().split("x"))
    n_pos = branches * per_branch
    verdicts = Verdicts()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        env = {"CUCU_DEMO_SIZE": args.size, "CUCU_DB": str(db)}
        with sync_playwright() as p:
            # The browser is open before the dashboard starts: its own launch is not the demo's.
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            started = time.perf_counter()
            with streamlit_server(env, timeout_s=120) as base_url:
                health = time.perf_counter() - started  # Streamlit itself, for scale on a busy machine
                page.goto(base_url)
                wait_for_app(page, timeout_ms=120_000)
                page.get_by_role("heading").first.wait_for(timeout=120_000)
                first_page = time.perf_counter() - started
                answered = 0
                while answered < n_pos and time.perf_counter() - started < 900:
                    time.sleep(0.5)
                    try:
                        with sqlite3.connect(db, timeout=5) as conn:
                            answered = conn.execute("SELECT count(*) FROM pos_status WHERE ok_at IS NOT NULL").fetchone()[0]
                    except sqlite3.OperationalError:  # the table is not there yet
                        answered = 0
                first_sweep = time.perf_counter() - started
                browser.close()
    print(f"Demo de {args.size} ({n_pos} puntos de venta), desde el arranque (Streamlit respondió a los {health:.2f} s):")
    verdicts.check("primera página en Chromium (s)", first_page, "<=", FIRST_PAGE_S)
    verdicts.check(f"primer barrido completo, {answered} puntos respondidos (s)", first_sweep, "<=", FIRST_SWEEP_S)
    verdicts.exit()


if __name__ == "__main__":
    main()
