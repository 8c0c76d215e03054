"""Contingencia: entry point. Shell (mode badge, SIAT indicator) and navigation; pages in pages/."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from cucu.access import AccessSettingsError, scope_problem
from cucu.inventory import InventoryError
from cucu.settings import SettingsError
from cucu.vocabulary import AccessMode, Mode, Role
from ui import identity, resources, shell, spanish, watchdog

# (file, title, icon, section). URL paths are the file names, no custom url_path: the first request after a
# restart is resolved by Streamlit's legacy pages/ mode by file name (see ui.shell.page_context).
# The top bar folds what does not fit into an English "2 more" (820 px fits about six links): what a
# supervisor reads over time sits in one "Registros" menu, so the bar has six items at any width.
RECORDS = "Registros"
PAGE_FILES = [
    ("pages/estado.py", "Estado", ":material/monitor_heart:", ""),
    ("pages/eventos.py", "Eventos activos", ":material/emergency:", ""),
    ("pages/iniciar.py", "Iniciar evento", ":material/add_alert:", ""),
    ("pages/facturas.py", "Facturas", ":material/receipt:", ""),
    ("pages/alertas.py", "Alertas", ":material/notifications:", ""),
    ("pages/mantenimiento.py", "Mantenimiento", ":material/engineering:", RECORDS),
    ("pages/historial.py", "Historial", ":material/timeline:", RECORDS),
    ("pages/conectividad.py", "Conectividad", ":material/network_check:", RECORDS),
    ("pages/bitacora.py", "Bitácora", ":material/receipt_long:", RECORDS),
    ("pages/caidas.py", "Caídas", ":material/crisis_alert:", RECORDS),
    ("pages/informe.py", "Informe mensual", ":material/summarize:", RECORDS),
    ("pages/pantalla.py", "Pantalla", ":material/tv:", RECORDS),
]


@functools.cache
def all_pages() -> list[st.Page]:
    """Made in the first run, not at import: the worker process (``cucu.workers``) imports this file."""
    return [st.Page(file, title=title, icon=icon, default=n == 0) for n, (file, title, icon, _) in enumerate(PAGE_FILES)]


SUPERVISOR_ONLY = {"Iniciar evento"}
WALL_PAGE = "pages/pantalla.py"  # all a display account (role pantalla) opens  # explained, not shown, to viewers; the actions service refuses them anyway


def sections(can_act: bool, supervisors_only: Callable[[], None]) -> dict[str, list[st.Page]]:
    """The pages as the top bar shows them: "" (links of their own) first, then each menu. A viewer's
    link to a supervisor's page gets ``supervisors_only`` (an explanation, not "Page not found")."""
    grouped: dict[str, list[st.Page]] = {}
    for page, (file, title, icon, section) in zip(all_pages(), PAGE_FILES, strict=True):
        if title in SUPERVISOR_ONLY and not can_act:
            page = st.Page(supervisors_only, title=title, icon=icon, url_path=Path(file).stem, visibility="hidden")
        grouped.setdefault(section, []).append(page)
    return grouped


def _everywhere(render: Callable[[], None], title: str, icon: str) -> None:
    """``render`` under every URL of the dashboard: a deep link (a shared /eventos before signing in)
    shows it, in Spanish, instead of Streamlit's English "Page not found" dialog."""
    pages = [
        st.Page(render, title=title, icon=icon, url_path=Path(file).stem, default=n == 0)
        for n, (file, *_) in enumerate(PAGE_FILES)
    ]
    spanish.render_spanish()
    st.navigation(pages, position="hidden").run()


def _config_problem(title: str, message: str) -> None:
    _everywhere(lambda: shell.render_config_error(title, message), "Configuración", ":material/settings_alert:")


def main() -> None:
    # A local icon: a Material icon here would be fetched from a CDN the internal server may not reach.
    # No initial_sidebar_state: the app draws no sidebar (who and the role are in the "Sesión" menu). Below
    # 768 px Streamlit moves the top navigation into one, and its default ("auto") starts it closed there.
    st.set_page_config(
        page_title="Contingencia",
        page_icon=str(Path(__file__).parent / "ui" / "favicon.png"),
        layout="wide",
    )
    resources.start_run()
    try:
        settings = resources.read_settings()
        access = identity.read_access()
        identity.check_sign_in_secrets(access)
        runtime = resources.get_runtime(settings)
        if problem := scope_problem(access, runtime.inventory):  # a region misspelt would show someone an empty chain
            raise AccessSettingsError(problem)
    except (SettingsError, AccessSettingsError) as exc:
        _config_problem("La configuración no es válida", str(exc))
        return
    except InventoryError as exc:
        _config_problem("El inventario no se puede usar", str(exc))
        return

    decision = identity.current_decision(access, demo=settings.mode is Mode.DEMO)
    if decision.role is None:  # not signed in (oidc), or no access: nothing else is shown
        _everywhere(lambda: shell.render_gate(decision, access), "Acceso", ":material/lock:")
        return
    # A scoped person's run reads their branches only, the header and every page (cucu.store.scoped).
    scope = None if decision.scope.whole_company else decision.scope.label(runtime.inventory)
    runtime = runtime.for_scope(decision.scope)

    if decision.role is Role.DISPLAY:  # a wall display's account: its page under every address, nothing else
        navigation = st.navigation(
            [st.Page(file, title=title, icon=icon, default=True) for file, title, icon, _ in PAGE_FILES if file == WALL_PAGE],
            position="hidden",
        )
    else:
        navigation = st.navigation(sections(decision.can_act, lambda: shell.render_supervisors_only(decision)), position="top")
    spanish.render_spanish()
    sign_in_off = access.mode == AccessMode.OFF and settings.mode is not Mode.DEMO

    @shell.live(resources.LIVE_REFRESH_S)
    def live_header() -> None:
        shell.render_header(
            settings.mode,
            shell.siat(lambda: resources.siat_state(runtime)),
            sign_in_off=sign_in_off,
            decision=decision,
            open_alerts=resources.open_alerts(runtime),
            scope=scope,
        )
        shell.maintenance_notice(*resources.maintenance_now(runtime), runtime.inventory)
        watchdog.render_watchdog(runtime.store.now(), resources.LIVE_REFRESH_S)

    try:
        # One SIAT state for the whole run: the header and the page draw the same object.
        with shell.siat_scope(resources.siat_state(runtime)):
            # The session menu on the header's line: a tablet's first screen is for the figures.
            with st.container(horizontal=True, vertical_alignment="center", gap="small", key="shell_top"):
                shell.render_sidebar(decision, access, scope)
                live_header()
            with shell.page_scope(shell.PageContext(settings, access, runtime, decision)):
                navigation.run()
    except Exception:  # a supervisor never sees a traceback; the server log keeps it
        shell.show_unexpected_error(f"la página {navigation.title}")


# Streamlit runs this file as "__main__"; the worker process of heavy builds (cucu.workers, started with spawn)
# imports it as "__mp_main__", where it must not start a second dashboard.
if __name__ == "__main__":
    main()
