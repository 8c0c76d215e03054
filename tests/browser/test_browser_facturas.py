"""End to end on a tablet: the demo's expired CUFD shows on Estado and Facturas, a supervisor renews
it through the confirmation, and the POS can invoice again."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from cucu.inventory import DEMO_INVENTORY_PATH, load_inventory
from cucu.simulator import DEFAULT_API_KEY
from tests.support.browser import ROOT, TABLET, streamlit_server, wait_for_app
from tests.support.net import free_port

SHOTS = ROOT / "screenshots"


@pytest.fixture(scope="module")
def demo():
    sim_port = free_port()
    with streamlit_server({"CUCU_SIMULATOR_PORT": str(sim_port)}) as url:
        yield url, f"http://127.0.0.1:{sim_port}"


def kpi(page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label)


def test_renewing_an_expired_cufd_lets_the_pos_invoice_again(demo, page):
    url, sim_url = demo
    inventory = load_inventory(DEMO_INVENTORY_PATH)
    total = len(inventory.all_pos)
    expired = inventory.all_pos[1]  # the simulator's story: its CUFD expired this morning
    page.set_viewport_size(TABLET)

    page.goto(f"{url}/")
    wait_for_app(page)
    # The collector reads every CUFD at its start; the live part shows it within a refresh.
    expect(kpi(page, "Pueden facturar")).to_contain_text(f"{total - 2}de {total}", timeout=30_000)

    page.goto(f"{url}/facturas")
    wait_for_app(page)
    expect(page.get_by_text(re.compile(r"CUFD: \d+ de \d+ pueden facturar"))).to_be_visible()
    page.get_by_role("tab", name="CUFD").click()  # the tab is then in the URL
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"vista=CUFD"))
    cells = page.locator('[data-testid="stDataFrame"] table td')
    expect(cells.filter(has_text=expired.name).first).to_be_attached(timeout=15_000)
    expect(cells.filter(has_text=re.compile("vencido hace")).first).to_be_attached()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "facturas-tablet.png"), full_page=True)

    page.get_by_role("button", name=re.compile(r"^Renovar todos los vencidos o por vencer")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("CUFD nuevo")
    confirm = dialog.get_by_role("button", name=re.compile(r"^Renovar el CUFD de \d+ punto"))
    expect(confirm).to_be_visible()  # drawn last: the whole dialog is there
    wait_for_app(page)
    acknowledge = dialog.get_by_role("checkbox", name=re.compile(r"^Entiendo que afecta a \d+ sucursales"))
    if acknowledge.count():  # more than one branch
        expect(confirm).to_be_disabled()
        acknowledge.check(force=True)  # Streamlit draws its own box over the input
        wait_for_app(page)
    expect(dialog).to_contain_text(expired.name)
    # The tick's rerun may not have started when wait_for_app looked (it then saw the run before): on a loaded machine
    # (CI, 2 cores) it took longer than expect's 5 s default once. Still refused if the tick never enables it.
    expect(confirm).to_be_enabled(timeout=15_000)
    confirm.click()
    expect(page.get_by_text(re.compile(r"(\d+) de \1 renovados?"))).to_be_visible(timeout=20_000)

    # cucu itself now gives the POS a valid CUFD, and the dashboard says every POS can invoice.
    with httpx.Client(base_url=sim_url, headers={"X-API-Key": DEFAULT_API_KEY}) as http:
        assert http.get(f"/api/v1/codes/cufd/{expired.id}").json()["data"]["activo"] is True
    page.get_by_role("button", name="Cerrar resultado").click()
    wait_for_app(page)
    expect(page.get_by_text("Todos los puntos de venta elegidos tienen un CUFD vigente.")).to_be_visible(timeout=15_000)
    page.goto(f"{url}/")
    wait_for_app(page)
    expect(kpi(page, "Pueden facturar")).to_contain_text(f"{total}de {total}", timeout=15_000)
    page.screenshot(path=str(SHOTS / "estado-facturar-tablet.png"), full_page=True)
