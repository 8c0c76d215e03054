"""AppTest: the Historial page on a store the collector filled from the seeded simulator (two weeks
of events, some open now). The page itself never calls cucu."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cucu.lapaz import now_la_paz
from cucu.periods import MAX_RANGE_DAYS, Preset, earliest_day
from cucu.runtime import build_runtime
from cucu.settings import load_settings
from cucu.views.historial import SHOWN_COLUMNS
from cucu.vocabulary import Motive
from tests.support.apptest import APP, run_app, texts

PAGE = "pages/historial.py"
BY_DATE = "POST /api/v1/events"  # the simulator's route name for "events of a POS on a date"
SUCRE = "09f565b1-9432-5359-9d11-62fde52043c4"


def by_date_calls(sim) -> int:
    return sim.stats()["by_route"].get(BY_DATE, 0)


@pytest.fixture
def collected(app_secrets, sim):
    """The store as a running collector leaves it: a sweep, then the backfill of every due day.
    Counters reset, so a test sees only the calls the page makes."""
    runtime = build_runtime(load_settings(app_secrets, {}), start_collector=False)
    runtime.collector.sweep_once()
    runtime.collector.backfill_everything()
    sim.reset_stats()
    yield runtime
    runtime.close()


def events_table(at):
    return next(d.value for d in at.dataframe if "ID evento" in d.value.columns)


def summary_table(at):
    return next(d.value for d in at.dataframe if "Horas" in d.value.columns)


def test_default_range_shows_table_timeline_summary_and_download(app_secrets, sim, collected):
    at = run_app(app_secrets, page=PAGE)
    assert at.title[0].value == "Historial"
    today = now_la_paz().date()
    assert at.date_input(key="fechas").value == (today - timedelta(days=6), today)
    body = texts(at)
    assert "Días cerrados completos, verificados con cucu (6)" in body and "Hoy muestra lo que el colector observó" in body
    assert not at.info
    assert by_date_calls(sim) == 0  # from the local database only
    table = events_table(at)
    assert len(table) > 0 and set(SHOWN_COLUMNS) <= set(table.columns)
    # The seed has open events: they are in the table, and the header line counts them.
    assert "Activo" in set(table["Estado"]) and "en curso" in body
    assert len(at.get("plotly_chart")) == 1
    summary = summary_table(at)
    assert summary.iloc[-1]["Sucursal"] == "Total general" and summary.iloc[-1]["Eventos"] == len(table)
    # Durations typed, so the grid sorts them by value and shows them the same way at any size.
    assert pd.api.types.is_timedelta64_dtype(table["Duración (h)"]) and pd.api.types.is_timedelta64_dtype(summary["Horas"])
    download = at.get("download_button")
    assert len(download) == 1
    assert not at.exception


def test_filters_narrow_rows_without_calling_cucu(app_secrets, sim, collected):
    at = run_app(app_secrets, page=PAGE)
    everything = events_table(at)
    calls = by_date_calls(sim)

    at.multiselect(key="motivo").set_value([int(Motive.SIAT_FAILURE)]).run()
    only_siat = events_table(at)
    assert 0 < len(only_siat) < len(everything)
    assert set(only_siat["Código motivo"]) == {2}
    assert by_date_calls(sim) == calls == 0

    casa_matriz = "88cbe4eb-6221-5ab1-a711-b5500c4dfbc1"
    at.multiselect(key="motivo").set_value([]).run()
    at.multiselect(key="sucursal").set_value([casa_matriz]).run()
    branch = events_table(at)
    assert set(branch["Sucursal"]) == {"Casa Matriz"} and len(branch) < len(everything)
    # The POS filter now only offers Casa Matriz's six POS.
    assert len(at.multiselect(key="pos").options) == 6
    assert not at.exception


def test_invalid_ranges_are_refused_in_spanish(app_secrets, sim, collected):
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
    assert by_date_calls(sim) == calls == 0


def test_the_period_shortcuts_set_the_calendar(app_secrets, sim, collected):
    """Spanish shortcuts in place of Streamlit's English presets, which the calendar's first day keeps away."""
    at = run_app(app_secrets, page=PAGE)
    today = now_la_paz().date()
    assert at.date_input(key="fechas").min == earliest_day(today)
    for preset in Preset:
        at.button_group(key="fechas_atajo").set_value(preset).run()
        assert at.date_input(key="fechas").value == preset.range(today), preset
        assert at.button_group(key="fechas_atajo").value is None  # an action, not a state left lit
        assert not at.error and not at.exception
    assert at.query_params["fechas"] == [str(d) for d in Preset.LAST_MONTH.range(today)]  # still a shareable link


def test_url_opens_one_day_of_one_branch(app_secrets, sim, collected):
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
    assert by_date_calls(sim) == 0
    assert "Días cerrados completos, verificados con cucu (1)" in texts(at)
    assert at.expander and at.expander[0].dataframe[0].value["Verificados"].tolist() == [3]  # Sucre's 3 POS
    if any("ID evento" in d.value.columns for d in at.dataframe):
        table = events_table(at)
        assert set(table["Sucursal"]) == {"Sucursal Sucre"} and set(table["Código motivo"]) <= {1, 2}
        assert set(table["Inicio"].dt.date) == {day}
    else:  # the seed may leave Sucre without such events that day
        assert "No hay eventos de contingencia" in at.info[0].value


def test_cucu_down_changes_nothing_the_page_shows(app_secrets, sim, collected):
    before = events_table(run_app(app_secrets, page=PAGE))
    sim.update_faults({"error_rate": 1.0})
    at = run_app(app_secrets, page=PAGE)
    assert not at.exception and not at.warning and "Traceback" not in texts(at)
    assert events_table(at)["ID evento"].tolist() == before["ID evento"].tolist()


def test_days_the_backfill_has_not_reached_are_named_and_observed_events_still_shown(app_secrets, sim):
    """A collector that has only swept (a fresh database): today's and the open events are shown,
    and the page says which completed days are still to be verified with cucu."""
    runtime = build_runtime(load_settings(app_secrets, {}), start_collector=False)
    runtime.collector.sweep_once()
    today = now_la_paz().date()
    yesterday = today - timedelta(days=1)
    runtime.collector.backfill_days = 1
    runtime.collector.backfill_once(budget=30)  # today's 10 POS, then 20 of yesterday's 22
    runtime.close()
    at = run_app(app_secrets, page=PAGE)
    notice = at.info[0].value
    assert "Faltan por verificar con cucu 112 de 132 días de punto de venta" in notice  # 6 closed days x 22
    assert f"{yesterday:%d/%m} (90,9 %)" in notice and "y 2 días más" in notice
    coverage = at.expander[0].dataframe[0].value
    assert coverage["Verificados"].tolist() == [0, 0, 0, 0, 0, 20]
    table = events_table(at)
    assert "Activo" in set(table["Estado"])  # what the sweep observed is shown meanwhile
    assert by_date_calls(sim) == 30  # the backfill's; the page added none


def test_a_chain_gets_events_per_day_instead_of_a_lane_per_pos(app_secrets, sim, collected, monkeypatch):
    import cucu.views.figures.timeline as timeline

    monkeypatch.setattr(timeline, "MAX_LANES", 5)  # the page imports it at each run: 5 instead of 60
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.switch_page(PAGE).run()
    assert not at.exception
    assert "puntos de venta tuvieron eventos: aquí, los eventos en curso cada día" in texts(at)
    (chart,) = at.get("vega_lite_chart")
    import pyarrow.ipc

    per_day = pyarrow.ipc.open_stream(chart.proto.data.data).read_all().to_pandas()  # Streamlit sends the values as Arrow
    assert "Motivo" in json.loads(chart.proto.spec)["encoding"]["color"]["field"]
    # Every event of the week on each day it was open (the unit tests count them exactly): at least on its first.
    table = events_table(at)
    started = table.groupby(table["Inicio"].dt.strftime("%d/%m")).size()
    shown = per_day.groupby("Día")["Eventos"].sum()
    in_range = started[started.index.isin(shown.index)]  # one that began before the week counts on its first day
    assert all(shown[day] >= count for day, count in in_range.items()) and not at.get("plotly_chart")
    assert shown.sum() >= len(table)


def test_sessions_share_one_read_until_the_store_changes(app_secrets, sim, collected, monkeypatch):
    import cucu.events.history as history
    import ui.resources
    from cucu.store import DayEvents

    monkeypatch.setattr(ui.resources, "_clock", lambda every_s: 0)  # no minute boundary between the runs
    reads = []
    original = history.stored_history

    def counted(*args, **kwargs):
        reads.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(history, "stored_history", counted)
    first = events_table(run_app(app_secrets, page=PAGE))
    second = events_table(run_app(app_secrets, page=PAGE))  # another tablet, same range and filters
    assert len(reads) == 1 and second["ID evento"].tolist() == first["ID evento"].tolist()
    today = now_la_paz().date()
    # A POS with no event today, whatever the hour: its empty list read again is no change.
    pos = next(
        p for p in collected.inventory.all_pos if all(e["fechaInicio"][:10] != today.isoformat() for e in sim.events(p.id))
    )
    same = DayEvents(pos.id, pos.branch_id, today, now_la_paz(), False, ())
    collected.store.put_days([same])  # today's list read again, unchanged: not a change
    run_app(app_secrets, page=PAGE)
    assert len(reads) == 1
    collected.store.put_days([dataclasses.replace(same, complete=True)])
    run_app(app_secrets, page=PAGE)
    assert len(reads) == 2  # a change in the day cache: read again


def test_a_chain_narrows_the_pos_filter_by_branch_first(app_secrets, sim, collected, monkeypatch):
    import cucu.views.historial

    monkeypatch.setattr(cucu.views.historial, "MAX_POS_CHOICES", 5)  # the demo's 22 POS stand for a chain's 10 000
    at = run_app(app_secrets, page=PAGE)
    keys = {m.key for m in at.multiselect}
    assert "pos" not in keys and "pos_sin_sucursal" in keys
    assert "Todos (22)" in at.multiselect(key="pos_sin_sucursal").placeholder
    assert len(events_table(at)) > 0  # every POS is still shown
    at.multiselect(key="sucursal").set_value([SUCRE]).run()  # 3 POS: few enough to choose from
    assert len(at.multiselect(key="pos").options) == 3
    assert not at.exception


def test_an_event_that_began_the_day_before_shows_in_the_range_with_its_continues_mark(app_secrets, sim, collected):
    """Casa Matriz · Caja 6 in contingency all of yesterday, since the evening before: its lane is not empty."""
    from cucu.api.models import Event
    from cucu.lapaz import LA_PAZ
    from cucu.store import DayEvents
    from cucu.views.figures.timeline import CONTINUES_MARKER_NAME

    yesterday = now_la_paz().date() - timedelta(days=1)
    before = yesterday - timedelta(days=1)
    pos = collected.inventory.all_pos[0]
    began = datetime(before.year, before.month, before.day, 21, 10, tzinfo=LA_PAZ)
    event = Event.from_api(
        {"id": "evento-de-anoche", "posId": pos.id, "codigoMotivo": 1, "fechaInicio": began.isoformat(), "finalizado": False}
    )
    stored = collected.store.get_days([(pos.id, before)]).get((pos.id, before))
    stored = stored or DayEvents(pos.id, pos.branch_id, before, began, False, ())
    collected.store.put_days([dataclasses.replace(stored, complete=False, events=(*stored.events, event))])

    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.query_params["fechas"] = [yesterday.isoformat(), yesterday.isoformat()]
    at.switch_page(PAGE).run()
    assert not at.exception
    row = events_table(at).set_index("ID evento").loc["evento-de-anoche"]
    assert row["En el período (h)"] == pd.Timedelta(hours=24)  # all of yesterday, not the hours since 21:10
    (chart,) = at.get("plotly_chart")
    marks = [t for t in json.loads(chart.proto.spec)["data"] if t.get("name") == CONTINUES_MARKER_NAME]
    texts_of = {(t["marker"]["symbol"], text) for t in marks for text in t["text"]}
    assert ("triangle-left", f"Empezó el {began:%d/%m} 21:10, antes del período") in texts_of
    assert ("triangle-right", "Sigue abierto") in texts_of
