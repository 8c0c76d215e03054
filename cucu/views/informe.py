"""The monthly compliance report laid out (issue 26, part 4): its sheets (the page's tables, the workbook's sheets,
the PDF's tables), in Spanish, from ``cucu.reports.compliance``'s figures. An unknown figure is ``None`` (shown "—"),
never 0 or 100 %; a figure counted from a history not yet all read from cucu says "al menos"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import timedelta

import pandas as pd

from cucu.api.models import Inventory
from cucu.formatting import fmt_count, fmt_datetime, fmt_duration, fmt_number, fmt_percent
from cucu.invoicing.codes import explain_siat_code
from cucu.lapaz import LA_PAZ
from cucu.organization.regions import branches_by_region, region_label
from cucu.reports.compliance import (
    ORIGIN_OUTSIDE,
    ORIGIN_PERSON,
    ORIGIN_POLICY,
    BranchFigures,
    ComplianceReport,
    history_unknown,
    median,
    within,
)
from cucu.views.export import sheets_pdf, workbook
from cucu.vocabulary import Motive

MOTIVES = {m.value: m.label for m in Motive}


def _minutes(delta: timedelta | None) -> float | None:
    return round(delta / timedelta(minutes=1), 1) if delta is not None else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _settled(rows: Sequence[BranchFigures]) -> tuple[int, int]:
    """Validated on time, and every offline invoice whose outcome is known (validated, or its deadline passed)."""
    on_time = sum(r.on_time for r in rows)
    return on_time, on_time + sum(r.late + r.missed for r in rows)


# The columns counted from the events: unknown (None) for a group none of whose history is read yet.
FROM_EVENTS = (
    "Horas en contingencia (POS·h)", "Eventos", "Por una persona", "Por la política", "Fuera del tablero",
    "Caídas de internet",
)  # fmt: skip
# The columns counted from the invoices: unknown (None) for a period none of whose invoices was read.
FROM_INVOICES = ("Facturas fuera de línea", "Validadas a tiempo (%)", "Vencidas sin validar", "Rechazadas")
VERIFIED = "Historia verificada (%)"
NOTICE = "Aviso"  # the summary's line saying what is not read yet (the page shows it as a warning instead)
INVOICE_NOTICE = "Aviso sobre facturas"  # the same, of the invoices
NOTICES = (NOTICE, INVOICE_NOTICE)


def _row(rows: Sequence[BranchFigures], pos: int, invoices_known: bool) -> dict[str, object]:
    """The columns a region's and a branch's rows share, summed over ``rows`` (``invoices_known``: false, the
    invoice columns are unknown)."""
    pos_days = sum(r.pos_days for r in rows)
    verified = sum(r.verified_pos_days for r in rows)
    unknown = history_unknown(rows)
    starts: dict[str, timedelta] = {}
    ends: dict[str, timedelta] = {}
    for r in rows:  # per SIAT outage: the group's first start and its last end
        for key, delay in r.start_delays.items():
            starts[key] = min(starts.get(key, delay), delay)
        for key, delay in r.end_delays.items():
            ends[key] = max(ends.get(key, delay), delay)
    on_time, known = _settled(rows)
    origins: Counter[str] = sum((r.by_origin for r in rows), Counter())
    row: dict[str, object] = {
        "POS": pos,
        VERIFIED: round(100 * verified / pos_days, 1) if pos_days else None,
        "Horas en contingencia (POS·h)": round(sum(r.pos_hours for r in rows), 1),
        "Eventos": sum(r.events for r in rows),
        "Por una persona": origins.get(ORIGIN_PERSON, 0),
        "Por la política": origins.get(ORIGIN_POLICY, 0),
        "Fuera del tablero": origins.get(ORIGIN_OUTSIDE, 0),
        "Caídas de internet": sum(r.internet_outages for r in rows),
        "Min. a iniciar (mediana)": _minutes(median(starts.values())),
        "Min. a finalizar (mediana)": _minutes(median(ends.values())),
        "Min. a atender una alerta (mediana)": _minutes(median(d for r in rows for d in r.ack_delays)),
        "Alertas sin atender": sum(r.unacknowledged for r in rows),
        "Facturas fuera de línea": sum(r.offline for r in rows),
        "Validadas a tiempo (%)": None if not known else round(100 * on_time / known, 1),
        "Vencidas sin validar": sum(r.missed for r in rows),
        "Rechazadas": sum(r.rejected for r in rows),
    }
    gone = (FROM_EVENTS if unknown else ()) + (() if invoices_known else FROM_INVOICES)
    return {k: None if k in gone else v for k, v in row.items()}


def _pos_count(inventory: Inventory, branch_ids: Iterable[str]) -> int:
    return sum(len(inventory.branch(b).pos) for b in branch_ids)


def regions_frame(report: ComplianceReport, inventory: Inventory) -> pd.DataFrame:
    """One row per region, the most trouble first."""
    by_region: dict[str, list[str]] = {}
    for branch in inventory.branches:
        by_region.setdefault(region_label(branch.region), []).append(branch.id)
    rows = [
        {
            "Región": name,
            "Sucursales": len(ids),
            **_row([report.branches[b] for b in ids], _pos_count(inventory, ids), not report.invoices_unknown),
        }
        for name, ids in by_region.items()
    ]
    return _by_trouble(pd.DataFrame(rows))


def branches_frame(report: ComplianceReport, inventory: Inventory) -> pd.DataFrame:
    """One row per branch, the most trouble first (POS-hours in contingency, then invoices lost, then outages)."""
    rows = [
        {
            "Sucursal": branch.name,
            "Ciudad": branch.city or "",
            "Región": region_label(branch.region),
            **_row([report.branches[branch.id]], len(branch.pos), not report.invoices_unknown),
        }
        for branch in inventory.branches
    ]
    return _by_trouble(pd.DataFrame(rows))


def _by_trouble(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    # A column none of whose rows is known holds only None (object): numbers, an unknown one NaN, so the grid shows
    # its placeholder and sorts by value, never the word "None".
    numeric = [c for c in frame.columns if c not in ("Región", "Sucursal", "Ciudad")]
    frame = frame.assign(**{c: pd.to_numeric(frame[c]) for c in numeric})
    frame["_perdidas"] = frame["Vencidas sin validar"] + frame["Rechazadas"]
    ordered = frame.sort_values(
        ["Horas en contingencia (POS·h)", "_perdidas", "Caídas de internet"], ascending=False, kind="stable"
    )
    return ordered.drop(columns="_perdidas").reset_index(drop=True)


def _counted(report: ComplianceReport, value: float, text: str, none: str | None = None) -> str:
    """A figure counted from the events: "—" while none of their history is known, "al menos" while part is;
    ``none``: how a count of 0 reads while part is known (said plainly, never "al menos 0")."""
    if report.history_unknown:
        return "—"
    if none is not None and not value and not report.history_complete:
        return none
    return text if report.history_complete else f"al menos {text}"


def _invoiced(report: ComplianceReport, count: int) -> str:
    """A count of invoices: "—" while none of the period's was read, "al menos" while part of it was."""
    if report.invoices_unknown:
        return "—"
    if report.invoices_partial:
        return f"al menos {fmt_count(count)}" if count else "ninguna registrada"
    return fmt_count(count)


