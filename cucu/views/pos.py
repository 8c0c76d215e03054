"""What Estado, Eventos activos and Facturas share: the POS frame (one row per POS with its state and CUFD),
the filter by chosen values (Historial's too), the CUFD texts and the note while some POS's state is unknown."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import pandas as pd

from cucu.api.models import Inventory
from cucu.formatting import fmt_count, fmt_durations
from cucu.invoicing import cufd_health
from cucu.lapaz import la_paz_series
from cucu.settings import Settings
from cucu.store import PosStatus, StoredCufd
from cucu.vocabulary import CufdHealth, PosState


def pos_state(status: PosStatus | None) -> PosState:
    """Normal / En contingencia from the last successful answer; Desconocido if there never was one."""
    if status is None or not status.known:
        return PosState.UNKNOWN
    return PosState.CONTINGENCY if status.event is not None else PosState.NORMAL


class PosColumn:
    """The POS frame's columns (``pos_frame``): the header a supervisor reads is the key code uses, spelled here once."""

    BRANCH_ID = "branch_id"
    POS_ID = "pos_id"
    EVENT_ID = "event_id"
    BRANCH = "Sucursal"
    POS = "Punto de venta"
    CITY = "Ciudad"  # the branch's, for the search (cucu.views.eventos.SEARCHED_COLUMNS)
    STATE = "Estado"  # a PosState value
    MOTIVE = "Motivo"
    MOTIVE_CODE = "Código motivo"
    DESCRIPTION = "Descripción"
    START = "Inicio"
    HOURS_OPEN = "Horas abierto"
    LONG_OPEN = "Abierto hace mucho"
    EVENT_CUFD = "CUFD evento"
    SIAT_CODE = "Código SIAT"
    FETCHED = "Consultado"
    STALE = "Desactualizado"
    ERROR = "Error"
    CUFD = "CUFD"  # a CufdHealth value
    CUFD_UNTIL = "CUFD vence"  # its vigencia
    CAN_INVOICE = "Puede facturar"


POS_COLUMNS = [
    PosColumn.BRANCH_ID,
    PosColumn.POS_ID,
    PosColumn.EVENT_ID,
    PosColumn.BRANCH,
    PosColumn.POS,
    PosColumn.CITY,
    PosColumn.STATE,
    PosColumn.MOTIVE,
    PosColumn.MOTIVE_CODE,
    PosColumn.DESCRIPTION,
    PosColumn.START,
    PosColumn.HOURS_OPEN,
    PosColumn.LONG_OPEN,
    PosColumn.EVENT_CUFD,
    PosColumn.SIAT_CODE,
    PosColumn.FETCHED,
    PosColumn.STALE,
    PosColumn.ERROR,
    PosColumn.CUFD,
    PosColumn.CUFD_UNTIL,
    PosColumn.CAN_INVOICE,
]


