"""AppTest: Bitácora over a log longer than any cap — the total, pages in the URL, a CSV of every row."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cucu.lapaz import now_la_paz
from cucu.periods import day_bounds, default_range
from cucu.store import AUDIT_CHUNK, AUDIT_PAGE_SIZE, AuditFilter
from cucu.store.schema import audit_log
from cucu.views.bitacora import audit_csv
from tests.support.apptest import APP, run_app, texts
from tests.support.audit import audit_rows, insert_audit_rows

PAGE = "pages/bitacora.py"
ROWS = 12_000  # more than the 5 000 Bitácora used to stop at


@pytest.fixture
def long_log(sim, seeded_runtime):
    """12 000 attempts over the demo inventory in the last five days (inside the default week)."""
    places = [(p.branch_id, p.id) for p in sim.inventory.all_pos]
    rows = list(audit_rows(ROWS, now_la_paz() - timedelta(minutes=1), places))
    insert_audit_rows(seeded_runtime.store, iter(rows))
    order = sorted(range(ROWS), key=lambda i: (rows[i]["requested_at"], i), reverse=True)  # ids follow i
    return [rows[i] for i in order]  # newest first, as Bitácora shows them


def shown(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["Descripción"])


def test_the_total_the_first_and_the_last_page(long_log, app_secrets):
    at = run_app(app_secrets, page=PAGE)
    body = texts(at)
    assert "**12 000 registros**" in body
    pages = at.pagination(key="pagina")
    assert pages.num_pages == ROWS // AUDIT_PAGE_SIZE and pages.value == 1
    assert "Página 1 de 60 · registros 1–200" in body
    assert shown(at) == [r["description"] for r in long_log[:AUDIT_PAGE_SIZE]]
    assert len(at.get("download_button")) == 1

    at.pagination(key="pagina").select(60).run()
    assert not at.exception
    assert "Página 60 de 60 · registros 11 801–12 000" in texts(at)
    assert shown(at)[-1] == long_log[-1]["description"]  # the oldest row is reachable
    assert at.pagination(key="pagina").proto.query_param_key == "pagina"  # the browser keeps it in the URL

    at.pagination(key="pagina").select(20).run()  # a page the next filter has too
    at.multiselect(key="bitacora_accion").set_value(["iniciar"]).run()  # a filter keeps counting every row
    assert "**6 000 registros**" in texts(at) and at.pagination(key="pagina").num_pages == 30
    assert at.pagination(key="pagina").value == 1  # another filter opens at its first page
    assert set(at.dataframe[0].value["Acción"]) == {"Iniciar"}


@pytest.mark.parametrize("value", ["7", "0", "-3", "999", "abc", "2.5", "", "99999999999999999999999"])
def test_a_page_number_from_the_url_opens_that_page_or_the_first(long_log, app_secrets, value):
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.query_params["pagina"] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    number = 7 if value == "7" else 1
    assert at.pagination(key="pagina").value == number
    first = (number - 1) * AUDIT_PAGE_SIZE
    assert shown(at) == [r["description"] for r in long_log[first : first + AUDIT_PAGE_SIZE]]


def test_one_page_has_no_pager_and_says_one_record(seeded_runtime, app_secrets):
    places = [(p.branch_id, p.id) for p in seeded_runtime.inventory.all_pos]
    insert_audit_rows(seeded_runtime.store, audit_rows(1, now_la_paz() - timedelta(minutes=1), places))
    at = run_app(app_secrets, page=PAGE)
    assert "**1 registro**" in texts(at) and "Página 1 de 1 · registros 1–1" in texts(at)
    assert not at.get("pagination")


def test_an_empty_time_shows_a_dash_not_none(seeded_runtime, app_secrets):
    """Streamlit draws a missing value as a grey "None" unless the grid has a placeholder; the times stay typed."""
    places = [(p.branch_id, p.id) for p in seeded_runtime.inventory.all_pos]
    insert_audit_rows(seeded_runtime.store, audit_rows(1, now_la_paz() - timedelta(minutes=1), places))
    at = run_app(app_secrets, page=PAGE)
    grid = at.dataframe[0]
    assert grid.proto.placeholder == "—"
    assert pd.api.types.is_datetime64_any_dtype(grid.value["Fecha"])


def test_the_csv_holds_every_row_of_the_filter_read_in_chunks(long_log, seeded_runtime, monkeypatch):
    """What the download button builds on click (the same call the page hands it)."""
    store = seeded_runtime.store
    chunks: list[int] = []
    read = store.audit_chunks

    def counted(where, **kwargs):
        for chunk in read(where, **kwargs):
            chunks.append(len(chunk))
            yield chunk

    monkeypatch.setattr(store, "audit_chunks", counted)
    since, until = day_bounds(*default_range(now_la_paz().date()))
    out = audit_csv(store, AuditFilter(since=since, until=until), seeded_runtime.inventory)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert len(body) == ROWS == store.audit_count(AuditFilter(since=since, until=until))
    assert chunks == [AUDIT_CHUNK, AUDIT_CHUNK, ROWS - 2 * AUDIT_CHUNK]  # never one frame of every row
    described = header.index("Descripción")
    expected = [("'" if r["description"].startswith("=") else "") + r["description"] for r in long_log]
    assert [r[described] for r in body] == expected  # newest first, each once; formulas written as text
    assert sum(r[described].startswith("'=") for r in body) == ROWS // 1000


def test_an_unknown_stored_value_is_shown_not_a_traceback(seeded_runtime, app_secrets):
    with seeded_runtime.store.engine.begin() as conn:  # as a newer version (or a person) might write it
        conn.execute(
            audit_log.insert().values(
                requested_at=now_la_paz() - timedelta(minutes=5),
                actor="ana",
                role="auditor",
                action="anular",
                branch_id="b",
                pos_id="p",
                outcome="reintentado",
            )
        )
    at = run_app(app_secrets, page=PAGE)
    row = at.dataframe[0].value.iloc[0]
    assert (row["Acción"], row["Resultado"], row["Rol"]) == (
        "⚠ anular (desconocido)",
        "⚠ reintentado (desconocido)",
        "⚠ auditor (desconocido)",
    )
