"""The frame around every page: the run's context, the header (mode, who, SIAT), error guards and pages."""

from __future__ import annotations

import contextvars
import functools
import logging
import runpy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from cucu.access import AccessSettings, Decision
from cucu.api.models import Inventory
from cucu.connectivity.rules import Rollup
from cucu.events.maintenance import scope_text
from cucu.formatting import fmt_count, fmt_datetime, fmt_time, md_text
from cucu.runtime import Runtime
from cucu.settings import Settings
from cucu.store import MaintenanceWindow
from cucu.views.alertas import OpenAlerts, header_help
from cucu.vocabulary import AccessMode, Mode, Role, Tone
from ui import resources

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
            resources.start_run()  # a live part's run does not pass through app.py
            try:
                body(*args, **kwargs)
            except Exception:
                show_unexpected_error(body.__qualname__)

        return st.fragment(guarded, run_every=run_every)

    return decorate


@dataclass(frozen=True)
class PageContext:
    """What app.py settled for this run, handed to the page so it decides nothing again."""

    settings: Settings
    access: AccessSettings
    runtime: Runtime
    decision: Decision  # who this is and their role, now

    @property
    def inventory(self) -> Inventory:
        return self.runtime.inventory

    @property
    def can_act(self) -> bool:
        """Supervisors see the action controls; the actions service checks the role again at every call."""
        return self.decision.can_act

    @property
    def company_wide(self) -> bool:
        """Not scoped: what concerns the whole company (the policy's pause, SIAT's alerts, a company-wide
        window, the alert channels) is shown and offered to these people only; the actions refuse the others."""
        return self.decision.scope.whole_company


_CONTEXT: contextvars.ContextVar[PageContext | None] = contextvars.ContextVar("contingencia_page", default=None)
_RUNNING_APP: contextvars.ContextVar[bool] = contextvars.ContextVar("contingencia_running_app", default=False)
APP_PATH = Path(__file__).resolve().parent.parent / "app.py"


@contextmanager
def page_scope(context: PageContext) -> Iterator[None]:
    """app.py runs the selected page inside this scope, where :func:`page_context` finds ``context``."""
    token = _CONTEXT.set(context)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def page_context() -> PageContext:
    """Every page's first call: the run's context, with app.py (header, sign-in, error guard) around the page.

    Streamlit 1.67 runs ``pages/*.py`` directly (its legacy multipage mode, chosen because a
    ``pages/`` folder sits beside app.py) until some run has called ``st.navigation``: the first
    request after a restart when it is a page URL, and every AppTest run. Then run app.py here, in
    this same run (widget values and clicks included): its ``st.navigation`` switches that mode off
    and runs the requested page inside the shell. The outer run stops. This is the one place that
    knows about that mode; the ``pages/`` folder stays because the product's layout asks for it.
    """
    context = _CONTEXT.get()
    if context is not None:
        return context
    if _RUNNING_APP.get():  # app.py ran and still did not wrap this page: never loop
        st.error("Esta página solo se abre desde el tablero.", icon=":material/block:")
        st.stop()
    token = _RUNNING_APP.set(True)
    try:
        runpy.run_path(str(APP_PATH), run_name="__main__")
    finally:
        _RUNNING_APP.reset(token)
    st.stop()
    raise AssertionError("unreachable")  # st.stop raises


_SIAT: contextvars.ContextVar[Rollup | None] = contextvars.ContextVar("contingencia_siat", default=None)
SIAT_DRAWN = "siat_drawn"  # session state: the SIAT state the last whole run of the app drew


@contextmanager
def siat_scope(rollup: Rollup) -> Iterator[None]:
    """app.py runs the header and the page inside this scope: every part of one run draws ``rollup``."""
    st.session_state[SIAT_DRAWN] = rollup
    token = _SIAT.set(rollup)
    try:
        yield
    finally:
        _SIAT.reset(token)


def siat(read: Callable[[], Rollup]) -> Rollup:
    """SIAT's one state for whatever draws it (the header, Estado's word and box, Conectividad).

    In a run of the whole app, the object app.py read: the header and the page cannot disagree. A live
    part (``st.fragment``) re-running alone reads it afresh (``read``); when it is no longer what the
    header shows, it reruns the whole app, so the header changes with the page, never 10 s after it.
    """
    in_run = _SIAT.get()
    if in_run is not None:
        return in_run
    fresh = read()
    drawn = st.session_state.get(SIAT_DRAWN)
    if not isinstance(drawn, Rollup) or drawn.key != fresh.key:
        st.rerun(scope="app")
    return fresh


