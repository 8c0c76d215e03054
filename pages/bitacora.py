"""Bitácora: every start and end attempt, who made it and how it ended; filters, pages and CSV of every row."""

from __future__ import annotations

import streamlit as st

from cucu.formatting import fmt_count
from cucu.periods import day_bounds, picked_range
from cucu.store import AUDIT_PAGE_SIZE, AuditEntry, AuditFilter, page_count
from cucu.views.bitacora import AUDIT_COLUMNS, AUDIT_TIME_COLUMNS, AuditColumn, audit_csv, audit_frame, page_sentence
from cucu.vocabulary import OPEN_OUTCOMES, ActionKind, Outcome
from ui import resources, shell, widgets

page = shell.page_context()
runtime, inventory = page.runtime, page.inventory

st.title("Bitácora")
st.caption(
    "Cada intento de iniciar o finalizar un evento: se registra antes de llamar a cucu y se completa después. Horas de La Paz."
)

today = runtime.store.now().date()
row1 = st.columns(2)
picked = widgets.period_input(row1[0], today, key="bitacora_fechas", on_change=widgets.first_page)
with row1[1]:
    branch_ids = widgets.branch_filter(inventory, on_change=widgets.first_page)
row2 = st.columns(3)
actions_chosen = widgets.closed_set_filter(
    row2[0], "Acción", ActionKind, key="bitacora_accion", placeholder="Todas", on_change=widgets.first_page
)
outcomes = widgets.closed_set_filter(
    row2[1], "Resultado", Outcome, key="bitacora_resultado", placeholder="Todos", on_change=widgets.first_page
)
actors = row2[2].multiselect(
    "Usuario", runtime.store.audit_actors(), key="bitacora_usuario", placeholder="Todos", on_change=widgets.first_page
)

chosen = picked_range(picked)
if chosen is None:
    st.info("Elija en el calendario el primer y el último día.", icon=":material/date_range:")
    st.stop()
first, last = chosen
since, until = day_bounds(first, last)
where = AuditFilter(
    since=since,
    until=until,
    branch_ids=tuple(branch_ids),
    actions=tuple(actions_chosen),
    outcomes=tuple(outcomes),
    actors=tuple(actors),
)
total = runtime.store.audit_count(where)

if not total:
    st.info("No hay acciones registradas con esos filtros.", icon=":material/receipt_long:")
    st.stop()

head = st.columns([3, 1], vertical_alignment="bottom")
head[0].markdown(f"**{fmt_count(total)} {'registro' if total == 1 else 'registros'}** del {first:%d/%m/%Y} al {last:%d/%m/%Y}.")
with head[1]:
    widgets.csv_download(
        lambda: audit_csv(runtime.store, where, inventory),  # built on click, a chunk at a time
        f"bitacora_{first:%Y-%m-%d}_{last:%Y-%m-%d}.csv",
        "bitacora_csv",
        help="Todos los registros del filtro, no solo esta página; separados por punto y coma, para Excel.",
    )

number = 1
with st.container(horizontal=True, vertical_alignment="center"):
    if page_count(total) > 1:  # a page number in the URL that is out of range or not a number opens page 1
        number = st.pagination(page_count(total), key=widgets.PAGE_PARAM, bind="query-params")
    st.caption(page_sentence(number, total, AUDIT_PAGE_SIZE))


def draw(entries: list[AuditEntry]) -> None:
    frame = audit_frame(entries, inventory)
    text_columns = [c for c in frame.columns if c not in AUDIT_TIME_COLUMNS]
    st.dataframe(
        frame.fillna(dict.fromkeys(text_columns, "—")),  # the CSV keeps empty cells empty
        hide_index=True,
        width="stretch",
        # Fits a tablet (ui.widgets.TABLET_GRID_PX): when, what, where, the outcome, who and its detail; the
        # motive, description, names and the event id in the grid's column menu and in the CSV.
        column_order=[*AUDIT_COLUMNS[:6], AuditColumn.DETAIL],  # when, what, where, the outcome, who; the detail
        column_config={
            AuditColumn.REQUESTED: widgets.la_paz_column("DD/MM/YYYY HH:mm:ss", width=widgets.DATE_TIME_SECONDS_PX),
            AuditColumn.ACTION: st.column_config.TextColumn(width=105),
            **widgets.pos_columns(pinned=False),  # after the time and the action
            AuditColumn.OUTCOME: st.column_config.TextColumn(width=115),  # "En verificación"
            AuditColumn.USER: st.column_config.TextColumn(width=90),
            AuditColumn.DETAIL: st.column_config.TextColumn(width=110),
            AuditColumn.MOTIVE: st.column_config.TextColumn(width=125),
            AuditColumn.DESCRIPTION: st.column_config.TextColumn(width=200),
            AuditColumn.NAME: st.column_config.TextColumn(width=150),
            AuditColumn.ROLE: st.column_config.TextColumn(width=100),
            AuditColumn.EVENT_ID: st.column_config.TextColumn(width=200),
            AuditColumn.COMPLETED: widgets.la_paz_column("HH:mm:ss", width=widgets.DAY_TIME_PX),
        },
        placeholder=widgets.NO_VALUE,  # an attempt not completed yet: "—", not a grey "None"
    )


def still_open(entries: list[AuditEntry]) -> bool:
    return any(e.outcome in OPEN_OUTCOMES for e in entries)


@shell.live(resources.OPEN_REFRESH_S)
def live_page() -> None:
    """A page with attempts in flight or in verification follows them until they settle, then stops."""
    entries = runtime.store.audit_page(where, page=number)
    if not still_open(entries):
        st.rerun()
    draw(entries)


entries = runtime.store.audit_page(where, page=number)
if still_open(entries):
    live_page()
else:
    draw(entries)
