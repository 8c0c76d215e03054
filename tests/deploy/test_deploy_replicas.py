"""Two dashboard processes behind the shipped basic-auth site, sharing one database, as two instances
contingencia@8501 and @8502 on one server would: nginx keeps each browser on one process (page and
websocket), what one process records the other shows, and only one of them polls cucu."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from playwright.sync_api import expect

from cucu.store import Store
from tests.support.browser import TABLET, bitacora_cells, end_first_branch, production_env, streamlit_server
from tests.support.deploy import PROXY_SECRET, htpasswd, insecure_client, nginx
from tests.support.net import free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.browser

PASSWORDS = {"ana": "clave-de-ana", "beto": "clave-de-beto"}
SECRETS = f"""
[access]
mode = "proxy"
proxy_secret = "{PROXY_SECRET}"

[access.users]
ana = "supervisor"
beto = "viewer"
"""


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, sim_server):
    directory = tmp_path_factory.mktemp("replicas")
    secrets = directory / "secrets.toml"
    secrets.write_text(SECRETS)
    htpasswd(directory / "htpasswd", PASSWORDS)
    env = production_env(sim_server.base_url, directory / "contingencia.db", check_interval_s="1", sweep_interval_s="1")
    args = ("--server.baseUrlPath", "contingencia", "--secrets.files", str(secrets))
    ports = [free_port(), free_port()]
    logs = [directory / f"streamlit-{port}.log" for port in ports]
    sim_server.simulator.reset()
    with (
        streamlit_server(env=env, args=args, base_path="/contingencia", port=ports[0], log_path=logs[0]),
        streamlit_server(env=env, args=args, base_path="/contingencia", port=ports[1], log_path=logs[1]),
        nginx("contingencia-basic-auth.conf", directory, app_port=ports) as url,
    ):
        yield url, ports, directory, logs
    sim_server.simulator.reset()


def routes(directory) -> dict[str, set[str]]:
    """Route cookie -> the upstreams nginx sent its requests to (from the access log)."""
    seen = defaultdict(set)
    for line in (directory / "access.log").read_text().splitlines():
        route, upstream = line.split(" ", 2)[:2]
        if upstream != "-":
            seen[route].add(upstream)
    return seen


def test_each_browser_stays_on_one_process_and_both_are_used(replicas):
    url, ports, directory, _ = replicas
    for n in range(24):  # 24 new browsers, each loading the page four times, each from its own address
        with insecure_client(f"127.0.0.{10 + n}") as http:  # as 24 tablets (the site limits checks per address)
            for _ in range(4):
                assert http.get(f"{url}/contingencia/", auth=("beto", PASSWORDS["beto"])).status_code == 200
            assert http.cookies.get("st_route")
    seen = routes(directory)
    assert len(seen) >= 24
    assert all(len(upstreams) == 1 for upstreams in seen.values()), seen
    assert set().union(*seen.values()) == {f"127.0.0.1:{port}" for port in ports}


def test_one_database_for_both_and_one_poller(replicas, browser):
    url, ports, directory, logs = replicas
    if not (directory / "access.log").read_text():
        test_each_browser_stays_on_one_process_and_both_are_used(replicas)
    by_upstream: dict[str, str] = {}
    for route, upstreams in routes(directory).items():
        by_upstream.setdefault(next(iter(upstreams)), route)
    route_a, route_b = (by_upstream[f"127.0.0.1:{port}"] for port in ports)
    site = f"{url}/contingencia"

    def page_on(route: str, user: str):
        context = browser.new_context(
            viewport=TABLET, ignore_https_errors=True, http_credentials={"username": user, "password": PASSWORDS[user]}
        )
        context.add_cookies([{"name": "st_route", "value": route, "url": f"{site}/"}])
        return context.new_page()

    # The supervisor acts through the first process...
    ana = page_on(route_a, "ana")
    end_first_branch(ana, site)
    # ...and a viewer on the second sees it in Bitácora, read from the shared database.
    beto = page_on(route_b, "beto")
    texts = bitacora_cells(beto, site, "ana").all_inner_texts()
    assert "Finalizar" in texts
    expect(beto.get_by_role("button", name=re.compile(r"^Finalizar"))).to_have_count(0)
    ana.context.close()
    beto.context.close()

    # Both websockets went through nginx, each to its own process (logged once closed).
    expected = [
        f'{route} 127.0.0.1:{port} 101 "GET /contingencia/_stcore/stream '
        for route, port in zip((route_a, route_b), ports, strict=True)
    ]
    wait_until(
        lambda: all(line in (directory / "access.log").read_text() for line in expected), 10, what=f"{expected} in the log"
    )

    # Both processes now run a collector; one polls and the other stands by.
    lease = Store(str(directory / "contingencia.db")).lease("collector")
    assert lease is not None
    holder = lease.holder

    def both_logged() -> list[str]:
        found = [path.read_text() for path in logs]
        return found if all("colector " in text for text in found) else []

    texts = wait_until(both_logged, 10, what="both processes to log their collector's role")
    active = [text for text in texts if f"colector activo: {holder}" in text]
    standing_by = [text for text in texts if "colector en espera" in text]
    assert len(active) == 1 and len(standing_by) == 1 and active[0] is not standing_by[0]
