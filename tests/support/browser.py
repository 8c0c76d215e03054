"""Run the dashboard as a real Streamlit server for browser tests, and Chromium flags for this machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import ViewportSize, expect

from cucu.settings import ENV_PREFIX
from tests.support.net import free_port
from tests.support.waiting import wait_until_ok

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the networking flags Chromium keeps calling Google hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
TABLET: ViewportSize = {"width": 820, "height": 1180}


def production_env(base_url: str, db: Path | str, **settings: str) -> dict[str, str]:
    """The environment of a dashboard in front of a (simulated) cucu at ``base_url``: PRODUCCIÓN mode
    with the demo inventory, on ``db``; ``settings`` adds CUCU_<NAME> variables."""
    from cucu.inventory import DEMO_INVENTORY_PATH
    from cucu.simulator import DEFAULT_API_KEY

    env = {
        "CUCU_BASE_URL": base_url,
        "CUCU_API_KEY": DEFAULT_API_KEY,
        "CUCU_INVENTORY": str(DEMO_INVENTORY_PATH),
        "CUCU_DB": str(db),
    }
    return env | {f"CUCU_{name.upper()}": value for name, value in settings.items()}


@contextmanager
def streamlit_server(
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
    log_path: Path | None = None,
    stopped: list[int | str] | None = None,
    args: tuple[str, ...] = (),
    base_path: str = "",
    port: int | None = None,
    script: Path | None = None,
    started: list[subprocess.Popen[str]] | None = None,
):
    """Start ``streamlit run app.py`` (or ``script``) on a free loopback port; yield its base URL; stop it.

    Output goes to ``log_path`` (a temporary file by default: a pipe nobody reads would
    block a chatty server). ``stopped`` receives the exit code after SIGTERM; ``started``, the
    process (a benchmark reads its CPU and memory from /proc).
    """
    port = port or free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    child_env.update(env or {})
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script or ROOT / "app.py"),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        *args,
    ]
    log_file = open(log_path, "w") if log_path else tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env, stdout=log_file, stderr=subprocess.STDOUT, text=True)
    if started is not None:
        started.append(proc)
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_ok(f"{base_url}{base_path}/_stcore/health", proc, "streamlit", timeout_s, ok=lambda r: r.text == "ok")
        except RuntimeError as exc:
            log_file.seek(0)
            raise RuntimeError(f"{exc}:\n{log_file.read()}") from None
        yield base_url
    finally:
        proc.terminate()
        code: int | str
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = "killed"
        if stopped is not None:
            stopped.append(code)
        log_file.close()


def wait_for_app(page, timeout_ms: int = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no sleeping)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)


def session_menu(page, timeout_ms: float = 5_000):
    """The "Sesión" menu at the top of every page (who is signed in, the role, sign-out), opened."""
    body = page.get_by_test_id("stPopoverBody")
    if not body.is_visible():
        page.locator(".st-key-sesion button").first.click(timeout=timeout_ms)
    return body


# ---- a supervisor's round, shared by the deployment tests and tests/deploy/fresh_debian ----------------


def end_first_branch(page, site: str, branch: str = "Casa Matriz") -> None:
    """On Eventos activos filtered to a branch (the demo inventory's first), end every event shown, through the dialog."""
    page.goto(f"{site}/eventos?sucursal={branch.replace(' ', '+')}")
    wait_for_app(page)
    page.get_by_role("button", name=re.compile(r"^Finalizar todos los eventos mostrados ")).click()
    page.get_by_role("dialog").get_by_role("button", name=re.compile(r"^Finalizar \d+ evento")).click()
    expect(page.get_by_text(re.compile(r"\d+ de \d+ finalizados?"))).to_be_visible(timeout=20_000)


def open_select(page, label: str) -> None:
    """Open the select box labelled ``label`` once it is enabled: Iniciar's "Punto de venta" stays disabled until
    the rerun that follows choosing a branch has drawn it, and a click on it before then opens nothing."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    expect(box.locator("input")).to_be_enabled()
    box.click()


def pick_first(page, label: str) -> None:
    """Choose the first option of the select box labelled ``label`` (Iniciar evento preselects nothing)."""
    open_select(page, label)
    page.get_by_role("option").first.click()
    wait_for_app(page)


def start_one_event(page, site: str, description: str) -> None:
    """On Iniciar evento, start a motive-2 event on the first branch's first POS, through the dialog."""
    page.goto(f"{site}/iniciar")
    wait_for_app(page)
    pick_first(page, "Sucursal")
    pick_first(page, "Punto de venta")
    page.get_by_text("2 · Falla SIAT").click()
    page.get_by_label("Descripción").fill(description)
    page.get_by_label("Descripción").press("Control+Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Revisar y confirmar").click()
    page.get_by_role("dialog").get_by_role("button", name=re.compile("Iniciar contingencia en 1")).click()
    expect(page.get_by_text(re.compile(r"\b1 de 1 iniciado\b"))).to_be_visible(timeout=20_000)


def bitacora_cells(page, site: str, actor: str):
    """Open Bitácora and wait for a row by ``actor``; returns the grid's cells."""
    page.goto(f"{site}/bitacora")
    wait_for_app(page)
    cells = page.locator('[data-testid="stDataFrame"] table td')
    expect(cells.filter(has_text=actor).first).to_be_attached(timeout=15_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    return cells
