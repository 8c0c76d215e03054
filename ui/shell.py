"""The frame around every page: mode badge and SIAT indicator, and error pages."""

from __future__ import annotations

import contextvars
import functools
import logging
import runpy
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import streamlit as st

from cucu.connectivity import ConnectivityCheck
from cucu.settings import Mode
from cucu.timefmt import fmt_time

_MODE_STYLE = {
    Mode.DEMO: ("violet", ":material/science:", "Datos de demostración: el simulador local de cucu."),
    Mode.SANDBOX: ("orange", ":material/construction:", "Conectado al sandbox de cucu (sandbox.cucu.bo)."),
    Mode.PRODUCCION: ("blue", ":material/verified:", "Conectado al servicio de cucu en producción."),
}


log = logging.getLogger("contingencia")

UNEXPECTED_ERROR = (
    "Ocurrió un error inesperado al mostrar esta página. Los datos no se perdieron: "
    "recargue la página y, si persiste, avise al administrador del tablero."
)


def show_unexpected_error(where: str) -> None:
    """Log the traceback on the server; the supervisor sees a Spanish sentence, never a traceback."""
    log.exception("error inesperado en %s", where)
    st.error(UNEXPECTED_ERROR, icon=":material/error:")


def live(run_every: float) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``st.fragment(run_every=...)`` whose failures are shown like app.py's.

    A fragment's own reruns do not pass through app.py, so its guard must be here too.
    """

    def decorate(body: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(body)
        def guarded(*args, **kwargs) -> None:
            try:
                body(*args, **kwargs)
            except Exception:
                show_unexpected_error(body.__qualname__)

        return st.fragment(guarded, run_every=run_every)

    return decorate


_IN_SHELL: contextvars.ContextVar[bool] = contextvars.ContextVar("contingencia_in_shell", default=False)
_RUNNING_APP: contextvars.ContextVar[bool] = contextvars.ContextVar("contingencia_running_app", default=False)
APP_PATH = Path(__file__).resolve().parent.parent / "app.py"


@contextmanager
def shell_scope() -> Iterator[None]:
    """app.py runs the selected page inside this scope."""
    token = _IN_SHELL.set(True)
    try:
        yield
    finally:
        _IN_SHELL.reset(token)


def require_shell() -> None:
    """A page never runs without app.py around it (header, error guard, and later sign-in).

    Streamlit 1.67 runs ``pages/*.py`` directly (its legacy multipage mode, chosen because a
    ``pages/`` folder sits beside app.py) until some run has called ``st.navigation``: the
    first request after a restart when it is a page URL, and every AppTest run. Then run
    app.py here, in this same run (widget values and clicks included): its ``st.navigation``
    switches that mode off and runs the requested page inside the shell. Stop the outer run.
    """
    if _IN_SHELL.get():
        return
    if _RUNNING_APP.get():  # app.py ran and still did not wrap this page: never loop
        st.error("Esta página solo se abre desde el tablero.", icon=":material/block:")
        st.stop()
    token = _RUNNING_APP.set(True)
    try:
        runpy.run_path(str(APP_PATH), run_name="__main__")
    finally:
        _RUNNING_APP.reset(token)
    st.stop()


def siat_style(check: ConnectivityCheck) -> tuple[str, str]:
    if check.siat_ok is True:
        return "green", ":material/check_circle:"
    if check.siat_ok is False:
        return "red", ":material/error:"
    return "gray", ":material/cloud_off:"


def render_header(mode: Mode, check: ConnectivityCheck, *, sign_in_off: bool = False, decision=None) -> None:
    """One line on every page, so the mode, SIAT's state and who is acting are visible even on a tablet."""
    from cucu.access import ROLE_LABELS

    color, icon, help_text = _MODE_STYLE[mode]
    with st.container(horizontal=True, vertical_alignment="center", key="shell_header"):
        st.badge(mode.label, icon=icon, color=color, help=help_text)
        if decision is not None and decision.role:
            who = decision.name or decision.user if decision.signed_in else "Sin inicio de sesión"
            st.badge(f"{who} · {ROLE_LABELS[decision.role]}", icon=":material/person:",
                     color="blue" if decision.can_act else "gray", help="Menú lateral (☰): detalle y cerrar sesión.")
        if sign_in_off:
            st.badge("Inicio de sesión desactivado", icon=":material/no_accounts:", color="orange",
                     help="[access].mode = off: nadie inicia sesión; cualquiera que abra el tablero lo ve.")
        s_color, s_icon = siat_style(check)
        st.badge(check.label, icon=s_icon, color=s_color, help=f"Comprobado a las {fmt_time(check.checked_at)} (hora de La Paz)")


def render_sidebar(decision, access) -> None:
    """Who is signed in, their role, and how to sign out."""
    from cucu.access import ROLE_LABELS

    with st.sidebar:
        if decision.signed_in:
            st.markdown(f"**{decision.name or decision.user}**")
            if decision.name:
                st.caption(decision.user)
        else:
            st.markdown("**Sin inicio de sesión**")
        st.badge(ROLE_LABELS.get(decision.role, "Sin acceso"), icon=":material/badge:",
                 color="blue" if decision.role == "supervisor" else "gray")
        st.caption(decision.reason)
        if access.mode == "oidc" and decision.signed_in:
            st.button("Cerrar sesión", icon=":material/logout:", key="cerrar_sesion", on_click=st.logout)
        elif access.mode == "proxy":
            st.caption("La sesión la mantiene el servidor de acceso: para salir, cierre el navegador.")


def render_gate(decision, access) -> None:
    """The only page for someone who is not signed in (oidc) or has no access."""
    st.title("Contingencia")
    if access.mode == "oidc" and not decision.signed_in:
        st.markdown("Inicie sesión con su cuenta de la empresa para ver el tablero de contingencia.")
        if st.button("Iniciar sesión", type="primary", icon=":material/login:", key="iniciar_sesion"):
            try:
                st.login()
            except Exception:
                log.exception("st.login falló")
                st.error("El inicio de sesión no está configurado en este servidor (falta [auth] en secrets.toml). "
                         "Avise al administrador.", icon=":material/settings_alert:")
        return
    who = f" ({decision.user})" if decision.user else ""
    st.error(f"**Su usuario{who} no tiene acceso a este tablero.** {decision.reason} Pida acceso al administrador.",
             icon=":material/lock:")
    if access.mode == "oidc":
        st.button("Cerrar sesión", icon=":material/logout:", key="cerrar_sesion", on_click=st.logout)


def render_config_error(title: str, message: str) -> None:
    st.title("Contingencia")
    st.error(f"**{title}**\n\n{message}", icon=":material/settings_alert:")
    st.markdown(
        "El tablero lee su configuración de variables de entorno (`CUCU_BASE_URL`, `CUCU_API_KEY`, "
        "`CUCU_INVENTORY`, `CUCU_DB`) o de la tabla `[cucu]` de `.streamlit/secrets.toml` "
        "(vea `.streamlit/secrets.toml.example`). Sin `CUCU_BASE_URL` funciona en modo DEMO. "
        "Corrija el problema y recargue la página."
    )
