"""Historial: the contingency events of a date range, as a timeline, a table and a summary.

Range and filters live in the URL (``?fechas=…&sucursal=…&pos=…&motivo=…``), so a view can
be shared. Everything comes from the local database, filled by the collector (its sweeps and its
backfill of completed days): viewing never calls cucu, and the page says how complete each day is.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cucu.events.history import StoredHistory, stored_history
from cucu.formatting import fmt_count
from cucu.periods import picked_range, range_problem
from cucu.views.figures.timeline import MAX_LANES, daily_events_chart, timeline_figure
from cucu.views.historial import (
    HOUR_COLUMNS,
    MAX_POS_CHOICES,
    SHOWN_COLUMNS,
    CoverageColumn,
    EventColumn,
    SummaryColumn,
    as_durations,
    coverage_frame,
    coverage_text,
    events_frame,
    filter_events,
    is_total_row,
    lanes,
    pos_choices_of,
    pos_labels,
    summary_frame,
    to_csv_bytes,
    total_hours_text,
)
from cucu.vocabulary import EventState
from ui import resources, shell, widgets

STYLED_ROWS = 300  # a Styler (bold totals) costs ~0.35 s a run at a few thousand rows: plain above this


page = shell.page_context()
runtime, inventory = page.runtime, page.inventory
labels = pos_labels(inventory)

st.title("Historial")
st.caption(
    "Eventos de contingencia por punto de venta que ocurrieron en el período elegido, aunque hayan empezado antes "
    "o sigan después, en hora de La Paz."
)

today = runtime.store.now().date()

row1 = st.columns(2)
picked = widgets.period_input(row1[0], today, key="fechas", bind="query-params")
with row1[1]:
    motives = widgets.motive_filter()
row2 = st.columns(2)
with row2[0]:
    branch_ids = widgets.branch_filter(inventory)
pos_choices = pos_choices_of(inventory, branch_ids)
if len(pos_choices) <= MAX_POS_CHOICES:
    pos_ids = row2[1].multiselect(
        "Punto de venta",
        pos_choices,
        format_func=lambda pos_id: labels.get(pos_id, pos_id),
        key="pos",
        bind="query-params",
        placeholder="Todos los puntos de venta" if not branch_ids else "Todos los de las sucursales elegidas",
    )
else:  # a chain: thousands of options nobody scrolls, sent on every run; a branch narrows them first
    pos_ids = []
    row2[1].multiselect(
        "Punto de venta",
        [],
        disabled=True,
        key="pos_sin_sucursal",
        placeholder=f"Todos ({fmt_count(len(pos_choices))}): elija sucursales para elegir entre sus puntos de venta",
    )


def _bold_totals(row: pd.Series) -> list[str]:
    return ["font-weight: bold" if is_total_row(row) else ""] * len(row)


def show() -> None:
    chosen = picked_range(picked)
    if chosen is None:
        st.info("Elija en el calendario el primer y el último día del período.", icon=":material/date_range:")
        return
    start, end = chosen
    problem = range_problem(start, end, runtime.store.now().date())
    if problem:
        st.error(problem, icon=":material/event_busy:")
        return

    shown_pos = pos_ids or pos_choices

    def read() -> tuple[StoredHistory, pd.DataFrame]:
        now = runtime.store.now()
        history = stored_history(runtime.store, inventory, shown_pos, start, end, now)
        return history, events_frame(history.days, inventory, now, history.bounds)

    # Shared by every session and rerun (a motive filter, another tablet) until the store changes.
    selection = f"historial:{start}:{end}:{','.join(sorted(branch_ids))}:{','.join(sorted(pos_ids))}"
    shared = resources.per_version(runtime, selection, ("day_events",), read)
    history, events = shared.value
    now = history.read_at
    horizon = now.date() - timedelta(days=runtime.settings.backfill_days)
    text, notice = coverage_text(history, horizon=horizon)
    if notice:
        st.info(text, icon=":material/hourglass_top:")
    else:
        st.caption(text)
    if history.coverage:
        with st.expander("Completitud por día"):
            st.dataframe(
                coverage_frame(history),
                hide_index=True,
                width="stretch",
                placeholder=widgets.NO_VALUE,
                column_config={
                    CoverageColumn.DAY: st.column_config.DateColumn(format="DD/MM/YYYY", width=110),
                    CoverageColumn.VERIFIED: st.column_config.NumberColumn(width=100),
                    CoverageColumn.POS: st.column_config.NumberColumn(width=120),
                    CoverageColumn.COMPLETE: st.column_config.ProgressColumn(
                        format="percent", min_value=0.0, max_value=1.0, width=150
                    ),
                },
            )

    frame = filter_events(events, branch_ids, pos_ids, motives)
    period = f"del {start:%d/%m/%Y} al {end:%d/%m/%Y}" if start != end else f"del {start:%d/%m/%Y}"

    if frame.empty:
        st.info(f"No hay eventos de contingencia {period} con los filtros elegidos.", icon=":material/event_available:")
        return

    active = int((frame[EventColumn.STATE] == EventState.ACTIVE).sum())
    hours = float(frame[EventColumn.HOURS_IN_PERIOD].sum())
    hours_text = total_hours_text(hours)
    st.markdown(
        f"**{fmt_count(len(frame))} {'evento' if len(frame) == 1 else 'eventos'}** {period} · **{hours_text}** en contingencia dentro del período"
        + (f" · **{fmt_count(active)} en curso**" if active else "")
    )

    st.subheader("Línea de tiempo")

    def draw_timeline() -> tuple[go.Figure | dict[str, Any], str | None]:
        lane_list = lanes(inventory, shown_pos)
        if len(lane_list) > MAX_LANES:  # a chain: lanes for the POS with events only, if that is few enough
            lane_list = lanes(inventory, set(frame[EventColumn.POS_ID]))
        if len(lane_list) <= MAX_LANES:
            return timeline_figure(frame, now, start, end, lanes=lane_list), None
        note = (
            f"{fmt_count(len(lane_list))} puntos de venta tuvieron eventos: aquí, los eventos en curso cada día. "
            f"Elija sucursales o puntos de venta (hasta {MAX_LANES} con eventos) para ver uno por carril."
        )
        return daily_events_chart(frame, start, end, now), note

    # Building a chain's figure takes ~0.3 s: once per data version and view, for every session.
    view = f"{selection}:{','.join(str(m) for m in sorted(motives))}"
    figure, note = resources.derived(runtime, shared, f"{view}:figura", draw_timeline)
    if isinstance(figure, go.Figure):
        st.plotly_chart(figure, config={"displayModeBar": False, "scrollZoom": False})
    else:  # a chain's events per day
        st.caption(note)
        st.vega_lite_chart(spec=figure, width="stretch")

    head = st.columns([3, 1], vertical_alignment="bottom")
    head[0].subheader("Eventos")
    with head[1]:
        widgets.csv_download(lambda: to_csv_bytes(frame), f"historial_{start:%Y-%m-%d}_{end:%Y-%m-%d}.csv", "historial_csv")
    # Durations typed (sorted by value) and shown as elapsed hours, the same at any size: a Styler's decimal
    # comma cost seconds past a few thousand rows, and without it the grid wrote a point.
    st.dataframe(
        as_durations(frame[SHOWN_COLUMNS], HOUR_COLUMNS),
        hide_index=True,
        width="stretch",
        lazy=len(frame) > widgets.LAZY_ROWS,
        placeholder=widgets.NO_VALUE,  # an open event's "Fin", shown from the column menu
        # Fits a tablet (ui.widgets.TABLET_GRID_PX): which POS, when, how long, why; the rest (the end, the
        # part in the period, codes and the CUFD) in the grid's column menu and in the CSV.
        column_order=[
            EventColumn.BRANCH,
            EventColumn.POS,
            EventColumn.START,
            EventColumn.HOURS,
            EventColumn.STATE,
            EventColumn.MOTIVE,
            EventColumn.DESCRIPTION,
        ],
        column_config={
            **widgets.pos_columns(EventColumn.BRANCH, EventColumn.POS),
            EventColumn.START: widgets.la_paz_column("DD/MM/YYYY HH:mm", width=widgets.DATE_TIME_PX),
            EventColumn.END: widgets.la_paz_column(
                "DD/MM/YYYY HH:mm", help="Vacío mientras el evento sigue activo.", width=widgets.DATE_TIME_PX
            ),
            EventColumn.HOURS: widgets.elapsed_column(
                label="Duración", help="Todo el evento, en horas:minutos; uno activo cuenta hasta ahora.", width=85
            ),
            EventColumn.HOURS_IN_PERIOD: widgets.elapsed_column(
                label="En el período", help="La parte del evento dentro del período elegido, en horas:minutos.", width=105
            ),
            EventColumn.STATE: st.column_config.TextColumn(width=90),  # "Finalizado"
            EventColumn.MOTIVE: st.column_config.TextColumn(width=125),
            EventColumn.MOTIVE_CODE: st.column_config.NumberColumn(format="%d", width=105),
            EventColumn.DESCRIPTION: st.column_config.TextColumn(width=140),
            EventColumn.EVENT_CUFD: st.column_config.TextColumn(width=200),
            EventColumn.SIAT_CODE: st.column_config.Column(width=100),
            EventColumn.EVENT_ID: st.column_config.TextColumn(width=200),
        },
    )

    st.subheader("Resumen por sucursal y motivo")
    summary = resources.derived(runtime, shared, f"{view}:resumen", lambda: summary_frame(frame))
    small = len(summary) <= STYLED_ROWS  # a chain's summary (thousands of rows) is plain: a Styler costs seconds
    shown_summary = as_durations(summary, [SummaryColumn.HOURS])
    st.dataframe(
        shown_summary.style.apply(_bold_totals, axis=1) if small else shown_summary,
        hide_index=True,
        width="stretch",
        height="content" if small else 460,
        lazy=len(summary) > widgets.LAZY_ROWS,
        placeholder=widgets.NO_VALUE,
        column_config={
            SummaryColumn.BRANCH: st.column_config.TextColumn(width=widgets.BRANCH_PX),
            SummaryColumn.MOTIVE: st.column_config.TextColumn(width=125),
            SummaryColumn.EVENTS: st.column_config.NumberColumn(format="%d", width=80),
            SummaryColumn.HOURS: widgets.elapsed_column(
                label="En contingencia", help="Horas:minutos dentro del período elegido.", width=120
            ),
        },
    )


show()
