"""Alertas: incidents (who handles them, their notes) and the outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from cucu.formatting import fmt_count, fmt_datetime, fmt_hour, md_text, plural
from cucu.lapaz import la_paz_series, to_la_paz
from cucu.store import Incident, IncidentNote, OutboxEntry
from cucu.views.export import sheets_pdf, workbook
from cucu.vocabulary import Delivery, stored_label


class IncidentColumn:
    """Alertas' incidents (``incidents_frame``), one row each."""

    RULE = "Alerta"
    TITLE = "Asunto"
    OPENED = "Desde"
    BODY = "Detalle"
    NOTIFIED = "Último aviso"
    REMINDERS = "Recordatorios"
    CLOSED = "Resuelta"
    OWNER = "Atendida por"  # who said "Lo atiendo" and since when, or "Sin atender"


def in_branches(found: Iterable[Incident], branch_ids: Sequence[str]) -> list[Incident]:
    """The incidents of the branches chosen in the page's filter (none chosen: every one), and always those that
    name no branch: SIAT's and the company's belong to every branch, as Caídas keeps SIAT's outages."""
    if not branch_ids:
        return list(found)
    chosen = set(branch_ids)
    return [i for i in found if not i.branch_id or i.branch_id in chosen]


INCIDENT_COLUMNS = [
    IncidentColumn.RULE,
    IncidentColumn.TITLE,
    IncidentColumn.OPENED,
    IncidentColumn.OWNER,
    IncidentColumn.BODY,
    IncidentColumn.NOTIFIED,
    IncidentColumn.REMINDERS,
    IncidentColumn.CLOSED,
]


class OutboxColumn:
    """Alertas' messages sent (``outbox_frame``): one row per message to one channel."""

    CREATED = "Creado"
    KIND = "Mensaje"
    TITLE = "Asunto"
    DELIVERY = "Entrega"
    CHANNEL = "Canal"
    ATTEMPTS = "Intentos"
    DELIVERED = "Entregado"
    LAST_ERROR = "Último error"


OUTBOX_COLUMNS = [
    OutboxColumn.CREATED,
    OutboxColumn.KIND,
    OutboxColumn.TITLE,
    OutboxColumn.DELIVERY,
    OutboxColumn.CHANNEL,
    OutboxColumn.ATTEMPTS,
    OutboxColumn.DELIVERED,
    OutboxColumn.LAST_ERROR,
]


UNOWNED = "Sin atender"


def owner_text(incident: Incident) -> str:
    """Who handles it, as every tablet shows it: "Ana Quispe desde 05/12 14:05", or "Sin atender"."""
    if incident.acknowledged_by is None or incident.acknowledged_at is None:
        return UNOWNED
    return f"{incident.acknowledged_by} desde {to_la_paz(incident.acknowledged_at):%d/%m %H:%M}"


HEADER_HANDLED = 3  # open incidents the header's tooltip names with who handles them


@dataclass(frozen=True)
class OpenAlerts:
    """The header's word on the open incidents (of the person's scope): how many, how many nobody handles, and the
    first few handled (``HEADER_HANDLED``, longest handled first) to say who and since when."""

    count: int
    unowned: int
    handled: tuple[Incident, ...] = ()
    # False until the rules have been decided (``ALERTS_JOB``), or when their last decision is older than a few
    # rounds: the count is then not known, and is never shown as "0 alertas abiertas".
    known: bool = True
    # True until a round decided them having read every POS and a whole pass over the invoices: none open is then
    # none fired on what was read so far ("lectura parcial"), not "nothing wrong".
    partial: bool = False


ALERTS_STALE_ROUNDS = 5  # a last decision older than this many rounds (check_interval_s each): nobody decides them


def alerts_known(decided_at: datetime | None, now: datetime, check_interval_s: float) -> bool:
    """Whether the open alerts are known: the rules were decided (``decided_at``, the last time) within a few rounds."""
    return decided_at is not None and now - decided_at <= timedelta(seconds=ALERTS_STALE_ROUNDS * check_interval_s)


