"""Bitácora: every start and end attempt, who made it and how it ended; filters and CSV."""

from __future__ import annotations

import streamlit as st

from cucu.export import excel_csv
from cucu.frames import audit_frame
from cucu.lapaz import now_la_paz
from cucu.periods import day_bounds, default_range, picked_range
from cucu.vocabulary import ActionKind, Outcome
from ui import shell, widgets

page = shell.page_context()
runtime, inventory = page.runtime, page.inventory

st.title("Bitácora")
st.caption(
    "Cada intento de iniciar o finalizar un evento: se registra antes de llamar a cucu y se completa después. Horas de La Paz."
)

today = now_la_paz().date()
row1 = st.columns(2)
picked = row1[0].date_input("Período", value=default_range(today), max_value=today, format="DD/MM/YYYY", key="bitacora_fechas")
with row1[1]:
    branch_ids = widgets.branch_filter(inventory)
row2 = st.columns(3)
actions_chosen = row2[0].multiselect(
    "Acción", list(ActionKind), format_func=lambda kind: ActionKind(kind).label, key="bitacora_accion", placeholder="Todas"
)
outcomes = row2[1].multiselect(
    "Resultado", list(Outcome), format_func=lambda outcome: Outcome(outcome).label, key="bitacora_resultado", placeholder="Todos"
)
actors = row2[2].multiselect("Usuario", runtime.store.audit_actors(), key="bitacora_usuario", placeholder="Todos")

chosen = picked_range(picked)
if chosen is None:
    st.info("Elija en el calendario el primer y el último día.", icon=":material/date_range:")
    st.stop()
first, last = chosen
since, until = day_bounds(first, last)
entries = runtime.store.audit_entries(
    since=since, until=until, branch_ids=branch_ids, actions=actions_chosen, outcomes=outcomes, actors=actors
)
frame = audit_frame(entries, inventory)

if frame.empty:
    st.info("No hay acciones registradas con esos filtros.", icon=":material/receipt_long:")
    st.stop()

head = st.columns([3, 1], vertical_alignment="bottom")
head[0].markdown(f"**{len(frame)} intento(s)** del {first:%d/%m/%Y} al {last:%d/%m/%Y}.")
with head[1]:
    widgets.csv_download(
        excel_csv(frame, time_columns=("Fecha", "Completado")), f"bitacora_{first:%Y-%m-%d}_{last:%Y-%m-%d}.csv", "bitacora_csv"
    )
TEXT_COLUMNS = [c for c in frame.columns if c not in ("Fecha", "Completado")]
st.dataframe(
    frame.fillna(dict.fromkeys(TEXT_COLUMNS, "—")),  # the CSV keeps empty cells empty
    hide_index=True,
    width="stretch",
    column_config={
        "Fecha": widgets.la_paz_column("DD/MM/YYYY HH:mm:ss"),
        "Completado": widgets.la_paz_column("HH:mm:ss"),
        "Detalle": st.column_config.TextColumn(width="large"),
    },
)
