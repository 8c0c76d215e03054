"""Estado: does SIAT answer right now, and what the inventory holds."""

from __future__ import annotations

import streamlit as st

from cucu.connectivity import diagnose
from cucu.frames import inventory_frame
from cucu.timefmt import fmt_datetime
from ui import resources

runtime = resources.current_runtime()

st.title("Estado")


@st.fragment(run_every=resources.LIVE_REFRESH_S)
def siat_now() -> None:
    fresh = st.button("Comprobar ahora", icon=":material/refresh:", key="estado_refresh")
    check = resources.connectivity(runtime, fresh=fresh)
    diagnosis = diagnose(check, runtime.settings)
    if diagnosis is not None:
        st.error(f"**{diagnosis.title}**\n\n{diagnosis.explanation}\n\n**Cómo corregirlo:** {diagnosis.fix}", icon=":material/cloud_off:")
    elif check.siat_ok:
        st.success("**SIAT responde.** Los puntos de venta pueden facturar en línea.", icon=":material/check_circle:")
    else:
        st.warning(
            "**SIAT no responde.** cucu está en línea, pero SIAT no contesta. "
            "Si la falla continúa, los puntos de venta deben declarar contingencia (motivo 2, Falla SIAT).",
            icon=":material/error:",
        )
    latency = f" · respuesta en {check.latency_ms:.0f} ms" if check.latency_ms is not None else ""
    st.caption(f"Comprobado el {fmt_datetime(check.checked_at, seconds=True)} (hora de La Paz){latency}.")


siat_now()

st.subheader("Inventario")
inventory = runtime.inventory
col_branches, col_pos = st.columns(2)
col_branches.metric("Sucursales", len(inventory.branches))
col_pos.metric("Puntos de venta", len(inventory.all_pos))
st.dataframe(
    inventory_frame(inventory),
    hide_index=True,
    width="stretch",
    column_config={"Puntos de venta": st.column_config.NumberColumn(format="%d", width="small")},
)
