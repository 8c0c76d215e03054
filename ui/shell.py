"""The frame around every page: mode badge and SIAT indicator, and error pages."""

from __future__ import annotations

import streamlit as st

from cucu.connectivity import ConnectivityCheck
from cucu.settings import Mode
from cucu.timefmt import fmt_time

_MODE_STYLE = {
    Mode.DEMO: ("violet", ":material/science:", "Datos de demostración: el simulador local de cucu."),
    Mode.SANDBOX: ("orange", ":material/construction:", "Conectado al sandbox de cucu (sandbox.cucu.bo)."),
    Mode.PRODUCCION: ("blue", ":material/verified:", "Conectado al servicio de cucu en producción."),
}


def siat_style(check: ConnectivityCheck) -> tuple[str, str]:
    if check.siat_ok is True:
        return "green", ":material/check_circle:"
    if check.siat_ok is False:
        return "red", ":material/error:"
    return "gray", ":material/cloud_off:"


def render_header(mode: Mode, check: ConnectivityCheck | None) -> None:
    """One line on every page, so the mode and SIAT's state are visible even on a tablet."""
    color, icon, help_text = _MODE_STYLE[mode]
    with st.container(horizontal=True, vertical_alignment="center", key="shell_header"):
        st.badge(mode.label, icon=icon, color=color, help=help_text)
        if check is None:
            st.badge("SIAT: comprobando…", icon=":material/hourglass_empty:", color="gray")
        else:
            s_color, s_icon = siat_style(check)
            st.badge(check.label, icon=s_icon, color=s_color, help=f"Comprobado a las {fmt_time(check.checked_at)} (hora de La Paz)")


def render_config_error(title: str, message: str) -> None:
    st.title("Contingencia")
    st.error(f"**{title}**\n\n{message}", icon=":material/settings_alert:")
    st.markdown(
        "El tablero lee su configuración de variables de entorno (`CUCU_BASE_URL`, `CUCU_API_KEY`, "
        "`CUCU_INVENTORY`, `CUCU_DB`) o de la tabla `[cucu]` de `.streamlit/secrets.toml` "
        "(vea `.streamlit/secrets.toml.example`). Sin `CUCU_BASE_URL` funciona en modo DEMO. "
        "Corrija el problema y recargue la página."
    )
