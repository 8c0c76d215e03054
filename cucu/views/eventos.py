"""Eventos activos: the state and motive filters, the search, the table of POS and the line over it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime

import pandas as pd

from cucu.formatting import fmt_count, plural
from cucu.lapaz import la_paz_series, now_la_paz
from cucu.views.pos import PosColumn, cufd_texts, matching
from cucu.vocabulary import CufdHealth, PosState, QueueKind

# Eventos activos' state filter offers this beside the POS states: the events open longer than the setting
# (pos_frame's column of that name, which it reads). The value is what a link carries; the label says the hours.
LONG_OPEN = PosColumn.LONG_OPEN
# And the POS that cannot invoice (their CUFD expired, inactive or missing), by Estado's queue's name for them:
# the value is the label, and what a link carries.
CANNOT_INVOICE = QueueKind.CANNOT_INVOICE.label
_STOPPED = [h.value for h in CufdHealth if h.stops_invoicing]


def cannot_invoice(frame: pd.DataFrame) -> pd.Series:
    """The rows of a pos_frame whose CUFD stops them invoicing (expired, inactive, none): in contingency or not.
    A CUFD never read is not known to."""
    return frame[PosColumn.CUFD].isin(_STOPPED)


def filter_pos_frame(
    frame: pd.DataFrame,
    branch_ids: Iterable[str] = (),
    states: Iterable[str] = (),
    motives: Iterable[int] = (),
    search: str | None = None,
) -> pd.DataFrame:
    """Empty selections mean "all". ``states`` are PosState values, ``LONG_OPEN`` for the events open too
    long and ``CANNOT_INVOICE`` for the POS whose CUFD stops them invoicing (any one chosen matches). A motive filter keeps only POS in contingency for those motives; a search
    keeps the POS whose texts hold it (``search_mask``)."""
    chosen = list(states)
    mask = matching(frame, {PosColumn.BRANCH_ID: branch_ids, PosColumn.MOTIVE_CODE: motives}) & search_mask(frame, search)
    if chosen:
        states_mask = frame[PosColumn.STATE].isin([s for s in chosen if s not in (LONG_OPEN, CANNOT_INVOICE)])
        if LONG_OPEN in chosen:
            states_mask |= frame[PosColumn.LONG_OPEN]
        if CANNOT_INVOICE in chosen:
            states_mask |= cannot_invoice(frame)
        mask &= states_mask
    return frame[mask]


# What the Buscar box of Eventos activos looks in: a supervisor knows a POS by its branch, its name, its city,
# or what was written when its event started.
SEARCHED_COLUMNS = [PosColumn.BRANCH, PosColumn.POS, PosColumn.CITY, PosColumn.MOTIVE, PosColumn.DESCRIPTION]
_MARKS = re.compile(r"[\u0300-\u036f]")  # the accents NFKD splits off their letter


def folded(text: str) -> str:
    """What a search compares: no case, no accent, one space between words ("Potosí" and "POTOSI" agree)."""
    return " ".join(_MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold().split())


def search_terms(search: str | None) -> list[str]:
    """The regular expressions a row must all match, one per word of ``search``. A number goes with the
    word before it and matches a whole number, leading zeros aside: "caja 3" is Caja 3, not Caja 13 or 30,
    and "sucursal 7" finds "Sucursal 007"; other words match anywhere ("bamba" finds Cochabamba)."""
    terms: list[str] = []
    open_word = False  # the last term is a word still waiting for its number
    for word in folded(search or "").split():
        if word.isascii() and word.isdigit():
            number = rf"(?<!\d)0*{word.lstrip('0') or '0'}(?!\d)"
            if open_word:  # "caja 3": the number says which caja
                terms[-1] += rf"\S* {number}"
            else:
                terms.append(number)
            open_word = False
        else:
            terms.append(re.escape(word))
            open_word = True
    return terms


def search_mask(frame: pd.DataFrame, search: str | None) -> pd.Series:
    """The rows of a pos_frame whose SEARCHED_COLUMNS hold every term of ``search``; all rows without one.
    Vectorised: about 15 ms for 10 000 POS, and only while a search is typed."""
    terms = search_terms(search)
    if not terms or frame.empty:
        return pd.Series(True, index=frame.index)
    # A line per column, which no search word holds: "caja 3" is not a POS "Caja" whose city starts "3".
    texts = [_folded_column(frame[column]) for column in SEARCHED_COLUMNS]
    text = texts[0].str.cat(texts[1:], sep="\n")
    mask = pd.Series(True, index=frame.index)
    for term in terms:
        mask &= text.str.contains(term, regex=True)
    return mask


def _folded_column(values: pd.Series) -> pd.Series:
    # Each distinct text folded once: a chain repeats its 10 city and "Caja N" names a thousand times each.
    texts = values.fillna("").astype(str)
    return texts.map({text: folded(text) for text in texts.unique()})


def active_pos_ids(frame: pd.DataFrame) -> list[str]:
    """The POS of ``frame`` (a ``pos_frame`` or part of one) that are in contingency."""
    return [str(pos_id) for pos_id in frame.loc[frame[PosColumn.STATE] == PosState.CONTINGENCY, PosColumn.POS_ID]]


class PosTableColumn:
    """Eventos activos' table (``pos_table``): columns of the pos_frame it is made of, shown as a person reads them,
    and two of its own."""

    BRANCH = PosColumn.BRANCH
    POS = PosColumn.POS
    STATE = PosColumn.STATE  # with its icon and the ⏰; "🔴 No puede facturar (…)" out of contingency
    MOTIVE = PosColumn.MOTIVE
    DESCRIPTION = PosColumn.DESCRIPTION
    START = PosColumn.START
    ELAPSED = "Transcurrido"
    SIAT_CODE = PosColumn.SIAT_CODE
    FETCHED = PosColumn.FETCHED
    NOTICE = "Aviso"  # the last error of a stale POS
    CUFD = PosColumn.CUFD  # as text (cufd_texts)
    EVENT_CUFD = PosColumn.EVENT_CUFD


# What Eventos activos shows of each POS, in this order (the rest of pos_frame stays for filtering).
POS_TABLE_COLUMNS = [
    PosTableColumn.BRANCH, PosTableColumn.POS, PosTableColumn.STATE, PosTableColumn.MOTIVE, PosTableColumn.DESCRIPTION,
    PosTableColumn.START, PosTableColumn.ELAPSED, PosTableColumn.SIAT_CODE, PosTableColumn.FETCHED, PosTableColumn.NOTICE,
    PosTableColumn.CUFD, PosTableColumn.EVENT_CUFD,
]  # fmt: skip


POS_TABLE_TEXT = [
    PosTableColumn.BRANCH, PosTableColumn.POS, PosTableColumn.STATE, PosTableColumn.MOTIVE, PosTableColumn.DESCRIPTION,
    PosTableColumn.SIAT_CODE, PosTableColumn.NOTICE, PosTableColumn.CUFD, PosTableColumn.EVENT_CUFD,
]  # fmt: skip


def pos_table(rows: pd.DataFrame, long_open_hours: float, now: datetime | None = None) -> pd.DataFrame:
    """``rows`` of a pos_frame as a table shows them: the state with its icon and a ⏰ when open too long, or,
    out of contingency, "🔴 No puede facturar (vencido)" where the CUFD stops the POS invoicing (never "🟢 Normal"
    then: Estado's queue lists it), the last error of a stale POS; times and durations stay typed (La Paz datetimes, a timedelta), so the
    grid sorts them by value, and the page formats them. Text cells without a value are "—"; a typed
    cell without one is empty (NaT), for the grid's placeholder. Vectorised: 10 000 rows take
    milliseconds (the CUFD texts too: ``cufd_texts``), with the index kept so a selection maps back to ``rows``."""
    now = now or now_la_paz()
    icons = {s.value: f"{s.icon} {s.label}" for s in PosState}
    state = rows[PosColumn.STATE].map(icons)
    state = state.where(~rows[PosColumn.LONG_OPEN], state + f" ⏰ +{long_open_hours:g} h")
    # In contingency the POS is amber and first whatever its CUFD (the CUFD column says it); out of it, the CUFD
    # is what stops it.
    stopped = cannot_invoice(rows) & (rows[PosColumn.STATE] != PosState.CONTINGENCY)
    state = state.mask(stopped, rows[PosColumn.CUFD].map({h.value: h.cannot_invoice_text for h in CufdHealth}))
    started = la_paz_series(rows[PosColumn.START])
    shown = rows.assign(
        **{
            PosTableColumn.STATE: state,
            PosTableColumn.START: started,
            # ages with every refresh, not with the data
            PosTableColumn.ELAPSED: (pd.Timestamp(now) - started).dt.floor("min"),
            PosTableColumn.FETCHED: la_paz_series(rows[PosColumn.FETCHED]),
            PosTableColumn.NOTICE: ("⚠ Último dato conocido: " + rows[PosColumn.ERROR]).where(rows[PosColumn.STALE]),
            PosTableColumn.CUFD: cufd_texts(rows, now),
        }
    )[POS_TABLE_COLUMNS]
    return shown.assign(**{c: shown[c].astype("string").fillna("—") for c in POS_TABLE_TEXT})


def urgent_first(rows: pd.DataFrame) -> pd.DataFrame:
    """A pos_frame (or part) in the order a person should look at it: POS in contingency, the longest open
    first; then those that cannot invoice (their CUFD); then those whose state is unknown or stale; then the
    normal ones, in inventory order."""
    rank = rows[PosColumn.STATE].map({PosState.CONTINGENCY.value: 0, PosState.UNKNOWN.value: 2}).fillna(3)
    rank = rank.where(~(rows[PosColumn.STALE] & (rank == 3)), 2)
    rank = rank.where(~(cannot_invoice(rows) & (rank > 0)), 1)
    # By the start itself: HOURS_OPEN is rounded to 0,01 h, and its ties kept inventory order.
    started = pd.to_datetime(rows[PosColumn.START], utc=True)
    order = pd.DataFrame({"rank": rank, "started": started}, index=rows.index)
    order = order.sort_values(["rank", "started"], ascending=[True, True], kind="stable", na_position="last")
    return rows.loc[order.index]


def shown_counts(shown: pd.DataFrame, total: int, long_open: int, long_open_hours: float) -> str:
    """Eventos activos' line over its table: how many POS are shown, how many of them are in contingency and
    open too long. While some shown POS have no data, the counts are of those read ("3 en contingencia de
    134 con datos"); with none read they are "—": a 0 would read as "none"."""
    known = int((shown[PosColumn.STATE] != PosState.UNKNOWN).sum())
    line = f"{fmt_count(len(shown))} de {fmt_count(total)} puntos de venta"
    if len(shown) and not known:
        return f"{line} · **en contingencia: —** (sin datos todavía)"
    active = int((shown[PosColumn.STATE] == PosState.CONTINGENCY).sum())
    of_known = f" de {fmt_count(known)} con datos" if known < len(shown) else ""
    return (
        f"{line} · **{fmt_count(active)} en contingencia**{of_known} · "
        f"{plural(long_open, 'abierto', 'abiertos')} hace más de {long_open_hours:g} h"
    )
