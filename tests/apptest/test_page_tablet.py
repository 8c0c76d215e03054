"""AppTest: every grid of every page fits a tablet upright (820 px) whatever it shows — each column of its
default view has a width in pixels and together they fit the tablet's grid — and raw ids stay out of it."""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cucu.lapaz import now_la_paz
from cucu.vocabulary import AlertRule
from tests.support.apptest import APP, SUPERVISOR_OFF, run_app, texts
from tests.support.audit import audit_rows, insert_audit_rows
from ui.widgets import BOXED_GRID_PX, KPI_NOTE_CHARS, TABLET_GRID_PX, default_width

RAW = {"CUFD evento", "ID evento", "Evento", "event_id", "pos_id", "branch_id", "invoice_id"}  # ids and raw CUFDs
VIEWS: list[tuple[str, dict[str, object]]] = [
    ("pages/estado.py", {}),
    ("pages/eventos.py", {}),
    ("pages/facturas.py", {"vista": "Por enviar y rechazadas"}),
    ("pages/facturas.py", {"vista": "CUFD"}),
    ("pages/facturas.py", {"vista": "Cierre de eventos", "cierre": []}),  # every closing, not only the pending
    ("pages/historial.py", {}),
    ("pages/conectividad.py", {}),
    ("pages/bitacora.py", {}),
    ("pages/alertas.py", {}),
    ("pages/caidas.py", {}),
]


def default_views(at: AppTest) -> list[tuple[list[str], int]]:
    """Each grid on the page: the columns it shows by default, and their width in pixels on a tablet."""
    views = []
    for grid in at.dataframe:
        proto = grid.proto
        shown = list(proto.column_order) or list(grid.value.columns)
        config = json.loads(proto.columns) if proto.columns else {}
        views.append((shown, default_width(shown, config, ticks=bool(proto.selection_mode))))
    return views


@pytest.fixture
def everything_shown(sim, seeded_runtime):
    """Something in every grid: CUFDs and invoices read, the history backfilled, attempts in Bitácora."""
    seeded_runtime.collector.cufd_once()
    seeded_runtime.collector.backfill_days = 4
    seeded_runtime.collector.backfill_everything()
    while not seeded_runtime.collector.invoices_once().pass_done:
        pass
    places = [(p.branch_id, p.id) for p in sim.inventory.all_pos]
    insert_audit_rows(seeded_runtime.store, audit_rows(30, now_la_paz() - timedelta(minutes=1), places))
    return seeded_runtime


def test_every_grid_fits_a_tablet_and_keeps_raw_ids_out_of_view(everything_shown, app_secrets):
    """As a supervisor (the grid of Eventos activos and Facturas' CUFD then have a tick column)."""
    seen = []
    for page, state in VIEWS:
        at = run_app(app_secrets, access=SUPERVISOR_OFF)
        at.switch_page(page)
        for key, value in state.items():
            at.session_state[key] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        for shown, width in default_views(at):
            assert width <= TABLET_GRID_PX, (page, state, shown, width)
            assert not RAW & set(shown), (page, shown)
            seen.append(shown[:3])
    for first in (["Sucursal", "POS", "En contingencia"], ["Fecha", "Acción", "Sucursal"]):
        assert first in seen  # Estado's and Bitácora's grids were there
    grids_of_pos = [s for s in seen if s[:2] == ["Sucursal", "Punto de venta"]]
    assert len(grids_of_pos) >= 5, seen  # Eventos (two), Facturas' three tabs, Historial: none skipped


def test_a_shown_column_without_a_width_in_pixels_is_a_mistake():
    with pytest.raises(ValueError, match="Descripción"):
        default_width(["Sucursal", "Descripción"], {"Sucursal": {"width": 150}, "Descripción": {"width": "medium"}})
    assert default_width(["Sucursal"], {"Sucursal": {"width": 150}}, ticks=True) == 150 + 32


def test_a_kpi_note_fits_its_column_and_the_others_wrap_below():
    """Streamlit ends a KPI note wider than a quarter of a tablet with "…": under the figure goes the first note
    if it is short; the others, or a long one, go to a caption, which wraps."""

    def notes_app():
        import streamlit as st

        from ui.widgets import kpi

        kpi(st, "Facturas por enviar", "65", ["quedan 6 h 19 min", "la más antigua hace 1 d 19 h"])
        kpi(st, "Eventos por cerrar", "3", [None, "vence en 6 h 19 min"])
        kpi(st, "Evento abierto más largo", "1 d 19 h", ["Sucursal Cochabamba Centro · Caja 10"])

    at = AppTest.from_function(notes_app).run()
    assert not at.exception
    assert [m.proto.delta for m in at.metric] == ["quedan 6 h 19 min", "vence en 6 h 19 min", ""]
    assert [c.value for c in at.caption] == ["la más antigua hace 1 d 19 h", "Sucursal Cochabamba Centro · Caja 10"]


