"""A chain on a tablet: a generated demo of 1 200 POS in 120 branches. The big grids stream their rows
from the server (``st.dataframe(lazy=True)``): they still draw, and scrolling reaches the last branch."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import TABLET, streamlit_server, wait_for_app

BRANCHES, PER_BRANCH = 120, 10


@pytest.fixture(scope="module")
def chain():
    with streamlit_server({"CUCU_DEMO_SIZE": f"{BRANCHES}x{PER_BRANCH}"}, timeout_s=120) as url:
        yield url


def cells(page):
    return page.locator('[data-testid="stDataFrame"] table td')


def test_eventos_streams_every_pos_and_scrolls_to_the_last_branch(chain, page):
    page.set_viewport_size(TABLET)
    page.goto(f"{chain}/eventos")
    wait_for_app(page, 120_000)
    expect(page.get_by_text("1 200 de 1 200 puntos de venta")).to_be_visible()
    # The grid draws (its first rows are whatever is urgent, from any branch: no fixed first branch).
    expect(cells(page).filter(has_text="Sucursal ").first).to_be_attached(timeout=15_000)
    grid = page.get_by_test_id("stDataFrame").last
    grid.hover()
    last = f"Sucursal {BRANCHES:03d}"
    for _ in range(60):  # the rows below the first chunk come from the server as the grid scrolls
        if cells(page).filter(has_text=last).count():
            break
        page.mouse.wheel(0, 4000)
        page.wait_for_timeout(150)
    expect(cells(page).filter(has_text=last).first).to_be_attached(timeout=10_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_historial_draws_a_chain_week(chain, page):
    page.set_viewport_size(TABLET)
    page.goto(f"{chain}/historial")
    wait_for_app(page, 120_000)
    expect(page.get_by_test_id("stVegaLiteChart")).to_be_visible()  # events per day: a chain has too many lanes
    expect(page.get_by_role("heading", name="Eventos", exact=True)).to_be_visible()
    expect(cells(page).first).to_be_attached(timeout=15_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
