"""Eventos activos: every POS in one table, its contingency state and event; filters in the URL,
actions on what is shown or ticked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import streamlit as st

from cucu.formatting import fmt_age, fmt_count, fmt_datetime, plural
from cucu.views.eventos import (
    CANNOT_INVOICE,
    LONG_OPEN,
    PosTableColumn,
    active_pos_ids,
    filter_pos_frame,
    pos_table,
    shown_counts,
    urgent_first,
)
from cucu.views.pos import PosColumn
from cucu.vocabulary import Motive, PosState, Tone
from ui import actions, resources, shell, widgets

page = shell.page_context()
runtime, inventory = page.runtime, page.inventory
can_act = page.can_act  # viewers see no action control
long_open_hours = page.settings.long_open_hours

st.title("Eventos activos")
actions.confirmation_and_results(runtime)

# Filters live in the URL (bind="query-params"), so a filtered view can be shared as a link.
search, branch_filter, state_filter, motive_filter = widgets.pos_filters(inventory, long_open_hours)

# What a supervisor reads first, sized to fit a tablet with the tick column (see ui.widgets.TABLET_GRID_PX):
# which POS, its state, for how long, why. Inicio, Consultado, the SIAT code and the CUFDs are one click away
# in the grid's column menu; "Aviso" joins the view only when some POS did not answer.
COLUMNS = {
    **widgets.pos_columns(),
    PosTableColumn.STATE: st.column_config.TextColumn(width=215),  # "🔴 No puede facturar (inactivo)"
    # Typed, so a click on the header sorts by time, not by the text (see cucu.views.eventos.pos_table).
    PosTableColumn.ELAPSED: widgets.elapsed_column(width=widgets.ELAPSED_PX),
    PosTableColumn.MOTIVE: st.column_config.TextColumn(width=125),  # "Virus informático"
    PosTableColumn.DESCRIPTION: st.column_config.TextColumn(width=95),  # free text: the rest shows on hover
}
STALE_COLUMN = {PosTableColumn.NOTICE: st.column_config.TextColumn(width=240)}
DETAIL_COLUMNS = {
    PosTableColumn.START: widgets.la_paz_column("DD/MM/YYYY HH:mm", help="Hora de La Paz", width=widgets.DATE_TIME_PX),
    PosTableColumn.SIAT_CODE: st.column_config.TextColumn(width=100),
    PosTableColumn.FETCHED: widgets.la_paz_column(
        "HH:mm:ss", help="Cuándo respondió cucu por última vez (hora de La Paz)", width=widgets.DAY_TIME_PX
    ),
    PosTableColumn.CUFD: st.column_config.TextColumn(width=170),
    PosTableColumn.EVENT_CUFD: st.column_config.TextColumn(
        width=200, help="CUFD vigente antes del corte, con el que se facturó fuera de línea"
    ),
}


def column_order(stale: bool) -> list[str]:
    """The grid's default view; with the stale POS' notice next to the state it qualifies (what the notice above
    the table points to, "marcado con ⚠"), past a tablet's width then."""
    order = list(COLUMNS)
    if stale:
        order.insert(order.index(PosTableColumn.STATE) + 1, PosTableColumn.NOTICE)
    return order


COLUMN_CONFIG = COLUMNS | STALE_COLUMN | DETAIL_COLUMNS


TABLE_HEIGHT = 560  # about 15 rows: the grid scrolls the rest (10 000 rows natively)


def end_button(label: str, pos_ids: Iterable[str], key: str) -> None:
    """Asks for confirmation (the dialog opens at the top of the page, outside this live part)."""
    if st.button(label, icon=":material/stop_circle:", key=key):
        problem = actions.request_end(runtime, list(pos_ids))
        if problem:
            st.warning(problem, icon=":material/info:")
        else:
            st.rerun(scope="app")


def only_long_open() -> None:
    """Runs before the rerun, when Streamlit lets a widget's value be set (its URL follows)."""
    st.session_state[widgets.STATE_PARAM] = [LONG_OPEN]


