"""Real Chromium, a scoped supervisor and a scoped viewer signed in through the proxy (issue 26, part 2): every frame
the server sends over the page's WebSocket, on every page (Conectividad and Pantalla too), names no other region's
branch or POS; the header says the scope; the viewer is offered no action control anywhere, the supervisor is.
One server for both people: each page's load is what the test costs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cucu.runtime import build_runtime
from cucu.settings import load_settings
from tests.support.browser import TABLET, production_env, streamlit_server, wait_for_app
from tests.support.scoped import seed_every_region

SECRET = "s" * 64
PAGES = (
    "estado", "eventos", "iniciar", "facturas", "alertas", "mantenimiento", "conectividad", "historial", "bitacora",
    "caidas", "informe", "pantalla",
)  # fmt: skip
WALL = "pantalla"  # no top bar on the wall: its scope is in what it shows, not in a header
# What only a supervisor is offered (the keys of tests/apptest/test_page_roles.py's action controls, and
# Estado's queue's renewal): a viewer's pages hold none of them.
ACTION_CONTROLS = (
    ".st-key-estado_sugerido, .st-key-finalizar_todos, .st-key-iniciar_revisar, .st-key-estado_cola_renovar, "
    "[class*='st-key-finalizar_']"
)
SECRETS = f"""
[access]
mode = "proxy"
proxy_secret = "{SECRET}"

[access.users]
"luis" = {{ role = "supervisor", regions = ["La Paz"] }}
"vera" = {{ role = "viewer", regions = ["La Paz"] }}
"""


@pytest.fixture
def seeded_db(sim, sim_server, tmp_path):
    db = tmp_path / "contingencia.db"
    runtime = build_runtime(load_settings({}, production_env(sim_server.base_url, db, collector="off")), start_collector=False)
    try:
        runtime.collector.check_once()
        runtime.collector.sweep_once()
        forbidden, mine = seed_every_region(sim, runtime, "La Paz")
    finally:
        runtime.close()
    return db, forbidden, mine


def test_no_frame_a_scoped_supervisor_or_viewer_receives_names_another_region(sim_server, seeded_db, browser, tmp_path):
    db, forbidden, mine = seeded_db
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(SECRETS)
    env = production_env(sim_server.base_url, db, collector="off")
    with streamlit_server(env, args=("--secrets.files", str(secrets))) as url:
        for user in ("luis", "vera"):
            frames: list[bytes] = []
            offered: dict[str, int] = {}
            context = browser.new_context(
                viewport=TABLET, locale="es-BO", extra_http_headers={"X-Remote-User": user, "X-Proxy-Secret": SECRET}
            )
            page = context.new_page()
            page.on(
                "websocket",
                lambda ws, frames=frames: ws.on(
                    "framereceived", lambda data: frames.append(data if isinstance(data, bytes) else data.encode())
                ),
            )
            for name in PAGES:
                page.goto(f"{url}/{name}")
                wait_for_app(page)
                if name == WALL:
                    expect(page.get_by_text("POS en contingencia").first).to_be_visible()
                else:
                    expect(page.get_by_text("Región La Paz").first).to_be_visible()
                page.wait_for_timeout(300)  # what the page sends right after its run
                offered[name] = page.locator(ACTION_CONTROLS).count()
            if user == "vera":
                assert not any(offered.values()), offered  # nothing to start, end or renew
            else:
                assert offered["iniciar"] >= 1, offered  # the check sees a supervisor's controls
            context.close()
            received = b"".join(frames)
            assert len(frames) > len(PAGES), user
            assert any(name.encode() in received for name in mine), user  # the frames are read: their own branches
            leaked = [name for name in forbidden if name.encode() in received]
            assert not leaked, (user, leaked)
