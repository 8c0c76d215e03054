"""The one package that runs SQL: ``Store``, composed of a class per group of tables.

SQLAlchemy Core on a URL (``CUCU_DB`` may be a file path, meaning SQLite, or a database URL
such as ``postgresql+psycopg://...``) so several Streamlit processes can share one PostgreSQL.
The tables and their migrations are in :mod:`cucu.store.schema`; its column type stores times in UTC
and gives them back as aware La Paz datetimes. The 15 tables, by group:

- :mod:`cucu.store.base`: ``schema_version`` and ``data_versions`` (the engine, the clock, the migrations, the write counters);
- :mod:`cucu.store.checks`: ``connectivity_checks``;
- :mod:`cucu.store.pos`: ``pos_status`` and ``pos_cufd``, each POS's latest reads;
- :mod:`cucu.store.days`: ``day_events``, events per POS and day;
- :mod:`cucu.store.leases`: ``leases``;
- :mod:`cucu.store.audit`: ``audit_log`` and ``policy_state`` (the automatic policy's pause);
- :mod:`cucu.store.alerts`: ``incidents``, ``incident_notes`` and ``alert_outbox``;
- :mod:`cucu.store.invoices`: ``invoices`` and ``job_runs``;
- :mod:`cucu.store.maintenance`: ``maintenance_windows``.

Every record and constant is imported from here (``from cucu.store import Store, PosFetch``).
"""

from __future__ import annotations

from cucu.store.alerts import AlertTables, Incident, IncidentNote, OutboxEntry, OutboxMessage
from cucu.store.audit import _POLICY as _POLICY  # tests/test_schema.py writes the pause's row as the store does
from cucu.store.audit import (
    AUDIT_CHUNK,
    AUDIT_PAGE_SIZE,
    ActionInProgress,
    Attempt,
    AuditEntry,
    AuditFilter,
    AuditTables,
    page_count,
)
from cucu.store.base import CLOCK_RESYNC_S, database_failed, database_url
from cucu.store.checks import CHECK_RETENTION, PRUNE_EVERY, CheckTables, ConnectivityCheck
from cucu.store.days import DayEvents, DayTables
from cucu.store.invoices import REPORT_RETENTION, InvoiceTables, JobNotes, JobRun, StatusRead, StoredInvoice
from cucu.store.leases import Lease, LeaseTables
from cucu.store.maintenance import MaintenanceTables, MaintenanceWindow
from cucu.store.pos import CufdFetch, PosFetch, PosStatus, PosTables, StoredCufd

__all__ = [
    "AUDIT_CHUNK",
    "AUDIT_PAGE_SIZE",
    "CHECK_RETENTION",
    "CLOCK_RESYNC_S",
    "PRUNE_EVERY",
    "REPORT_RETENTION",
    "ActionInProgress",
    "Attempt",
    "AuditEntry",
    "AuditFilter",
    "ConnectivityCheck",
    "CufdFetch",
    "DayEvents",
    "Incident",
    "IncidentNote",
    "JobNotes",
    "JobRun",
    "Lease",
    "MaintenanceWindow",
    "OutboxEntry",
    "OutboxMessage",
    "PosFetch",
    "PosStatus",
    "StatusRead",
    "Store",
    "StoredCufd",
    "StoredInvoice",
    "database_failed",
    "database_url",
    "page_count",
]


class Store(CheckTables, PosTables, DayTables, LeaseTables, AuditTables, AlertTables, InvoiceTables, MaintenanceTables):
    """Every table group over one engine and one clock: what the rest of cucu reads and writes.

    ``Store(db, clock=...)``: see :class:`cucu.store.base.StoreBase`.
    """
