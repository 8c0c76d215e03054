"""Historial: pandas frames of the events loaded for a date range (no Streamlit here).

``events_frame`` turns the per-POS, per-day rows of :func:`cucu.events.history.stored_history` into
one row per event with Spanish column names; ``filter_events`` narrows it;
``summary_frame`` totals it per branch and motive; ``to_csv_bytes`` exports exactly the
shown columns for Excel; ``coverage_text`` and ``coverage_frame`` say how complete each day is.
Times are aware La Paz timestamps throughout.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

from cucu.api.models import Event, Inventory
from cucu.events.history import StoredHistory
from cucu.formatting import fmt_count, fmt_percent, fmt_time, plural
from cucu.lapaz import la_paz_series
from cucu.store import DayEvents
from cucu.views.export import excel_csv
from cucu.views.pos import matching
from cucu.vocabulary import EventState


class EventColumn:
    """Historial's events (``events_frame``): one row per event; what a supervisor sees, then what is kept for
    filtering, for the timeline's lanes and its "continues" marks (hidden in the table, absent from the CSV)."""

    BRANCH = "Sucursal"
    POS = "Punto de venta"
    MOTIVE = "Motivo"
    MOTIVE_CODE = "Código motivo"
    DESCRIPTION = "Descripción"
    START = "Inicio"
    END = "Fin"
    HOURS = "Duración (h)"
    HOURS_IN_PERIOD = "En el período (h)"
    STATE = "Estado"  # an EventState value
    EVENT_CUFD = "CUFD evento"
    SIAT_CODE = "Código SIAT"
    EVENT_ID = "ID evento"
    BRANCH_ID = "branch_id"
    POS_ID = "pos_id"
    FROM_BEFORE = "from_before"  # the event began before the range
    RUNS_AFTER = "runs_after"  # it ends after the range (or is still open then)


# What a supervisor sees (table and CSV), in this order.
SHOWN_COLUMNS = [
    EventColumn.BRANCH,
    EventColumn.POS,
    EventColumn.MOTIVE,
    EventColumn.MOTIVE_CODE,
    EventColumn.DESCRIPTION,
    EventColumn.START,
    EventColumn.END,
    EventColumn.HOURS,
    EventColumn.HOURS_IN_PERIOD,
    EventColumn.STATE,
    EventColumn.EVENT_CUFD,
    EventColumn.SIAT_CODE,
    EventColumn.EVENT_ID,
]
HOUR_COLUMNS = [EventColumn.HOURS, EventColumn.HOURS_IN_PERIOD]  # hours as numbers (CSV, sums); durations on screen
ID_COLUMNS = [EventColumn.BRANCH_ID, EventColumn.POS_ID, EventColumn.FROM_BEFORE, EventColumn.RUNS_AFTER]
TIME_COLUMNS = (EventColumn.START, EventColumn.END)  # aware La Paz times
COLUMNS = SHOWN_COLUMNS + ID_COLUMNS


class SummaryColumn:
    """Historial's summary (``summary_frame``): events and hours per branch and motive."""

    BRANCH = EventColumn.BRANCH
    MOTIVE = EventColumn.MOTIVE  # or BRANCH_TOTAL
    EVENTS = "Eventos"
    HOURS = "Horas"


SUMMARY_COLUMNS = [SummaryColumn.BRANCH, SummaryColumn.MOTIVE, SummaryColumn.EVENTS, SummaryColumn.HOURS]
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
    every = inventory.derived.get("lanes")
    if every is None:  # once per inventory: Historial asks at every run
        every = inventory.derived["lanes"] = [
            Lane(p.id, lane_label(b.name, p.name), b.id) for b in inventory.branches for p in b.pos
        ]
    if pos_ids is None:
        return list(every)
    wanted = set(pos_ids)
    return [lane for lane in every if lane.pos_id in wanted]


def pos_labels(inventory: Inventory) -> dict[str, str]:
    """POS id -> its name where branches are mixed (filters, warnings); the same dict for every caller."""
    labels = inventory.derived.get("pos_labels")
    if labels is None:
        labels = inventory.derived["pos_labels"] = {lane.pos_id: lane.label for lane in lanes(inventory)}
    return labels


MAX_POS_CHOICES = 300  # beyond this Historial's POS filter waits for a branch filter to narrow it


def pos_choices_of(inventory: Inventory, branch_ids: Iterable[str] = ()) -> list[str]:
    """The POS a filter offers: those of the chosen branches, or every POS when none is chosen."""
    chosen = set(branch_ids)
    return [p.id for b in inventory.branches if not chosen or b.id in chosen for p in b.pos]


# ---- events ---------------------------------------------------------------------------


