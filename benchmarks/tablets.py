"""What 30 open tablets cost the web server, at a chain's size, in the deployed shape.

A simulator process with a generated inventory (1 000 branches x 10 POS by default), the collector
service polling it into a database, and the dashboard on that database with its own collector off
(as deploy/ runs them), plus a bare ``st.title`` page on a second server. Opens 1 and then
``--viewers`` Chromium tabs at 820x1180, alternating Estado and Eventos activos (both refresh live
every 10 s), and measures over equal windows, in one run:

- the web server's CPU seconds per minute (utime + stime from ``/proc/<pid>/stat``) per extra tab;
- its memory (``VmRSS``) with many tabs / with one;
- a new tab on Estado, loaded with the others open, / the bare page (alternated).

(Calls to cucu per viewer are ``benchmarks.viewers``.)
Run: .venv/bin/python -m benchmarks.tablets [--viewers 30 --branches 1000 --pos-per-branch 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from benchmarks.common import Verdicts, deployed_chain, inventory_arguments
from benchmarks.pages import BARE_PAGE, timed_load
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, TABLET, streamlit_server, wait_for_app

PAGES = [("", "Estado"), ("eventos", "Eventos activos")]  # the live pages a supervisor leaves open
TAB_TIMEOUT_MS = 180_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15 of stat


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_per_minute(pid: int, seconds: float) -> float:
    """The process's CPU seconds per minute over the next ``seconds``."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) * 60 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=30)
    parser.add_argument("--window-s", type=float, default=60)
    parser.add_argument("--runs", type=int, default=3, help="cargas de la pestaña nueva y de la página mínima")
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    args = parser.parse_args()
    pos_total = args.branches * args.pos_per_branch

    with deployed_chain(args.branches, args.pos_per_branch) as (env, _db), tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_PAGE)
        procs: list[subprocess.Popen[str]] = []
        with (
            streamlit_server(env, timeout_s=300, started=procs) as url,
            streamlit_server(script=bare) as bare_url,
            sync_playwright() as p,
        ):
            server = procs[0].pid
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=TABLET)

            def open_tab(i: int) -> Page:
                path, heading = PAGES[i % len(PAGES)]
                page = context.new_page()
                page.goto(f"{url}/{path}", timeout=TAB_TIMEOUT_MS)
                page.get_by_role("heading", name=heading).first.wait_for(timeout=TAB_TIMEOUT_MS)
                wait_for_app(page, timeout_ms=TAB_TIMEOUT_MS)
                return page

            tabs = [open_tab(0)]
            time.sleep(15)  # past the first page's start-up
            one_cpu = cpu_per_minute(server, args.window_s)
            one_rss = rss_mb(server)
            opened = time.perf_counter()
            tabs += [open_tab(i) for i in range(1, args.viewers)]
            print(f"{args.viewers - 1} pestañas más abiertas en {time.perf_counter() - opened:.0f} s", flush=True)
            many_cpu = cpu_per_minute(server, args.window_s)
            many_rss = rss_mb(server)

            new_tab: list[float] = []
            bare_times: list[float] = []
            for _ in range(args.runs):
                tab = context.new_page()
                bare_times.append(timed_load(tab, bare_url, "Bare"))
                tab.close()
                tab = context.new_page()
                new_tab.append(timed_load(tab, url, "Estado"))
                tab.close()
            errors = sum(t.get_by_test_id("stException").count() for t in tabs)
            browser.close()

    extra = args.viewers - 1
    per_tab = (many_cpu - one_cpu) / extra
    print(
        f"{pos_total} puntos de venta en {args.branches} sucursales; ventanas de {args.window_s:g} s\n"
        f"  CPU del servidor web por minuto: 1 pestaña {one_cpu:.1f} s · {args.viewers} pestañas {many_cpu:.1f} s\n"
        f"  memoria del servidor web: 1 pestaña {one_rss:.0f} MB · {args.viewers} pestañas {many_rss:.0f} MB\n"
        f"  pestaña nueva en Estado: {', '.join(f'{t:.1f}' for t in new_tab)} s · página mínima: "
        f"{', '.join(f'{t:.1f}' for t in bare_times)} s"
    )
    v = Verdicts()
    v.check("CPU del servidor por pestaña extra (s por minuto)", per_tab, "<=", 0.5)
    v.check(f"memoria, {args.viewers} pestañas / 1", many_rss / one_rss, "<=", 2.0)
    v.check(
        f"pestaña {args.viewers + 1} en Estado / página mínima",
        statistics.median(new_tab) / statistics.median(bare_times),
        "<=",
        3.0,
    )
    v.check("errores en las páginas", errors, "<=", 0)
    v.exit()


if __name__ == "__main__":
    main()
