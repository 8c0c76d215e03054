"""What an open Estado costs the server: its CPU per refresh (header and page, every 10 s) with one scoped supervisor
looking and with fifty (one per region, the rest districts within regions; ``benchmarks.headless`` sessions), in
the chain's deployed shape. Fifty scopes share the company's reads, so a refresh should cost about the same with
fifty as with one (ratio <= 1.5); the absolute figure says how many people one process (one core) carries.
Run: .venv/bin/python -m benchmarks.refresh [--branches 1000 --pos-per-branch 10] [--supervisors 50] [--window-s 60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import Verdicts, deployed_chain, inventory_arguments
from benchmarks.headless import HeadlessViewer, open_viewers, signed_in_as_themselves
from benchmarks.scoped import SECRET, scopes, secrets_for, signed_in
from cucu.inventory import load_inventory
from cucu.organization.regions import branches_by_region
from tests.support.browser import streamlit_server


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(pid: int, viewers: list[HeadlessViewer], window_s: float) -> tuple[float, int, float]:
    """Over ``window_s``: the server's CPU seconds, the refreshes it finished for ``viewers``, the seconds."""
    cpu, runs, started = cpu_seconds(pid), sum(v.runs for v in viewers), time.monotonic()
    time.sleep(window_s)
    return cpu_seconds(pid) - cpu, sum(v.runs for v in viewers) - runs, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    parser.add_argument("--supervisors", type=int, default=50)
    parser.add_argument("--window-s", type=float, default=60)
    args = parser.parse_args()

    verdicts = Verdicts()
    with deployed_chain(args.branches, args.pos_per_branch) as (chain_env, _db), tempfile.TemporaryDirectory() as tmp:
        env = signed_in(chain_env)
        people = scopes(branches_by_region(load_inventory(env["CUCU_INVENTORY"])), args.supervisors)
        secrets = Path(tmp) / "secrets.toml"
        secrets.write_text(secrets_for(people))
        started: list[subprocess.Popen[str]] = []
        with streamlit_server(env, timeout_s=300, args=("--secrets.files", str(secrets)), started=started) as url:
            pid = started[0].pid
            headers = {f"sup{n}": {"X-Remote-User": f"sup{n}", "X-Proxy-Secret": SECRET} for n in range(len(people))}
            one = open_viewers(url, {"sup0": headers.pop("sup0")}, spread_s=0)
            time.sleep(20)  # its first run built the company's frames
            cpu1, runs1, seconds1 = measure(pid, one, args.window_s / 2)
            others = open_viewers(url, headers)
            time.sleep(20)
            cpu50, runs50, seconds50 = measure(pid, one + others, args.window_s)
            dropped = [v.error for v in one + others if v.error]  # before the server stops: then all of them are
            signed = signed_in_as_themselves(one + others)
            for viewer in one + others:
                viewer.stop()
    per1, per50 = cpu1 / max(1, runs1), cpu50 / max(1, runs50)
    print(f"1 supervisor: {runs1} refrescos en {seconds1:.0f} s, {1000 * per1:.1f} ms de CPU del servidor cada uno")
    print(
        f"{len(people)} supervisores: {runs50} refrescos en {seconds50:.0f} s, {1000 * per50:.1f} ms cada uno; "
        f"el servidor ocupado {100 * cpu50 / seconds50:.0f} % de un núcleo"
    )
    # What each further person costs: the CPU beyond one person's (whose share includes the company's rebuilds),
    # per refresh beyond theirs.
    marginal = (cpu50 / seconds50 - cpu1 / seconds1) / max(1e-9, runs50 / seconds50 - runs1 / seconds1)
    print(f"cada refresco más: {1000 * marginal:.1f} ms de CPU del servidor")
    print(f"sesiones cortadas: {len(dropped)} {dropped[:2]}")
    verdicts.check("supervisores que entraron con su nombre", signed, ">=", len(people))
    verdicts.check(f"CPU por refresco con {len(people)} / con 1", per50 / per1, "<=", 1.5)
    verdicts.exit()


if __name__ == "__main__":
    main()
