"""Eventos activos: every POS grouped by branch, its contingency state and event; filters in the URL."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cucu.formatting import fmt_age, fmt_datetime, fmt_time
from cucu.frames import active_pos_ids, filter_pos_frame, pos_frame
from cucu.lapaz import now_la_paz
from cucu.vocabulary import Motive, PosState
from ui import actions, resources, shell, widgets

page = shell.page_context()
runtime, inventory = page.runtime, page.inventory
can_act = page.can_act  # viewers see no action control
long_open_hours = page.settings.long_open_hours

st.title("Eventos activos")
actions.confirmation_and_results(runtime)

# Filters live in the URL (bind="query-params"), so a filtered view can be shared as a link.
branch_filter, state_filter, motive_filter = widgets.pos_filters(inventory)

COLUMNS = {
    "Punto de venta": st.column_config.TextColumn(pinned=True),
    "Estado": st.column_config.TextColumn(width="medium"),
    "Motivo": st.column_config.TextColumn(),
    "Descripción": st.column_config.TextColumn(),
    "Inicio": st.column_config.TextColumn(help="Hora de La Paz"),
    "Transcurrido": st.column_config.TextColumn(),
    "Código SIAT": st.column_config.TextColumn(),
    "Consultado": st.column_config.TextColumn(help="Cuándo respondió cucu por última vez (hora de La Paz)"),
    "Aviso": st.column_config.TextColumn(width="medium"),
    "CUFD evento": st.column_config.TextColumn(
        width="small", help="CUFD vigente antes del corte, con el que se facturó fuera de línea"
    ),
}


def view(rows: pd.DataFrame) -> pd.DataFrame:
    """Text for every cell ("—" where there is nothing), times in La Paz. Vectorised: 2000 rows in ms."""
    state = rows["Estado"].map(lambda s: f"{PosState(s).icon} {s}")
    state = state.where(~rows["Abierto hace mucho"], state + f" ⏰ +{long_open_hours:g} h")
    shown = rows.assign(
        Estado=state,
        Inicio=rows["Inicio"].map(fmt_datetime),
        Consultado=rows["Consultado"].map(fmt_time),
        Aviso=("⚠ Último dato conocido: " + rows["Error"]).where(rows["Desactualizado"]),
    )
    return shown[list(COLUMNS)].astype("string").fillna("—")


def long_open_section(rows: pd.DataFrame, table: pd.DataFrame) -> None:
    """Events open for too long, all branches together, longest first: they must not hide in a table."""
    long_open = rows["Abierto hace mucho"]
    if not long_open.any():
        return
    order = rows.loc[long_open, "Horas abierto"].sort_values(ascending=False).index
    st.error(
        f"**{len(order)} evento(s) abierto(s) hace más de {long_open_hours:g} h.** "
        "Revise si la causa sigue vigente; al finalizar, SIAT da 48 h para registrar el evento.",
        icon=":material/alarm:",
    )
    st.dataframe(
        table.loc[order].assign(Sucursal=rows.loc[order, "Sucursal"])[["Sucursal", *COLUMNS]],
        hide_index=True,
        width="stretch",
        column_config=COLUMNS,
        key="tabla_abiertos_hace_mucho",
    )


def end_button(label: str, pos_ids, key: str) -> None:
    """Asks for confirmation (the dialog opens at the top of the page, outside this live part)."""
    if st.button(label, icon=":material/stop_circle:", key=key):
        problem = actions.request_end(runtime, list(pos_ids))
        if problem:
            st.warning(problem, icon=":material/info:")
        else:
            st.rerun(scope="app")


@shell.live(resources.LIVE_REFRESH_S)
def live_table() -> None:
    now = now_la_paz()
    frame = pos_frame(inventory, runtime.store.pos_statuses(), now, long_open_hours)
    shown = filter_pos_frame(frame, branch_filter, state_filter, motive_filter)
    in_contingency = int((shown["Estado"] == PosState.CONTINGENCIA).sum())
    long_open = int(shown["Abierto hace mucho"].sum())
    fetched = frame["Consultado"].dropna()
    freshness = (
        f"datos consultados {fmt_age(fetched.min(), now)} ({fmt_datetime(fetched.min(), seconds=True)}, hora de La Paz)"
        if len(fetched)
        else "sin datos del colector todavía"
    )
    st.caption(
        f"{len(shown)} de {len(frame)} puntos de venta · **{in_contingency} en contingencia** · "
        f"{long_open} abierto(s) hace más de {long_open_hours:g} h · {freshness}."
    )
    widgets.collector_notices(runtime, frame)
    if shown.empty:
        st.info("Ningún punto de venta coincide con los filtros elegidos.", icon=":material/filter_alt_off:")
        return
    table = view(shown)
    if in_contingency and can_act:
        end_button(
            f"Finalizar todos los eventos mostrados ({in_contingency})",
            active_pos_ids(shown),
            "finalizar_todos",
        )
    long_open_section(shown, table)
    by_branch = dict(shown.groupby("branch_id", sort=False).groups.items())
    for branch in inventory.branches:
        if branch.id not in by_branch:
            continue
        index = by_branch[branch.id]
        in_branch = int((shown.loc[index, "Estado"] == PosState.CONTINGENCIA).sum())
        city = f" · {branch.city}" if branch.city else ""
        alert = f" · :red[**{in_branch} en contingencia**]" if in_branch else ""
        st.markdown(f"#### {branch.name}{city}\n{len(index)} puntos de venta{alert}")
        if not can_act:
            st.dataframe(table.loc[index], hide_index=True, width="stretch", column_config=COLUMNS, key=f"tabla_{branch.id}")
            continue
        state = st.dataframe(
            table.loc[index],
            hide_index=True,
            width="stretch",
            column_config=COLUMNS,
            key=f"tabla_{branch.id}_{actions.tables_version()}",  # a finished action clears the ticks
            on_select="rerun",
            selection_mode="multi-row",
        )
        selected = [index[i] for i in state.selection.rows if i < len(index)]
        selected_active = active_pos_ids(shown.loc[selected])
        if in_branch:
            with st.container(horizontal=True):
                if len(selected_active):
                    end_button(f"Finalizar seleccionados ({len(selected_active)})", selected_active, f"finalizar_sel_{branch.id}")
                end_button(
                    f"Finalizar todos en {branch.name} ({in_branch})",
                    active_pos_ids(shown.loc[index]),
                    f"finalizar_suc_{branch.id}",
                )


live_table()
st.caption(
    f"Estado: {' · '.join(f'{s.icon} {s.label}' for s in PosState)}. Motivos de cucu: "
    + ", ".join(f"{m.value} {m.label}" for m in Motive)
    + "."
)
