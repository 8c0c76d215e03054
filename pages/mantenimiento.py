"""Mantenimiento: the windows scheduled (current, upcoming, lately ended), and for a supervisor the form to
schedule one (SIAT's announced maintenance, a branch closed for inventory) and the button to cancel it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta

import streamlit as st

from cucu.events.actions import ActionError
from cucu.events.maintenance import (
    REASON_MAX,
    SILENCED_BY_DEFAULT,
    cancel,
    cufds_to_renew,
    mark_past,
    period,
    renewal_list,
    renewal_text,
    schedule,
    scope_text,
    touching,
)
from cucu.events.policy import during_window
from cucu.formatting import fmt_datetime, plural
from cucu.inventory import branch_labels
from cucu.organization.regions import branches_by_region
from cucu.store import MaintenanceWindow, StoredCufd
from cucu.vocabulary import AlertRule, stored_label
from ui import actions, identity, resources, shell, widgets

page = shell.page_context()
runtime, settings, inventory = page.runtime, page.settings, page.inventory
RECENT = timedelta(days=30)  # ended windows listed below the current and upcoming ones
DONE = "mantenimiento_hecho"

st.title("Mantenimiento")
st.caption(
    "Ventanas de mantenimiento: el de SIAT anunciado, una sucursal cerrada por inventario. Mientras una corre, "
    "las alertas elegidas no se abren ni recuerdan en su alcance (lo ya abierto sigue abierto y se cierra al "
    "resolverse); todas las páginas la nombran. Horas de La Paz."
)
actions.confirmation_and_results(runtime)  # a CUFD renewal before a window, confirmed as everywhere
if done := st.session_state.pop(DONE, None):
    st.success(done, icon=":material/check_circle:")

now = runtime.store.now()
# Region and branch, in the URL as on every page: the windows touching them, and always the company's.
chosen_branches = widgets.branch_filter(inventory)
if chosen_branches:
    st.caption("Los mantenimientos de toda la empresa (los de SIAT) cubren cada sucursal: se muestran con cualquier filtro.")
windows = touching(runtime.store.maintenance_windows(ending_after=now - RECENT, cancelled=True), chosen_branches)


def _lenient_rule(value: str) -> AlertRule | str:
    """A rule this version does not know (written by a newer one) stays its raw text."""
    return AlertRule(value) if value in {r.value for r in AlertRule} else value


def state_of(window: MaintenanceWindow) -> str:
    if window.cancelled_at is not None:
        return f"Cancelado el {fmt_datetime(window.cancelled_at)}"
    if window.covers(now):
        return "En curso"
    if window.marked_after:
        return "Marcado después (no cuenta en la disponibilidad)"
    return "Programado" if window.starts_at > now else "Terminado"


def preflight(window: MaintenanceWindow, cufds: Mapping[str, StoredCufd]) -> None:
    """Before (and during) a window: the POS whose CUFD does not last through it, listed soonest first (branch, POS,
    expiry in La Paz), with their renewal. Offline invoices need a valid CUFD from before the outage."""
    to_renew, unread = cufds_to_renew(window, cufds, inventory)
    if unread:
        st.caption(f"{plural(unread, 'punto de venta', 'puntos de venta')} de su alcance sin CUFD leído todavía.")
    if not to_renew:
        if unread < sum(len(b.pos) for b in inventory.branches):
            st.caption(":material/check: Cada CUFD leído de su alcance sigue vigente hasta el fin del mantenimiento.")
        return
    st.warning(
        f"**{plural(len(to_renew), 'punto de venta', 'puntos de venta')}** sin un CUFD vigente hasta el fin del "
        f"mantenimiento ({fmt_datetime(window.ends_at)}): sin él no podrán facturar fuera de línea. Renuévelos antes.",
        icon=":material/key_off:",
    )
    st.markdown(renewal_text(renewal_list(to_renew, cufds, inventory, now)))  # soonest first; a chain's: the first ten
    if page.can_act and st.button(
        f"Renovar el CUFD de {plural(len(to_renew), 'punto de venta', 'puntos de venta')}",
        key=f"mantenimiento_renovar_{window.id}",
        icon=":material/autorenew:",
    ):
        problem = actions.request_renew_cufd(runtime, to_renew)
        if problem:
            st.warning(problem, icon=":material/info:")
        else:
            st.rerun()  # the confirmation opens, as Facturas' renewal does


def cancel_button(window_id: int) -> None:
    if not st.button("Cancelar este mantenimiento", key=f"mantenimiento_cancelar_{window_id}", icon=":material/event_busy:"):
        return
    try:
        cancel(runtime.store, identity.actor_now(settings), inventory, window_id, runtime.store.now())
    except ActionError as exc:
        st.warning(str(exc), icon=":material/block:")
        return
    resources.note_own_write()  # every page's notice shows it at once
    st.session_state[DONE] = "Mantenimiento cancelado."
    st.rerun()


# Read once for every window still to come (a chain's 10 000 CUFDs).
cufds = runtime.store.cufds() if any(w.cancelled_at is None and w.ends_at > now for w in windows) else {}
if not windows:
    st.caption("No hay mantenimientos programados ni recientes" + (" de las sucursales elegidas." if chosen_branches else "."))
else:
    for window in sorted(windows, key=lambda w: (w.ends_at <= now or w.cancelled_at is not None, w.starts_at)):
        with st.container(border=True):
            st.markdown(f"**{state_of(window)}** · {fmt_datetime(window.starts_at)} – {fmt_datetime(window.ends_at)}")
            silenced = ", ".join(stored_label(_lenient_rule(r)) for r in window.silenced) or "ninguna"
            st.text(
                f"{scope_text(window, inventory)} · {window.reason}\nAlertas en espera: {silenced} · programado por "
                f"{window.created_by} el {fmt_datetime(window.created_at)}"
            )  # people's words: text, never Markdown
            if window.cancelled_at is None and window.ends_at > now and not window.marked_after:
                if policy := during_window(window, settings.policy):
                    st.caption(policy)
                preflight(window, cufds)
                # a scoped supervisor cancels only a window wholly theirs (cucu.events.maintenance.cancel checks it too)
                if page.can_act and (page.company_wide or (window.branch_ids and not window.hidden_branches)):
                    cancel_button(window.id)

if not page.can_act:
    st.caption("Programar o cancelar un mantenimiento es para supervisores.")
    st.stop()

st.subheader("Programar un mantenimiento")
today = now.date()
# The form opens on tonight's 22:00-23:00 (SIAT's usual slot), or tomorrow's once tonight's has begun.
first_day = today if now.time() < time(22, 0) else today + timedelta(days=1)
with st.form("mantenimiento_nuevo", border=True):
    c1, c2, c3 = st.columns(3)
    day = c1.date_input("Día", value=first_day, min_value=today, format="DD/MM/YYYY", key="mantenimiento_dia")
    start = c2.time_input("Desde", value=time(22, 0), step=timedelta(minutes=15), key="mantenimiento_desde")
    end = c3.time_input("Hasta", value=time(23, 0), step=timedelta(minutes=15), key="mantenimiento_hasta",
                        help="Si es anterior al inicio, termina al día siguiente.")  # fmt: skip
    labels = branch_labels(inventory)
    regions = branches_by_region(inventory)
    with st.container(horizontal=True, gap="small"):
        # A region stands for all its branches: a department's inventory closing is one choice, not dozens.
        region_names = (
            st.multiselect(
                "Regiones", list(regions), placeholder="Ninguna", key="mantenimiento_regiones", width=widgets.REGION_FILTER_PX
            )
            if len(regions) > 1
            else []
        )
        chosen = st.multiselect(
            "Sucursales",
            list(labels),
            format_func=labels.__getitem__,
            placeholder="Toda la empresa" if page.company_wide else "Elija sucursales",
            key="mantenimiento_sucursales",
        )
    in_regions = [b for name in region_names for b in regions[name]]
    branch_ids = list(dict.fromkeys([*in_regions, *chosen]))  # both, once each; none: the whole company
    rules = st.multiselect(
        "Alertas en espera durante el mantenimiento",
        list(AlertRule),
        default=list(SILENCED_BY_DEFAULT),
        format_func=lambda rule: rule.label,
        placeholder="Ninguna: todas suenan",
        key="mantenimiento_reglas",
    )
    reason = st.text_input(
        "Motivo", max_chars=REASON_MAX, placeholder="Mantenimiento de SIAT anunciado", key="mantenimiento_motivo"
    )
    submitted = st.form_submit_button("Programar", icon=":material/event_available:", type="primary")
if submitted and not branch_ids and not page.company_wide:
    st.warning("Elija una región o sucursales de su alcance: un mantenimiento de toda la empresa lo programa un "
               "supervisor de toda la empresa.", icon=":material/info:")  # fmt: skip
elif submitted:
    starts_at, ends_at = period(day, start, end)
    try:
        schedule(
            runtime.store, identity.actor_now(settings), inventory, starts_at=starts_at, ends_at=ends_at,
            branch_ids=branch_ids, silenced=rules, reason=reason, now=runtime.store.now(),
        )  # fmt: skip
    except ActionError as exc:
        st.warning(str(exc), icon=":material/block:")
    else:
        resources.note_own_write()  # every page's notice shows it at once
        hours = (ends_at - starts_at) / timedelta(hours=1)
        st.session_state[DONE] = (
            f"Mantenimiento programado: {fmt_datetime(starts_at)} – {fmt_datetime(ends_at)} "
            f"({plural(round(hours), 'hora', 'horas') if hours >= 1 else 'menos de una hora'})."
        )
        st.rerun()

if not page.company_wide:  # a past period is marked for the whole company
    st.stop()

st.subheader("Marcar un período pasado como mantenimiento")
st.caption(
    "Una caída de SIAT que resultó ser un mantenimiento anunciado tarde: la disponibilidad de Conectividad la deja "
    "fuera y la muestra aparte. Toda la empresa, de los últimos 31 días; queda en Bitácora."
)
with st.form("mantenimiento_pasado", border=True):
    c1, c2, c3 = st.columns(3)
    past_day = c1.date_input(
        "Día", value=today, min_value=today - timedelta(days=31), max_value=today, format="DD/MM/YYYY", key="pasado_dia"
    )
    past_start = c2.time_input("Desde", value=time(0, 0), step=timedelta(minutes=15), key="pasado_desde")
    past_end = c3.time_input("Hasta", value=time(1, 0), step=timedelta(minutes=15), key="pasado_hasta",
                             help="Si es anterior al inicio, termina al día siguiente.")  # fmt: skip
    past_reason = st.text_input(
        "Motivo", max_chars=REASON_MAX, placeholder="SIAT anunció el mantenimiento después", key="pasado_motivo"
    )
    marked = st.form_submit_button("Marcar como mantenimiento", icon=":material/history:")
if marked:
    starts_at, ends_at = period(past_day, past_start, past_end)
    try:
        mark_past(
            runtime.store, identity.actor_now(settings), inventory, starts_at=starts_at, ends_at=ends_at,
            reason=past_reason, now=runtime.store.now(),
        )  # fmt: skip
    except ActionError as exc:
        st.warning(str(exc), icon=":material/block:")
    else:
        st.session_state[DONE] = f"Período marcado como mantenimiento: {fmt_datetime(starts_at)} – {fmt_datetime(ends_at)}."
        st.rerun()
