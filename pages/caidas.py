"""Caídas: every outage of a period (SIAT down by the one rule, or a branch's internet), newest first, with its
state; and one outage's dossier (``?caida=<key>``): its timeline from the first failed check to the last
validated invoice, its summary, notes and the evidence to download."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from cucu.connectivity.outages import Dossier, OutageList, dossier_of, maintenance_marks, outages_within
from cucu.events.actions import ActionError
from cucu.events.maintenance import REASON_MAX, mark_past
from cucu.formatting import fmt_count, fmt_datetime, fmt_duration, md_text, plural
from cucu.periods import day_bounds, picked_range
from cucu.store.schema import POS_EVENTS
from cucu.views.caidas import (
    CONTINGENCY_TIME,
    OUTAGE_LIST_COLUMNS,
    OUTAGE_PARAM,
    CheckColumn,
    DossierEventColumn,
    DossierInvoiceColumn,
    OutageListColumn,
    TimelineColumn,
    dossier_events_frame,
    dossier_invoices_frame,
    dossier_pdf,
    dossier_xlsx,
    failed_checks_frame,
    lead_time_text,
    outages_frame,
    timeline_frame,
)
from cucu.views.figures.outage import outage_chart
from cucu.vocabulary import OutageKind, OutageState, Tone
from ui import identity, resources, shell, widgets

page = shell.page_context()
runtime, inventory = page.runtime, page.inventory
MARKED = "caida_marcada"  # the confirmation shown after the rerun that follows a mark
TABLES = ("connectivity_checks", "day_events", "invoices", POS_EVENTS)  # what an outage is read from (events, not sweeps)


def outage_list() -> None:
    st.title("Caídas")
    st.caption(
        "Cada caída de SIAT (tres respuestas seguidas de cucu: SIAT no responde) y de internet de una sucursal "
        "(eventos por corte de internet en varios de sus puntos de venta en pocos minutos), de la primera "
        "comprobación fallida a la última factura validada. «Por cerrar»: terminó, pero quedan eventos abiertos o "
        "facturas fuera de línea por resolver antes de su plazo. Horas de La Paz."
    )
    today = runtime.store.now().date()
    row = st.columns(2)
    picked = widgets.period_input(row[0], today, key="caidas_fechas")
    with row[1]:
        branch_ids = widgets.branch_filter(inventory)
    chosen = picked_range(picked)
    if chosen is None:
        st.info("Elija en el calendario el primer y el último día.", icon=":material/date_range:")
        return
    since, until = day_bounds(*chosen)

    def build() -> OutageList:  # in the worker process: a chain's list reads 60 000 invoices (0.8 s)
        return resources.apart(runtime, outages_within, since, until, runtime.store.now())

    found, states = resources.per_version(runtime, f"caidas:{since}:{until}", TABLES, build).value
    if branch_ids:  # a branch's own outages, and SIAT's (they reach every branch)
        found = [o for o in found if o.branch_id is None or o.branch_id in branch_ids]
    if not found:
        st.success("Ninguna caída en ese período.", icon=":material/check_circle:")
        return
    counts = {state: sum(1 for o in found if states[o.key] is state) for state in OutageState}
    st.markdown(
        f"**{plural(len(found), 'caída', 'caídas')}** · " + " · ".join(state.counted(n) for state, n in counts.items() if n)
    )
    # Read each run (a few rows): a mark written a moment ago shows at once, whatever the list's cache.
    marks = maintenance_marks(found, runtime.store.maintenance_windows(ending_after=found[-1].started_at))
    table = outages_frame(found, states, inventory, runtime.store.now(), marks)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height="auto" if len(table) <= 12 else 460,
        lazy=len(table) > widgets.LAZY_ROWS,
        # Fits a tablet (ui.widgets.TABLET_GRID_PX).
        column_order=[*OUTAGE_LIST_COLUMNS, OutageListColumn.MAINTENANCE] if marks else OUTAGE_LIST_COLUMNS,
        column_config={
            OutageListColumn.START: widgets.la_paz_column("DD/MM/YYYY HH:mm", width=widgets.DATE_TIME_PX),
            OutageListColumn.KIND: st.column_config.TextColumn(width=160),
            OutageListColumn.BRANCH: st.column_config.TextColumn(width=widgets.BRANCH_PX),
            OutageListColumn.DURATION: widgets.elapsed_column(width=90),
            OutageListColumn.STATE: st.column_config.TextColumn(width=110),
            OutageListColumn.LINK: st.column_config.LinkColumn(display_text=r"#(\w+)$", width=95),
            OutageListColumn.MAINTENANCE: st.column_config.TextColumn(width=220),
        },
        placeholder=widgets.NO_VALUE,
        key="caidas_tabla",
    )


def dossier_view(key: str) -> None:
    st.page_link(shell.linked("pages/caidas.py"), label="Todas las caídas", icon=":material/arrow_back:", query_params={})

    def build() -> Dossier | None:  # in the worker process: a chain-wide outage's dossier holds 10 000 events
        return resources.apart(runtime, dossier_of, key, runtime.store.now())

    shared = resources.per_version(runtime, f"caida:{key}"[:200], TABLES, build)
    dossier = shared.value
    if dossier is None:
        st.title("Caída")
        st.warning(
            "No se encontró esa caída: el enlace está mal copiado, o sus datos ya no se guardan.",
            icon=":material/search_off:",
        )
        return
    outage = dossier.outage
    names = {b.id: b.name for b in inventory.branches}
    where = f" · {names.get(outage.branch_id, outage.branch_id)}" if outage.branch_id else ""
    st.title(f"Caída: {outage.kind.label}{where}")
    ended = f" al {fmt_datetime(outage.ended_at)}" if outage.ended_at else " (sigue)"
    st.badge(dossier.state.label, color=dossier.state.tone.color, icon=f":material/{dossier.state.tone.material}:")
    st.caption(f"Del {fmt_datetime(outage.started_at)}{ended}, hora de La Paz.")
    maintenance(dossier)
    summary(dossier)
    st.subheader("Línea de tiempo")
    st.vega_lite_chart(
        spec=resources.derived(runtime, shared, f"caida_grafico:{key}"[:200], lambda: outage_chart(dossier)), width="stretch"
    )
    st.dataframe(
        resources.derived(runtime, shared, f"caida_linea:{key}"[:200], lambda: timeline_frame(dossier)),
        hide_index=True,
        width="stretch",
        column_config={
            TimelineColumn.AT: widgets.la_paz_column("DD/MM/YYYY HH:mm:ss", width=150),
            TimelineColumn.WHAT: st.column_config.TextColumn(width=190),
            TimelineColumn.DETAIL: st.column_config.TextColumn(width=440),
        },
        key="caida_linea",
    )
    st.subheader("Notas")
    if dossier.notes:
        st.text("\n".join(f"{fmt_datetime(n.written_at)} · {n.author}: {n.text}" for n in dossier.notes))  # people's words
    else:
        st.caption("Nadie escribió notas en las alertas de esta caída.")
    st.subheader("Eventos")
    dossier_grid(
        resources.derived(runtime, shared, f"caida_eventos:{key}"[:200], lambda: dossier_events_frame(dossier, inventory)),
        [DossierEventColumn.BRANCH, DossierEventColumn.POS, DossierEventColumn.START, DossierEventColumn.END,
         DossierEventColumn.STARTED_BY],
        {
            **widgets.pos_columns(DossierEventColumn.BRANCH, DossierEventColumn.POS),
            DossierEventColumn.START: widgets.la_paz_column("DD/MM/YYYY HH:mm", width=widgets.DATE_TIME_PX),
            DossierEventColumn.END: widgets.la_paz_column("DD/MM/YYYY HH:mm", width=widgets.DATE_TIME_PX),
            DossierEventColumn.STARTED_BY: st.column_config.TextColumn(width=170),
        },
        key="caida_eventos",
        empty="Ningún evento de contingencia registrado para esta caída.",
    )  # fmt: skip
    st.subheader("Facturas fuera de línea")
    dossier_grid(
        resources.derived(runtime, shared, f"caida_facturas:{key}"[:200], lambda: dossier_invoices_frame(dossier, inventory)),
        [DossierInvoiceColumn.BRANCH, DossierInvoiceColumn.POS, DossierInvoiceColumn.NUMBER, DossierInvoiceColumn.STATE,
         DossierInvoiceColumn.DEADLINE, DossierInvoiceColumn.SIAT],
        {
            **widgets.pos_columns(DossierInvoiceColumn.BRANCH, DossierInvoiceColumn.POS),
            DossierInvoiceColumn.NUMBER: st.column_config.TextColumn(width=80),
            DossierInvoiceColumn.STATE: st.column_config.TextColumn(width=100),
            DossierInvoiceColumn.DEADLINE: widgets.la_paz_column("DD/MM/YYYY HH:mm", width=widgets.DATE_TIME_PX),
            DossierInvoiceColumn.SIAT: st.column_config.TextColumn(width=200),
        },
        key="caida_facturas",
        empty="Ninguna factura emitida durante sus eventos.",
    )  # fmt: skip
    if outage.kind is OutageKind.SIAT:
        st.subheader("Comprobaciones fallidas")
        st.caption(
            f"{plural(len(dossier.failed_checks), 'comprobación', 'comprobaciones')} con la respuesta de cucu: lo que "
            "justifica declarar el motivo 2 (Falla SIAT)."
        )
        # Drawn only while open (a rerun on opening): one grid less on every load of a page with four.
        checks = st.expander("Ver las comprobaciones", key="caida_ver_comprobaciones", on_change="rerun")
        if checks.open:
            checks.dataframe(
                resources.derived(runtime, shared, f"caida_comprobaciones:{key}"[:200], lambda: failed_checks_frame(dossier)),
                hide_index=True,
                width="stretch",
                column_config={CheckColumn.AT: widgets.la_paz_column("DD/MM/YYYY HH:mm:ss", width=150)},
                key="caida_comprobaciones",
            )
    widgets.workbook_downloads(
        "el expediente",
        f"caida_{outage.started_at:%Y-%m-%d_%H%M}",
        lambda: dossier_xlsx(dossier, inventory),
        lambda: dossier_pdf(dossier, inventory),
        key="caida",
        xlsx_help="Resumen, línea de tiempo, comprobaciones fallidas, eventos, facturas y notas, una hoja cada uno.",
        pdf_help="El mismo expediente para imprimir, en español, horas de La Paz.",
    )


def dossier_grid(frame: pd.DataFrame, order: list[str], config: dict[str, Any], *, key: str, empty: str) -> None:
    """One of the dossier's tables (a chain's outage: 10 000 events, streamed as the grid scrolls), or why it is empty."""
    if frame.empty:
        st.caption(empty)
        return
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height="auto" if len(frame) <= 10 else 360,
        lazy=len(frame) > widgets.LAZY_ROWS,
        column_order=order,
        column_config=config,
        placeholder=widgets.NO_VALUE,
        key=key,
    )


def maintenance(dossier: Dossier) -> None:
    """Whether this SIAT outage was marked as maintenance after the fact (and why); for a company-wide supervisor,
    once it is over, the form to mark it: its own start and end, a reason, audited (``mark_past``)."""
    outage = dossier.outage
    if outage.kind is not OutageKind.SIAT or outage.ended_at is None:
        return
    # Read each run, not with the cached dossier: the mark shows as soon as it is written.
    mark = maintenance_marks([outage], runtime.store.maintenance_windows(ending_after=outage.started_at)).get(outage.key)
    if done := st.session_state.pop(MARKED, None):
        st.success(done, icon=":material/check_circle:")
    if mark is not None:
        st.info(
            f"**Marcada como mantenimiento** por {md_text(mark.created_by)} el {fmt_datetime(mark.created_at)}: "
            f"{md_text(mark.reason)}. La disponibilidad de Conectividad la deja fuera y la muestra aparte.",
            icon=":material/engineering:",
        )  # a person's words: never Markdown
        return
    if not page.can_act or not page.company_wide:  # a past period is marked for the whole company (mark_past)
        return
    with st.expander("Marcar esta caída como mantenimiento", icon=":material/history:", key="caida_mantenimiento"):
        st.caption(
            f"Del {fmt_datetime(outage.started_at)} al {fmt_datetime(outage.ended_at)}: si SIAT anunció su mantenimiento "
            "tarde, la disponibilidad de Conectividad deja fuera este período y lo muestra aparte. Queda en Bitácora."
        )
        with st.form("caida_marcar", border=False):
            reason = st.text_input(
                "Motivo", max_chars=REASON_MAX, placeholder="SIAT anunció el mantenimiento después", key="caida_motivo"
            )
            marked = st.form_submit_button("Marcar como mantenimiento", icon=":material/history:")
    if not marked:
        return
    try:
        mark_past(
            runtime.store, identity.actor_now(page.settings), inventory, starts_at=outage.started_at,
            ends_at=outage.ended_at, reason=reason, now=runtime.store.now(),
        )  # fmt: skip
    except ActionError as exc:
        st.warning(str(exc), icon=":material/block:")
        return
    resources.note_own_write()
    st.session_state[MARKED] = "Caída marcada como mantenimiento."
    st.rerun()


def summary(dossier: Dossier) -> None:
    row1, row2 = st.columns(4), st.columns(4)
    widgets.kpi(row1[0], "Duración", fmt_duration(dossier.duration), [None if dossier.outage.ended_at else "sigue"])
    widgets.kpi(
        row1[1],
        "Puntos de venta",
        fmt_count(len(dossier.pos_affected)),
        [plural(len(dossier.branches_affected), "sucursal", "sucursales")],
    )
    widgets.kpi(row1[2], CONTINGENCY_TIME, fmt_duration(dossier.contingency_time), ["sumado por punto de venta"])
    widgets.kpi(
        row1[3], "Facturas por enviar", fmt_count(dossier.to_send), [f"de {fmt_count(len(dossier.invoices))}"],
        tone=Tone.MANAGED.if_any(dossier.to_send),
    )  # fmt: skip
    widgets.kpi(row2[0], "Hasta atender", lead_time_text(dossier.time_to_acknowledge), ["desde que se declaró"])
    widgets.kpi(row2[1], "Hasta iniciar", lead_time_text(dossier.time_to_start), ["el primer evento"])
    widgets.kpi(row2[2], "Hasta finalizar", lead_time_text(dossier.time_to_end), ["el último evento, tras la vuelta"])


if key := st.query_params.get(OUTAGE_PARAM):
    dossier_view(key)
else:
    outage_list()
