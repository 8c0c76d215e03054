"""Pages for scoped supervisors at a chain's size (issue 26, part 2, its figures): 1 000 branches in the nine
departments and 50 scoped supervisors signed in through the proxy, each with Estado open and refreshing (so the
server keeps 50 scopes' shared values and rebuilds them as the data moves; ``benchmarks.headless``: sessions
that speak Streamlit's protocol, drawn by nobody): one per region and the rest each over a district of about 24
branches within a region. With those open, every page is loaded by a region's
supervisor and by the whole company's, each against a bare Streamlit page loaded just before.
Run: .venv/bin/python -m benchmarks.scoped [--branches 1000 --pos-per-branch 10] [--supervisors 50] [--runs 9]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import tempfile
from pathlib import Path

from playwright.sync_api import Browser

from benchmarks.common import Verdicts, deployed_chain, inventory_arguments
from benchmarks.headless import HeadlessViewer, open_viewers, signed_in_as_themselves
from benchmarks.pages import PAGES, RUNS, paired_loads, report
from cucu.inventory import load_inventory
from cucu.organization.regions import branches_by_region
from tests.support.browser import streamlit_server

SECRET = "b" * 64


def scopes(by_region: dict[str, list[str]], supervisors: int) -> list[dict[str, list[str]]]:
    """A supervisor per region, then districts: each region's branches cut into a share of the rest as large as
    the region's share of the branches (a district lies within a region)."""
    found: list[dict[str, list[str]]] = [{"regions": [region]} for region in by_region]
    districts = max(0, supervisors - len(found))
    total = sum(len(ids) for ids in by_region.values())
    exact = {region: districts * len(ids) / total for region, ids in by_region.items()}
    shares = {region: int(x) for region, x in exact.items()}
    for region in sorted(exact, key=lambda r: exact[r] - shares[r], reverse=True)[: districts - sum(shares.values())]:
        shares[region] += 1  # the largest remainders: the districts add up to what was asked
    for region, ids in by_region.items():
        k = min(shares[region], len(ids))
        found += [{"branches": ids[n * len(ids) // k : (n + 1) * len(ids) // k]} for n in range(k)]
    return found[:supervisors]


def signed_in(env: dict[str, str]) -> dict[str, str]:
    """``deployed_chain``'s environment with sign-in as ``secrets_for`` writes it: its ``CUCU_ACCESS_*`` (sign-in off,
    everyone the whole company's supervisor) would win over the secrets' [access] and scope nobody."""
    return {k: v for k, v in env.items() if not k.startswith("CUCU_ACCESS_")}


def secrets_for(people: list[dict[str, list[str]]]) -> str:
    users = "\n".join(
        f'"sup{n}" = {{ role = "supervisor", {key} = {json.dumps(values)} }}'
        for n, scope in enumerate(people)
        for key, values in scope.items()
    )
    return f'[access]\nmode = "proxy"\nproxy_secret = "{SECRET}"\n\n[access.users]\n"empresa" = "supervisor"\n{users}\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    parser.add_argument("--supervisors", type=int, default=50)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--processes", type=int, default=1, help="procesos del tablero detrás de nginx (README: More than one dashboard process)"
    )
    parser.add_argument("--pages", nargs="*", default=list(PAGES), help="rutas a medir (vacía: Estado)")
    args = parser.parse_args()
    pages = {path: PAGES[path] for path in args.pages}

    verdicts = Verdicts()
    with deployed_chain(args.branches, args.pos_per_branch) as (chain_env, _db), tempfile.TemporaryDirectory() as tmp:
        env = signed_in(chain_env)
        by_region = branches_by_region(load_inventory(env["CUCU_INVENTORY"]))
        people = scopes(by_region, args.supervisors)
        districts = sum(1 for p in people if "branches" in p)
        print(f"{len(people)} supervisores con alcance: {len(people) - districts} de región, {districts} de distrito")
        secrets = Path(tmp) / "secrets.toml"
        secrets.write_text(secrets_for(people))
        server_args = ("--secrets.files", str(secrets))

        def others_open(url: str, _browser: Browser, measured: str) -> None:
            # every other supervisor with Estado open, refreshing live: the server's work for them, not their drawing;
            # with more processes, nginx's st_route cookie spreads them evenly over all (the measured one's too)
            urls = [url] + [
                servers.enter_context(streamlit_server(env, timeout_s=300, args=server_args)) for _ in range(1, args.processes)
            ]
            others = {f"sup{n}": {"X-Remote-User": f"sup{n}", "X-Proxy-Secret": SECRET} for n in range(len(people))}
            others.pop(measured, None)
            names = list(others)
            for k, each in enumerate(urls):
                viewers.extend(open_viewers(each, {n: others[n] for n in names[k :: len(urls)]}))

        region = next(iter(by_region))
        for who, label in (("sup0", f"supervisor de {region}"), ("empresa", "supervisor de toda la empresa")):
            print(f"== {label} (los otros supervisores con Estado abierto; {args.processes} proceso(s))", flush=True)
            headers = {"X-Remote-User": who, "X-Proxy-Secret": SECRET}
            viewers: list[HeadlessViewer] = []
            with contextlib.ExitStack() as servers:
                times, bare = paired_loads(
                    env, pages, args.runs, server_args=server_args, headers=headers,
                    open_beside=functools.partial(others_open, measured=who),
                    direct=True,  # proxy sign-in by header, which the shipped site sets itself (from basic auth)
                )  # fmt: skip
            # read after the servers stopped: their close (1012, "service restart") is the end, not a drop
            dropped = [v.error for v in viewers if v.error and "1012" not in v.error]
            verdicts.check(
                "supervisores con Estado abierto que entraron con su nombre", signed_in_as_themselves(viewers), ">=", len(viewers)
            )
            print(
                f"  {len(viewers)} supervisores con Estado abierto: {sum(v.runs for v in viewers)} ejecuciones "
                f"atendidas mientras tanto; {len(dropped)} se cortaron antes del final {dropped[:2]}"
            )
            for viewer in viewers:
                viewer.stop()
            verdicts.failed |= report(pages, times, bare).failed
    verdicts.exit()


if __name__ == "__main__":
    main()
