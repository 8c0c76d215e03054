"""What a supervisor waits for: every page in Chromium (tablet) against a bare Streamlit page.

Runs a chain as deploy/ does (``benchmarks.common.deployed_chain``: a generated inventory of 1 000
branches x 10 POS by default served by the simulator in its own process, the database filled by a
first sweep and the backfill of the last week, the collector service polling it), the dashboard on
that database with its own collector off, and a second Streamlit server with a page that only says
``st.title``; each server on /contingencia/ behind its own copy of the shipped nginx site
(``deploy/nginx/contingencia.conf``, TLS and its proxy snippet included), as a tablet reaches the
deployed dashboard (``--direct``: the servers' own ports instead). Then loads, alternately in one run,
the bare page and each dashboard page in a fresh tab at 820x1180, timing from navigation until
Streamlit's run state is back to ``notRunning`` with the page's heading drawn. Prints, per page, the
median of the ratios page / the bare load just before it: a pair shares the machine's moment (the
collector service's sweep of 10 000 POS takes half of every minute here), so absolute drift cancels out.
Run: .venv/bin/python -m benchmarks.pages [--branches 200 --pos-per-branch 10] [--pages facturas] [--pause-s 28] [--direct]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from benchmarks.common import Verdicts, deployed_chain, inventory_arguments
from cucu.periods import DEFAULT_RANGE_DAYS
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, TABLET, streamlit_server, wait_for_app
from tests.support.deploy import nginx

# path -> (heading that says it is drawn, target ratio). Historial reads history, so it gets 3x.
PAGES = {
    "": ("Estado", 2.0),
    "eventos": ("Eventos activos", 2.0),
    "alertas": ("Alertas", 2.0),
    "conectividad": ("Conectividad", 2.0),
    "historial": ("Historial", 3.0),
    "iniciar": ("Iniciar evento", 2.0),
    "bitacora": ("Bitácora", 2.0),
    "facturas": ("Facturas", 2.0),
    "mantenimiento": ("Mantenimiento", 2.0),
    "caidas": ("Caídas", 2.0),
    "pantalla": ("SIAT:", 2.0),  # the wall display: its heading is SIAT's word
    "informe": ("Informe mensual", 2.0),  # its figures come once built in the background (benchmarks.report)
}
BARE_PAGE = 'import streamlit as st\n\nst.title("Bare")\n'
LOAD_TIMEOUT_MS = 180_000
# Pairs per page. One pair's ratio ranges from 1.4 to 2.9 for the same page on this 2-core machine (the collector
# service's sweep, the shared frames' rebuilds): the median of five moved by up to 0.65 between two runs of the same
# code (README, Capacity). A median's spread shrinks as the square root of the pairs: nine, a quarter less.
RUNS = 9


# Drawn: Streamlit's run is over and a heading says the page. Checked by one cheap function at every frame: a
# locator by role (get_by_role) computes accessible names over the whole page at each poll, on the page's own main
# thread, and so slowed a page in proportion to its size (Estado at 1 000 x 10: 0.14 s a load more than this, the
# bare page 0.03 s; README, Capacity). Neither is part of what a person waits for.
DRAWN = """(heading) => document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]') !== null
    && [...document.querySelectorAll("h1, h2, h3")].some((h) => h.textContent.includes(heading))"""
SITE = "contingencia.conf"  # the shipped nginx site in front of both servers (TLS, the proxy snippet)
BASE_PATH = "contingencia"


def timed_load(page: Page, url: str, heading: str) -> float:
    """Seconds until drawn; infinity when it did not finish within LOAD_TIMEOUT_MS (a failure, not a crash)."""
    started = time.perf_counter()
    try:
        page.goto(url, timeout=LOAD_TIMEOUT_MS)
        page.wait_for_function(DRAWN, arg=heading, polling="raf", timeout=LOAD_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        return math.inf
    return time.perf_counter() - started


@contextlib.contextmanager
def served(
    env: dict[str, str] | None, *, script: Path | None = None, args: tuple[str, ...] = (), direct: bool = False
) -> Iterator[str]:
    """A Streamlit server (the dashboard on ``env``, or ``script``) as a tablet reaches it: behind the shipped nginx
    site on /contingencia/, or on its own port when ``direct``. Yields the base URL of its pages (no trailing /)."""
    if direct:
        with streamlit_server(env, timeout_s=300, args=args, script=script) as url:
            yield url
        return
    path_args = ("--server.baseUrlPath", BASE_PATH)
    with (
        tempfile.TemporaryDirectory() as site_dir,
        streamlit_server(env, timeout_s=300, args=args + path_args, base_path=f"/{BASE_PATH}", script=script) as url,
        nginx(SITE, Path(site_dir), app_port=urlsplit(url).port or 80) as site,
    ):
        yield f"{site}/{BASE_PATH}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--pages", nargs="*", default=list(PAGES), help="rutas a medir (vacía: Estado)")
    parser.add_argument(
        "--direct",
        action="store_true",
        help="cada servidor en su propio puerto, sin el sitio nginx del despliegue (las páginas que no son Estado "
        "esperan entonces 100 ms más: Streamlit busca la app en la ruta de la página)",
    )
    parser.add_argument(
        "--pause-s",
        type=float,
        default=0.0,
        help="segundos entre pares: cargas espaciadas como las de una tableta que se abre de vez en cuando "
        "(encuentran las reconstrucciones de cada minuto)",
    )
    args = parser.parse_args()
    pages = {path: PAGES[path] for path in args.pages}

    with deployed_chain(args.branches, args.pos_per_branch, history_days=DEFAULT_RANGE_DAYS - 1) as (env, _db):
        times, bare_times = paired_loads(env, pages, args.runs, pause_s=args.pause_s, direct=args.direct)
    every_bare = [t for loads in bare_times.values() for t in loads]
    print(f"página mínima de Streamlit: mediana {statistics.median(every_bare):.2f} s en {len(every_bare)} cargas")
    report(pages, times, bare_times).exit()


def paired_loads(
    env: dict[str, str],
    pages: Mapping[str, tuple[str, float]],
    runs: int,
    *,
    pause_s: float = 0.0,
    server_args: tuple[str, ...] = (),
    headers: Mapping[str, str] | None = None,
    open_beside: Callable[[str, Browser], None] | None = None,
    direct: bool = False,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The dashboard on ``env`` and a bare Streamlit page, each in its own server behind its own copy of the shipped
    nginx site (``direct``: on their own ports); ``runs`` times, each of ``pages`` (path -> heading drawn, target)
    loaded in a fresh tab at 820x1180 right after the bare page. Returns the seconds of each page's loads and of the
    bare load just before each. ``server_args`` go to the dashboard's server, ``headers`` with every request of the
    measured tabs (a proxy's signed-in user); ``open_beside(url, browser)`` opens whatever else should run meanwhile
    (other people's tabs)."""
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_PAGE)
        with (
            served(env, args=server_args, direct=direct) as url,
            served(None, script=bare, direct=direct) as bare_url,
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=TABLET, extra_http_headers=dict(headers or {}), ignore_https_errors=not direct)
            warm = context.new_page()
            warm.goto(f"{url}/")  # the first visit builds the runtime
            wait_for_app(warm, timeout_ms=LOAD_TIMEOUT_MS)
            warm.close()
            if open_beside is not None:
                open_beside(url, browser)

            times: dict[str, list[float]] = {path: [] for path in pages}
            bare_times: dict[str, list[float]] = {path: [] for path in pages}  # the bare load before each
            for _ in range(runs):
                for path, (heading, _target) in pages.items():
                    tab = context.new_page()
                    bare_times[path].append(timed_load(tab, f"{bare_url}/", "Bare"))
                    tab.close()
                    tab = context.new_page()
                    times[path].append(timed_load(tab, f"{url}/{path}", heading))
                    tab.close()
                    time.sleep(pause_s)
            browser.close()
    return times, bare_times


def report(
    pages: Mapping[str, tuple[str, float]], times: Mapping[str, list[float]], bare_times: Mapping[str, list[float]]
) -> Verdicts:
    """Per page: its loads, the ratio of each pair, and the verdict on the median ratio against its target."""
    verdicts = Verdicts()
    for path, (heading, target) in pages.items():
        ratios = [page / bare for page, bare in zip(times[path], bare_times[path], strict=True)]
        runs = ", ".join("no terminó" if math.isinf(t) else f"{t:.1f}" for t in times[path])
        print(
            f"  {heading}: mediana {statistics.median(times[path]):.2f} s ({runs}; límite {LOAD_TIMEOUT_MS / 1000:.0f} s); "
            f"por par: {', '.join(f'{r:.2f}' for r in ratios)}"
        )
        verdicts.check(f"{heading} / página mínima (mediana por par)", statistics.median(ratios), "<=", target)
    return verdicts


if __name__ == "__main__":
    main()
