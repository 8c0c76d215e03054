"""Historial in real headless Chromium: the timeline draws exactly one bar per event of a known day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.inventory import DEMO_INVENTORY_PATH, load_inventory
from cucu.lapaz import LA_PAZ, now_la_paz
from cucu.simulator import DEFAULT_API_KEY, Simulator, SimulatorServer
from cucu.store import Store
from tests.support.browser import DESKTOP, ROOT, TABLET, streamlit_server, wait_for_app

SHOTS = ROOT / "screenshots"  # not test-results/: pytest-playwright owns and cleans that folder
INVENTORY = load_inventory(DEMO_INVENTORY_PATH)
BRANCH = {b.name: b for b in INVENTORY.branches}


def pos(branch: str, name: str):
    return next(p for p in BRANCH[branch].pos if p.name == name)


# Yesterday in La Paz: a completed day. (POS, motive, start, end or None = still open.)
SCENARIO = [
    (pos("Casa Matriz", "Caja 1"), 1, time(8, 0), time(9, 30)),
    (pos("Casa Matriz", "Caja 1"), 2, time(14, 0), time(15, 10)),
    (pos("Casa Matriz", "Caja 3"), 4, time(11, 0), time(13, 0)),
    (pos("Sucursal El Alto", "Caja 2"), 2, time(7, 15), time(8, 0)),
    (pos("Sucursal Sucre", "Caja 3"), 3, time(20, 0), None),  # open since yesterday evening
]


class Clock:
    """The simulator's clock, pinned while the scenario is written."""

    def __init__(self):
        self.pinned: datetime | None = None

    def __call__(self) -> datetime:
        return self.pinned or now_la_paz()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    day = now_la_paz().date() - timedelta(days=1)
    clock = Clock()
    sim = Simulator(INVENTORY, now=clock, history_days=0, active_share=0)
    for p, motive, start, end in SCENARIO:
        clock.pinned = datetime.combine(day, start, tzinfo=LA_PAZ)
        event = sim.start_event({"posId": p.id, "branchId": p.branch_id, "codigoMotivo": motive, "descripcion": "Prueba"})
        if end is not None:
            clock.pinned = datetime.combine(day, end, tzinfo=LA_PAZ)
            sim.end_event({"posId": p.id, "branchId": p.branch_id, "eventoId": event["id"]})
    clock.pinned = None
    assert len(sim.events()) == len(SCENARIO)
    db = tmp_path_factory.mktemp("historial") / "contingencia.db"
    with SimulatorServer(sim) as server:
        # The store as the collector leaves it (Historial reads only the database): a sweep, then the backfill.
        with CucuClient(server.base_url, DEFAULT_API_KEY) as client:
            store = Store(str(db))
            collector = Collector(client, store, INVENTORY, backfill_days=2)
            collector.sweep_once()
            collector.backfill_everything()
            store.close()
        env = {
            "CUCU_BASE_URL": server.base_url,
            "CUCU_API_KEY": DEFAULT_API_KEY,
            "CUCU_INVENTORY": str(DEMO_INVENTORY_PATH),
            "CUCU_DB": str(db),
            "CUCU_COLLECTOR": "off",
        }
        with streamlit_server(env) as url:
            yield url, day


@pytest.fixture
def page_errors(page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def bar_count(page) -> int:
    return page.locator(".js-plotly-plot .bars path").count()


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
def test_timeline_draws_one_bar_per_event(scenario, page, page_errors, viewport):
    url, day = scenario
    page.set_viewport_size(viewport)
    page.goto(f"{url}/historial?fechas={day.isoformat()}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Historial")).to_be_visible()
    expect(page.locator(".st-key-shell_header")).to_contain_text("PRODUCCIÓN")  # the shell is around the page
    expect(page.get_by_text(f"{len(SCENARIO)} eventos")).to_be_visible()
    chart = page.locator(".js-plotly-plot")
    expect(chart).to_be_visible()
    expect(page.locator(".js-plotly-plot .bars path")).to_have_count(len(SCENARIO))
    # One lane per POS of the inventory, events or not.
    expect(page.locator(".js-plotly-plot .yaxislayer-above .ytick")).to_have_count(len(INVENTORY.all_pos))
    expect(page.get_by_test_id("stException")).to_have_count(0)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"horizontal overflow of {overflow}px"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"historial-{viewport['width']}.png"), full_page=True)
    assert page_errors == []


def test_motive_filter_from_the_url(scenario, page, page_errors):
    url, day = scenario
    page.set_viewport_size(TABLET)
    page.goto(f"{url}/historial?fechas={day.isoformat()}&motivo=Falla+SIAT")
    wait_for_app(page)
    expect(page.get_by_text("2 eventos")).to_be_visible()
    expect(page.locator(".js-plotly-plot .bars path")).to_have_count(2)
    assert bar_count(page) == 2
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert page_errors == []
