"""Pages for scoped supervisors at a chain's size (issue 26, part 2): 1 000 branches in the nine departments, a
supervisor per region signed in through the proxy (each region's Estado open and refreshing in a tab of its own,
so the server keeps nine scopes' shared values) and the pages loaded, in one run, by a scoped supervisor and by the
whole company's, each against a bare Streamlit page loaded just before.
Run: .venv/bin/python -m benchmarks.scoped [--branches 1000 --pos-per-branch 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import Browser

from benchmarks.common import Verdicts, deployed_chain, inventory_arguments
from benchmarks.pages import paired_loads, report
from cucu.inventory import load_inventory
from cucu.regions import branches_by_region
from tests.support.browser import TABLET

SECRET = "b" * 64
PAGES = {"": ("Estado", 2.0), "eventos": ("Eventos activos", 2.0), "bitacora": ("Bitácora", 2.0)}


def secrets_for(regions: list[str]) -> str:
    users = "\n".join(f'"sup{n}" = {{ role = "supervisor", regions = ["{r}"] }}' for n, r in enumerate(regions))
    return f'[access]\nmode = "proxy"\nproxy_secret = "{SECRET}"\n\n[access.users]\n"empresa" = "supervisor"\n{users}\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    verdicts = Verdicts()
    with deployed_chain(args.branches, args.pos_per_branch) as (env, _db), tempfile.TemporaryDirectory() as tmp:
        regions = list(branches_by_region(load_inventory(env["CUCU_INVENTORY"])))
        print(f"{len(regions)} regiones: {', '.join(regions)}")
        secrets = Path(tmp) / "secrets.toml"
        secrets.write_text(secrets_for(regions))
        server_args = ("--secrets.files", str(secrets))

        def regions_open(url: str, browser: Browser) -> None:
            for n in range(1, len(regions)):  # every other region's supervisor on Estado, refreshing live
                context = browser.new_context(
                    viewport=TABLET, extra_http_headers={"X-Remote-User": f"sup{n}", "X-Proxy-Secret": SECRET}
                )
                context.new_page().goto(url)

        for who, label in (("sup0", f"supervisor de {regions[0]}"), ("empresa", "supervisor de toda la empresa")):
            print(f"== {label} (con {len(regions) - 1} supervisores de región con Estado abierto)")
            headers = {"X-Remote-User": who, "X-Proxy-Secret": SECRET}
            times, bare = paired_loads(env, PAGES, args.runs, server_args=server_args, headers=headers, open_beside=regions_open)
            verdicts.failed |= report(PAGES, times, bare).failed
    verdicts.exit()


if __name__ == "__main__":
    main()
