"""The store as a scoped person reads it (issue 26, part 2): every read a page makes returns only the rows of
their branches and POS, or the company's rows that name no branch (SIAT's checks, the jobs' runs).

Fail closed: a ``Store`` method this module has not decided on raises ``AttributeError`` instead of reading
everything (``tests/store/test_scoped_store.py`` makes a new one be decided here). Writes pass through: who may
write what is checked by the actions themselves (``cucu.events.actions.refuse_outside_scope``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cucu.api.models import Inventory
from cucu.organization.scope import SHARED_RULES, Scope, within
from cucu.store.alerts import Incident, IncidentNote, OutboxEntry
from cucu.store.audit import AuditEntry, AuditFilter
from cucu.store.days import DayEvents
from cucu.store.invoices import StoredInvoice
from cucu.store.maintenance import MaintenanceWindow
from cucu.store.pos import PosStatus, StoredCufd
from cucu.vocabulary import Outcome

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cucu.store import Store

# Read as they are: the company's rows, which name no branch, or what pages only count or compare.
COMPANY_READS = frozenset(
    {
        "now", "db_now", "url", "engine", "data_version", "version", "latest_check", "recent_checks", "checks_before",
        "checks_since", "job_run", "first_invoice_emitted", "policy_paused_by", "policy_resumed_after", "lease",
    }
)  # fmt: skip
# Writes, checked by the action that makes them (its actor's scope), never by what the page shows.
WRITES = frozenset(
    {
        "audit_begin", "audit_finish", "audit_settle", "age_open_attempts", "maintenance_add", "maintenance_cancel",
        "incident_acknowledge", "incident_note_add", "set_policy_paused", "save_pos_fetches", "put_days",
    }
)  # fmt: skip
# Read here with the scope applied (each a method below).
NARROWED = frozenset(
    {
        "pos_statuses", "statuses_with_events", "cufds", "days_with_events", "days_reaching", "verified_per_day", "verified_per_pos", "get_days",
        "days_with_ends_since", "invoices_since", "invoice_states_since", "audit_count", "audit_page", "audit_chunks",
        "audit_entries", "audit_actors", "audit_rows", "open_attempts", "open_incidents", "open_incident_counts",
        "open_incidents_handled", "recent_incidents", "incidents_between", "incidents_by_key", "incident", "incident_notes", "outbox_entries",
        "maintenance_windows", "maintenance_window",
    }
)  # fmt: skip
EVERY_ATTEMPT = AuditFilter()
T = TypeVar("T")
NOTHING = ("\x00",)  # a branch filter no branch matches: the person chose only branches outside their scope


class LatestReads:
    """The whole company's POS tables as last read, shared by every scope's store of one process: read again only
    when the table's write counter moved (fifty scopes, one read of 10 000 POS per sweep, not fifty). The counter is
    read first, so a value is never older than its version says."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._held: dict[str, tuple[tuple[int, ...], Any]] = {}

    def get(self, name: str, table: str, read: Callable[[], T]) -> T:
        version = self._store.data_version(table)
        with self._lock:
            held = self._held.get(name)
            if held is not None and held[0] == version:
                return cast("T", held[1])
        value = read()
        with self._lock:
            self._held[name] = (version, value)
        return value


