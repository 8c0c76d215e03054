"""Alertas: incidents and the outbox."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from cucu.lapaz import la_paz_series
from cucu.store import Incident, OutboxEntry
from cucu.vocabulary import stored_label


class IncidentColumn:
    """Alertas' incidents (``incidents_frame``), one row each."""

    RULE = "Alerta"
    TITLE = "Asunto"
    OPENED = "Desde"
    BODY = "Detalle"
    NOTIFIED = "Último aviso"
    REMINDERS = "Recordatorios"
    CLOSED = "Resuelta"


INCIDENT_COLUMNS = [
    IncidentColumn.RULE,
    IncidentColumn.TITLE,
    IncidentColumn.OPENED,
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


def incidents_frame(incidents: Iterable[Incident]) -> pd.DataFrame:
    """One row per incident, as the store gives them (the Alertas page: open ones, then the recent)."""
    rows = [
        {
            IncidentColumn.RULE: stored_label(i.rule),
            IncidentColumn.TITLE: i.title,
            IncidentColumn.OPENED: i.opened_at,
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