def events_frame(
    days: Sequence[DayEvents], inventory: Inventory, now: datetime, period: tuple[datetime, datetime] | None = None
) -> pd.DataFrame:
    """One row per event (deduplicated by id), sorted by start; see ``COLUMNS``.

    An event seen in several answers keeps the most recently fetched copy. An active event's
    duration runs to ``now``; its ``Fin`` is NaT. With ``period`` (La Paz moments, start included,
    end excluded) only the events that overlap it are kept, whatever day they began, and
    ``En el período (h)`` counts the hours inside it; without, it equals ``Duración (h)``.
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
        inside, from_before, runs_after = hours, False, False
        if period is not None and start is not None:
            from_before = start < period[0]
            if start >= period[1] or (from_before and (until is None or until <= period[0])):
                continue  # outside the range (one that starts inside it stays, however short)
            runs_after = until is not None and until > period[1]
            inside = None if until is None else (min(until, period[1]) - max(start, period[0])).total_seconds() / 3600
        rows.append(
            {
                EventColumn.BRANCH: branch_names.get(branch_id, branch_id or "—"),
                EventColumn.POS: pos.name if pos is not None else pos_id,
                EventColumn.MOTIVE: event.motive_text,
                EventColumn.MOTIVE_CODE: event.codigo_motivo,
                EventColumn.DESCRIPTION: event.descripcion or "",
                EventColumn.START: start,
                EventColumn.END: end,
                EventColumn.HOURS: max(0.0, hours) if hours is not None else None,
                EventColumn.HOURS_IN_PERIOD: max(0.0, inside) if inside is not None else None,
                EventColumn.STATE: (EventState.ACTIVE if event.active else EventState.ENDED).value,
                EventColumn.EVENT_CUFD: event.cufd_evento or "",
                EventColumn.SIAT_CODE: event.codigo_evento_siat or "",
                EventColumn.EVENT_ID: event.id,
                EventColumn.BRANCH_ID: branch_id or "",
                EventColumn.POS_ID: pos_id,
                EventColumn.FROM_BEFORE: from_before,
                EventColumn.RUNS_AFTER: runs_after,
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in TIME_COLUMNS:
        frame[column] = la_paz_series(frame[column])
    frame[EventColumn.MOTIVE_CODE] = frame[EventColumn.MOTIVE_CODE].astype("Int64")
    for column in HOUR_COLUMNS:
        frame[column] = frame[column].astype("float64")
    for column in (EventColumn.FROM_BEFORE, EventColumn.RUNS_AFTER):
        frame[column] = frame[column].astype("bool")
    for column in (
        EventColumn.BRANCH,
        EventColumn.POS,
        EventColumn.MOTIVE,
        EventColumn.DESCRIPTION,
        EventColumn.STATE,
        EventColumn.EVENT_CUFD,
        EventColumn.SIAT_CODE,
        EventColumn.EVENT_ID,
        EventColumn.BRANCH_ID,
        EventColumn.POS_ID,
    ):
        frame[column] = frame[column].astype(object)
    frame = frame.sort_values(
        [EventColumn.START, EventColumn.BRANCH, EventColumn.POS, EventColumn.EVENT_ID], kind="stable", na_position="last"
    )
    return frame.reset_index(drop=True)


def as_durations(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with the hour columns ``columns`` as durations (timedelta, to the minute): what
    Historial's grids show, one format for a time span at any size that sorts by value (decimal
    hours showed a comma or a point depending on the table's size)."""
    return frame.assign(**{c: pd.to_timedelta(frame[c], unit="h").dt.round("min") for c in columns})


def total_hours_text(hours: float) -> str:
    """A range's time in contingency summed over POS, in hours as the grids show it (not wrapped into days,
    which read oddly for a sum over many POS): ``37 637 h 12 min``, ``45 min``."""
    minutes = max(0, round(hours * 60))
    whole, rest = divmod(minutes, 60)
    return f"{fmt_count(whole)} h {rest:02d} min" if whole else f"{rest} min"


