"""Benchmark 2: API calls per minute with 30 dashboards open / with 1 open <= 1.1.

Runs the real server on the demo (the in-process simulator on a known port, so its call
counter can be read) with short collector intervals, opens 1 and then 30 Chromium tabs
on the monitoring pages, and counts the calls cucu receives in equal windows.
Run: .venv/bin/python -m benchmarks.viewers
"""

from __future__ import annotations

import argparse
import time

from playwright.sync_api import sync_playwright

from benchmarks.common import Verdicts, calls_per_minute
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, TABLET, streamlit_server, wait_for_app
from tests.support.net import free_port

PAGES = ["", "eventos", "conectividad"]  # the live monitoring pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=30)
    parser.add_argument("--window-s", type=float, default=45)
    args = parser.parse_args()

    sim_port = free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    env = {"CUCU_SIMULATOR_PORT": str(sim_port), "CUCU_CHECK_INTERVAL_S": "1", "CUCU_SWEEP_INTERVAL_S": "2"}
    with streamlit_server(env) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=TABLET)

        def open_tab(i: int):
            page = context.new_page()
            page.goto(f"{url}/{PAGES[i % len(PAGES)]}")
            wait_for_app(page)
            page.locator(".st-key-shell_header").wait_for()
            return page

        tabs = [open_tab(0)]
        time.sleep(5)  # past start-up: first sweep and the recent-days warm-up
        one = calls_per_minute(sim_url, args.window_s)
        tabs += [open_tab(i) for i in range(1, args.viewers)]
        many = calls_per_minute(sim_url, args.window_s)
        errors = sum(t.get_by_test_id("stException").count() for t in tabs)
        browser.close()
    print(
        f"Llamadas a cucu por minuto: 1 tablero {one:.0f} · {args.viewers} tableros {many:.0f} "
        f"(ventanas de {args.window_s:g} s, comprobación cada 1 s, barrido cada 2 s)"
    )
    v = Verdicts()
    v.check(f"{args.viewers} tableros / 1 tablero", many / one, "<=", 1.1)
    v.check("errores en las páginas", errors, "<=", 0)
    v.exit()


if __name__ == "__main__":
    main()