def test_estado_kpi_notes_fit_a_tablet(everything_shown, app_secrets):
    at = run_app(app_secrets)
    notes = {m.label: m.proto.delta for m in at.metric}
    assert all(len(note) <= KPI_NOTE_CHARS for note in notes.values()), notes


def test_nothing_in_a_sidebar_to_squeeze_a_tablet_who_and_the_role_are_in_the_session_menu(app_secrets):
    """Opened on an 820 px tablet, Streamlit's sidebar squeezed every page until closed: with nothing in it there
    is none; who is signed in, the role and how to sign out are in the "Sesión" menu on top of the page."""
    at = run_app(app_secrets)
    assert not at.sidebar.children

    def popovers(node):
        for child in getattr(node, "children", {}).values():
            if getattr(child.proto, "popover", None) and child.proto.popover.label:
                yield child
            yield from popovers(child)

    (menu,) = popovers(at.main)  # on the header's line
    assert menu.proto.popover.label == "Sesión"
    shown = [m.value for m in menu.markdown]
    assert "**Sin inicio de sesión**" in shown and any("Observador" in text for text in shown)  # the role's badge


def test_the_stale_notice_joins_eventos_activos_next_to_the_state_only_while_some_pos_did_not_answer(
    sim, seeded_runtime, app_secrets
):
    at = run_app(app_secrets, page="pages/eventos.py")
    assert "Aviso" not in at.dataframe[-1].proto.column_order
    sim.update_faults({"error_rate": 1.0})
    seeded_runtime.collector.sweep_once()
    at = run_app(app_secrets, page="pages/eventos.py")
    order = list(at.dataframe[-1].proto.column_order)
    assert order[order.index("Estado") + 1] == "Aviso"  # "marcado con ⚠", as the notice above the table says


# ---- every time, duration and number a grid shows is a value (issue 23, rule 4) ----------------------------
# Text that is a time, a duration or a number sorts as text: "44 min" above "1 d 19 h", "04/12" above "30/11".
# A grid holds them as datetime64, timedelta64 or numbers and formats them in its column config; an empty one
# is NaT or <NA>, shown as the grid's placeholder ("—"), never Streamlit's grey "None".
_NUMBER = r"-?\d{1,3}(?: \d{3})*(?:,\d+)?(?: ?%| ms| h)?"
_DURATION = r"(?:hace |vence en |en |quedan )?\d+ (?:d|h|min|s)(?: \d+ (?:h|min|s))*"
_DATE_TIME = r"\d{2}/\d{2}(?:/\d{4})?(?: \d{2}:\d{2}(?::\d{2})?)?|\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?.*)?"
_CLOCK = r"-?\d{1,3}:\d{2}(?::\d{2})?"
TEXT_VALUE = re.compile(rf"(?:{_NUMBER}|{_DURATION}|{_DATE_TIME}|{_CLOCK})")
EMPTY_TEXTS = {"", "—", "-", "None", "nan", "NaT"}
PAGES = sorted(p.relative_to(APP.parent).as_posix() for p in (APP.parent / "pages").glob("*.py"))
GRIDS_AT_LEAST = {
    "pages/estado.py": 1,
    "pages/alertas.py": 1,
    "pages/informe.py": 3,
    "pages/eventos.py": 1,
    "pages/historial.py": 2,
    "pages/conectividad.py": 1,
}