def pos_frame(
    inventory: Inventory,
    statuses: Mapping[str, PosStatus],
    now: datetime,
    long_open_hours: float = Settings.long_open_hours,
    cufds: Mapping[str, StoredCufd] | None = None,
    cufd_expiring: timedelta = timedelta(hours=Settings.cufd_expiring_hours),
) -> pd.DataFrame:
    """One row per inventory POS, in inventory order (grouped by branch), with its CUFD's health."""
    rows = []
    cufds = cufds or {}
    for branch in inventory.branches:
        for pos in branch.pos:
            status = statuses.get(pos.id)
            code = cufds.get(pos.id)
            health = cufd_health(code, now, cufd_expiring)
            event = status.event if status is not None and status.known else None
            open_for = now - event.fecha_inicio if event is not None and event.fecha_inicio else None
            hours = open_for.total_seconds() / 3600 if open_for is not None else None
            rows.append(
                {
                    PosColumn.BRANCH_ID: branch.id,
                    PosColumn.POS_ID: pos.id,
                    PosColumn.EVENT_ID: event.id if event else None,
                    PosColumn.BRANCH: branch.name,
                    PosColumn.POS: pos.name,
                    PosColumn.CITY: branch.city,
                    PosColumn.STATE: pos_state(status).value,
                    PosColumn.MOTIVE: event.motive_text if event else None,
                    PosColumn.MOTIVE_CODE: event.codigo_motivo if event else None,
                    PosColumn.DESCRIPTION: event.descripcion if event else None,
                    PosColumn.START: event.fecha_inicio if event else None,
                    PosColumn.HOURS_OPEN: round(hours, 2) if hours is not None else None,
                    PosColumn.LONG_OPEN: bool(hours is not None and hours >= long_open_hours),
                    PosColumn.EVENT_CUFD: event.cufd_evento if event else None,
                    PosColumn.SIAT_CODE: event.codigo_evento_siat if event else None,
                    PosColumn.FETCHED: status.fetched_at if status else None,
                    PosColumn.STALE: bool(status is not None and status.stale),
                    PosColumn.ERROR: status.error if status else None,
                    PosColumn.CUFD: health.value,
                    PosColumn.CUFD_UNTIL: code.cufd.vigencia if code is not None and code.cufd is not None else None,
                    PosColumn.CAN_INVOICE: health.can_invoice,
                }
            )
    frame = pd.DataFrame(rows, columns=POS_COLUMNS)
    frame[PosColumn.MOTIVE_CODE] = frame[PosColumn.MOTIVE_CODE].astype("Int64")
    return frame


def matching(frame: pd.DataFrame, filters: Mapping[str, Iterable[object]]) -> pd.Series:
    """The rows whose value is among the chosen ones in every column with a choice; no choice keeps all.
    A missing value (a POS without an event has no motive) never matches a choice."""
    mask = pd.Series(True, index=frame.index)
    for column, chosen in filters.items():
        values = list(chosen)
        if values:
            mask &= frame[column].isin(values).fillna(False).astype(bool)
    return mask


def cufd_texts(rows: pd.DataFrame, now: datetime) -> pd.Series:
    """ "🟢 vence en 5 h 10 min", "🔴 vencido hace 3 h", "🔴 inactivo"… for each row of a pos_frame
    (vectorised: a chain's 10 000 rows at every refresh of Eventos activos)."""
    health = rows[PosColumn.CUFD]
    until = la_paz_series(rows[PosColumn.CUFD_UNTIL])
    icon = health.map({h.value: h.icon for h in CufdHealth}).fillna("")
    known = until.notna()
    live = health.isin([CufdHealth.VALID.value, CufdHealth.EXPIRING.value]) & known
    expired = (health == CufdHealth.EXPIRED.value) & known
    left = fmt_durations((until - pd.Timestamp(now)).where(live, pd.Timestamp(now) - until))  # one call for both
    text = icon + " " + health.astype(str).str.lower()
    text = text.mask(live, icon + " vence en " + left)
    return text.mask(expired, icon + " vencido hace " + left)


def unknown_note(frame: pd.DataFrame, *, polling: bool = True) -> str | None:
    """The one sentence every page shows (``ui.widgets.collector_notices``: Estado, Eventos activos) while
    some POS's state in ``pos_frame`` is not known: the first sweep's progress, or which POS cucu did not
    answer for. ``polling``: someone asks cucu now; when nobody does, the sweep is not "en curso" (the
    collector notice beside it says why)."""
    total, unknown = len(frame), int((frame[PosColumn.STATE] == PosState.UNKNOWN).sum())
    if not unknown:
        return None
    asked = int(frame[PosColumn.FETCHED].notna().sum())  # answered or not: the first sweep's progress
    counted = "Las cifras cuentan solo los puntos de venta con datos."
    if asked < total:
        state = "en curso" if polling else "detenido"
        return f"Primer barrido {state}: {fmt_count(asked)} de {fmt_count(total)} puntos de venta consultados. {counted}"
    return f"Sin datos de {fmt_count(unknown)} de {fmt_count(total)} puntos de venta: cucu no respondió por ellos. {counted}"