def headline(report: ComplianceReport) -> dict[str, str]:
    """The four figures the page shows first (each as its summary line says it, without the explanation)."""
    rows = list(report.branches.values())
    on_time, known = _settled(rows)
    hours, events = sum(r.pos_hours for r in rows), sum(r.events for r in rows)
    return {
        "Disponibilidad de SIAT": fmt_percent(report.availability),
        "Horas en contingencia (POS·h)": _counted(report, hours, fmt_number(hours)),
        "Eventos": _counted(report, events, fmt_count(events), "ninguno registrado"),
        "Validadas antes del plazo": "—" if report.invoices_unknown else fmt_percent(_share(on_time, known)),
    }


def history_coverage(report: ComplianceReport) -> str:
    """How much of the period's event history is cucu's own list, read after each day was over."""
    if not report.pos_days:
        return "— (el período no tiene días cerrados: hoy se muestra lo que el colector observó)"
    share = fmt_percent(report.verified_pos_days / report.pos_days)
    return f"{share} ({fmt_count(report.verified_pos_days)} de {fmt_count(report.pos_days)} días de punto de venta)"


def coverage_note(report: ComplianceReport) -> str | None:
    """What the page and the PDF say when the events are not all known yet (``None``: they are)."""
    if report.history_complete:
        return None
    beyond = (
        f" Los días anteriores al {report.horizon:%d/%m/%Y} no se completan solos (CUCU_BACKFILL_DAYS)."
        if report.horizon is not None and report.start.astimezone(LA_PAZ).date() < report.horizon
        else ""
    )
    if report.history_unknown:
        return (
            "Ningún día de este período está verificado con cucu y no hay eventos guardados de él: los eventos, las "
            f"horas en contingencia y las caídas de internet no se conocen todavía (—), no son cero.{beyond}"
        )
    missing = report.pos_days - report.verified_pos_days
    return (
        f"Faltan por verificar con cucu {fmt_count(missing)} de {fmt_count(report.pos_days)} días de punto de venta "
        "del período: los eventos, las horas en contingencia y las caídas de internet son al menos lo que se muestra. "
        f"El colector los va leyendo de cucu, del más reciente al más antiguo.{beyond}"
    )


