"""Historial: the contingency events of a date range, as a timeline, a table and a summary.

Range and filters live in the URL (``?fechas=…&sucursal=…&pos=…&motivo=…``), so a view can
be shared. What was loaded for a range and set of POS is kept in the session for a few
minutes: a rerun caused by the motive filter or any other widget does not call cucu again
(the store already serves completed days without a call).
"""

from __future__ import annotations

import time
from datetime import date

import pandas as pd
import streamlit as st

from cucu.figures.timeline import timeline_figure
from cucu.formatting import fmt_number
from cucu.history import LoadedRange, load_days
from cucu.history_view import (
    SHOWN_COLUMNS,
    chosen_pos,
    errors_text,
    events_frame,
    filter_events,
    freshness_text,
    is_total_row,
    lanes,
    pos_choices_of,
    pos_labels,
    summary_frame,
    to_csv_bytes,
)
from cucu.lapaz import now_la_paz
from cucu.models import PointOfSale
from cucu.periods import MAX_RANGE_DAYS, date_range, default_range, picked_range, range_problem
from cucu.vocabulary import EventState
from ui import shell, widgets

STYLED_ROWS = 2000
_SESSION_KEY = "_historial_carga"


page = shell.page_context()
runtime, inventory = page.runtime, page.inventory
labels = pos_labels(inventory)

st.title("Historial")
st.caption("Eventos de contingencia por punto de venta que empezaron en el período elegido, en hora de La Paz.")

today = now_la_paz().date()

row1 = st.columns(2)
picked = row1[0].date_input(
    "Período",
    value=default_range(today),
    max_value=today,
    format="DD/MM/YYYY",
    key="fechas",
    bind="query-params",
    help=f"Primer y último día, ambos incluidos (hasta {MAX_RANGE_DAYS} días).",
)
with row1[1]:
    motives = widgets.motive_filter()
row2 = st.columns(2)
with row2[0]:
    branch_ids = widgets.branch_filter(inventory)
pos_choices = pos_choices_of(inventory, branch_ids)
pos_ids = row2[1].multiselect(
    "Punto de venta",
    pos_choices,
    format_func=lambda pos_id: labels.get(pos_id, pos_id),
    key="pos",
    bind="query-params",
    placeholder="Todos los puntos de venta" if not branch_ids else "Todos los de las sucursales elegidas",
)


def _load(key: tuple[object, ...], pos_list: list[PointOfSale], days: list[date], force: bool) -> LoadedRange:
    previous = st.session_state.get(_SESSION_KEY)
    if not force and isinstance(previous, LoadedRange) and previous.key == key and previous.fresh_enough():
        return previous
    slot = st.empty()
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if total <= 0:
            return
        text = f"Consultando cucu: {done} de {total} días de punto de venta…"
        if bar is None:
            bar = slot.progress(0.0, text=text)
        bar.progress(done / total, text=text)

    result = load_days(runtime.client, runtime.store, pos_list, days, concurrency=runtime.settings.concurrency, progress=progress)
    slot.empty()
    loaded = LoadedRange(key, result, now_la_paz(), time.monotonic())
    st.session_state[_SESSION_KEY] = loaded
    return loaded


def _bold_totals(row: pd.Series) -> list[str]:
    return ["font-weight: bold" if is_total_row(row) else ""] * len(row)


def show() -> None:
    chosen = picked_range(picked)
    if chosen is None:
        st.info("Elija en el calendario el primer y el último día del período.", icon=":material/date_range:")
        return
    start, end = chosen
    problem = range_problem(start, end, now_la_paz().date())
    if problem:
        st.error(problem, icon=":material/event_busy:")
        return

    force = st.button(
        "Actualizar",
        icon=":material/refresh:",
        key="historial_actualizar",
        help="Vuelve a consultar a cucu los días que pueden cambiar.",
    )
    pos_list = chosen_pos(inventory, pos_ids or pos_choices)
    days = date_range(start, end)
    key = (start, end, tuple(p.id for p in pos_list))
    loaded = _load(key, pos_list, days, force)
    result = loaded.result

    st.caption(freshness_text(loaded))
    if result.errors:
        st.warning(errors_text(result, labels), icon=":material/cloud_off:")

    now = loaded.loaded_at
    frame = filter_events(events_frame(result.days, inventory, now), branch_ids, pos_ids, motives)
    period = f"del {start:%d/%m/%Y} al {end:%d/%m/%Y}" if start != end else f"del {start:%d/%m/%Y}"

    if frame.empty:
        st.info(f"No hay eventos de contingencia {period} con los filtros elegidos.", icon=":material/event_available:")
        return

    active = int((frame["Estado"] == EventState.ACTIVE).sum())
    hours = float(frame["Duración (h)"].sum())
    hours_text = fmt_number(hours)
    st.markdown(
        f"**{len(frame)} {'evento' if len(frame) == 1 else 'eventos'}** {period} · **{hours_text} horas** en contingencia"
        + (f" · **{active} en curso**" if active else "")
    )

    st.subheader("Línea de tiempo")
    figure = timeline_figure(frame, now, start, end, lanes=lanes(inventory, [p.id for p in pos_list]))
    st.plotly_chart(figure, config={"displayModeBar": False, "scrollZoom": False})

    head = st.columns([3, 1], vertical_alignment="bottom")
    head[0].subheader("Eventos")
    with head[1]:
        widgets.csv_download(to_csv_bytes(frame), f"historial_{start:%Y-%m-%d}_{end:%Y-%m-%d}.csv", "historial_csv")
    # Decimal comma through a Styler; past a few thousand rows its cost shows, so plain numbers.
    styled = len(frame) <= STYLED_ROWS
    st.dataframe(
        frame.style.format({"Duración (h)": "{:.2f}"}, decimal=",", na_rep="") if styled else frame,
        hide_index=True,
        width="stretch",
        column_order=SHOWN_COLUMNS,
        column_config={
            "Inicio": widgets.la_paz_column("DD/MM/YYYY HH:mm"),
            "Fin": widgets.la_paz_column("DD/MM/YYYY HH:mm", help="Vacío mientras el evento sigue activo."),
            "Duración (h)": st.column_config.NumberColumn(
                format=None if styled else "%.2f", help="Horas; un evento activo cuenta hasta ahora."
            ),
            "Código motivo": st.column_config.NumberColumn(format="%d"),
            "Descripción": st.column_config.TextColumn(width="medium"),
        },
    )

    st.subheader("Resumen por sucursal y motivo")
    summary = summary_frame(frame)
    st.dataframe(
        summary.style.apply(_bold_totals, axis=1).format({"Horas": "{:.1f}"}, decimal=","),
        hide_index=True,
        width="stretch",
        height="content",
        column_config={"Eventos": st.column_config.NumberColumn(format="%d")},
    )


show()
