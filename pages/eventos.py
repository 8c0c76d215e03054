"""Eventos activos: every POS grouped by branch, its contingency state and event; filters in the URL."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cucu.frames import CONTINGENCIA, STATE_ICONS, STATES, filter_pos_frame, pos_frame
from cucu.models import Motive, now_la_paz
from cucu.timefmt import fmt_age, fmt_datetime, fmt_time
from ui import resources, shell, widgets

runtime = resources.current_runtime()
inventory = runtime.inventory
long_open_hours = runtime.settings.long_open_hours

st.title("Eventos activos")

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
    "CUFD evento": st.column_config.TextColumn(width="small", help="CUFD vigente antes del corte, con el que se facturó fuera de línea"),
}
LONG_OPEN_STYLE = "background-color: #fde8e6"


def state_text(row: pd.Series) -> str:
    text = f"{STATE_ICONS[row['Estado']]} {row['Estado']}"
    if row["Abierto hace mucho"]:
        text += f" ⏰ +{long_open_hours:g} h"
    return text


def view(rows: pd.DataFrame):
    """Text for every cell ("—" where there is nothing), times in La Paz; long-open rows tinted."""
    shown = rows.assign(
        Estado=rows.apply(state_text, axis=1),
        Inicio=rows["Inicio"].map(fmt_datetime),
        Consultado=rows["Consultado"].map(fmt_time),
        Aviso=rows["Error"].where(rows["Desactualizado"]).map(lambda e: f"⚠ Último dato conocido: {e}", na_action="ignore"),
    )
    table = shown[list(COLUMNS)].astype("string").fillna("—")
    long_open = rows["Abierto hace mucho"].to_numpy()
    return table.style.apply(lambda row: [LONG_OPEN_STYLE if long_open[table.index.get_loc(row.name)] else ""] * len(row), axis=1)


@shell.live(resources.LIVE_REFRESH_S)
def live_table() -> None:
    now = now_la_paz()
    frame = pos_frame(inventory, runtime.store.pos_statuses(), now, long_open_hours)
    shown = filter_pos_frame(frame, branch_filter, state_filter, motive_filter)
    in_contingency = int((shown["Estado"] == CONTINGENCIA).sum())
    long_open = int(shown["Abierto hace mucho"].sum())
    fetched = frame["Consultado"].dropna()
    freshness = f"datos consultados {fmt_age(fetched.min(), now)} ({fmt_datetime(fetched.min(), seconds=True)}, hora de La Paz)" if len(fetched) else "sin datos del colector todavía"
    st.caption(
        f"{len(shown)} de {len(frame)} puntos de venta · **{in_contingency} en contingencia** · "
        f"{long_open} abierto(s) hace más de {long_open_hours:g} h · {freshness}."
    )
    widgets.collector_notices(runtime, frame)
    if shown.empty:
        st.info("Ningún punto de venta coincide con los filtros elegidos.", icon=":material/filter_alt_off:")
        return
    for branch in inventory.branches:
        rows = shown[shown["branch_id"] == branch.id]
        if rows.empty:
            continue
        in_branch = int((rows["Estado"] == CONTINGENCIA).sum())
        city = f" · {branch.city}" if branch.city else ""
        alert = f" · :red[**{in_branch} en contingencia**]" if in_branch else ""
        st.markdown(f"#### {branch.name}{city}\n{len(rows)} puntos de venta{alert}")
        st.dataframe(view(rows), hide_index=True, width="stretch", column_config=COLUMNS, key=f"tabla_{branch.id}")


live_table()
st.caption(f"Estado: {' · '.join(f'{STATE_ICONS[s]} {s}' for s in STATES)}. Motivos de cucu: "
           + ", ".join(f"{m.value} {m.label}" for m in Motive) + ".")