def invoice_note(report: ComplianceReport) -> str | None:
    """What the page and the PDF say when the period's invoices were not all read (``None``: they were)."""
    how = "El tablero lee de cucu las facturas recientes y guarda para este informe las emitidas fuera de línea"
    if report.invoices_from is None:
        return f"{how}, y todavía no ha leído ninguna: las cifras de facturas no se conocen (—), no son cero."
    since = fmt_datetime(report.invoices_from)
    if report.invoices_unknown:
        return (
            f"{how}: no leyó las emitidas antes del {since}, así que las cifras de facturas de este período no se "
            "conocen (—), no son cero."
        )
    if report.invoices_partial:
        return (
            f"{how}: no leyó las emitidas antes del {since}, así que las facturas fuera de línea, vencidas y "
            "rechazadas son al menos lo que se muestra."
        )
    return None


def summary_frame(report: ComplianceReport, inventory: Inventory) -> pd.DataFrame:
    """The month's figures for the whole of what the reader sees, a line each."""
    rows = list(report.branches.values())
    figures = headline(report)
    siat = [o for o in report.outages if o.branch_id is None]
    availability = figures["Disponibilidad de SIAT"]
    if report.availability is not None and report.partial_checks and report.checks_from is not None:
        availability += f" (comprobaciones desde el {fmt_datetime(report.checks_from)})"
    elif report.availability is None:
        availability += " (no hay comprobaciones guardadas de ese período)"
    company_ack = median(report.company_ack_delays)
    internet = sum(r.internet_outages for r in rows)
    lines = [
        ("Período", f"{fmt_datetime(report.start)} – {fmt_datetime(report.end)} (hora de La Paz)"),
        ("Sucursales · POS", f"{fmt_count(len(inventory.branches))} · {fmt_count(len(inventory.all_pos))}"),
        ("Disponibilidad de SIAT (sin mantenimientos)", availability),
        ("Mantenimiento de toda la empresa (fuera de la disponibilidad)", fmt_duration(report.maintenance)),
        ("Caídas de SIAT", f"{fmt_count(len(siat))} · {fmt_duration(sum((o.duration for o in siat), timedelta(0)))} en total"),
        ("Historia de eventos verificada con cucu", history_coverage(report)),
        ("Caídas de internet de sucursales", _counted(report, internet, fmt_count(internet), "ninguna registrada")),
        ("Horas en contingencia (POS·h)", figures["Horas en contingencia (POS·h)"]),
        ("Eventos", figures["Eventos"]),
        ("Facturas fuera de línea", _invoiced(report, sum(r.offline for r in rows))),
        ("Validadas antes del plazo de 48 h", figures["Validadas antes del plazo"]),
        ("Vencidas sin validar", _invoiced(report, sum(r.missed for r in rows))),
        ("Rechazadas por SIAT", _invoiced(report, sum(r.rejected for r in rows))),
        ("Alertas de toda la empresa: mediana hasta atenderlas", fmt_duration(company_ack) if company_ack else "—"),
        ("Alertas de toda la empresa sin atender", fmt_count(report.company_unacknowledged)),
    ]
    note = coverage_note(report)
    if note:
        lines.insert(lines.index(("Historia de eventos verificada con cucu", history_coverage(report))) + 1, (NOTICE, note))
    read = invoice_note(report)
    if read:
        lines.insert(
            lines.index(("Facturas fuera de línea", _invoiced(report, sum(r.offline for r in rows)))), (INVOICE_NOTICE, read)
        )
    return pd.DataFrame(lines, columns=["Indicador", "Valor"])


