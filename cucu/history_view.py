"""Historial: pandas frames of the events loaded for a date range (no Streamlit here).

``events_frame`` turns the per-POS, per-day answers of :func:`cucu.history.load_days` into
one row per event with Spanish column names; ``filter_events`` narrows it;
``summary_frame`` totals it per branch and motive; ``to_csv_bytes`` exports exactly the
shown columns for Excel; the ``*_text`` functions say where the days came from and which failed.
Times are aware La Paz timestamps throughout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import NamedTuple

import pandas as pd

from cucu.export import excel_csv
from cucu.formatting import fmt_time
from cucu.frames import matching
from cucu.history import HistoryResult, LoadedRange
from cucu.lapaz import la_paz_series
from cucu.models import Event, Inventory, PointOfSale
from cucu.store import DayEvents
from cucu.vocabulary import EventState

# What a supervisor sees (table and CSV), in this order.
SHOWN_COLUMNS = [
    "Sucursal",
    "Punto de venta",
    "Motivo",
    "Código motivo",
    "Descripción",
    "Inicio",
    "Fin",
    "Duración (h)",
    "Estado",
    "CUFD evento",
    "Código SIAT",
    "ID evento",
]
# Kept for filtering and for the timeline's lanes; hidden in the table, absent from the CSV.
ID_COLUMNS = ["branch_id", "pos_id"]
COLUMNS = SHOWN_COLUMNS + ID_COLUMNS

SUMMARY_COLUMNS = ["Sucursal", "Motivo", "Eventos", "Horas"]
BRANCH_TOTAL = "Total sucursal"
GRAND_TOTAL = "Total general"


def lane_label(branch_name: str, pos_name: str) -> str:
    """How one POS is named wherever branches are mixed: ``Casa Matriz · Caja 1``."""
    return f"{branch_name} · {pos_name}"


class Lane(NamedTuple):
    """One row of the timeline: a POS, its label, and the branch that groups it."""

    pos_id: str
    label: str
    branch_id: str


def lanes(inventory: Inventory, pos_ids: Iterable[str] | None = None) -> list[Lane]:
    """Lanes in inventory order (branch, then POS); only ``pos_ids`` when given."""
    wanted = None if pos_ids is None else set(pos_ids)
    return [
        Lane(p.id, lane_label(b.name, p.name), b.id)
        for b in inventory.branches
        for p in b.pos
        if wanted is None or p.id in wanted
    ]


def pos_labels(inventory: Inventory) -> dict[str, str]:
    """POS id -> its name where branches are mixed (filters, warnings)."""
    return {p.id: lane_label(b.name, p.name) for b in inventory.branches for p in b.pos}


def pos_choices_of(inventory: Inventory, branch_ids: Iterable[str] = ()) -> list[str]:
    """The POS a filter offers: those of the chosen branches, or every POS when none is chosen."""
    chosen = set(branch_ids)
    return [p.id for b in inventory.branches if not chosen or b.id in chosen for p in b.pos]


def chosen_pos(inventory: Inventory, pos_ids: Iterable[str]) -> list[PointOfSale]:
    """The POS of ``pos_ids``, in inventory order."""
    wanted = set(pos_ids)
    return [p for p in inventory.all_pos if p.id in wanted]


# ---- events ---------------------------------------------------------------------------


def events_frame(days: Sequence[DayEvents], inventory: Inventory, now: datetime) -> pd.DataFrame:
    """One row per event (deduplicated by id), sorted by start; see ``COLUMNS``.

    An event seen in several answers keeps the most recently fetched copy. An active event's
    duration runs to ``now``; its ``Fin`` is NaT.
    """
    branch_names = {b.id: b.name for b in inventory.branches}
    pos_by_id = {p.id: p for p in inventory.all_pos}
    latest: dict[str, tuple[datetime, DayEvents, Event]] = {}
    for day in days:
        for event in day.events:
            seen = latest.get(event.id)
            if seen is None or day.fetched_at >= seen[0]:
                latest[event.id] = (day.fetched_at, day, event)

    rows = []
    for _, day, event in latest.values():
        pos_id = event.pos_id or day.pos_id
        pos = pos_by_id.get(pos_id)
        branch_id = pos.branch_id if pos is not None else (event.branch_id or day.branch_id)
        start = event.fecha_inicio or event.created_at
        end = None if event.active else event.fecha_fin
        until = end if end is not None else (now if event.active else None)
        hours = (until - start).total_seconds() / 3600 if start is not None and until is not None else None
        rows.append(
            {
                "Sucursal": branch_names.get(branch_id, branch_id or "—"),
                "Punto de venta": pos.name if pos is not None else pos_id,
                "Motivo": event.motive_text,
                "Código motivo": event.codigo_motivo,
                "Descripción": event.descripcion or "",
                "Inicio": start,
                "Fin": end,
                "Duración (h)": max(0.0, hours) if hours is not None else None,
                "Estado": (EventState.ACTIVE if event.active else EventState.ENDED).value,
                "CUFD evento": event.cufd_evento or "",
                "Código SIAT": event.codigo_evento_siat or "",
                "ID evento": event.id,
                "branch_id": branch_id or "",
                "pos_id": pos_id,
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("Inicio", "Fin"):
        frame[column] = la_paz_series(frame[column])
    frame["Código motivo"] = frame["Código motivo"].astype("Int64")
    frame["Duración (h)"] = frame["Duración (h)"].astype("float64")
    for column in (
        "Sucursal",
        "Punto de venta",
        "Motivo",
        "Descripción",
        "Estado",
        "CUFD evento",
        "Código SIAT",
        "ID evento",
        "branch_id",
        "pos_id",
    ):
        frame[column] = frame[column].astype(object)
    frame = frame.sort_values(["Inicio", "Sucursal", "Punto de venta", "ID evento"], kind="stable", na_position="last")
    return frame.reset_index(drop=True)


def filter_events(
    frame: pd.DataFrame,
    branch_ids: Iterable[str] | None = None,
    pos_ids: Iterable[str] | None = None,
    motives: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Rows matching every given filter; an empty or ``None`` filter keeps everything."""
    chosen = {"branch_id": branch_ids or (), "pos_id": pos_ids or (), "Código motivo": [int(m) for m in motives or ()]}
    return frame[matching(frame, chosen)].reset_index(drop=True)