def filter_events(
    frame: pd.DataFrame,
    branch_ids: Iterable[str] | None = None,
    pos_ids: Iterable[str] | None = None,
    motives: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Rows matching every given filter; an empty or ``None`` filter keeps everything."""
    chosen = {
        EventColumn.BRANCH_ID: branch_ids or (),
        EventColumn.POS_ID: pos_ids or (),
        EventColumn.MOTIVE_CODE: [int(m) for m in motives or ()],
    }
    return frame[matching(frame, chosen)].reset_index(drop=True)


def summary_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Events and hours per branch and motive (columns ``SUMMARY_COLUMNS``).

    Branches by name, motives by code within each; a ``Total sucursal`` row closes each
    branch and a ``Total general`` row the table. Hours are summed unrounded, then rounded
    to one decimal: the hours inside the range (``En el período (h)``; an active event counts up to
    ``now``, as in ``events_frame``).
    """
    if frame.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS).astype({SummaryColumn.EVENTS: "int64", SummaryColumn.HOURS: "float64"})
    work = frame.assign(
        _code=frame[EventColumn.MOTIVE_CODE].fillna(99).astype("int64"), _hours=frame[EventColumn.HOURS_IN_PERIOD].fillna(0.0)
    )
    totals = {SummaryColumn.EVENTS: (EventColumn.EVENT_ID, "size"), SummaryColumn.HOURS: ("_hours", "sum")}
    # Two groupbys for every branch at once (one per branch cost seconds with a chain's 1 000 branches).
    per_motive = work.groupby([EventColumn.BRANCH, "_code", EventColumn.MOTIVE], sort=True).agg(**totals).reset_index()
    per_branch = work.groupby(EventColumn.BRANCH, sort=True).agg(**totals).reset_index()
    per_branch = per_branch.assign(
        **{SummaryColumn.MOTIVE: BRANCH_TOTAL}, _code=np.iinfo("int64").max
    )  # after the branch's motives
    rows = pd.concat([per_motive, per_branch], ignore_index=True).sort_values([SummaryColumn.BRANCH, "_code"], kind="stable")
    grand = {
        SummaryColumn.BRANCH: GRAND_TOTAL,
        SummaryColumn.MOTIVE: "",
        SummaryColumn.EVENTS: len(work),
        SummaryColumn.HOURS: float(work["_hours"].sum()),
    }
    rows = pd.concat([rows[SUMMARY_COLUMNS], pd.DataFrame([grand])], ignore_index=True)
    summary = rows.reset_index(drop=True)
    summary[SummaryColumn.EVENTS] = summary[SummaryColumn.EVENTS].astype("int64")
    summary[SummaryColumn.HOURS] = summary[SummaryColumn.HOURS].round(1)
    return summary


def to_csv_bytes(frame: pd.DataFrame, *, sep: str = ";", decimal: str = ",") -> bytes:
    """Exactly ``SHOWN_COLUMNS``, for Excel (see :func:`cucu.views.export.excel_csv`)."""
    out = frame[SHOWN_COLUMNS].copy()
    for column in HOUR_COLUMNS:
        out[column] = out[column].round(2)
    return excel_csv(out, time_columns=TIME_COLUMNS, sep=sep, decimal=decimal)


def is_total_row(row: pd.Series) -> bool:
    """A summary row that closes a branch or the table (shown in bold)."""
    return bool(row[SummaryColumn.MOTIVE] == BRANCH_TOTAL or row[SummaryColumn.BRANCH] == GRAND_TOTAL)


# ---- what the page says about completeness ---------------------------------------------

MAX_LISTED_DAYS = 4


def coverage_text(history: StoredHistory, *, horizon: date | None = None) -> tuple[str, bool]:
    """What the page says about how complete the range is, and whether that is worth a notice
    (some completed day not yet verified) rather than a caption."""
    read = f"Leído de la base local a las {fmt_time(history.read_at)} (hora de La Paz)."
    today = (
        " Hoy muestra lo que el colector observó en sus consultas; un evento que empezó y terminó entre dos "
        "consultas aparece cuando se verifica el día."
        if history.includes_today
        else ""
    )
    missing = history.incomplete
    if not missing:
        closed = f"Días cerrados completos, verificados con cucu ({len(history.coverage)})." if history.coverage else ""
        return f"{closed}{today} {read}".strip(), False
    pending = sum(c.total - c.verified for c in missing)
    total = sum(c.total for c in history.coverage)
    listed = ", ".join(
        f"{c.day:%d/%m} ({fmt_percent(c.verified / c.total if c.total else 0)})" for c in reversed(missing[-MAX_LISTED_DAYS:])
    )
    more = f" y {plural(len(missing) - MAX_LISTED_DAYS, 'día', 'días')} más" if len(missing) > MAX_LISTED_DAYS else ""
    old = [c for c in missing if horizon is not None and c.day < horizon]
    beyond = (
        f" Los días anteriores al {horizon:%d/%m/%Y} no se completan solos (CUCU_BACKFILL_DAYS)."
        if old and horizon is not None
        else ""
    )
    return (
        f"**Faltan por verificar con cucu {fmt_count(pending)} de {fmt_count(total)} días de punto de venta** "
        f"del período: {listed}{more}. El colector los lee en segundo plano, del más reciente al más antiguo; "
        f"mientras tanto se muestran los eventos que observó en sus consultas.{beyond}{today}\n\n{read}"
    ), True


class CoverageColumn:
    """How complete each day is (``coverage_frame``)."""

    DAY = "Día"
    VERIFIED = "Verificados"
    POS = "Puntos de venta"  # how many
    COMPLETE = "Completo"  # the share verified


def coverage_frame(history: StoredHistory) -> pd.DataFrame:
    """One row per completed day of the range: POS verified with cucu, of how many, and the share."""
    return pd.DataFrame(
        {
            CoverageColumn.DAY: [c.day for c in history.coverage],
            CoverageColumn.VERIFIED: [c.verified for c in history.coverage],
            CoverageColumn.POS: [c.total for c in history.coverage],
            CoverageColumn.COMPLETE: [c.verified / c.total if c.total else 1.0 for c in history.coverage],
        },
        columns=[CoverageColumn.DAY, CoverageColumn.VERIFIED, CoverageColumn.POS, CoverageColumn.COMPLETE],
    )
