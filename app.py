"""Contingencia: entry point. Shell (mode badge, SIAT indicator) and navigation; pages in pages/."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cucu.access import AccessSettingsError
from cucu.inventory import InventoryError
from cucu.settings import SettingsError
from cucu.vocabulary import AccessMode, Mode
from ui import identity, resources, shell

# A local icon: a Material icon here would be fetched from a CDN the internal server may not reach.
# The sidebar (who, role, sign-out) starts closed: on an 820 px tablet it would squeeze every page.
st.set_page_config(
    page_title="Contingencia",
    page_icon=str(Path(__file__).parent / "ui" / "favicon.png"),
    layout="wide",
    initial_sidebar_state="collapsed",
)

PAGES = [
    st.Page("pages/estado.py", title="Estado", icon=":material/monitor_heart:", default=True),
    # URL paths are the file names, no custom url_path: the first request after a restart is
    # resolved by Streamlit's legacy pages/ mode by file name (see ui.shell.page_context).
    st.Page("pages/eventos.py", title="Eventos activos", icon=":material/emergency:"),
    st.Page("pages/conectividad.py", title="Conectividad", icon=":material/network_check:"),
    st.Page("pages/historial.py", title="Historial", icon=":material/timeline:"),
    st.Page("pages/iniciar.py", title="Iniciar evento", icon=":material/add_alert:"),
    st.Page("pages/bitacora.py", title="Bitácora", icon=":material/receipt_long:"),
]
SUPERVISOR_ONLY = {"Iniciar evento"}  # hidden from viewers; the actions service refuses them anyway


def _config_problem(title: str, message: str) -> None:
    page = st.Page(lambda: shell.render_config_error(title, message), title="Configuración", icon=":material/settings_alert:")
    st.navigation([page], position="hidden").run()


def main() -> None:
    try:
        settings = resources.read_settings()
        access = identity.read_access()
        runtime = resources.get_runtime(settings)
    except (SettingsError, AccessSettingsError) as exc:
        _config_problem("La configuración no es válida", str(exc))
        return
    except InventoryError as exc:
        _config_problem("El inventario no se puede usar", str(exc))
        return

    decision = identity.current_decision(access, demo=settings.mode is Mode.DEMO)
    if decision.role is None:  # not signed in (oidc), or no access: nothing else is shown
        gate = st.Page(lambda: shell.render_gate(decision, access), title="Acceso", icon=":material/lock:")
        st.navigation([gate], position="hidden").run()
        return

    pages = PAGES if decision.can_act else [p for p in PAGES if p.title not in SUPERVISOR_ONLY]
    navigation = st.navigation(pages, position="top")
    shell.render_sidebar(decision, access)
    sign_in_off = access.mode == AccessMode.OFF and settings.mode is not Mode.DEMO

    @shell.live(resources.LIVE_REFRESH_S)
    def live_header() -> None:
        shell.render_header(settings.mode, resources.connectivity(runtime), sign_in_off=sign_in_off, decision=decision)

    try:
        live_header()
        with shell.page_scope(shell.PageContext(settings, access, runtime, decision)):
            navigation.run()
    except Exception:  # a supervisor never sees a traceback; the server log keeps it
        shell.show_unexpected_error(f"la página {navigation.title}")


main()
