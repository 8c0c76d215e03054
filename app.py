"""Contingencia: entry point. Shell (mode badge, SIAT indicator) and navigation; pages in pages/."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cucu.inventory import InventoryError
from cucu.settings import SettingsError
from ui import resources, shell

# A local icon: a Material icon here would be fetched from a CDN the internal server may not reach.
st.set_page_config(page_title="Contingencia", page_icon=str(Path(__file__).parent / "ui" / "favicon.png"), layout="wide")

PAGES = [
    st.Page("pages/estado.py", title="Estado", icon=":material/monitor_heart:", default=True),
    # URL paths are the file names, no custom url_path: the first request after a restart is
    # resolved by Streamlit's legacy pages/ mode by file name (see ui.shell.require_shell).
    st.Page("pages/eventos.py", title="Eventos activos", icon=":material/emergency:"),
    st.Page("pages/conectividad.py", title="Conectividad", icon=":material/network_check:"),
    st.Page("pages/historial.py", title="Historial", icon=":material/timeline:"),
    st.Page("pages/iniciar.py", title="Iniciar evento", icon=":material/add_alert:"),
    st.Page("pages/bitacora.py", title="Bitácora", icon=":material/receipt_long:"),
]


def _config_problem(title: str, message: str) -> None:
    page = st.Page(lambda: shell.render_config_error(title, message), title="Configuración", icon=":material/settings_alert:")
    st.navigation([page], position="hidden").run()


def main() -> None:
    try:
        settings = resources.read_settings()
        runtime = resources.get_runtime(settings)
    except SettingsError as exc:
        _config_problem("La configuración no es válida", str(exc))
        return
    except InventoryError as exc:
        _config_problem("El inventario no se puede usar", str(exc))
        return

    navigation = st.navigation(PAGES, position="top")

    @shell.live(resources.LIVE_REFRESH_S)
    def live_header() -> None:
        shell.render_header(settings.mode, resources.connectivity(runtime))

    try:
        live_header()
        with shell.shell_scope():
            navigation.run()
    except Exception:  # a supervisor never sees a traceback; the server log keeps it
        shell.show_unexpected_error(f"la página {navigation.title}")


main()
