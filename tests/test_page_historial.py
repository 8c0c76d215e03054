"""AppTest: the Historial page against the seeded simulator (two weeks of events, some open now)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from cucu.history_view import SHOWN_COLUMNS
from cucu.inventory import DEMO_INVENTORY_PATH, load_inventory
from cucu.lapaz import now_la_paz
from cucu.periods import MAX_RANGE_DAYS
from cucu.store import Store
from cucu.vocabulary import Motive
from tests.apptest_support import APP, run_app, texts

pytestmark = pytest.mark.usefixtures("streamlit_caches")

PAGE = "pages/historial.py"
BY_DATE = "POST /api/v1/events"  # the simulator's route name for "events of a POS on a date"
SUCRE = "09f565b1-9432-5359-9d11-62fde52043c4"


def by_date_calls(sim) -> int:
    return sim.stats()["by_route"].get(BY_DATE, 0)


def events_table(at):
    return at.dataframe[0].value


def test_default_range_shows_table_timeline_summary_and_download(app_secrets, sim):
    at = run_app(app_secrets, page=PAGE)
    assert at.title[0].value == "Historial"
    today = now_la_paz().date()
    assert at.date_input(key="fechas").value == (today - timedelta(days=6), today)
    body = texts(at)
    assert "154 días de punto de venta: 0 desde la base local, 154 consultados a cucu" in body  # 22 POS x 7 days
    assert "No se pudieron" not in body
    assert by_date_calls(sim) == 154
    table = events_table(at)
    assert len(table) > 0 and set(SHOWN_COLUMNS) <= set(table.columns)
    # The seed has open events: they are in the table, and the header line counts them.
    assert "Activo" in set(table["Estado"]) and "en curso" in body
    assert len(at.get("plotly_chart")) == 1
    summary = at.dataframe[1].value
    assert summary.iloc[-1]["Sucursal"] == "Total general" and summary.iloc[-1]["Eventos"] == len(table)
    download = at.get("download_button")
    assert len(download) == 1
    assert not at.exception


def test_filters_narrow_rows_without_calling_cucu_again(app_secrets, sim):
    at = run_app(app_secrets, page=PAGE)
    everything = events_table(at)
    calls = by_date_calls(sim)

    at.multiselect(key="motivo").set_value([int(Motive.FALLA_SIAT)]).run()
    only_siat = events_table(at)
    assert 0 < len(only_siat) < len(everything)
    assert set(only_siat["Código motivo"]) == {2}
    assert by_date_calls(sim) == calls  # a motive filter is applied to what was loaded

    casa_matriz = "88cbe4eb-6221-5ab1-a711-b5500c4dfbc1"
    at.multiselect(key="motivo").set_value([]).run()
    at.multiselect(key="sucursal").set_value([casa_matriz]).run()
    branch = events_table(at)
    assert set(branch["Sucursal"]) == {"Casa Matriz"} and len(branch) < len(everything)
    # The POS filter now only offers Casa Matriz's six POS.
    assert len(at.multiselect(key="pos").options) == 6
    assert not at.exception


def test_invalid_ranges_are_refused_in_spanish(app_secrets, sim):
    at = run_app(app_secrets, page=PAGE)
    today = now_la_paz().date()
    calls = by_date_calls(sim)

    at.date_input(key="fechas").set_value((today, today - timedelta(days=3))).run()
    assert "La fecha final es anterior a la inicial" in at.error[0].value

    at.date_input(key="fechas").set_value((today - timedelta(days=MAX_RANGE_DAYS + 10), today)).run()
    assert f"el máximo es {MAX_RANGE_DAYS}" in at.error[0].value
    assert not at.dataframe and not at.get("plotly_chart") and not at.exception

    # The calendar offers no future day (max_value); a future value goes back to the default
    # (range_problem's own message for future days is covered in test_history_view).
    at.date_input(key="fechas").set_value((today - timedelta(days=1), today + timedelta(days=2))).run()
    assert at.date_input(key="fechas").value == (today - timedelta(days=6), today)
    assert not at.error and at.dataframe
    assert by_date_calls(sim) == calls  # nothing refused was asked of cucu; the default is in session


def test_url_opens_one_day_of_one_branch(app_secrets, sim):
    """A shared link: ``?fechas=`` (one day; the widget drops a repeated equal date) and names."""
    day = now_la_paz().date() - timedelta(days=2)
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.query_params["fechas"] = [day.isoformat(), day.isoformat()]
    at.query_params["sucursal"] = "Sucursal Sucre"
    at.query_params["motivo"] = ["Corte de internet", "Falla SIAT"]
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.multiselect(key="sucursal").value == [SUCRE]
    assert at.multiselect(key="motivo").value == [1, 2]
    assert by_date_calls(sim) == 3  # Sucre's 3 POS, one day
    assert "3 días de punto de venta" in texts(at)
    if at.dataframe:
        table = events_table(at)
        assert set(table["Sucursal"]) == {"Sucursal Sucre"} and set(table["Código motivo"]) <= {1, 2}
        assert set(table["Inicio"].dt.date) == {day}
    else:  # the seed may leave Sucre without such events that day
        assert "No hay eventos de contingencia" in at.info[0].value


def test_api_failure_gives_a_spanish_warning_and_shows_cached_days(app_secrets, sim):
    run_app(app_secrets, page=PAGE)  # fills the store
    sim.update_faults({"error_rate": 1.0})
    at = run_app(app_secrets, page=PAGE)  # a new session: re-reads today and days with open events
    assert not at.exception
    warning = at.warning[0].value
    assert "No se pudieron consultar" in warning and "cucu" in warning
    assert "copia guardada anteriormente" in warning  # those days were cached by the first visit
    assert "Traceback" not in texts(at)
    assert len(events_table(at)) > 0  # completed days come from the store, failed ones from the older copy


def test_api_failure_without_cache_says_days_are_missing(app_secrets, sim):
    sim.update_faults({"error_rate": 1.0})
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.query_params["fechas"] = now_la_paz().date().isoformat()
    at.query_params["sucursal"] = "Sucursal Sucre"  # 3 POS: 3 failing calls (with their retries)
    at.switch_page(PAGE).run()
    assert not at.exception
    warning = at.warning[0].value
    assert "No se pudieron consultar 3 días de punto de venta" in warning
    assert "Sucursal Sucre · Caja 1" in warning and "no aparecen" in warning
    assert "Traceback" not in texts(at)


def test_second_visit_serves_completed_days_from_the_store(app_secrets, sim):
    run_app(app_secrets, page=PAGE)
    store = Store(app_secrets["db"])
    today = now_la_paz().date()
    all_pos = [p.id for p in load_inventory(DEMO_INVENTORY_PATH).all_pos]
    cached = store.get_days([(pos, today - timedelta(days=i)) for pos in all_pos for i in range(7)])
    store.close()
    open_days = sum(1 for d in cached.values() if not d.complete)
    assert len(cached) == 154 and 22 <= open_days < 154  # today, plus days whose event is still open

    sim.reset_stats()
    at = run_app(app_secrets, page=PAGE)  # a new session: nothing kept in session state
    assert by_date_calls(sim) == open_days
    assert f"{154 - open_days} desde la base local, {open_days} consultados a cucu" in texts(at)


def test_refresh_button_asks_cucu_again_for_days_that_can_change(app_secrets, sim):
    # A click on a page other than the default one must reach the page (see ui.shell.page_context).
    at = run_app(app_secrets, page=PAGE)
    before = by_date_calls(sim)
    at.run()
    assert by_date_calls(sim) == before  # a plain rerun serves the session's copy
    at.button(key="historial_actualizar").click().run()
    assert not at.exception
    assert by_date_calls(sim) > before  # today (at least) fetched again