def header_help(alerts: OpenAlerts) -> str:
    """The header count's tooltip (Markdown): who handles the open alerts and since when, then how many wait.
    "SIAT no responde: atendida por Ana Quispe desde 05/12 09:15". Titles and names are escaped (stored text)."""
    lines = ["Alertas: lo que el tablero avisó y sigue abierto, y quién lo atiende."]
    lines += [f"- {md_text(i.title)}: atendida por {md_text(owner_text(i))}" for i in alerts.handled]
    more = alerts.count - alerts.unowned - len(alerts.handled)
    if more > 0:
        lines.append(f"- y {fmt_count(more)} {'atendida' if more == 1 else 'atendidas'} más")
    if alerts.unowned:
        lines.append(f"- {fmt_count(alerts.unowned)} sin atender")
    return "\n".join(lines)


def quiet_text(incident: Incident, now: datetime) -> str | None:
    """While its reminders wait: "sin recordatorios hasta las 15:05"."""
    return (
        f"sin recordatorios hasta las {fmt_hour(incident.quiet_until)}" if incident.quiet_until and incident.quiet(now) else None
    )


def quiet_choice(quiet: timedelta) -> str:
    """A choice of how long reminders wait: "1 h", "30 min"."""
    minutes = int(quiet.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def note_line(note: IncidentNote) -> str:
    """One note as an incident's story lists it."""
    said = "Lo atiendo" if note.acknowledging else "Nota"
    return f"{fmt_datetime(note.written_at)} · {note.author} · {said}: {note.text}"


def timeline(incident: Incident, entries: Iterable[OutboxEntry], notes: Iterable[IncidentNote]) -> list[str]:
    """An incident's story, oldest first, one line each: opened, each message sent (to how many channels, how
    many delivered), escalations, "Lo atiendo" and notes, resolved. Text, never Markdown (people's words)."""
    sent: dict[tuple[datetime, str], list[OutboxEntry]] = {}
    for entry in entries:
        sent.setdefault((entry.created_at, stored_label(entry.kind)), []).append(entry)
    lines: list[tuple[datetime, int, str]] = [(incident.opened_at, 0, f"{fmt_datetime(incident.opened_at)} · Se abrió")]
    for (when, kind), group in sent.items():
        delivered = sum(1 for e in group if e.delivery is Delivery.DELIVERED)
        waiting = sum(1 for e in group if e.delivery is Delivery.WAITING)
        states = [plural(delivered, "entregado", "entregados")]
        if waiting:
            states.append(f"{waiting} en cola")
        if failed := len(group) - delivered - waiting:
            states.append(f"{failed} sin entregar")
        channels = plural(len(group), "canal", "canales")
        lines.append((when, 1, f"{fmt_datetime(when)} · Mensaje «{kind}» a {channels} ({', '.join(states)})"))
    lines.extend((n.written_at, 2, note_line(n)) for n in notes)
    if incident.closed_at is not None:
        lines.append((incident.closed_at, 0, f"{fmt_datetime(incident.closed_at)} · Se cerró: {incident.title}"))
    return [text for _, _, text in sorted(lines, key=lambda line: (line[0], line[1]))]


def incidents_frame(incidents: Iterable[Incident]) -> pd.DataFrame:
    """One row per incident, as the store gives them (the Alertas page: open ones, then the recent)."""
    rows = [
        {
            IncidentColumn.RULE: stored_label(i.rule),
            IncidentColumn.TITLE: i.title,
            IncidentColumn.OPENED: i.opened_at,
            IncidentColumn.OWNER: owner_text(i),
            IncidentColumn.BODY: i.body,
            IncidentColumn.NOTIFIED: i.notified_at,
            IncidentColumn.REMINDERS: i.reminders,
            IncidentColumn.CLOSED: i.closed_at,
        }
        for i in incidents
    ]
    frame = pd.DataFrame(rows, columns=INCIDENT_COLUMNS)
    for column in (IncidentColumn.OPENED, IncidentColumn.NOTIFIED, IncidentColumn.CLOSED):
        frame[column] = la_paz_series(frame[column])
    return frame


def outbox_frame(entries: Iterable[OutboxEntry]) -> pd.DataFrame:
    """One row per message to one channel: what was sent where, and whether it was delivered."""
    rows = [
        {
            OutboxColumn.CREATED: e.created_at,
            OutboxColumn.KIND: stored_label(e.kind),
            OutboxColumn.TITLE: e.title,
            OutboxColumn.DELIVERY: e.delivery.label,
            OutboxColumn.CHANNEL: e.channel_label,
            OutboxColumn.ATTEMPTS: e.attempts,
            OutboxColumn.DELIVERED: e.delivered_at,
            OutboxColumn.LAST_ERROR: e.last_error or "",
        }
        for e in entries
    ]
    frame = pd.DataFrame(rows, columns=OUTBOX_COLUMNS)
    for column in (OutboxColumn.CREATED, OutboxColumn.DELIVERED):
        frame[column] = la_paz_series(frame[column])
    return frame


# ---- the incidents as a download: who handles each, since when, and their notes -----------------------------


class ExportColumn:
    """The download's incidents sheet: the page's columns, who handles each and since when apart, and its notes."""

    ID = "Nº"
    OWNER = "Atendida por"
    OWNED_SINCE = "Atendida desde"
    NOTES = "Notas"


class NoteColumn:
    """The download's notes sheet: one row per note, oldest first within each incident."""

    INCIDENT = "Nº de alerta"
    TITLE = "Asunto"
    WRITTEN = "Escrita"
    AUTHOR = "Por"
    KIND = "Tipo"
    TEXT = "Nota"


NOTE_COLUMNS = [NoteColumn.INCIDENT, NoteColumn.TITLE, NoteColumn.WRITTEN, NoteColumn.AUTHOR, NoteColumn.KIND, NoteColumn.TEXT]


def export_sheets(
    incidents: Sequence[Incident], notes_of: Callable[[int], Sequence[IncidentNote]]
) -> list[tuple[str, pd.DataFrame]]:
    """Alertas' download (``incidents``: what the page lists, open then resolved, read through the person's store,
    ``notes_of`` its ``incident_notes``): the incidents with who handles each and since when, and every note
    (author, time in La Paz, text). Text as written: the workbook's writer makes formulas text."""
    notes = {i.id: list(notes_of(i.id)) for i in incidents}
    frame = incidents_frame(incidents).drop(columns=[IncidentColumn.OWNER])
    frame.insert(0, ExportColumn.ID, [i.id for i in incidents])
    frame.insert(4, ExportColumn.OWNER, [i.acknowledged_by or UNOWNED for i in incidents])
    frame.insert(5, ExportColumn.OWNED_SINCE, la_paz_series([i.acknowledged_at for i in incidents]))
    frame[ExportColumn.NOTES] = [len(notes[i.id]) for i in incidents]
    rows = [
        {
            NoteColumn.INCIDENT: i.id,
            NoteColumn.TITLE: i.title,
            NoteColumn.WRITTEN: n.written_at,
            NoteColumn.AUTHOR: n.author,
            NoteColumn.KIND: "Lo atiendo" if n.acknowledging else "Nota",
            NoteColumn.TEXT: n.text,
        }
        for i in incidents
        for n in notes[i.id]
    ]
    written = pd.DataFrame(rows, columns=NOTE_COLUMNS)
    written[NoteColumn.WRITTEN] = la_paz_series(written[NoteColumn.WRITTEN])
    return [("Alertas", frame), ("Notas", written)]


def alerts_xlsx(incidents: Sequence[Incident], notes_of: Callable[[int], Sequence[IncidentNote]]) -> bytes:
    return workbook(export_sheets(incidents, notes_of))


def alerts_pdf(incidents: Sequence[Incident], notes_of: Callable[[int], Sequence[IncidentNote]], now: datetime) -> bytes:
    return sheets_pdf(
        "Alertas: quién las atiende y sus notas",
        export_sheets(incidents, notes_of),
        footer=f"Contingencia · alertas al {fmt_datetime(now, seconds=True)} (hora de La Paz)",
        workbook_name="el Excel de las alertas",
    )
