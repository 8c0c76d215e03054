"""Informe mensual: the compliance report of a month or a range (issue 26, part 4), per region and branch, the
most trouble first, as a workbook and a printable PDF; a scoped person's covers their branches only."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import streamlit as st

from cucu.formatting import fmt_count, fmt_datetime, fmt_month, fmt_time
from cucu.periods import day_bounds, picked_range
from cucu.reports.compliance import ComplianceReport, compliance_report, month_period, previous_month
from cucu.reports.monthly import SETTING_HELP, monthly_report_state
from cucu.views.informe import (
    HOUR_COLUMNS,
    MINUTE_COLUMNS,
    NOTICES,
    branches_frame,
    chosen_label,
    coverage_note,
    for_grid,
    headline,
    invoice_note,
    motives_frame,
    narrowed,
    nothing_listed,
    outages_frame,
    regions_frame,
    rejections_frame,
    report_pdf,
    report_title,
    report_xlsx,
    summary_frame,
)
from ui import resources, shell, widgets

page = shell.page_context()
runtime, inventory = page.runtime, page.inventory
# A period's report is built again at most this often while someone looks: a chain's month costs seconds of the
# server's CPU, and the collector writes every minute (rebuilt at every look, it slowed every other page).
REPORT_EVERY_S = 600
MONTHS_BACK = 13
OTHER = "Otro período…"

st.title("Informe mensual")
st.caption(
    "Cumplimiento de un mes por región y sucursal, las de más problemas primero: disponibilidad de SIAT sin los "
    "mantenimientos, caídas, horas en contingencia, eventos por motivo y por quién los inició, tiempos hasta "
    "atender, iniciar y finalizar, facturas fuera de línea validadas antes de su plazo y rechazos por código. "
    "Horas de La Paz."
)
today = runtime.store.now().date()


def months(today: date) -> list[tuple[int, int]]:
    found, (year, month) = [], (today.year, today.month)
    for _ in range(MONTHS_BACK):
        found.append((year, month))
        year, month = previous_month(date(year, month, 1))
    return found


def month_label(choice: tuple[int, int] | str) -> str:
    if isinstance(choice, str):
        return choice
    year, month = choice
    label = fmt_month(year, month).capitalize()
    return f"{label} (hasta hoy)" if (year, month) == (today.year, today.month) else label


choices: list[tuple[int, int] | str] = [*months(today), OTHER]
row = st.columns(2)
chosen = row[0].selectbox(
    "Mes", choices, index=1, format_func=month_label, key="informe_mes", placeholder="Elija un mes"
)  # the last whole month first
if chosen == OTHER:
    picked = picked_range(widgets.period_input(row[1], today, key="informe_fechas"))
    if picked is None:
        st.info("Elija en el calendario el primer y el último día.", icon=":material/date_range:")
        st.stop()
    start, end = day_bounds(*picked)
elif isinstance(chosen, tuple):
    start, end = month_period(*chosen)
else:
    st.stop()

# A region (or branches), in the URL like every page's: the report is built once for everything the person sees,
# and cut to what is chosen. A scoped person is offered their own regions only.
chosen_ids = widgets.branch_filter(inventory)
name = f"informe:{start.isoformat()}:{end.isoformat()}"  # the period: its derived tables are named after it too


def build() -> ComplianceReport:
    """In the worker process (``cucu.workers``): a chain's month is seconds of CPU that would stall every page."""
    now = runtime.store.now()
    horizon = now.date() - timedelta(days=runtime.settings.backfill_days)
    return resources.apart(runtime, compliance_report, start, end, now, horizon=horizon)


@shell.live(2)
def building() -> None:
    """While the first build of this period runs in the background (a chain's month takes seconds): how long,
    and the whole page once it is ready."""
    if resources.at_most_every(runtime, name, REPORT_EVERY_S, build) is not None:
        st.rerun()
    seconds, failed = runtime.shared.building_for(name)
    if failed:
        st.warning("No se pudo armar el informe; se vuelve a intentar.", icon=":material/error:")
    st.info(
        f"Armando el informe de {fmt_count(len(inventory.all_pos))} puntos de venta en segundo plano: {fmt_count(round(seconds))} s. "
        "La página se completa sola.",
        icon=":material/hourglass_top:",
    )


shared = resources.at_most_every(runtime, name, REPORT_EVERY_S, build)
if shared is None:
    building()
    st.stop()
whole: ComplianceReport = shared.value
report, inventory = narrowed(whole, inventory, chosen_ids)
# the derived tables of this period and this choice
view = f"{name}:{hashlib.sha1(','.join(sorted(chosen_ids)).encode()).hexdigest()[:12]}" if chosen_ids else name
st.caption(
    f"Armado a las {fmt_time(report.now)} (hora de La Paz) con lo guardado hasta entonces; "
    f"se vuelve a armar cada {REPORT_EVERY_S // 60} minutos mientras alguien lo mira."
)
scopes = [None if page.company_wide else page.decision.scope.label(page.runtime.inventory), chosen_label(inventory, chosen_ids)]
scope = " · ".join(s for s in scopes if s) or None

