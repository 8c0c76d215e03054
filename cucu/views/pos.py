"""pandas frames and KPIs for Estado, Eventos activos and Bitácora, built from the store without Streamlit."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from cucu.api.models import Inventory, motive_label
from cucu.formatting import fmt_count, fmt_durations, plural
from cucu.invoicing import AttributedInvoice, EventClose, cufd_health
from cucu.lapaz import la_paz_series, now_la_paz
from cucu.settings import DEFAULT_CUFD_EXPIRING_HOURS, DEFAULT_LONG_OPEN_HOURS
from cucu.store import AuditEntry, AuditFilter, Incident, OutboxEntry, PosStatus, Store, StoredCufd, StoredInvoice, page_count
from cucu.views.export import excel_csv_file
from cucu.vocabulary import CufdHealth, EventClosing, InvoiceState, PosState, stored_label


def pos_state(status: PosStatus | None) -> PosState:
    """Normal / En contingencia from the last successful answer; Desconocido if there never was one."""
    if status is None or not status.known:
        return PosState.DESCONOCIDO
    return PosState.CONTINGENCIA if status.event is not None else PosState.NORMAL


POS_COLUMNS = [
    "branch_id",
    "pos_id",
    "event_id",
    "Sucursal",
    "Punto de venta",
    "Ciudad",  # the branch's, for the search (cucu.views.pos.SEARCHED_COLUMNS)
    "Estado",
    "Motivo",
    "Código motivo",
    "Descripción",
    "Inicio",
    "Horas abierto",
    "Abierto hace mucho",
    "CUFD evento",
    "Código SIAT",
    "Consultado",
    "Desactualizado",
    "Error",
    "CUFD",  # a CufdHealth value
    "CUFD vence",  # its vigencia
    "Puede facturar",
]


def pos_frame(
    inventory: Inventory,
    statuses: Mapping[str, PosStatus],
    now: datetime,
    long_open_hours: float = DEFAULT_LONG_OPEN_HOURS,
    cufds: Mapping[str, StoredCufd] | None = None,
    cufd_expiring: timedelta = timedelta(hours=DEFAULT_CUFD_EXPIRING_HOURS),
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
                    "branch_id": branch.id,
                    "pos_id": pos.id,
                    "event_id": event.id if event else None,
                    "Sucursal": branch.name,
                    "Punto de venta": pos.name,
                    "Ciudad": branch.city,
                    "Estado": pos_state(status).value,
                    "Motivo": event.motive_text if event else None,
                    "Código motivo": event.codigo_motivo if event else None,
                    "Descripción": event.descripcion if event else None,
                    "Inicio": event.fecha_inicio if event else None,
                    "Horas abierto": round(hours, 2) if hours is not None else None,
                    "Abierto hace mucho": bool(hours is not None and hours >= long_open_hours),
                    "CUFD evento": event.cufd_evento if event else None,
                    "Código SIAT": event.codigo_evento_siat if event else None,
                    "Consultado": status.fetched_at if status else None,
                    "Desactualizado": bool(status is not None and status.stale),
                    "Error": status.error if status else None,
                    "CUFD": health.value,
                    "CUFD vence": code.cufd.vigencia if code is not None and code.cufd is not None else None,
                    "Puede facturar": health.can_invoice,
                }
            )
    frame = pd.DataFrame(rows, columns=POS_COLUMNS)
    frame["Código motivo"] = frame["Código motivo"].astype("Int64")
    return frame


# Eventos activos' state filter offers this beside the POS states: the events open longer than the setting
# (pos_frame's "Abierto hace mucho"). The value is what a link carries; the label says the hours.
LONG_OPEN = "Abierto hace mucho"


def filter_pos_frame(
    frame: pd.DataFrame,
    branch_ids: Iterable[str] = (),
    states: Iterable[str] = (),
    motives: Iterable[int] = (),
    search: str | None = None,
) -> pd.DataFrame:
    """Empty selections mean "all". ``states`` are PosState values, and ``LONG_OPEN`` for the events open too
    long (any one chosen matches). A motive filter keeps only POS in contingency for those motives; a search
    keeps the POS whose texts hold it (``search_mask``)."""
    chosen = list(states)
    mask = matching(frame, {"branch_id": branch_ids, "Código motivo": motives}) & search_mask(frame, search)
    if chosen:
        states_mask = frame["Estado"].isin([s for s in chosen if s != LONG_OPEN])
        if LONG_OPEN in chosen:
            states_mask |= frame["Abierto hace mucho"]
        mask &= states_mask
    return frame[mask]


# What the Buscar box of Eventos activos looks in: a supervisor knows a POS by its branch, its name, its city,
# or what was written when its event started.
SEARCHED_COLUMNS = ["Sucursal", "Punto de venta", "Ciudad", "Motivo", "Descripción"]
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


def matching(frame: pd.DataFrame, filters: Mapping[str, Iterable[object]]) -> pd.Series:
    """The rows whose value is among the chosen ones in every column with a choice; no choice keeps all.
    A missing value (a POS without an event has no motive) never matches a choice."""
    mask = pd.Series(True, index=frame.index)
    for column, chosen in filters.items():
        values = list(chosen)
        if values:
            mask &= frame[column].isin(values).fillna(False).astype(bool)
    return mask


def active_pos_ids(frame: pd.DataFrame) -> list[str]:
    """The POS of ``frame`` (a ``pos_frame`` or part of one) that are in contingency."""
    return [str(pos_id) for pos_id in frame.loc[frame["Estado"] == PosState.CONTINGENCIA, "pos_id"]]


# What Eventos activos shows of each POS, in this order (the rest of pos_frame stays for filtering).
POS_TABLE_COLUMNS = [
    "Sucursal", "Punto de venta", "Estado", "Motivo", "Descripción", "Inicio", "Transcurrido", "Código SIAT",
    "Consultado", "Aviso", "CUFD", "CUFD evento",
]  # fmt: skip


def cufd_texts(rows: pd.DataFrame, now: datetime) -> pd.Series:
    """ "🟢 vence en 5 h 10 min", "🔴 vencido hace 3 h", "🔴 inactivo"… for each row of a pos_frame
    (vectorised: a chain's 10 000 rows at every refresh of Eventos activos)."""
    health = rows["CUFD"]
    until = la_paz_series(rows["CUFD vence"])
    icon = health.map({h.value: h.icon for h in CufdHealth}).fillna("")
    known = until.notna()
    live = health.isin([CufdHealth.VALID.value, CufdHealth.EXPIRING.value]) & known
    expired = (health == CufdHealth.EXPIRED.value) & known
    left = fmt_durations((until - pd.Timestamp(now)).where(live, pd.Timestamp(now) - until))  # one call for both
    text = icon + " " + health.astype(str).str.lower()
    text = text.mask(live, icon + " vence en " + left)
    return text.mask(expired, icon + " vencido hace " + left)


POS_TABLE_TEXT = ["Sucursal", "Punto de venta", "Estado", "Motivo", "Descripción", "Código SIAT", "Aviso", "CUFD", "CUFD evento"]


def pos_table(rows: pd.DataFrame, long_open_hours: float, now: datetime | None = None) -> pd.DataFrame:
    """``rows`` of a pos_frame as a table shows them: the state with its icon and a ⏰ when open too long,
    the last error of a stale POS; times and durations stay typed (La Paz datetimes, a timedelta), so the
    grid sorts them by value, and the page formats them. Text cells without a value are "—"; a typed
    cell without one is empty (NaT), for the grid's placeholder. Vectorised: 10 000 rows take
    milliseconds (the CUFD texts too: ``cufd_texts``), with the index kept so a selection maps back to ``rows``."""
    now = now or now_la_paz()
    icons = {s.value: f"{s.icon} {s.label}" for s in PosState}
    state = rows["Estado"].map(icons)
    state = state.where(~rows["Abierto hace mucho"], state + f" ⏰ +{long_open_hours:g} h")
    started = la_paz_series(rows["Inicio"])
    shown = rows.assign(
        Estado=state,
        Inicio=started,
        Transcurrido=(pd.Timestamp(now) - started).dt.floor("min"),  # ages with every refresh, not with the data
        Consultado=la_paz_series(rows["Consultado"]),
        Aviso=("⚠ Último dato conocido: " + rows["Error"]).where(rows["Desactualizado"]),
        CUFD=cufd_texts(rows, now),
    )[POS_TABLE_COLUMNS]
    return shown.assign(**{c: shown[c].astype("string").fillna("—") for c in POS_TABLE_TEXT})


def urgent_first(rows: pd.DataFrame) -> pd.DataFrame:
    """A pos_frame (or part) in the order a person should look at it: POS in contingency, the longest open
    first; then those whose state is unknown or stale; then the normal ones, in inventory order."""
    rank = rows["Estado"].map({PosState.CONTINGENCIA.value: 0, PosState.DESCONOCIDO.value: 1}).fillna(2)
    rank = rank.where(~(rows["Desactualizado"] & (rank == 2)), 1)
    # By the start itself: "Horas abierto" is rounded to 0,01 h, and its ties kept inventory order.
    started = pd.to_datetime(rows["Inicio"], utc=True)
    order = pd.DataFrame({"rank": rank, "started": started}, index=rows.index)
    order = order.sort_values(["rank", "started"], ascending=[True, True], kind="stable", na_position="last")
    return rows.loc[order.index]


CUFD_URGENCY = {
    CufdHealth.EXPIRED.value: 0,
    CufdHealth.INACTIVE.value: 0,
    CufdHealth.MISSING.value: 0,
    CufdHealth.UNKNOWN.value: 1,
}


def cufd_urgent_first(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of a pos_frame, those that cannot invoice first (expired, inactive, without CUFD; then never
    read), then by the nearest expiry: a chain's hundred blocked POS do not hide among 1 900 expiring later."""
    order = pd.DataFrame(
        {"rank": rows["CUFD"].map(CUFD_URGENCY).fillna(2), "until": la_paz_series(rows["CUFD vence"])}, index=rows.index
    )
    order = order.sort_values(["rank", "until"], kind="stable", na_position="first")
    return rows.loc[order.index]


# ---- Estado: KPIs and branch tiles ---------------------------------------------------


@dataclass(frozen=True)
class BranchTile:
    branch_id: str
    name: str
    city: str | None
    total: int
    in_contingency: int
    unknown: int
    stale: int
    long_open: int

    @property
    def needs_attention(self) -> bool:
        return bool(self.in_contingency or self.stale or self.unknown)

    @property
    def known(self) -> int:
        """Its POS with a state read from cucu: what "Sin contingencia" may speak for."""
        return self.total - self.unknown

    def notes(self, long_open_hours: float) -> list[str]:
        """What else a supervisor should know about the branch, shortest first."""
        notes = []
        if self.long_open:
            notes.append(f"⏰ {plural(self.long_open, 'abierto', 'abiertos')} hace más de {long_open_hours:g} h")
        if self.stale:
            notes.append(f"⚠ {fmt_count(self.stale)} sin respuesta reciente")
        if self.unknown and self.known:  # a branch without any data says so in its headline
            notes.append(f"{PosState.DESCONOCIDO.icon} {fmt_count(self.unknown)} sin datos")
        return notes


def unknown_note(frame: pd.DataFrame, *, polling: bool = True) -> str | None:
    """The one sentence every page shows (``ui.widgets.collector_notices``: Estado, Eventos activos) while
    some POS's state in ``pos_frame`` is not known: the first sweep's progress, or which POS cucu did not
    answer for. ``polling``: someone asks cucu now; when nobody does, the sweep is not "en curso" (the
    collector notice beside it says why)."""
    total, unknown = len(frame), int((frame["Estado"] == PosState.DESCONOCIDO).sum())
    if not unknown:
        return None
    asked = int(frame["Consultado"].notna().sum())  # answered or not: the first sweep's progress
    counted = "Las cifras cuentan solo los puntos de venta con datos."
    if asked < total:
        state = "en curso" if polling else "detenido"
        return f"Primer barrido {state}: {fmt_count(asked)} de {fmt_count(total)} puntos de venta consultados. {counted}"
    return f"Sin datos de {fmt_count(unknown)} de {fmt_count(total)} puntos de venta: cucu no respondió por ellos. {counted}"


def shown_counts(shown: pd.DataFrame, total: int, long_open: int, long_open_hours: float) -> str:
    """Eventos activos' line over its table: how many POS are shown, how many of them are in contingency and
    open too long. While some shown POS have no data, the counts are of those read ("3 en contingencia de
    134 con datos"); with none read they are "—": a 0 would read as "none"."""
    known = int((shown["Estado"] != PosState.DESCONOCIDO).sum())
    line = f"{fmt_count(len(shown))} de {fmt_count(total)} puntos de venta"
    if len(shown) and not known:
        return f"{line} · **en contingencia: —** (sin datos todavía)"
    active = int((shown["Estado"] == PosState.CONTINGENCIA).sum())
    of_known = f" de {fmt_count(known)} con datos" if known < len(shown) else ""
    return (
        f"{line} · **{fmt_count(active)} en contingencia**{of_known} · "
        f"{plural(long_open, 'abierto', 'abiertos')} hace más de {long_open_hours:g} h"
    )


@dataclass(frozen=True)
class Overview:
    pos_total: int
    pos_in_contingency: int
    pos_unknown: int
    pos_stale: int
    branches_total: int
    branches_affected: int
    longest_open: pd.Series | None  # the row of pos_frame with the longest open event
    tiles: list[BranchTile]
    fetched_at: datetime | None  # the oldest "Consultado" among POS: how fresh the whole picture is
    pos_can_invoice: int = 0  # with a valid, active CUFD
    pos_cufd_expiring: int = 0  # valid, expiring within the setting
    pos_cufd_unread: int = 0
    pos_asked: int = 0  # POS the collector has asked cucu about, answered or not (the first sweep's progress)
    branches_known: int = 0  # branches with at least one POS whose state is known

    @property
    def pos_known(self) -> int:
        """POS whose state cucu told: the counts of POS in contingency speak only for these."""
        return self.pos_total - self.pos_unknown

    @property
    def pos_cufd_read(self) -> int:
        return self.pos_total - self.pos_cufd_unread

    def tiles_by_attention(self) -> list[BranchTile]:
        """Affected branches first: with many branches, those are the ones a supervisor looks for."""
        return sorted(self.tiles, key=lambda t: (-t.in_contingency, -t.stale, -t.unknown))

    def needing_attention(self, limit: int) -> list[BranchTile]:
        """The ``limit`` branches a supervisor should look at first: in contingency, stale or without data."""
        return [t for t in self.tiles_by_attention() if t.needs_attention][:limit]


def overview(frame: pd.DataFrame, inventory: Inventory, now: datetime) -> Overview:
    in_cont = frame["Estado"] == PosState.CONTINGENCIA
    # One pass over the rows for every branch (a filter per branch would cost branches x POS).
    counts = (
        frame.assign(
            _pos=1,
            _cont=in_cont,
            _unknown=frame["Estado"] == PosState.DESCONOCIDO,
            _stale=frame["Desactualizado"],
            _long=frame["Abierto hace mucho"],
        )
        .groupby("branch_id", sort=False)[["_pos", "_cont", "_unknown", "_stale", "_long"]]
        .sum()
    )
    tiles = []
    for branch in inventory.branches:
        c = counts.loc[branch.id] if branch.id in counts.index else None
        tiles.append(
            BranchTile(
                branch_id=branch.id,
                name=branch.name,
                city=branch.city,
                total=int(c["_pos"]) if c is not None else 0,
                in_contingency=int(c["_cont"]) if c is not None else 0,
                unknown=int(c["_unknown"]) if c is not None else 0,
                stale=int(c["_stale"]) if c is not None else 0,
                long_open=int(c["_long"]) if c is not None else 0,
            )
        )
    open_rows = frame[in_cont & frame["Horas abierto"].notna()]
    longest = open_rows.loc[open_rows["Horas abierto"].idxmax()] if len(open_rows) else None
    fetched = frame["Consultado"].dropna()
    return Overview(
        pos_total=len(frame),
        pos_in_contingency=int(in_cont.sum()),
        pos_unknown=int((frame["Estado"] == PosState.DESCONOCIDO).sum()),
        pos_stale=int(frame["Desactualizado"].sum()),
        branches_total=len(inventory.branches),
        branches_affected=sum(1 for t in tiles if t.in_contingency),
        longest_open=longest,
        tiles=tiles,
        fetched_at=min(fetched) if len(fetched) else None,
        pos_can_invoice=int(frame["Puede facturar"].sum()),
        pos_cufd_expiring=int((frame["CUFD"] == CufdHealth.EXPIRING).sum()),
        pos_cufd_unread=int((frame["CUFD"] == CufdHealth.UNKNOWN).sum()),
        pos_asked=int(frame["Consultado"].notna().sum()),
        branches_known=sum(1 for t in tiles if t.known),
    )


BRANCH_COLUMNS = ["Sucursal", "Ciudad", "POS", "En contingencia", "Abiertos hace mucho", "Sin respuesta", "Sin datos"]


def branches_frame(ov: Overview) -> pd.DataFrame:
    """Every branch, one row each, those needing attention first (a table sorts and searches the rest)."""
    rows = [
        {
            "branch_id": t.branch_id,
            "Sucursal": t.name,
            "Ciudad": t.city or "",
            "POS": t.total,
            "En contingencia": t.in_contingency,
            "Abiertos hace mucho": t.long_open,
            "Sin respuesta": t.stale,
            "Sin datos": t.unknown,
        }
        for t in ov.tiles_by_attention()
    ]
    return pd.DataFrame(rows, columns=["branch_id", *BRANCH_COLUMNS])


# ---- Bitácora ------------------------------------------------------------------------

# What happened first (a tablet shows the first columns), then who and the details.
AUDIT_COLUMNS = [
    "Fecha",
    "Acción",
    "Sucursal",
    "Punto de venta",
    "Resultado",
    "Usuario",
    "Motivo",
    "Descripción",
    "Detalle",
    "Nombre",
    "Rol",
    "ID evento",
    "Completado",
]
AUDIT_TIME_COLUMNS = ("Fecha", "Completado")


def audit_frame(entries: Iterable[AuditEntry], inventory: Inventory) -> pd.DataFrame:
    """One row per attempt, in the given order (the store's: newest first), with branch and POS names from the inventory."""
    return _AuditNames(inventory).frame(entries)


def page_sentence(page: int, total: int, size: int) -> str:
    """Where page ``page`` of ``size`` rows sits among ``total``: "Página 2 de 5 · registros 201–400"."""
    first = (page - 1) * size + 1
    last = min(page * size, total)
    return f"Página {fmt_count(page)} de {fmt_count(page_count(total, size))} · registros {fmt_count(first)}–{fmt_count(last)}"


def audit_frames(chunks: Iterable[Iterable[AuditEntry]], inventory: Inventory) -> Iterator[pd.DataFrame]:
    """``audit_frame`` of each chunk (the CSV of a whole filter, a chunk at a time); at least one, maybe empty."""
    names = _AuditNames(inventory)
    empty = True
    for chunk in chunks:
        empty = False
        yield names.frame(chunk)
    if empty:
        yield names.frame(())


def audit_csv(store: Store, where: AuditFilter, inventory: Inventory) -> io.BytesIO:
    """Bitácora's CSV: every attempt of the filter, read a chunk at a time and written as it is read."""
    return excel_csv_file(audit_frames(store.audit_chunks(where), inventory), time_columns=AUDIT_TIME_COLUMNS)


class _AuditNames:
    def __init__(self, inventory: Inventory) -> None:
        self.branches = {b.id: b.name for b in inventory.branches}
        self.pos_names = {p.id: p.name for p in inventory.all_pos}

    def frame(self, entries: Iterable[AuditEntry]) -> pd.DataFrame:
        rows = [
            {
                "Fecha": e.requested_at,
                "Usuario": e.actor,
                "Nombre": e.actor_name,
                "Rol": stored_label(e.role) if e.role else None,
                "Acción": stored_label(e.action),
                "Sucursal": self.branches.get(e.branch_id, e.branch_id) or "—",  # "—": the policy's pause
                "Punto de venta": self.pos_names.get(e.pos_id, e.pos_id) or "—",
                "Motivo": motive_label(e.motive) if e.motive else None,
                "Descripción": e.description,
                "Resultado": stored_label(e.outcome),
                "Detalle": e.message,
                "ID evento": e.event_id,
                "Completado": e.completed_at,
            }
            for e in entries
        ]
        return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


# ---- Alertas ------------------------------------------------------------------------------

INCIDENT_COLUMNS = ["Alerta", "Asunto", "Desde", "Detalle", "Último aviso", "Recordatorios", "Resuelta"]
OUTBOX_COLUMNS = ["Creado", "Mensaje", "Asunto", "Entrega", "Canal", "Intentos", "Entregado", "Último error"]


def incidents_frame(incidents: Iterable[Incident]) -> pd.DataFrame:
    """One row per incident, as the store gives them (the Alertas page: open ones, then the recent)."""
    rows = [
        {
            "Alerta": stored_label(i.rule),
            "Asunto": i.title,
            "Desde": i.opened_at,
            "Detalle": i.body,
            "Último aviso": i.notified_at,
            "Recordatorios": i.reminders,
            "Resuelta": i.closed_at,
        }
        for i in incidents
    ]
    frame = pd.DataFrame(rows, columns=INCIDENT_COLUMNS)
    for column in ("Desde", "Último aviso", "Resuelta"):
        frame[column] = la_paz_series(frame[column])
    return frame


def outbox_frame(entries: Iterable[OutboxEntry]) -> pd.DataFrame:
    """One row per message to one channel: what was sent where, and whether it was delivered."""
    rows = [
        {
            "Creado": e.created_at,
            "Mensaje": stored_label(e.kind),
            "Asunto": e.title,
            "Entrega": e.delivery.label,
            "Canal": e.channel_label,
            "Intentos": e.attempts,
            "Entregado": e.delivered_at,
            "Último error": e.last_error or "",
        }
        for e in entries
    ]
    frame = pd.DataFrame(rows, columns=OUTBOX_COLUMNS)
    for column in ("Creado", "Entregado"):
        frame[column] = la_paz_series(frame[column])
    return frame


# ---- Facturas ------------------------------------------------------------------------

INVOICE_COLUMNS = [
    "Sucursal", "Punto de venta", "Número", "Estado", "Emitida", "Queda", "Plazo", "Cliente", "Importe",
    "Código SIAT", "Descripción SIAT", "Evento", "Estado leído",
]  # fmt: skip
INVOICE_TIME_COLUMNS = ("Emitida", "Plazo", "Estado leído")
NO_POS = "(sin punto de venta)"  # cucu's list did not name it: counted at company level


def invoice_state_label(state: InvoiceState | str) -> str:
    return state.label if isinstance(state, InvoiceState) else str(state)


def time_left(deadlines: pd.Series, now: datetime, pending: pd.Series) -> pd.Series:
    """Until each deadline, as a timedelta (negative once past), where ``pending``; empty elsewhere and
    while an event is open (no deadline yet). Typed, so the grid sorts it by value."""
    return (deadlines - pd.Timestamp(now)).where(pending)


UNREAD_REASON = "Sin leer todavía"


def siat_description(invoice: StoredInvoice) -> str | None:
    """Why SIAT rejected it, as its status call said; why that call failed; or, for a rejected invoice whose
    status was never read, that the reason is not known yet (a blank would read as "no reason")."""
    if invoice.siat_description:
        return invoice.siat_description
    if invoice.status_error:
        return f"⚠ {invoice.status_error}"
    if invoice.state is InvoiceState.REJECTED and invoice.status_at is None:
        return UNREAD_REASON
    return None


def invoices_frame(items: Iterable[AttributedInvoice], inventory: Inventory, now: datetime) -> pd.DataFrame:
    """One row per invoice, the columns Facturas shows (plus ids and the raw state for filtering)."""
    rows = []
    for a in items:
        pos = inventory.pos(a.pos_id) if a.pos_id else None
        branch = inventory.branch(a.branch_id) if a.branch_id else None
        span = a.event
        event_text = None
        if span is not None:
            event_text = (
                f"{span.start:%d/%m %H:%M} – {span.end:%d/%m %H:%M}" if span.end else f"abierto desde {span.start:%d/%m %H:%M}"
            )
        invoice = a.invoice
        rows.append(
            {
                "invoice_id": invoice.id,
                "branch_id": a.branch_id or "",
                "pos_id": a.pos_id or "",
                "state": str(invoice.state),
                "Sucursal": branch.name if branch else NO_POS,
                "Punto de venta": pos.name if pos else (invoice.pos_id or "—"),
                "Número": invoice.invoice_number,
                "Estado": invoice_state_label(invoice.state),
                "Emitida": invoice.emission_date,
                "Queda": None,  # below, from "Plazo", typed
                "Plazo": a.deadline,
                "Cliente": invoice.client_name,
                "Importe": invoice.amount_total,
                "Código SIAT": invoice.siat_code,
                "Descripción SIAT": siat_description(invoice),
                "Evento": event_text,
                "Estado leído": invoice.status_at,
            }
        )
    frame = pd.DataFrame(rows, columns=["invoice_id", "branch_id", "pos_id", "state", *INVOICE_COLUMNS])
    frame["Código SIAT"] = frame["Código SIAT"].astype("Int64")
    for column in INVOICE_TIME_COLUMNS:  # typed: sorts as time, and the CSV writes it in full
        frame[column] = la_paz_series(frame[column])
    frame["Queda"] = time_left(frame["Plazo"], now, frame["state"].isin([InvoiceState.CONTINGENCY, InvoiceState.PENDING]))
    # The nearest deadline first (what is about to be late), those of open events last; newest first within.
    frame = frame.sort_values("Emitida", ascending=False, kind="stable", na_position="last")
    return frame.sort_values("Plazo", kind="stable", na_position="last").reset_index(drop=True)


CLOSE_COLUMNS = [
    "Sucursal", "Punto de venta", "Cierre", "Emitidas", "Por enviar", "Validadas", "Rechazadas", "Otras", "Inicio", "Fin",
    "Plazo", "Queda",
]  # fmt: skip


def closes_frame(closes: Iterable[EventClose], inventory: Inventory, now: datetime) -> pd.DataFrame:
    """Per ended event: its offline invoices and its closing state ("Cerrado" when all are validated)."""
    icons = {
        EventClosing.CLOSED: "✅",
        EventClosing.TO_SEND: "🟠",
        EventClosing.REJECTED: "🔴",
        EventClosing.NO_INVOICES: "⚪",
    }
    rows = []
    known = {p.id: p for p in inventory.all_pos}
    for c in closes:
        pos = known.get(c.span.pos_id)
        branch = inventory.branch(pos.branch_id) if pos is not None else None
        rows.append(
            {
                "event_id": c.span.event_id,
                "branch_id": c.span.branch_id,
                "closing": c.closing.value,
                "Sucursal": branch.name if branch else "—",
                "Punto de venta": pos.name if pos else c.span.pos_id,
                "Cierre": f"{icons[c.closing]} {c.closing.value}",
                "Emitidas": c.issued,
                "Por enviar": c.to_send,
                "Validadas": c.validated,
                "Rechazadas": c.rejected,
                "Otras": c.other,
                "Inicio": c.span.start,
                "Fin": c.span.end,
                "Plazo": c.deadline,
                "Queda": None,  # below, from "Plazo", typed
            }
        )
    frame = pd.DataFrame(rows, columns=["event_id", "branch_id", "closing", *CLOSE_COLUMNS])
    for column in ("Inicio", "Fin", "Plazo"):
        frame[column] = la_paz_series(frame[column])
    frame["Queda"] = time_left(frame["Plazo"], now, frame["closing"] == EventClosing.TO_SEND.value)
    return frame
