"""The wall display over days, shortened: Pantalla in Chromium for ``--minutes`` (30) on a chain in the
deployed shape (issue 26), through two restarts of the web server and a dropped network (a TCP proxy
between the browser and the server, stopped for ``--drop-s`` and started again), nobody touching the page.

Every minute it samples the page's JS heap (after a garbage collection), its DOM nodes and the web server's
memory (``VmRSS``); after each fault, the seconds until the page shows fresh data again by itself (from the
server's stop for a restart, with its start-up; from the network's return for the drop). Prints the
samples and the ratios last / first (the server's within each of its lives), and the verdicts.
Run: .venv/bin/python -m benchmarks.kiosk [--minutes 30] [--branches 1000 --pos-per-branch 10]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import ViewportSize, sync_playwright

from benchmarks.common import Verdicts, deployed_chain, inventory_arguments
from tests.browser.test_browser_offline import NetworkPath
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_for_app
from tests.support.net import free_port

TV: ViewportSize = {"width": 1920, "height": 1080}
RECOVERY_BUDGET_S = 30


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--drop-s", type=float, default=60)
    args = parser.parse_args()
    total_s = args.minutes * 60
    # The faults, at fixed fractions of the run: a restart, the network dropped, another restart.
    faults = [(total_s * 0.25, "reinicio"), (total_s * 0.5, "red"), (total_s * 0.75, "reinicio")]
    verdicts = Verdicts()
    with deployed_chain(args.branches, args.pos_per_branch) as (env, _db), contextlib.ExitStack() as stack:
        app_port = free_port()
        procs: list = []

        def start_server() -> None:
            stack.enter_context(streamlit_server(env, port=app_port, started=procs, timeout_s=120))

        start_server()
        path = NetworkPath(app_port)
        path.start()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=TV)
            cdp = page.context.new_cdp_session(page)
            page.goto(f"http://127.0.0.1:{path.port}/pantalla?rotar=1")
            wait_for_app(page, 120_000)
            page.get_by_role("heading", name="SIAT:").wait_for()
            started = time.monotonic()
            samples: list[tuple[float, float, int, float, int]] = []  # minute, heap MB, DOM nodes, RSS MB, server life
            recoveries: list[tuple[str, float]] = []
            life = 0

            def sample() -> None:
                for _ in range(10):  # Pantalla loads itself afresh after a fault: read once it has
                    try:
                        cdp.send("HeapProfiler.collectGarbage")
                        heap = cdp.send("Runtime.getHeapUsage")["usedSize"] / 1e6
                        nodes = page.evaluate("() => document.getElementsByTagName('*').length")
                        break
                    except PlaywrightError:
                        page.wait_for_timeout(2_000)
                samples.append(((time.monotonic() - started) / 60, heap, nodes, rss_mb(procs[-1].pid), life))
                print(
                    f"  {samples[-1][0]:5.1f} min  heap {heap:6.1f} MB  DOM {nodes:5d}  servidor {samples[-1][3]:6.0f} MB",
                    flush=True,
                )

            def recovered(after: float, mark: str | None) -> float:
                """Seconds from ``after`` until the banner is gone and a run newer than ``mark`` is drawn."""
                banner = page.get_by_test_id("cucuSinConexion")
                deadline = after + 120
                while time.monotonic() < deadline:
                    # The watchdog may reload the page: while it loads there is no mark yet, and no wait for one.
                    marks = page.locator("[data-cucu-datos]")
                    try:
                        fresh = marks.last.get_attribute("data-cucu-corrida", timeout=1_000) if marks.count() else None
                    except PlaywrightError:  # the page went away between the count and the read
                        fresh = None
                    if fresh is not None and fresh != mark and banner.is_hidden():
                        return time.monotonic() - after
                    page.wait_for_timeout(250)
                return float("inf")

            next_sample = 0.0
            for at_s, fault in [*faults, (total_s, "fin")]:
                while time.monotonic() - started < at_s:
                    if time.monotonic() - started >= next_sample:
                        sample()
                        next_sample += 60
                    page.wait_for_timeout(1_000)
                if fault == "fin":
                    break
                mark = page.locator("[data-cucu-datos]").last.get_attribute("data-cucu-corrida", timeout=10_000)
                if fault == "reinicio":  # counted from the stop: the server's own start-up is part of the wait
                    back = time.monotonic()
                    stack.close()  # the server stops (its context), then starts again on the same port
                    start_server()
                    life += 1
                else:
                    path.stop()
                    page.wait_for_timeout(args.drop_s * 1000)
                    path.start()
                    back = time.monotonic()
                seconds = recovered(back, mark)
                recoveries.append((fault, seconds))
                print(f"  {fault}: de vuelta sola en {seconds:.1f} s", flush=True)
            sample()
            browser.close()
        path.stop()

    first, last = samples[0], samples[-1]
    print(f"\n{len(samples)} muestras en {last[0]:.0f} min; {len(recoveries)} fallas")
    for fault, seconds in recoveries:
        verdicts.check(f"recuperación tras {fault} (s)", seconds, "<=", RECOVERY_BUDGET_S)
    verdicts.check("memoria JS última / primera", last[1] / first[1], "<=", 1.25)
    verdicts.check("nodos del DOM último / primero", last[2] / first[2], "<=", 1.1)
    for n in range(life + 1):
        lived = [s for s in samples if s[4] == n]
        if len(lived) >= 3:  # the server's first minute after a start is its warm-up, not growth
            verdicts.check(f"memoria del servidor, vida {n + 1}: última / segunda", lived[-1][3] / lived[1][3], "<=", 1.25)
    verdicts.exit()


if __name__ == "__main__":
    main()