summary_table = resources.derived(runtime, shared, f"{view}:resumen", lambda: summary_frame(report, inventory))
with st.container(horizontal=True, key="informe_cifras"):
    for label, value in headline(report).items():
        st.metric(label, value, border=True)
for note in (coverage_note(report), invoice_note(report)):
    if note:
        st.warning(note, icon=":material/history:")
if report.availability is None:
    st.caption("La disponibilidad de ese período no se conoce: las comprobaciones se guardan 35 días.")
elif report.partial_checks and report.checks_from is not None:
    st.caption(
        f"La disponibilidad se calcula con las comprobaciones desde el {fmt_datetime(report.checks_from)}: "
        "antes de esa hora no hay comprobaciones guardadas (se guardan 35 días)."
    )

COUNT = "%d"  # a whole number as it is; an unknown one is the placeholder
COUNTS = (
    "Sucursales", "POS", "Eventos", "Por una persona", "Por la política", "Fuera del tablero", "Caídas de internet",
    "Alertas sin atender", "Facturas fuera de línea", "Vencidas sin validar", "Rechazadas", "Facturas",
)  # fmt: skip
PERCENT = st.column_config.NumberColumn(format="%d %%", help="Truncado al entero: el Excel tiene el decimal.")
# Durations as elapsed-time clocks (they sort by value and read the same in any browser's language), counts as
# whole numbers, percentages without a decimal point: the grids of the report read as its summary does.
SHEET_COLUMNS: dict[str, Any] = {
    "Región": st.column_config.TextColumn(pinned=True),
    "Sucursal": st.column_config.TextColumn(pinned=True),
    "Historia verificada (%)": PERCENT,
    "Validadas a tiempo (%)": PERCENT,
    **{c: st.column_config.NumberColumn(format=COUNT) for c in COUNTS},
    **{c: widgets.elapsed_column(help="Horas:minutos:segundos.") for c in MINUTE_COLUMNS},
    **{c: widgets.elapsed_column(help="Horas:minutos:segundos, sumadas sobre los puntos de venta.") for c in HOUR_COLUMNS},
    "Desde": widgets.la_paz_column("DD/MM/YYYY HH:mm", help="Hora de La Paz"),
    "Hasta": widgets.la_paz_column("DD/MM/YYYY HH:mm", help="Hora de La Paz; vacía mientras sigue."),
    "Duración": widgets.elapsed_column(help="Horas:minutos:segundos; una caída en curso cuenta hasta que se armó."),
}


def grid(frame: Any, key: str, **kwargs: Any) -> None:
    st.dataframe(
        frame, hide_index=True, width="stretch", key=key, column_config=SHEET_COLUMNS, placeholder=widgets.NO_VALUE,
        **kwargs,
    )  # fmt: skip


st.subheader("Resumen")
grid(summary_table[~summary_table["Indicador"].isin(NOTICES)], "informe_resumen")  # the notices: said above, as warnings
st.subheader("Regiones")
# What fits an upright tablet first; every other column (the history verified, %, too) is in the grid's column
# menu and in the workbook.
FIRST = ["Horas en contingencia (POS·h)", "Eventos", "Min. a iniciar (mediana)", "Validadas a tiempo (%)", "Rechazadas"]
regions_table = resources.derived(runtime, shared, f"{view}:regiones", lambda: for_grid(regions_frame(report, inventory)))
grid(regions_table, "informe_regiones", column_order=["Región", *FIRST])
branches = resources.derived(runtime, shared, f"{view}:sucursales", lambda: for_grid(branches_frame(report, inventory)))
st.subheader(f"Sucursales ({fmt_count(len(branches))}), las de más problemas primero")
grid(branches, "informe_sucursales", column_order=["Sucursal", "Región", *(c for c in FIRST if c != "Min. a iniciar (mediana)")])
empty = nothing_listed(report)  # a grid without rows would say "empty"
for title, sheet, frame, key in (
    ("Caídas", "Caídas", outages_frame(report, inventory), "informe_caidas"),
    ("Eventos por motivo y por quién los inició", "Eventos por motivo", motives_frame(report, inventory), "informe_motivos"),
    ("Rechazos por código de SIAT", "Rechazos por código", rejections_frame(report), "informe_rechazos"),
):
    st.subheader(title)
    if frame.empty:
        st.caption(empty[sheet])
    else:
        grid(frame, key)

if page.company_wide:  # the channels are the company's configuration
    st.caption(monthly_report_state(runtime.store, page.settings.alerts, runtime.store.now()), help=SETTING_HELP)
stamp = f"{start.date().isoformat()}_{end.date().isoformat()}"
widgets.workbook_downloads(
    "el informe",
    f"informe_contingencia_{stamp}",
    lambda: report_xlsx(report, inventory),
    lambda: report_pdf(report, inventory, scope),
    key="informe",
    xlsx_help="Resumen, regiones, sucursales, caídas, eventos por motivo y rechazos, una hoja cada uno.",
    pdf_help=f"{report_title(report, scope)}: para imprimir, en español, horas de La Paz.",
)