def values_held_as_text(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The text columns of a grid whose every value is a time, a duration or a number, with a few of them."""
    found = {}
    for name in frame.columns:
        column = frame[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        texts = [v.strip() for v in column.dropna() if isinstance(v, str) and v.strip() not in EMPTY_TEXTS]
        if texts and all(TEXT_VALUE.fullmatch(t) for t in texts):
            found[str(name)] = texts[:3]
    return found


def test_text_that_is_a_time_a_duration_or_a_number_is_recognised_and_words_are_not():
    frame = pd.DataFrame(
        {
            "Transcurrido": ["1 d 19 h 44 min", "44 min", None],
            "Inicio": ["04/12/2026 04:40", "—", "30/11/2026 23:10"],
            "Diferencia": ["-03:00:00", "143:54:00", ""],
            "Facturas": ["1 234", "7", "0"],
            "Inicio real": pd.to_datetime(["2026-12-04 04:40", None, "2026-11-30 23:10"]),
            "Día": [date(2026, 12, 4), None, date(2026, 11, 30)],  # date objects sort by value
            "Motivo": ["Corte de internet", "Falla SIAT", None],
            "POS": ["Caja 10", "Caja 3", "Caja 1"],
            "Estado": ["🔴 En contingencia ⏰ +24 h", "🟢 Normal", "—"],
        }
    )
    assert list(values_held_as_text(frame)) == ["Transcurrido", "Inicio", "Diferencia", "Facturas"]


RULE_VIEWS: list[tuple[str, dict[str, object]]] = [
    *((p, {}) for p in PAGES),
    *((p, state) for p, state in VIEWS if state),
    ("pages/estado.py", {"estado_cola_tabla": True}),  # the queue as a grid
]


@pytest.mark.parametrize(
    ("page", "state"),
    [
        pytest.param(
            p,
            state,
            id="-".join([Path(p).stem, *(f"{k}={v}" for k, v in state.items())]),
        )
        for p, state in RULE_VIEWS
    ],
)
def test_every_grid_holds_times_durations_and_numbers_as_values_and_names_its_placeholder(
    sim, everything_shown, app_secrets, page, state
):
    """Every page on the demo, as a supervisor, with something in every grid (and a SIAT outage going on)."""
    sim.update_faults({"siat_down": True})
    for _ in range(3):
        everything_shown.collector.check_once()
    now = everything_shown.collector.clock()
    rule = AlertRule.SIAT_DOWN
    everything_shown.store.incident_open(
        key=rule.value, rule=rule, branch_id=None, opened_at=now, now=now, title="SIAT caído", body="b", messages=[]
    )
    at = run_app(app_secrets, access=SUPERVISOR_OFF)
    at.switch_page(page)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page == "pages/informe.py":
        at.selectbox(key="informe_mes").select_index(0).run()  # this month, until today: the outage is in it
    for _ in range(100):  # a report built in the background (a fragment polls for it in a browser)
        if "en segundo plano" not in texts(at):
            break
        time.sleep(0.05)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    grids = 0
    for n, grid in enumerate(at.dataframe):
        shown = list(grid.proto.column_order) or list(grid.value.columns)
        assert values_held_as_text(grid.value) == {}, (page, n, shown)
        assert grid.proto.HasField("placeholder"), (page, n, shown)
        grids += 1
    at_least = 2 if state.get("estado_cola_tabla") else GRIDS_AT_LEAST.get(page, 0)  # Estado's branches and queue
    assert grids >= at_least, (page, state)  # the rule read the grids it is there for


def active_pos(sim) -> set[str]:
    return {e["posId"] for e in sim.events() if not e["finalizado"]}


def assert_values_and_placeholder(at: AppTest, where: str) -> None:
    for n, grid in enumerate(at.dataframe):
        assert values_held_as_text(grid.value) == {}, (where, n, list(grid.value.columns))
        assert grid.proto.HasField("placeholder"), (where, n, list(grid.value.columns))


def test_an_actions_confirmation_and_results_hold_times_as_values_and_its_results_fit_a_tablet(sim, seeded_runtime, app_secrets):
    """Starting on every POS (some already in contingency: the dialog lists them apart, since when), then ending a
    branch's events (since when, open how long): the dialogs' times sort by value; the results grid fits a tablet
    upright without the event's id and CUFD, which its column menu still offers."""
    busy = active_pos(sim)
    assert busy
    at = run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF)
    at.button_group(key="iniciar_alcance").set_value("Todas las sucursales").run()
    at.radio(key="iniciar_motivo").set_value(1)
    at.text_area(key="iniciar_descripcion").input("Corte general del proveedor")
    at.button(key="iniciar_revisar").click().run()
    assert not at.exception, [e.value for e in at.exception]
    skipped = next(d.value for d in at.dataframe if "Desde" in d.value.columns)
    assert len(skipped) == len(busy) and skipped["Desde"].dtype.kind == "M"
    assert_values_and_placeholder(at, "iniciar")

    branch = next(b for b in sim.inventory.branches if any(p.id in busy for p in b.pos) and len(b.pos) > 1)
    at = run_app(app_secrets, access=SUPERVISOR_OFF)
    at.query_params["sucursal"] = branch.name
    at.switch_page("pages/eventos.py").run()
    at.button(key="finalizar_todos").click().run()
    assert not at.exception, [e.value for e in at.exception]
    reach = next(d.value for d in at.dataframe if "Abierto" in d.value.columns)
    assert reach["Desde"].dtype.kind == "M" and reach["Abierto"].dtype.kind == "m"
    assert (reach["Abierto"] > timedelta(0)).all()
    assert_values_and_placeholder(at, "finalizar")

    at.button(key="accion_confirmar").click().run()
    assert not at.exception, [e.value for e in at.exception]
    results = at.dataframe[0]  # above the page's grids
    assert {"ID evento", "CUFD evento"} <= set(results.value.columns)  # in the column menu
    shown, width = default_views(at)[0]
    assert shown == ["Sucursal", "Punto de venta", "Resultado", "Detalle"] and width <= BOXED_GRID_PX  # in its box
    assert results.proto.HasField("placeholder")
