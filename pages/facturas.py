"""Facturas: can every POS invoice (CUFD), what was issued offline and is still to reach SIAT, what SIAT
rejected and why, and each ended event's closing state. Filters in the URL, CSV of what is shown."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from cucu.formatting import fmt_age, fmt_count, fmt_datetime, fmt_duration, md_text, plural
from cucu.invoicing import INVOICE_JOB, left_out_sentences, walk_progress
from cucu.lapaz import la_paz_series
from cucu.store import JobRun
from cucu.views.export import excel_csv
from cucu.views.facturas import (
    CLOSE_COLUMNS,
    CLOSE_TIME_COLUMNS,
    INVOICE_COLUMNS,
    INVOICE_TIME_COLUMNS,
    CloseColumn,
    CufdColumn,
    InvoiceColumn,
    closes_time_left,
    cufd_urgent_first,
    invoices_time_left,
)
from cucu.views.links import FACTURAS_VIEWS, INVOICE_STATE_PARAM, VIEW_PARAM
from cucu.views.pos import PosColumn, cufd_texts, matching
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
QUEDA_HELP = (
    "Hasta el plazo de SIAT, en horas:minutos:segundos; negativo si ya venció. Vacío mientras el evento sigue "
    "abierto (sin plazo todavía) o si ya no queda nada por enviar ni corregir."
)
PENDING_CLOSINGS = (EventClosing.TO_SEND.value, EventClosing.REJECTED.value)  # what the closing list opens on

# Each grid's default view fits a tablet (ui.widgets.TABLET_GRID_PX): which POS, what is wrong, the deadline;
# the rest is in the grid's column menu and the CSV.
DEADLINE_CONFIG = {
    InvoiceColumn.DEADLINE: widgets.la_paz_column(
        "DD/MM HH:mm",
        help="48 h después del fin de su evento; sin valor mientras el evento sigue abierto.",
        width=widgets.DAY_TIME_PX,
    ),
    InvoiceColumn.LEFT: widgets.elapsed_column(help=QUEDA_HELP, width=80),
}
CUFD_COLUMNS = [CufdColumn.BRANCH, CufdColumn.POS, CufdColumn.CUFD, CufdColumn.EXPIRES, CufdColumn.STATE]
CUFD_CONFIG = {
    **widgets.pos_columns(CufdColumn.BRANCH, CufdColumn.POS),
    CufdColumn.CUFD: st.column_config.TextColumn(width=190),  # "🔴 vencido hace 1 d 19 h"
    CufdColumn.EXPIRES: widgets.la_paz_column(
        "DD/MM HH:mm", help="Vigencia del CUFD (hora de La Paz)", width=widgets.DAY_TIME_PX
    ),
    CufdColumn.STATE: st.column_config.TextColumn("Contingencia", width=140),
}
INVOICE_SHOWN = [
    InvoiceColumn.BRANCH, InvoiceColumn.POS, InvoiceColumn.NUMBER, InvoiceColumn.STATUS, InvoiceColumn.LEFT,
    InvoiceColumn.DEADLINE, InvoiceColumn.SIAT_DESCRIPTION,
]  # fmt: skip
INVOICE_CONFIG = {
    **widgets.pos_columns(InvoiceColumn.BRANCH, InvoiceColumn.POS),
    InvoiceColumn.NUMBER: st.column_config.Column(width=70),
    InvoiceColumn.STATUS: st.column_config.TextColumn(width=195),  # "🟠 Por enviar (fuera de línea)"
    **DEADLINE_CONFIG,
    InvoiceColumn.SIAT_DESCRIPTION: st.column_config.TextColumn(width=125),  # why SIAT rejected it, or why it could not be read
    InvoiceColumn.ISSUED: widgets.la_paz_column("DD/MM HH:mm", width=widgets.DAY_TIME_PX),
    InvoiceColumn.STATUS_READ: widgets.la_paz_column("DD/MM HH:mm", width=widgets.DAY_TIME_PX),
    InvoiceColumn.AMOUNT: st.column_config.NumberColumn(format="%.2f", width=90),
    InvoiceColumn.SIAT_CODE: st.column_config.NumberColumn(format="%d", width=90),
}
CLOSE_SHOWN = [
    CloseColumn.BRANCH, CloseColumn.POS, CloseColumn.CLOSING_SHOWN, CloseColumn.TO_SEND, CloseColumn.REJECTED,
    CloseColumn.END, CloseColumn.DEADLINE, CloseColumn.LEFT,
]  # fmt: skip
CLOSE_CONFIG = {
    **widgets.pos_columns(CloseColumn.BRANCH, CloseColumn.POS),
    CloseColumn.CLOSING_SHOWN: st.column_config.TextColumn(width=120),
    CloseColumn.TO_SEND: st.column_config.Column(width=80),
    CloseColumn.REJECTED: st.column_config.Column(width=90),
    CloseColumn.END: widgets.la_paz_column("DD/MM HH:mm", width=widgets.DAY_TIME_PX),
    **DEADLINE_CONFIG,
    CloseColumn.START: widgets.la_paz_column("DD/MM HH:mm", width=widgets.DAY_TIME_PX),
}

st.title("Facturas")
st.caption(
    "Si cada punto de venta puede facturar (CUFD vigente), las facturas emitidas fuera de línea que faltan enviar a "
    "SIAT y las rechazadas, con el código de SIAT. SIAT acepta las de un evento hasta 48 h después de su fin. "
    "Horas de La Paz."
)
actions.confirmation_and_results(runtime)

branches = widgets.branch_filter(inventory)


def cufd_summary() -> pd.DataFrame:
    """The count line above the tabs; returns the shown POS whose CUFD is not valid or is about to expire."""
    frame = resources.current_frames(runtime).value.pos
    shown = frame[matching(frame, {PosColumn.BRANCH_ID: branches})]
    troubled = shown[~shown[PosColumn.CAN_INVOICE] | (shown[PosColumn.CUFD] == CufdHealth.EXPIRING)]
    unread = int((shown[PosColumn.CUFD] == CufdHealth.UNKNOWN).sum())
    read = len(shown) - unread
    if not read:  # unknown is not zero: "0 de 10 000 pueden facturar" before the first CUFD round
        st.markdown(f"**CUFD:** sin leer todavía ({plural(len(shown), 'punto de venta', 'puntos de venta')}).")
        return troubled
    can = fmt_count(int(shown[PosColumn.CAN_INVOICE].sum()))
    st.markdown(
        (
            f"**CUFD:** {can} de {fmt_count(len(shown))} pueden facturar · "
            if not unread
            else f"**CUFD:** {can} de {fmt_count(read)} leídos pueden facturar ({fmt_count(unread)} sin leer) · "
        )
        + f"{fmt_count(len(troubled))} con el CUFD vencido, inactivo, sin leer o por vencer en {settings.cufd_expiring_hours:g} h."
    )
    return troubled


def cufd_section(troubled: pd.DataFrame, now) -> None:
    if troubled.empty:
        st.success("Todos los puntos de venta elegidos tienen un CUFD vigente.", icon=":material/check_circle:")
        return
    # Those that cannot invoice first, then the nearest expiry; "Vence" typed, so it sorts as time.
    ordered = cufd_urgent_first(troubled)
    table = ordered.assign(
        **{CufdColumn.CUFD: cufd_texts(ordered, now), CufdColumn.EXPIRES: la_paz_series(ordered[PosColumn.CUFD_UNTIL])}
    )
    # A chain's hundreds of expiring CUFDs: rows streamed as the grid scrolls, and no ticks (a lazy grid cannot select).
    lazy = len(table) > widgets.LAZY_ROWS
    selectable = page.can_act and not lazy
    selection = st.dataframe(
        table[CUFD_COLUMNS],
        hide_index=True,
        width="stretch",
        height="auto" if len(table) <= 10 else TABLE_HEIGHT,
        on_select="rerun" if selectable else "ignore",
        selection_mode="multi-row",
        key=f"facturas_cufd_{actions.tables_version()}",
        column_config=CUFD_CONFIG,
        placeholder=widgets.NO_VALUE,
        lazy=lazy,
    )
    if not page.can_act:
        return
    cols = st.columns(2)
    if selectable:
        rows = selection.selection.rows  # type: ignore[union-attr]  # on_select: a DataframeState
        picked = [str(table.iloc[i][PosColumn.POS_ID]) for i in rows if i < len(table)]
        if cols[0].button(
            "Renovar el CUFD del elegido"
            if len(picked) == 1
            else f"Renovar el CUFD de los {fmt_count(len(picked))} elegidos"
            if picked
            else "Renovar el CUFD de los elegidos",
            icon=":material/autorenew:",
            disabled=not picked,
            key="facturas_renovar_elegidos",
        ):
            request(picked)
    else:
        cols[0].caption(
            f"Para marcar filas, filtre a {fmt_count(widgets.LAZY_ROWS)} puntos de venta o menos (por sucursal); o renueve todos."
        )
    if cols[1].button(
        f"Renovar todos los vencidos o por vencer ({fmt_count(len(troubled))})",
        icon=":material/autorenew:",
        key="facturas_renovar_todos",
    ):
        request([str(p) for p in troubled[PosColumn.POS_ID]])


def request(pos_ids: list[str]) -> None:
    problem = actions.request_renew_cufd(runtime, pos_ids)
    if problem:
        st.warning(problem, icon=":material/info:")
    else:
        st.rerun(scope="app")


def invoices_summary(now, run: JobRun | None) -> None:
    """When invoices were last read (``run``: the invoice walk's), the backlog, and a deadline about to pass:
    above the tabs."""
    todo = resources.current_invoices(runtime).value.picture.backlog
    if run is None:  # unknown is not zero: no "0 rechazadas" before cucu's list was ever read
        st.info("Todavía no se leyeron facturas de cucu: el colector las está consultando.", icon=":material/hourglass_top:")
    else:
        st.markdown(
            f"**Facturas:** {fmt_count(todo.count)} por enviar · {plural(todo.rejected, 'rechazada', 'rechazadas')}"
            + (f" · leídas de cucu {fmt_age(run.ok_at, now)} ({fmt_datetime(run.ok_at, seconds=True)})" if run.ok_at else "")
            + "."
        )
    progress = walk_progress(run, settings.invoice_window_hours)
    if progress:  # the figures above count only what was read: they grow until the first pass ends
        st.info(progress, icon=":material/hourglass_top:")
    if run is not None and run.error is not None:
        st.warning(
            f"La última lectura de facturas falló: {md_text(run.error)} Se muestra lo leído "
            f"{fmt_age(run.ok_at, now) if run.ok_at else 'nunca'}.",
            icon=":material/sync_problem:",
        )
    left = todo.time_left(now)
    if todo.nearest is not None and left is not None and left <= timedelta(hours=settings.alerts.window_closing_hours):
        verb = f"quedan {fmt_duration(left)}" if left > timedelta(0) else f"el plazo venció hace {fmt_duration(-left)}"
        box = st.error if left <= timedelta(0) else st.warning  # red once passed; due soon is amber (Tone)
        box(f"**Facturas fuera de línea con el plazo de SIAT por vencer:** {verb}.", icon=":material/timer:")
    over_cap, set_aside = left_out_sentences(run.notes, settings.invoice_max_open) if run is not None else (None, None)
    if over_cap:
        st.warning(over_cap, icon=":material/database:")
    if set_aside:
        st.caption(set_aside)
    if todo.unattributed:
        st.caption(
            f"{plural(todo.unattributed, 'factura', 'facturas')} por enviar sin punto de venta: cucu no lo indica; "
            "se cuentan para toda la empresa."
        )


def invoices_section(now, run: JobRun | None) -> None:
    """The invoices still to send and the rejected ones; ``run``: the invoice walk's last round."""
    everything = resources.current_invoices(runtime).value.open_invoices
    states = st.pills(
        "Estado",
        options=list(SHOWN_STATES),
        selection_mode="multi",
        key=INVOICE_STATE_PARAM,
        bind="query-params",
    )
    wanted = [SHOWN_STATES[s] for s in (states or SHOWN_STATES)]
    filters: dict[str, list[str]] = {InvoiceColumn.STATE: wanted}
    if branches:
        filters[InvoiceColumn.BRANCH_ID] = branches
    shown = invoices_time_left(everything[matching(everything, filters)], now)
    if shown.empty and run is None:  # nothing read is not "none to send"
        st.caption("Sin facturas leídas de cucu todavía.")
        return
    st.caption(f"{plural(len(shown), 'factura', 'facturas')} con estos filtros.")
    if shown.empty:
        st.success("No hay facturas por enviar ni rechazadas con estos filtros.", icon=":material/check_circle:")
    else:
        grid(
            shown,
            INVOICE_COLUMNS,
            INVOICE_SHOWN,
            INVOICE_CONFIG,
            key="facturas_tabla",
            csv_name="facturas.csv",
            time_columns=INVOICE_TIME_COLUMNS,
        )


def closes_section(now) -> None:
    closes = resources.current_closes(runtime).value
    if branches:
        closes = closes[closes[CloseColumn.BRANCH_ID].isin(branches)]
    if closes.empty:
        st.caption(f"Ningún evento finalizado en las últimas {settings.invoice_window_hours:g} h.")
        return
    counts = closes[CloseColumn.CLOSING].value_counts()
    st.caption(
        " · ".join(f"{label}: {fmt_count(int(counts.get(label, 0)))}" for label in (c.value for c in EventClosing))
        + ". «Cerrado»: todas sus facturas fuera de línea fueron validadas."
    )
    # A chain closes thousands of events in the window: the list opens on those still needing work.
    closings = st.pills(
        "Cierre",
        options=[c.value for c in EventClosing],  # the values are the labels: they are what the URL carries
        selection_mode="multi",
        default=list(PENDING_CLOSINGS),
        key="cierre",
        bind="query-params",
        help="Sin ninguno elegido, se muestran todos.",
    )
    closes = closes[closes[CloseColumn.CLOSING].isin(closings or [c.value for c in EventClosing])]
    if closes.empty:
        st.success("Ningún evento finalizado con facturas por enviar o rechazadas.", icon=":material/check_circle:")
        return
    grid(
        closes_time_left(closes, now),
        CLOSE_COLUMNS,
        CLOSE_SHOWN,
        CLOSE_CONFIG,
        key="facturas_cierres",
        csv_name="cierre_eventos.csv",
        time_columns=CLOSE_TIME_COLUMNS,
    )


def grid(
    frame: pd.DataFrame,
    columns: list[str],
    shown: list[str],
    config: dict[str, Any],
    *,
    key: str,
    csv_name: str,
    time_columns: Sequence[str],
) -> None:
    """A table of this page (a chain's thousands of rows streamed as it scrolls) and its CSV button: ``shown``
    by default, every one of ``columns`` in the grid's column menu and in the CSV."""
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height="auto" if len(frame) <= 10 else TABLE_HEIGHT,
        column_order=shown,
        column_config=config,
        placeholder=widgets.NO_VALUE,
        key=key,
        lazy=len(frame) > widgets.LAZY_ROWS,
    )
    widgets.csv_download(lambda: excel_csv(csv_frame(frame[columns]), time_columns=time_columns), csv_name, key=f"{key}_csv")


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Durations as hours with decimals, "Queda (h)": a number a spreadsheet can sort and add (pandas would
    write "0 days 03:00:00")."""
    durations = [c for c in frame.columns if pd.api.types.is_timedelta64_dtype(frame[c])]
    hours = {c: (frame[c].dt.total_seconds() / 3600).round(2) for c in durations}
    return frame.assign(**hours).rename(columns={c: f"{c} (h)" for c in durations})


@shell.live(resources.LIVE_REFRESH_S)
def live() -> None:
    now = runtime.store.now()
    troubled = cufd_summary()
    walk_run = runtime.store.job_run(INVOICE_JOB)  # read once: the summary and the list agree on it
    invoices_summary(now, walk_run)
    # Only the open tab runs and is sent: a chain's three grids of thousands of rows on one load were
    # what a supervisor waited for. The tab is in the URL (?vista=CUFD).
    to_send, cufd, closing = st.tabs(list(FACTURAS_VIEWS), key=VIEW_PARAM, bind="query-params")
    if to_send.open:
        with to_send:
            invoices_section(now, walk_run)
    if cufd.open:
        with cufd:
            cufd_section(troubled, now)
    if closing.open:
        with closing:
            closes_section(now)


live()