def summary_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Events and hours per branch and motive (columns ``SUMMARY_COLUMNS``).

    Branches by name, motives by code within each; a ``Total sucursal`` row closes each
    branch and a ``Total general`` row the table. Hours are summed unrounded, then rounded
    to one decimal (an active event counts up to ``now``, as in ``events_frame``).
    """
    if frame.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS).astype({"Eventos": "int64", "Horas": "float64"})
    work = frame.assign(_code=frame["Código motivo"].fillna(99).astype("int64"), _hours=frame["Duración (h)"].fillna(0.0))
    rows = []
    for branch, group in work.groupby("Sucursal", sort=True):
        per_motive = (
            group.groupby(["_code", "Motivo"], sort=True)
            .agg(Eventos=("ID evento", "size"), Horas=("_hours", "sum"))
            .reset_index()
        )
        for item in per_motive.itertuples(index=False):
            rows.append({"Sucursal": branch, "Motivo": item.Motivo, "Eventos": int(item.Eventos), "Horas": float(item.Horas)})
        rows.append({"Sucursal": branch, "Motivo": BRANCH_TOTAL, "Eventos": len(group), "Horas": float(group["_hours"].sum())})
    rows.append({"Sucursal": GRAND_TOTAL, "Motivo": "", "Eventos": len(work), "Horas": float(work["_hours"].sum())})
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    summary["Eventos"] = summary["Eventos"].astype("int64")
    summary["Horas"] = summary["Horas"].round(1)
    return summary


def to_csv_bytes(frame: pd.DataFrame, *, sep: str = ";", decimal: str = ",") -> bytes:
    """Exactly ``SHOWN_COLUMNS``, for Excel (see :func:`cucu.export.excel_csv`)."""
    out = frame[SHOWN_COLUMNS].copy()
    out["Duración (h)"] = out["Duración (h)"].round(2)
    return excel_csv(out, time_columns=("Inicio", "Fin"), sep=sep, decimal=decimal)


def is_total_row(row: pd.Series) -> bool:
    """A summary row that closes a branch or the table (shown in bold)."""
    return bool(row["Motivo"] == BRANCH_TOTAL or row["Sucursal"] == GRAND_TOTAL)


# ---- what the page says about the load -------------------------------------------------

MAX_LISTED_ERRORS = 8


def freshness_text(loaded: LoadedRange) -> str:
    """Where the days shown came from (the store, or cucu just now) and when."""
    r = loaded.result
    total = r.from_cache + r.fetched
    failed = f" ({len(r.errors)} sin respuesta)" if r.errors else ""
    return (
        f"{total} días de punto de venta: {r.from_cache} desde la base local, "
        f"{r.fetched} consultados a cucu{failed} a las {fmt_time(loaded.loaded_at)} (hora de La Paz)."
    )


def errors_text(result: HistoryResult, labels: Mapping[str, str], max_listed: int = MAX_LISTED_ERRORS) -> str:
    """Which POS-days failed (grouped by day, the first few), why, and what is shown instead."""
    by_day: dict[date, list[str]] = {}
    for e in sorted(result.errors, key=lambda e: (e.day, labels.get(e.pos_id, e.pos_id))):
        by_day.setdefault(e.day, []).append(labels.get(e.pos_id, e.pos_id))
    parts, listed = [], 0
    for day, names in by_day.items():
        if listed >= max_listed:
            break
        take = names[: max_listed - listed]
        listed += len(take)
        parts.append(f"{day:%d/%m/%Y}: " + ", ".join(take))
    total = len(result.errors)
    more = f"; y {total - listed} más" if total > listed else ""
    why = Counter(e.message for e in result.errors).most_common(1)[0][0]
    if result.stale == total:
        shown = "Se muestra la copia guardada anteriormente en la base local, que puede estar desactualizada."
    elif result.stale:
        shown = (
            f"Para {result.stale} de ellos se muestra la copia guardada anteriormente en la base local, "
            "que puede estar desactualizada; los demás no aparecen en la tabla ni en el gráfico."
        )
    else:
        shown = "Esos días no aparecen en la tabla ni en el gráfico."
    return (
        f"**No se pudieron consultar {total} {'día' if total == 1 else 'días'} de punto de venta a cucu** "
        f"({'; '.join(parts)}{more}).\n\n{why}\n\n{shown} Use «Actualizar» para volver a intentarlo."
    )
