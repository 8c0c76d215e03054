"""Facturas: can every POS invoice (CUFD), what was issued offline and is still to reach SIAT, what SIAT
rejected and why, and each ended event's closing state. Filters in the URL, CSV of what is shown."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from cucu.export import excel_csv
from cucu.formatting import fmt_age, fmt_count, fmt_datetime, fmt_duration, md_text
from cucu.frames import (
    CLOSE_COLUMNS,
    INVOICE_COLUMNS,
    INVOICE_TIME_COLUMNS,
    closes_frame,
    cufd_texts,
    invoices_frame,
    matching,
)
from cucu.invoicing import INVOICE_JOB
from cucu.lapaz import now_la_paz
from cucu.vocabulary import CufdHealth, EventClosing, InvoiceState
from ui import actions, resources, shell, widgets

page = shell.page_context()
runtime, settings, inventory = page.runtime, page.settings, page.inventory
TABLE_HEIGHT = 460
SHOWN_STATES = {  # what this page lists: still to send, and rejected
    InvoiceState.CONTINGENCY.label: InvoiceState.CONTINGENCY.value,
    InvoiceState.PENDING.label: InvoiceState.PENDING.value,
    InvoiceState.REJECTED.label: InvoiceState.REJECTED.value,
}

st.title("Facturas")
st.caption(
    "Si cada punto de venta puede facturar (CUFD vigente), las facturas emitidas fuera de línea que faltan enviar a "
    "SIAT y las rechazadas, con el código de SIAT. SIAT acepta las de un evento hasta 48 h después de su fin. "
    "Horas de La Paz."
)
actions.confirmation_and_results(runtime)

branches = widgets.branch_filter(inventory)


def cufd_section(now) -> None:
    frames = resources.current_frames(runtime)
    frame = frames.value.pos
    shown = frame[matching(frame, {"branch_id": branches})]
    troubled = shown[~shown["Puede facturar"] | (shown["CUFD"] == CufdHealth.EXPIRING)]
    can = int(shown["Puede facturar"].sum())
    st.subheader("CUFD de los puntos de venta")
    st.caption(
        f"**{fmt_count(can)} de {fmt_count(len(shown))}** pueden facturar · {fmt_count(len(troubled))} con el CUFD "
        f"vencido, inactivo, sin leer o por vencer en {settings.cufd_expiring_hours:g} h."
    )
    if troubled.empty:
        st.success("Todos los puntos de venta elegidos tienen un CUFD vigente.", icon=":material/check_circle:")
        return
    table = troubled.assign(**{"CUFD": cufd_texts(troubled, now)})
    selection = st.dataframe(
        table[["Sucursal", "Punto de venta", "CUFD", "Estado"]],
        hide_index=True,
        width="stretch",
        height="auto" if len(table) <= 10 else TABLE_HEIGHT,
        on_select="rerun" if page.can_act else "ignore",
        selection_mode="multi-row",
        key=f"facturas_cufd_{actions.tables_version()}",
        column_config={"Estado": st.column_config.TextColumn("Contingencia")},
    )
    if page.can_act:
        rows = selection.selection.rows if page.can_act else []  # type: ignore[union-attr]  # on_select: a DataframeState
        picked = [str(troubled.iloc[i]["pos_id"]) for i in rows if i < len(troubled)]
        cols = st.columns(2)
        if cols[0].button(
            f"Renovar CUFD de los {fmt_count(len(picked))} elegidos" if picked else "Renovar CUFD de los elegidos",
            icon=":material/autorenew:",
            disabled=not picked,
            key="facturas_renovar_elegidos",
        ):
            request(picked)
        if cols[1].button(
            f"Renovar todos los vencidos o por vencer ({fmt_count(len(troubled))})",
            icon=":material/autorenew:",
            key="facturas_renovar_todos",
        ):
            request([str(p) for p in troubled["pos_id"]])


def request(pos_ids: list[str]) -> None:
    problem = actions.request_renew_cufd(runtime, pos_ids)
    if problem:
        st.warning(problem, icon=":material/info:")
    else:
        st.rerun(scope="app")


def invoices_section(now) -> None:
    shared = resources.current_invoices(runtime)
    picture = shared.value
    todo = picture.backlog
    st.subheader("Facturas por enviar y rechazadas")
    run = runtime.store.job_run(INVOICE_JOB)
    if run is None:
        st.info("Todavía no se leyeron facturas de cucu: el colector las está consultando.", icon=":material/hourglass_top:")
    elif run.error is not None:
        st.warning(
            f"La última lectura de facturas falló: {md_text(run.error)} Se muestra lo leído "
            f"{fmt_age(run.ok_at, now) if run.ok_at else 'nunca'}.",
            icon=":material/sync_problem:",
        )
    else:
        st.caption(f"Facturas leídas de cucu {fmt_age(run.ok_at, now)} ({fmt_datetime(run.ok_at, seconds=True)}).")
    left = todo.time_left(now)
    if todo.nearest is not None and left is not None and left <= timedelta(hours=settings.alerts.window_closing_hours):
        verb = f"quedan {fmt_duration(left)}" if left > timedelta(0) else f"el plazo venció hace {fmt_duration(-left)}"
        st.error(f"**Facturas fuera de línea con el plazo de SIAT por vencer:** {verb}.", icon=":material/timer:")
    if todo.unattributed:
        st.caption(
            f"{fmt_count(todo.unattributed)} factura(s) por enviar sin punto de venta: cucu no lo indica; "
            "se cuentan para toda la empresa."
        )
    everything = resources.derived(
        runtime, shared, "facturas_tabla", lambda: invoices_frame(picture.open_invoices, inventory, now)
    )
    states = st.pills(
        "Estado",
        options=list(SHOWN_STATES),
        selection_mode="multi",
        key="estado_factura",
        bind="query-params",
    )
    wanted = [SHOWN_STATES[s] for s in (states or SHOWN_STATES)]
    filters: dict[str, list[str]] = {"state": wanted}
    if branches:
        filters["branch_id"] = branches
    shown = everything[matching(everything, filters)]
    st.caption(
        f"{fmt_count(len(shown))} factura(s) · {fmt_count(todo.count)} por enviar en total · "
        f"{fmt_count(todo.rejected)} rechazada(s)."
    )
    if shown.empty:
        st.success("No hay facturas por enviar ni rechazadas con estos filtros.", icon=":material/check_circle:")
    else:
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            height="auto" if len(shown) <= 10 else TABLE_HEIGHT,
            column_order=INVOICE_COLUMNS,
            column_config={
                "Sucursal": st.column_config.TextColumn(pinned=True),
                "Emitida": widgets.la_paz_column("DD/MM HH:mm"),
                "Plazo": widgets.la_paz_column("DD/MM HH:mm", help="48 h después del fin de su evento"),
                "Estado leído": widgets.la_paz_column("DD/MM HH:mm"),
                "Importe": st.column_config.NumberColumn(format="%.2f"),
                "Código SIAT": st.column_config.NumberColumn(format="%d"),
            },
            key="facturas_tabla",
        )
        widgets.csv_download(
            lambda: excel_csv(shown[INVOICE_COLUMNS], time_columns=INVOICE_TIME_COLUMNS),
            "facturas.csv",
            key="facturas_csv",
        )

    st.subheader("Cierre de los eventos finalizados")
    closes = resources.derived(runtime, shared, "facturas_cierres", lambda: closes_frame(picture.closes, inventory, now))
    if branches:
        closes = closes[closes["branch_id"].isin(branches)]
    if closes.empty:
        st.caption(f"Ningún evento finalizado en las últimas {settings.invoice_window_hours:g} h.")
        return
    counts = closes["closing"].value_counts()
    st.caption(
        " · ".join(f"{label}: {fmt_count(int(counts.get(label, 0)))}" for label in (c.value for c in EventClosing))
        + ". «Cerrado»: todas sus facturas fuera de línea fueron validadas."
    )
    st.dataframe(
        closes,
        hide_index=True,
        width="stretch",
        height="auto" if len(closes) <= 10 else TABLE_HEIGHT,
        column_order=CLOSE_COLUMNS,
        column_config={
            "Sucursal": st.column_config.TextColumn(pinned=True),
            "Inicio": widgets.la_paz_column("DD/MM HH:mm"),
            "Fin": widgets.la_paz_column("DD/MM HH:mm"),
            "Plazo": widgets.la_paz_column("DD/MM HH:mm"),
        },
        key="facturas_cierres",
    )
    widgets.csv_download(
        lambda: excel_csv(closes[CLOSE_COLUMNS], time_columns=("Inicio", "Fin", "Plazo")),
        "cierre_eventos.csv",
        key="facturas_cierres_csv",
    )


@shell.live(resources.LIVE_REFRESH_S)
def live() -> None:
    now = now_la_paz()
    cufd_section(now)
    st.divider()
    invoices_section(now)


live()
