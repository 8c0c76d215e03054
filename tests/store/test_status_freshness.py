"""The collector's freshness in the status API (issue 26, part 5): JSON ``collector.*`` and the OpenMetrics
``contingencia_collector_*`` gauges, from a lease written with known times on a database clock held still (SQLite
and PostgreSQL): polling while the lease is live, not once it lapsed, and no sample before any collector ran."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cucu.collector import LEASE
from cucu.settings import Settings
from cucu.store import Store
from cucu.views.status import read_status, status_json, status_openmetrics
from tests.store.test_compliance import INVENTORY

RENEWED = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)  # 10:00 in La Paz, 1 796 479 200 in Unix time
TTL = timedelta(seconds=90)


def gauges(text: str) -> dict[str, str]:
    return dict(line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("contingencia_collector_"))


def test_the_collectors_freshness_with_known_times(db):
    clock = [RENEWED + timedelta(seconds=30)]
    store = Store(db, clock=lambda: clock[0])
    before = read_status(store, INVENTORY, Settings())
    assert status_json(before)["collector"] == {"polling": False, "last_renewal": None}
    assert gauges(status_openmetrics(before)) == {"contingencia_collector_polling": "0"}  # no renewal: no sample

    assert store.acquire_lease(LEASE, "colector-1", RENEWED, TTL)
    live = read_status(store, INVENTORY, Settings())
    assert status_json(live)["collector"] == {"polling": True, "last_renewal": "2026-12-05T10:00:00-04:00"}
    assert gauges(status_openmetrics(live)) == {
        "contingencia_collector_polling": "1",
        "contingencia_collector_last_renewal_seconds": str(int(RENEWED.timestamp())),
    }
    assert RENEWED.timestamp() == 1_796_479_200

    clock[0] = RENEWED + TTL + timedelta(seconds=1)  # the lease lapsed: nobody renews it
    lapsed = read_status(store, INVENTORY, Settings())
    assert status_json(lapsed)["collector"] == {"polling": False, "last_renewal": "2026-12-05T10:00:00-04:00"}
    assert gauges(status_openmetrics(lapsed)) == {
        "contingencia_collector_polling": "0",
        "contingencia_collector_last_renewal_seconds": "1796479200",
    }
