"""Alertas: incidents and the outbox."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from cucu.lapaz import la_paz_series
from cucu.store import Incident, OutboxEntry
from cucu.vocabulary import stored_label

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