class ScopedStore:
    """``store`` read by a person scoped to ``scope`` (see the module docstring); ``latest``: the company's reads
    shared with the other scopes (each scope's own when not given)."""

    def __init__(self, store: Store, inventory: Inventory, scope: Scope, latest: LatestReads | None = None) -> None:
        self._latest = latest or LatestReads(store)
        self._store = store
        self._inventory = inventory  # the company's: a stored row's branch is looked up in it
        self.scope = scope
        mine = within(inventory, scope)
        self.branch_ids = mine.branch_ids
        self.pos_ids = mine.pos_ids
        self._lower_pos = mine.lower_pos_ids

    def __getattr__(self, name: str) -> Any:
        if name in COMPANY_READS or name in WRITES:
            return getattr(self._store, name)
        raise AttributeError(f"Store.{name} no está decidido para una persona con alcance (cucu/store/scoped.py)")

    def as_store(self) -> Store:
        """This object where a ``Store`` is expected: it answers every method a page calls (or refuses one)."""
        return cast("Store", self)

    # ---- POS, days, invoices ------------------------------------------------------------------

    def pos_statuses(self) -> dict[str, PosStatus]:
        every = self._latest.get("pos_statuses", "pos_status", self._store.pos_statuses)
        return {k: v for k, v in every.items() if k in self.pos_ids}

    def statuses_with_events(self) -> dict[str, PosStatus]:
        every = self._latest.get("statuses_with_events", "pos_status", self._store.statuses_with_events)
        return {k: v for k, v in every.items() if k in self.pos_ids}

    def cufds(self) -> dict[str, StoredCufd]:
        every = self._latest.get("cufds", "pos_cufd", self._store.cufds)
        return {k: v for k, v in every.items() if k in self.pos_ids}

    def _pos_ids(self, pos_ids: Collection[str] | None) -> Collection[str]:
        return self.pos_ids if pos_ids is None else [p for p in pos_ids if p in self.pos_ids]

    def days_with_events(self, first: date, last: date, *, pos_ids: Collection[str] | None = None) -> list[DayEvents]:
        return self._store.days_with_events(first, last, pos_ids=self._pos_ids(pos_ids))

    def days_reaching(
        self, first: date, last: date, when: datetime, *, pos_ids: Collection[str] | None = None
    ) -> list[DayEvents]:
        return self._store.days_reaching(first, last, when, pos_ids=self._pos_ids(pos_ids))

    def verified_per_day(self, first: date, last: date, *, pos_ids: Collection[str] | None = None) -> dict[date, int]:
        return self._store.verified_per_day(first, last, pos_ids=self._pos_ids(pos_ids))

    def verified_per_pos(self, first: date, last: date, *, pos_ids: Collection[str] | None = None) -> dict[str, int]:
        return self._store.verified_per_pos(first, last, pos_ids=self._pos_ids(pos_ids))

    def get_days(self, keys: Collection[tuple[str, date]]) -> dict[tuple[str, date], DayEvents]:
        return self._store.get_days([k for k in keys if k[0] in self.pos_ids])

    def days_with_ends_since(self, when: datetime) -> list[DayEvents]:
        return [d for d in self._store.days_with_ends_since(when) if d.pos_id in self.pos_ids]

    def invoices_since(self, when: datetime, *, states: Collection[str] | None = None) -> list[StoredInvoice]:
        # an invoice cucu did not place at a POS is the company's: not theirs to count
        return [i for i in self._store.invoices_since(when, states=states) if (i.pos_id or "").lower() in self._lower_pos]

    def invoice_states_since(self, when: datetime) -> list[tuple[str, datetime, str]]:
        return [r for r in self._store.invoice_states_since(when) if (r[0] or "").lower() in self._lower_pos]

    # ---- the audit log ------------------------------------------------------------------------

    def _audit_filter(self, where: AuditFilter) -> AuditFilter:
        chosen = [b for b in where.branch_ids if b in self.branch_ids] if where.branch_ids else sorted(self.branch_ids)
        return dataclasses.replace(where, branch_ids=tuple(chosen) or NOTHING)

    def audit_count(self, where: AuditFilter = EVERY_ATTEMPT) -> int:
        return self._store.audit_count(self._audit_filter(where))

    def audit_page(self, where: AuditFilter = EVERY_ATTEMPT, **kw: Any) -> list[AuditEntry]:
        return self._store.audit_page(self._audit_filter(where), **kw)

    def audit_chunks(self, where: AuditFilter = EVERY_ATTEMPT, **kw: Any) -> Iterator[list[AuditEntry]]:
        return self._store.audit_chunks(self._audit_filter(where), **kw)

    def audit_entries(self, where: AuditFilter = EVERY_ATTEMPT) -> list[AuditEntry]:
        return self._store.audit_entries(self._audit_filter(where))

    def audit_actors(self) -> list[str]:
        return self._store.audit_actors(branch_ids=self.branch_ids)

    def audit_rows(self, ids: Collection[int]) -> dict[int, AuditEntry]:
        return {k: v for k, v in self._store.audit_rows(ids).items() if v.branch_id in self.branch_ids}

    def open_attempts(self, outcome: Outcome = Outcome.VERIFYING) -> list[AuditEntry]:
        return [e for e in self._store.open_attempts(outcome) if e.branch_id in self.branch_ids]

    # ---- alerts -------------------------------------------------------------------------------

    def sees(self, incident: Incident) -> bool:
        """Their branches' incidents, and the company's that name no branch (``cucu.organization.scope.SHARED_RULES``)."""
        if incident.branch_id:
            return incident.branch_id in self.branch_ids
        return incident.rule in SHARED_RULES

    def open_incidents(self) -> list[Incident]:
        return [i for i in self._store.open_incidents() if self.sees(i)]

    def open_incident_counts(self) -> tuple[int, int]:
        mine = self.open_incidents()  # a few rows: open incidents
        return len(mine), sum(1 for i in mine if i.acknowledged_by is None)

    def open_incidents_handled(self, limit: int) -> list[Incident]:
        mine = [i for i in self.open_incidents() if i.acknowledged_by is not None]
        return sorted(mine, key=lambda i: (i.acknowledged_at or i.opened_at, i.id))[:limit]

    def recent_incidents(self, limit: int, *, chosen: Collection[str] = ()) -> list[Incident]:
        return self._store.recent_incidents(limit, branch_ids=self.branch_ids, chosen=chosen)

    def incidents_between(self, since: datetime, until: datetime) -> list[Incident]:
        return [i for i in self._store.incidents_between(since, until) if self.sees(i)]

    def incidents_by_key(self, key: str, limit: int = 1) -> list[Incident]:
        return [i for i in self._store.incidents_by_key(key, limit) if self.sees(i)]

    def incident(self, incident_id: int) -> Incident | None:
        """As stored: handling one checks its branch against the person's scope and audits a refusal
        (``cucu.alerts.ownership``); pages find incidents through the reads above."""
        return self._store.incident(incident_id)

    def incident_notes(self, incident_id: int) -> list[IncidentNote]:
        found = self._store.incident(incident_id)
        return self._store.incident_notes(incident_id) if found is not None and self.sees(found) else []

    def outbox_entries(self, limit: int, *, incident_id: int | None = None) -> list[OutboxEntry]:
        return self._store.outbox_entries(limit, incident_id=incident_id, branch_ids=self.branch_ids)

    # ---- maintenance --------------------------------------------------------------------------

    def _narrowed(self, window: MaintenanceWindow) -> MaintenanceWindow | None:
        """The company's windows as they are; a window of branches with only theirs (other branches' names
        stay on the server), or None when it has none of theirs."""
        if not window.branch_ids:
            return window
        mine = tuple(b for b in window.branch_ids if b in self.branch_ids)
        hidden = len(window.branch_ids) - len(mine)
        return dataclasses.replace(window, branch_ids=mine, hidden_branches=hidden) if mine else None

    def maintenance_windows(self, *, ending_after: datetime, cancelled: bool = False) -> list[MaintenanceWindow]:
        found = (self._narrowed(w) for w in self._store.maintenance_windows(ending_after=ending_after, cancelled=cancelled))
        return [w for w in found if w is not None]

    def maintenance_window(self, window_id: int) -> MaintenanceWindow | None:
        """As stored, not narrowed: cancelling checks every branch it covers (``cucu.events.maintenance.cancel``)."""
        found = self._store.maintenance_window(window_id)
        return found if found is not None and self._narrowed(found) is not None else None
