"""Bitácora in Chromium on a tablet over 12 000 attempts: the total, a page from the URL, the pager, and
a CSV of every row built when the button is clicked (the deferred download AppTest cannot run)."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from cucu.inventory import DEMO_INVENTORY_PATH, load_inventory
from cucu.lapaz import now_la_paz
from cucu.store import Store
from tests.browser.test_browser_a11y import BLOCKING, axe_script, violations  # noqa: F401 - axe_script is a fixture
from tests.support.audit import audit_rows, insert_audit_rows
from tests.support.browser import TABLET, production_env, streamlit_server, wait_for_app

ROWS = 12_000


@pytest.fixture(scope="module")
def site(sim_server, tmp_path_factory):
    db = tmp_path_factory.mktemp("bitacora") / "contingencia.db"
    store = Store(str(db))
    places = [(p.branch_id, p.id) for p in load_inventory(DEMO_INVENTORY_PATH).all_pos]
    rows = list(audit_rows(ROWS, now_la_paz() - timedelta(minutes=1), places))
    insert_audit_rows(store, iter(rows))
    store.close()
    with streamlit_server(production_env(sim_server.base_url, db, collector="off")) as url:
        yield url, rows


def test_every_row_is_counted_paged_and_downloaded(site, browser, axe_script):  # noqa: F811
    url, rows = site
    page = browser.new_page(viewport=TABLET, accept_downloads=True)
    page.goto(f"{url}/bitacora?pagina=60")
    wait_for_app(page)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("12 000 registros")
    expect(main).to_contain_text("Página 60 de 60 · registros 11 801–12 000")
    newest_first = sorted(range(ROWS), key=lambda i: (rows[i]["requested_at"], i), reverse=True)
    first_shown = f"{rows[newest_first[11_800]]['requested_at']:%Y-%m-%d %H:%M:%S}-04:00"  # the grid's accessible value
    cells = page.locator('[data-testid="stDataFrame"] table td')  # the cells in view only
    expect(cells.filter(has_text=first_shown).first).to_be_attached(timeout=15_000)
    blocking = [v for v in violations(page, axe_script) if v["impact"] in BLOCKING]  # the pager too
    assert blocking == [], blocking

    page.goto(f"{url}/bitacora?pagina=muchas")  # garbage in a shared link: the first page, no traceback
    wait_for_app(page)
    expect(main).to_contain_text("Página 1 de 60 · registros 1–200")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Descargar CSV").click()
    assert download.value.suggested_filename.startswith("bitacora_")
    with open(download.value.path(), encoding="utf-8-sig", newline="") as csv_file:
        lines = list(csv.reader(csv_file, delimiter=";"))
    assert len(lines) == 1 + ROWS
    described = lines[0].index("Descripción")
    assert sorted(line[described] for line in lines[1:]) == sorted(
        ("'" if r["description"].startswith("=") else "") + r["description"] for r in rows
    )
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.close()
