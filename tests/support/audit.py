"""Generated audit logs of any size (Bitácora's tests and ``benchmarks.bitacora``), inserted in bulk."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from cucu.store import Store
from cucu.store.schema import audit_log
from cucu.vocabulary import OPEN_OUTCOMES, ActionKind, Outcome, Role

DECIDED = [o for o in Outcome if o not in OPEN_OUTCOMES]  # the database allows one open row per POS
ACTORS = [f"usuario{i}@empresa.bo" for i in range(7)]


def audit_rows(
    count: int, newest: datetime, places: Sequence[tuple[str, str]], *, every: timedelta = timedelta(seconds=37)
) -> Iterator[dict[str, Any]]:
    """``count`` decided attempts, newest first from ``newest`` one ``every`` apart, over ``places``
    (branch id, POS id). Every third row shares the time of the one before it: the order must not
    depend on the time alone. A description starts like a formula now and then (the CSV neutralises it)."""
    for i in range(count):
        branch_id, pos_id = places[i % len(places)]
        at = newest - every * (i - (i % 3 == 2))
        yield {
            "requested_at": at,
            "completed_at": at + timedelta(seconds=2),
            "actor": ACTORS[i % len(ACTORS)],
            "actor_name": None,
            "role": Role.SUPERVISOR.value,
            "action": (ActionKind.START if i % 2 else ActionKind.END).value,
            "branch_id": branch_id,
            "pos_id": pos_id,
            "motive": 1 + i % 4,
            "description": f"=fila {i}" if i % 1000 == 0 else f"fila {i}",
            "event_id": f"evt-{i}",
            "outcome": DECIDED[i % len(DECIDED)].value,
            "message": None,
        }


def insert_audit_rows(store: Store, rows: Iterator[dict[str, Any]], batch: int = 5000) -> int:
    """Insert ``rows`` in batches of ``batch``; returns how many."""
    inserted = 0
    while chunk := list(islice(rows, batch)):
        with store.engine.begin() as conn:
            conn.execute(audit_log.insert(), chunk)
        inserted += len(chunk)
    return inserted
