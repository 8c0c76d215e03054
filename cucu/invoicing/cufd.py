"""Can every POS invoice: each POS's active CUFD, read on its own interval, and what it says now.

The collector reads each POS's active CUFD on its own interval (sooner when it is expired, missing
or failed), a bounded number a round so the reads spread over the interval. No Streamlit here: the
pages, the alert rules and the renewal action read what this module derives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime, timedelta

from cucu.api.client import CucuClient
from cucu.api.errors import recorded
from cucu.api.models import Inventory, PointOfSale
from cucu.store import CufdFetch, Store, StoredCufd
from cucu.vocabulary import CufdHealth

log = logging.getLogger(__name__)

CUFD_RETRY = timedelta(minutes=1)  # an expired, missing, inactive or unread CUFD is read again this soon


def cufd_health(stored: StoredCufd | None, now: datetime, expiring: timedelta) -> CufdHealth:
    """What the last answer says of the POS's CUFD now (an expired vigencia counts even if read as valid)."""
    if stored is None or stored.ok_at is None:
        return CufdHealth.UNKNOWN
    cufd = stored.cufd
    if cufd is None:
        return CufdHealth.MISSING
    if not cufd.activo:
        return CufdHealth.INACTIVE
    if cufd.vigencia is None or cufd.vigencia <= now:
        return CufdHealth.EXPIRED
    return CufdHealth.EXPIRING if cufd.vigencia - now <= expiring else CufdHealth.VALID


def cufd_due(stored: StoredCufd | None, now: datetime, interval: timedelta) -> bool:
    """Read it this round? Every ``interval``; within ``CUFD_RETRY`` when it cannot invoice or failed."""
    if stored is None:
        return True
    troubled = stored.error is not None or not cufd_health(stored, now, timedelta(0)).can_invoice
    return now - stored.fetched_at >= (min(CUFD_RETRY, interval) if troubled else interval)


def read_cufd(client: CucuClient, pos: PointOfSale, clock: Callable[[], datetime]) -> CufdFetch:
    fetched_at = clock()
    return recorded(
        lambda: CufdFetch(pos.id, pos.branch_id, fetched_at, cufd=client.get_cufd(pos.id)),
        lambda error: CufdFetch(pos.id, pos.branch_id, fetched_at, error=error),
        unexpected="Error inesperado al leer el CUFD de este punto de venta.",
        log=log,
        what="colector: error inesperado al leer el CUFD de %s",
        about=pos.id,
    )


def cufd_round(
    client: CucuClient,
    store: Store,
    inventory: Inventory,
    pool: Executor,
    *,
    now: datetime,
    interval: timedelta,
    limit: int,
    clock: Callable[[], datetime],
    stopping: Callable[[], bool] = lambda: False,
) -> list[CufdFetch]:
    """Read the CUFD of the POS that are due (bounded by the pool's workers) and record them.

    Never-read POS are all read at once (a start must know); the others at most ``limit`` a round,
    those that cannot invoice first, then the longest unread, so the reads spread over the interval
    instead of coming back all together every ``interval``.
    """
    stored = store.cufds()
    unread, due = [], []
    for pos in inventory.all_pos:
        last = stored.get(pos.id)
        if last is None:
            unread.append(pos)
        elif cufd_due(last, now, interval):
            troubled = last.error is not None or not cufd_health(last, now, timedelta(0)).can_invoice
            due.append((not troubled, last.fetched_at, pos))
    due.sort(key=lambda item: item[:2])
    chosen = unread + [pos for _, _, pos in due[: max(0, limit)]]
    # A stopping collector skips what it has not sent yet (its thread must end within the stop's wait).
    fetches = [f for f in pool.map(lambda p: None if stopping() else read_cufd(client, p, clock), chosen) if f is not None]
    store.save_cufds(fetches)
    return fetches