@shell.live(resources.LIVE_REFRESH_S)
def live_table() -> None:
    now = runtime.store.now()
    frame = resources.current_frames(runtime).value.pos  # shared by every tablet, once per data version
    # What needs a person first: in contingency (longest open first), then cannot invoice, then unknown or stale,
    # then normal.
    shown = urgent_first(filter_pos_frame(frame, branch_filter, state_filter, motive_filter, search))
    active = active_pos_ids(shown)
    long_open = int(shown[PosColumn.LONG_OPEN].sum())
    fetched = frame[PosColumn.FETCHED].dropna()
    freshness = (
        f"datos consultados {fmt_age(fetched.min(), now)} ({fmt_datetime(fetched.min(), seconds=True)}, hora de La Paz)"
        if len(fetched)
        else "sin datos del colector todavía"
    )
    st.caption(f"{shown_counts(shown, len(frame), long_open, long_open_hours)} · {freshness}.")
    widgets.collector_notices(runtime, frame)
    if shown.empty:
        st.info("Ningún punto de venta coincide con los filtros elegidos.", icon=":material/filter_alt_off:")
        return
    table = pos_table(shown, long_open_hours, now)
    order = column_order(bool(shown[PosColumn.STALE].any()))
    if long_open:  # they must not hide among thousands of rows: named here, first in the table (⏰)
        st.warning(
            f"**{plural(long_open, 'evento abierto', 'eventos abiertos')} hace más de {long_open_hours:g} h.** "
            "Revise si la causa sigue vigente; al finalizar, SIAT da 48 h para registrar el evento. "
            "Están primero en la tabla, marcados con ⏰.",
            icon=":material/alarm:",
        )
        if state_filter != [LONG_OPEN] and st.button(
            "Ver solo esos", icon=":material/filter_alt:", key="ver_abiertos_hace_mucho", on_click=only_long_open
        ):
            st.rerun(scope="app")  # the filters above this live part show the choice
    height: int | Literal["auto"] = "auto" if len(table) <= 15 else TABLE_HEIGHT
    lazy = len(table) > widgets.LAZY_ROWS  # a chain: rows come from the server as the grid scrolls

    def grid(**how: Any) -> Any:
        """The one grid, read-only or with ticks: ``how`` is what differs."""
        return st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            height=height,
            column_order=order,
            column_config=COLUMN_CONFIG,
            placeholder=widgets.NO_VALUE,
            **how,
        )

    if not can_act or lazy:
        grid(key="tabla_pos", lazy=lazy)
        if can_act and active:  # ticking rows among thousands: a filter first (a lazy grid cannot select)
            with st.container(horizontal=True):
                end_button(f"Finalizar todos los eventos mostrados ({fmt_count(len(active))})", active, "finalizar_todos")
            st.caption(
                f"Para marcar filas, filtre a {fmt_count(widgets.LAZY_ROWS)} puntos de venta o menos (busque, o elija "
                "sucursal, estado o motivo); o finalice todos los mostrados."
            )
        return
    buttons = st.container(horizontal=True)  # above the table, filled once the ticks are known
    state = grid(
        key=f"tabla_pos_{actions.tables_version()}",  # a finished action clears the ticks
        on_select="rerun",
        selection_mode="multi-row",
    )
    selected = active_pos_ids(shown.iloc[[i for i in state.selection.rows if i < len(shown)]])
    if active:
        with buttons:
            if selected:
                end_button(f"Finalizar seleccionados ({fmt_count(len(selected))})", selected, "finalizar_sel")
            end_button(f"Finalizar todos los eventos mostrados ({fmt_count(len(active))})", active, "finalizar_todos")
        st.caption("Marque filas para finalizar solo esas, o busque o filtre para actuar sobre lo mostrado.")


live_table()
st.caption(
    f"Estado: {' · '.join(f'{s.icon} {s.label}' for s in PosState)} · {Tone.PROBLEM.icon} {CANNOT_INVOICE}: su CUFD "
    "está vencido, inactivo o no existe. Motivos de cucu: " + ", ".join(f"{m.value} {m.label}" for m in Motive) + "."
)
