"""An alert's story on Alertas (``cucu.views.alertas.timeline``): opened, each message with its delivery,
escalations, "Lo atiendo" and notes, resolved, in time order."""

from __future__ import annotations

from datetime import datetime, timedelta

from cucu.lapaz import LA_PAZ
from cucu.store import Incident, IncidentNote, OutboxEntry
from cucu.views.alertas import timeline
from cucu.vocabulary import AlertKind, AlertRule

T0 = datetime(2026, 12, 3, 3, 0, tzinfo=LA_PAZ)


def entry(n, kind, minutes, *, delivered=True, gave_up=False):
    at = T0 + timedelta(minutes=minutes)
    return OutboxEntry(
        n, 1, kind, f"c{n}", f"canal {n}", "t", "b", at, at, 1,
        at if delivered else None, at if gave_up else None, None,
    )  # fmt: skip


def test_the_story_of_an_alert_reads_in_time_order():
    incident = Incident(
        1, "siat_caido", AlertRule.SIAT_DOWN, None, T0, T0, 0, T0 + timedelta(hours=1), "SIAT responde de nuevo", "b",
        alerted_at=T0 + timedelta(minutes=2), escalations=1,
    )  # fmt: skip
    entries = [
        entry(1, AlertKind.OPENED, 2),
        entry(2, AlertKind.OPENED, 2, delivered=False),
        entry(3, AlertKind.ESCALATED, 17, delivered=False, gave_up=True),
        entry(4, AlertKind.CLOSED, 60),
    ]
    notes = [IncidentNote(1, 1, T0 + timedelta(minutes=20), "Ana", True, "Llamo a SIAT")]
    assert timeline(incident, reversed(entries), notes) == [
        "03/12/2026 03:00 · Se abrió",
        "03/12/2026 03:02 · Mensaje «Alerta» a 2 canales (1 entregado, 1 en cola)",
        "03/12/2026 03:17 · Mensaje «Escalada» a 1 canal (0 entregados, 1 sin entregar)",
        "03/12/2026 03:20 · Ana · Lo atiendo: Llamo a SIAT",
        "03/12/2026 04:00 · Se cerró: SIAT responde de nuevo",
        "03/12/2026 04:00 · Mensaje «Resuelta» a 1 canal (1 entregado)",
    ]