def render_header(
    mode: Mode,
    rollup: Rollup,
    *,
    sign_in_off: bool = False,
    decision: Decision | None = None,
    open_alerts: OpenAlerts | None = None,
    scope: str | None = None,
) -> None:
    """One line on every page, so the mode, SIAT's state and who is acting are visible even on a tablet.
    ``scope``: what a scoped person sees ("Región Santa Cruz"); None for the whole company."""
    with st.container(horizontal=True, vertical_alignment="center", key="shell_header"):
        st.badge(mode.label, icon=mode.icon, color=mode.color, help=mode.description)
        if decision is not None and decision.role is Role.SUPERVISOR and mode is Mode.DEMO and not decision.signed_in:
            st.badge(
                "Todos son supervisores (DEMO)",
                icon=":material/groups:",
                color=decision.role.color,
                help=decision.reason,
            )
        elif decision is not None and decision.role:
            who = decision.name or decision.user if decision.signed_in else "Sin inicio de sesión"
            st.badge(
                f"{md_text(who)} · {decision.role.label}",
                icon=":material/person:",
                color=decision.role.color,
                help=f"Menú «{SESSION_MENU}», arriba: detalle y cerrar sesión.",
            )
        if scope is not None:
            st.badge(
                md_text(scope),
                icon=":material/map:",
                color="violet",
                help="Su alcance: cada página, cifra, gráfico y exportación muestra solo estas sucursales.",
            )
        if sign_in_off:
            st.badge(
                "Inicio de sesión desactivado",
                icon=":material/no_accounts:",
                color="orange",
                help="[access].mode = off: nadie inicia sesión; cualquiera que abra el tablero lo ve.",
            )
        checked = f" Comprobado a las {fmt_time(rollup.latest.checked_at)} (hora de La Paz)." if rollup.latest else ""
        st.badge(
            f"SIAT: {rollup.word}",
            icon=f":material/{rollup.icon}:",
            color=rollup.color,
            help=f"{rollup.detail}{checked} {rollup.asked_note}".strip(),
        )
        if open_alerts is not None:
            alerts_badge(open_alerts)


@functools.cache
def linked(file: str) -> StreamlitPage:
    """The page at ``file`` for ``st.page_link``, made once per process: given a path, page_link resolves it on disk
    (``os.path.realpath``) at every call, and a tablet's live parts draw a dozen links at every refresh."""
    return st.Page(file)


def alerts_badge(alerts: OpenAlerts) -> None:
    """ "N alertas abiertas · M sin atender", a link to Alertas: every page says whether something waits for a
    person, and its tooltip who handles the open ones and since when. Red while one has nobody on it; amber once
    every one is handled ("Lo atiendo"), as contingency is."""
    count, unowned = alerts.count, alerts.unowned
    if not alerts.known:  # never "0 alertas abiertas" before the rules were decided, or when nobody decides them
        st.page_link(
            linked("pages/alertas.py"),
            label=f":{Tone.UNKNOWN.color}-badge[Alertas sin evaluar]",
            icon=":material/notifications_off:",
            help="Las reglas de alerta no se han evaluado en las últimas rondas: lo que está abierto no se sabe todavía.",
            width="content",
        )
        return
    label = "1 alerta abierta" if count == 1 else f"{fmt_count(count)} alertas abiertas"
    if count:
        label += f" · {fmt_count(unowned)} sin atender" if unowned else (" · atendida" if count == 1 else " · atendidas")
    if alerts.partial:  # decided on part of the data so far: what fired on it, not all there is
        label += " · lectura parcial"
    tone = Tone.PROBLEM if unowned else Tone.MANAGED if count else Tone.UNKNOWN if alerts.partial else Tone.NONE
    st.page_link(
        linked("pages/alertas.py"),
        label=f":{tone.color}-badge[{label}]",
        icon=":material/notifications_active:" if count else ":material/notifications:",
        help=header_help(alerts),
        width="content",
    )