OUTAGE_COLUMNS = ["Qué", "Sucursal", "Desde", "Hasta", "Duración", "Estado", "Eventos"]
ONGOING, OVER = "En curso", "Terminada"


def outages_frame(report: ComplianceReport, inventory: Inventory) -> pd.DataFrame:
    """SIAT's outages and the branches' internet ones, the oldest first: times aware (La Paz), the duration a
    timedelta (cut at the period's end; one still going on counts until the report was built)."""
    rows = [
        {
            "Qué": o.kind.label,
            "Sucursal": inventory.branch(o.branch_id).name if o.branch_id else "Toda la empresa",
            "Desde": o.started_at,
            "Hasta": o.ended_at,
            "Duración": o.duration,
            "Estado": OVER if o.ended_at else ONGOING,
            "Eventos": o.events,
        }
        for o in sorted(report.outages, key=lambda o: o.started_at)
    ]
    frame = pd.DataFrame(rows, columns=OUTAGE_COLUMNS)
    for column in ("Desde", "Hasta"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(LA_PAZ)
    frame["Duración"] = pd.to_timedelta(frame["Duración"])
    frame["Eventos"] = frame["Eventos"].astype("int64")
    return frame


MINUTE_COLUMNS = ("Min. a iniciar (mediana)", "Min. a finalizar (mediana)", "Min. a atender una alerta (mediana)")
HOUR_COLUMNS = ("Horas en contingencia (POS·h)",)


def for_grid(frame: pd.DataFrame) -> pd.DataFrame:
    """A region's or branch's sheet as the page's grid shows it: its minutes and POS-hours as durations (timedelta,
    to the minute), which sort by value and read the same in any browser's language; the workbook keeps numbers."""
    durations = {c: pd.to_timedelta(frame[c], unit="min") for c in MINUTE_COLUMNS if c in frame}
    durations |= {c: pd.to_timedelta(frame[c], unit="h") for c in HOUR_COLUMNS if c in frame}
    return frame.assign(**{c: d.dt.round("s") for c, d in durations.items()})


def motives_frame(report: ComplianceReport, inventory: Inventory) -> pd.DataFrame:
    """Events by region, motive and origin (a person, the policy, outside the dashboard)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for branch in inventory.branches:
        region = region_label(branch.region)
        for (motive, origin), n in report.branches[branch.id].by_motive_origin.items():
            counts[(region, MOTIVES.get(motive, f"Motivo {motive}"), origin)] += n
    rows = [{"Región": r, "Motivo": mo, "Origen": o, "Eventos": n} for (r, mo, o), n in sorted(counts.items()) if n]
    return pd.DataFrame(rows, columns=["Región", "Motivo", "Origen", "Eventos"])


def rejections_frame(report: ComplianceReport) -> pd.DataFrame:
    """Invoices rejected by SIAT's code (an identifier, as text: "—" when SIAT gave none), the most first."""
    rows = [
        {
            "Código SIAT": "—" if code is None else str(code),
            "Qué significa y qué hacer": explain_siat_code(code, said),
            "Facturas": n,
        }
        for (code, said), n in report.rejections.most_common()
    ]
    return pd.DataFrame(rows, columns=["Código SIAT", "Qué significa y qué hacer", "Facturas"])


def nothing_listed(report: ComplianceReport) -> dict[str, str]:
    """What the page says instead of an empty grid (a grid without rows reads "empty"), per sheet: unknown ("—")
    when that history was not read, else that none was registered."""
    return {
        "Caídas": "— (no hay comprobaciones guardadas de ese período)"
        if report.availability is None
        else "Ninguna caída registrada en el período.",
        "Eventos por motivo": "— (los eventos de este período no se conocen todavía)"
        if report.history_unknown
        else "Ningún evento registrado en el período.",
        "Rechazos por código": "— (las facturas de este período no se leyeron)"
        if report.invoices_unknown
        else "Ninguna factura rechazada registrada en el período.",
    }


def narrowed(report: ComplianceReport, inventory: Inventory, branch_ids: Collection[str]) -> tuple[ComplianceReport, Inventory]:
    """The report and inventory of ``branch_ids`` alone (a region or branches chosen on the page; none: all)."""
    if not branch_ids:
        return report, inventory
    ids = set(branch_ids)
    return within(report, ids), Inventory(tuple(b for b in inventory.branches if b.id in ids))


def chosen_label(inventory: Inventory, branch_ids: Collection[str]) -> str | None:
    """What a filter chose, for the PDF's title: whole regions by name, up to three branches by name, else how many."""
    if not branch_ids:
        return None
    ids = set(branch_ids)
    regions = {region_label(b.region) for b in inventory.branches if b.id in ids}
    if all(b.id in ids for b in inventory.branches if region_label(b.region) in regions):
        return ", ".join(r for r in branches_by_region(inventory) if r in regions)
    if len(ids) <= 3:
        return ", ".join(b.name for b in inventory.branches if b.id in ids)
    return f"{fmt_count(len(ids))} sucursales"


def report_sheets(report: ComplianceReport, inventory: Inventory) -> list[tuple[str, pd.DataFrame]]:
    return [
        ("Resumen", summary_frame(report, inventory)),
        ("Regiones", regions_frame(report, inventory)),
        ("Sucursales", branches_frame(report, inventory)),
        ("Caídas", outages_frame(report, inventory)),
        ("Eventos por motivo", motives_frame(report, inventory)),
        ("Rechazos por código", rejections_frame(report)),
    ]


def report_title(report: ComplianceReport, scope: str | None = None) -> str:
    title = f"Informe de cumplimiento: {fmt_datetime(report.start)[:10]} – {fmt_datetime(report.end)[:10]}"
    return f"{title} · {scope}" if scope else title


def report_xlsx(report: ComplianceReport, inventory: Inventory) -> bytes:
    return workbook(report_sheets(report, inventory))


def report_pdf(report: ComplianceReport, inventory: Inventory, scope: str | None = None) -> bytes:
    generated = fmt_datetime(report.now, seconds=True)
    return sheets_pdf(
        report_title(report, scope),
        report_sheets(report, inventory),
        footer=f"Contingencia · informe generado el {generated} (hora de La Paz)",
        workbook_name="el Excel del informe",
    )