def maintenance_notice(running: Sequence[MaintenanceWindow], upcoming: Sequence[MaintenanceWindow], inventory: Inventory) -> None:
    """Every page names the maintenance running now and the one starting within a day (Mantenimiento lists all)."""
    for window in running:
        st.info(
            f"**Mantenimiento en curso** hasta el {fmt_datetime(window.ends_at)}: {md_text(scope_text(window, inventory))} · "
            f"{md_text(window.reason)}.",
            icon=":material/engineering:",
        )
    for window in upcoming:
        st.caption(
            f":material/event: Mantenimiento programado: {fmt_datetime(window.starts_at)} – {fmt_datetime(window.ends_at)} · "
            f"{md_text(scope_text(window, inventory))} · {md_text(window.reason)}."
        )


SESSION_MENU = "Sesión"


def render_sidebar(decision: Decision, access: AccessSettings, scope_label: str | None = None) -> None:
    """Who is signed in, their role, and how to sign out: a menu at the top of the page. Not Streamlit's
    sidebar: opened on an 820 px tablet it squeezed every page ("POS en conti…") until closed; with nothing
    in it, Streamlit shows no sidebar."""
    with st.popover(SESSION_MENU, icon=":material/account_circle:", type="tertiary", key="sesion"):
        if decision.signed_in:
            st.markdown(f"**{md_text(decision.name or decision.user)}**")
            if decision.name:
                st.caption(md_text(decision.user))
        else:
            st.markdown("**Sin inicio de sesión**")
        st.badge(
            decision.role.label if decision.role else "Sin acceso",
            icon=":material/badge:",
            color=decision.role.color if decision.role else "gray",
        )
        st.caption(decision.reason)
        if not decision.scope.whole_company:
            st.caption(f"Alcance: {md_text(scope_label)}." if scope_label else "Alcance limitado.")
        if access.mode == AccessMode.OIDC and decision.signed_in:
            st.button("Cerrar sesión", icon=":material/logout:", key="cerrar_sesion", on_click=st.logout)
        elif access.mode == AccessMode.PROXY:
            st.caption("La sesión la mantiene el servidor de acceso: para salir, cierre el navegador.")


def render_gate(decision: Decision, access: AccessSettings) -> None:
    """The only page for someone who is not signed in (oidc) or has no access."""
    st.title("Contingencia")
    if access.mode == AccessMode.OIDC and not decision.signed_in:
        st.markdown("Inicie sesión con su cuenta de la empresa para ver el tablero de contingencia.")
        if st.button("Iniciar sesión", type="primary", icon=":material/login:", key="iniciar_sesion"):
            try:
                st.login()
            except Exception:
                log.exception("st.login falló")
                st.error(
                    "El inicio de sesión no está configurado en este servidor (falta [auth] en secrets.toml). "
                    "Avise al administrador.",
                    icon=":material/settings_alert:",
                )
        return
    who = f" ({md_text(decision.user)})" if decision.user else ""
    st.error(
        f"**Su usuario{who} no tiene acceso a este tablero.** {decision.reason} Pida acceso al administrador.",
        icon=":material/lock:",
    )
    if access.mode == AccessMode.OIDC:
        st.button("Cerrar sesión", icon=":material/logout:", key="cerrar_sesion", on_click=st.logout)


def render_supervisors_only(decision: Decision) -> None:
    """What a viewer sees on a supervisor's page (a shared link to /iniciar)."""
    role = decision.role.label if decision.role else "sin rol"
    st.title("Solo para supervisores")
    st.info(
        f"Iniciar eventos de contingencia es tarea de un supervisor. Su rol ({role}) permite ver el estado, los "
        "eventos activos, la conectividad, el historial y la bitácora. Si necesita iniciar eventos, pida el rol "
        "de supervisor al administrador del tablero.",
        icon=":material/lock:",
    )


def render_config_error(title: str, message: str) -> None:
    st.title("Contingencia")
    st.error(f"**{title}**\n\n{message}", icon=":material/settings_alert:")
    st.markdown(
        "El tablero lee su configuración de variables de entorno (`CUCU_BASE_URL`, `CUCU_API_KEY`, "
        "`CUCU_INVENTORY`, `CUCU_DB`) o de la tabla `[cucu]` de `.streamlit/secrets.toml` "
        "(vea `.streamlit/secrets.toml.example`). Sin `CUCU_BASE_URL` funciona en modo DEMO. "
        "Corrija el problema y recargue la página."
    )
