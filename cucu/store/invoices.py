"""Invoices (table ``invoices``: the company's invoices of the last days, as cucu's list and status calls
left them) and the collector's job runs (table ``job_runs``: each job's last round, and how far the
invoice walk's pass has gone).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cucu.api.models import Invoice, InvoiceStatus
from cucu.store.base import StoreBase, _bump, _lenient, _rows_in, _update_by_key
from cucu.store.schema import invoices, job_runs
from cucu.vocabulary import InvoiceState


@dataclass(frozen=True)
class StoredInvoice:
    """An invoice as the list and the last status call left it."""

    id: str
    invoice_number: str | None
    cuf: str | None
    pos_id: str | None
    state: InvoiceState | str
    client_name: str | None
    amount_total: float | None
    emission_date: datetime | None
    listed_at: datetime
    status_at: datetime | None = None
    siat_code: int | None = None
    siat_description: str | None = None
    emission_type: str | None = None
    status_error: str | None = None


@dataclass(frozen=True)
class JobRun:
    """A collector job's last round: ``error`` None when it succeeded (``ok_at`` is the last success)."""

    name: str
    ran_at: datetime
    ok_at: datetime | None
    error: str | None
    notes: JobNotes = dataclasses.field(default_factory=lambda: JobNotes())
    passed_at: datetime | None = None  # the last full pass over the window; None: never, what was read is partial
    pass_pages: int = 0  # pages read so far in the pass under way


@dataclass(frozen=True)
class JobNotes:
    """What the invoice walk left out of the store (rows of cucu's list it did not keep as invoices)."""

    future: int = 0  # emission date later than now: set aside
    undated: int = 0  # no emission date: set aside
    over_cap: int = 0  # new open invoices not stored: the store held its maximum


@dataclass(frozen=True)
class StatusRead:
    """One status call's outcome for an invoice: its answer, or the error."""

    invoice_id: str
    read_at: datetime
    status: InvoiceStatus | None = None
    error: str | None = None


class InvoiceTables(StoreBase):
    """The invoice walk's invoices and status reads, and every collector job's last round."""

    def save_invoices(self, items: Iterable[Invoice], listed_at: datetime) -> tuple[int, int]:
        """Record what the list showed. Returns (invoices not seen before, known ones whose content changed);
        an unchanged invoice is not written."""
        items = list({i.id: i for i in items}.values())
        if not items:
            return 0, 0
        with self.engine.begin() as conn:
            ids = [i.id for i in items]
            old = {row.id: row for row in _rows_in(conn, sa.select(invoices), invoices.c.id, ids)}
            inserts, updates = [], []
            for item in items:
                values = {
                    "invoice_number": item.invoice_number,
                    "cuf": item.cuf,
                    "pos_id": item.pos_id,
                    "state": str(item.state),
                    "client_name": item.client_name,
                    "amount_total": item.amount_total,
                    "emission_date": item.emission_date,
                }
                row = old.get(item.id)
                if row is None:
                    inserts.append({"id": item.id, "listed_at": listed_at, **values})
                elif any(values[k] != row._mapping[k] for k in values):
                    # A new state makes the last status answer stale: forget it, so a rejection is read anew.
                    fresh = row.state == values["state"]
                    stale = {"siat_code": row.siat_code, "siat_description": row.siat_description, "status_at": row.status_at}
                    updates.append(
                        {"key": item.id, "listed_at": listed_at, **values} | (stale if fresh else dict.fromkeys(stale))
                    )
            if inserts:
                conn.execute(invoices.insert(), inserts)
            _update_by_key(conn, invoices, invoices.c.id, updates)
            if inserts or updates:
                _bump(conn, invoices.name)
        return len(inserts), len(updates)

    def first_invoice_emitted(self) -> datetime | None:
        """The oldest emission among the stored invoices (None: none stored): no invoice issued before it was read
        from cucu, or it is no longer kept. The monthly report's invoice figures of an older period are unknown."""
        with self.engine.connect() as conn:
            first: datetime | None = conn.execute(sa.select(sa.func.min(invoices.c.emission_date))).scalar_one()
        return first

    def known_invoice_ids(self, ids: Collection[str]) -> set[str]:
        with self.engine.connect() as conn:
            return {row.id for row in _rows_in(conn, sa.select(invoices.c.id), invoices.c.id, list(ids))}

    def unsettled_invoices(self, states: Collection[str]) -> list[tuple[str, str | None, datetime | None]]:
        """(id, POS id, last status read) of every invoice in ``states``: the follow-ups choose among them."""
        query = sa.select(invoices.c.id, invoices.c.pos_id, invoices.c.status_at).where(invoices.c.state.in_(list(states)))
        with self.engine.connect() as conn:
            return [(row.id, row.pos_id, row.status_at) for row in conn.execute(query)]

    def save_invoice_statuses(self, reads: Iterable[StatusRead]) -> int:
        """Record status calls. An answer sets the state and SIAT's code and description; an error keeps
        them. Returns the invoices whose state or SIAT answer changed (the counter moves only then)."""
        reads = list({r.invoice_id: r for r in reads}.values())
        if not reads:
            return 0
        changed = 0
        with self.engine.begin() as conn:
            ids = [r.invoice_id for r in reads]
            old = {row.id: row for row in _rows_in(conn, sa.select(invoices), invoices.c.id, ids)}
            updates = []
            for read in reads:
                row = old.get(read.invoice_id)
                if row is None:  # a status for an invoice the list never showed: nothing to attach it to
                    continue
                values = {k: row._mapping[k] for k in _STATUS_CONTENT}
                if read.status is not None:
                    values |= {
                        "state": str(read.status.state),
                        "siat_code": read.status.siat_code,
                        "siat_description": read.status.siat_description,
                        "emission_type": read.status.emission_type,
                    }
                if any(values[k] != row._mapping[k] for k in _STATUS_CONTENT) or (row.status_error is None) != (
                    read.error is None
                ):
                    changed += 1
                updates.append({"key": read.invoice_id, "status_at": read.read_at, "status_error": read.error, **values})
            _update_by_key(conn, invoices, invoices.c.id, updates)
            if changed:
                _bump(conn, invoices.name)
        return changed

    def invoices_since(self, when: datetime, *, states: Collection[str] | None = None) -> list[StoredInvoice]:
        """Invoices emitted at or after ``when`` and every unsettled one (offline or rejected) of any age,
        newest first; an invoice without an emission date counts as recent. ``states``: only those."""
        query = sa.select(invoices).where(
            sa.or_(
                invoices.c.emission_date >= when,
                invoices.c.emission_date.is_(None),
                invoices.c.state.in_(_KEPT_STATES),
            )
        )
        if states is not None:
            query = query.where(invoices.c.state.in_(list(states)))
        query = query.order_by(invoices.c.emission_date.desc())
        with self.engine.connect() as conn:
            return [_stored_invoice(row) for row in conn.execute(query)]

    def invoice_states_since(self, when: datetime) -> list[tuple[str, datetime, str]]:
        """(POS id as cucu wrote it, emission date, state) of each invoice emitted at or after ``when`` that names
        its POS: what the queue counts of open events' invoices, without reading whole rows (a chain: 50 000)."""
        query = sa.select(invoices.c.pos_id, invoices.c.emission_date, invoices.c.state).where(
            invoices.c.emission_date >= when, invoices.c.pos_id.is_not(None)
        )
        with self.engine.connect() as conn:
            return [(row.pos_id, row.emission_date, row.state) for row in conn.execute(query)]

    def record_job(
        self,
        name: str,
        ran_at: datetime,
        error: str | None,
        notes: JobNotes | None = None,
        *,
        pass_pages: int = 0,
        passed: bool = False,
    ) -> None:
        """A collector round of ``name`` ran; ``error`` None when it succeeded; ``passed`` when it completed a
        full pass (``pass_pages``: the pages read in the pass under way)."""
        counts: dict[str, object] = {**dataclasses.asdict(notes or JobNotes()), "pass_pages": pass_pages}
        if passed:
            counts["passed_at"] = ran_at
        with self.engine.begin() as conn:
            done = conn.execute(
                job_runs.update()
                .where(job_runs.c.name == name)
                .values(ran_at=ran_at, error=error, **counts, **({"ok_at": ran_at} if error is None else {}))
            ).rowcount
            if not done:
                conn.execute(
                    job_runs.insert().values(
                        name=name, ran_at=ran_at, error=error, ok_at=ran_at if error is None else None, **counts
                    )
                )

    def job_run(self, name: str) -> JobRun | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(job_runs).where(job_runs.c.name == name)).first()
        if row is None:
            return None
        notes = JobNotes(row.future, row.undated, row.over_cap)
        return JobRun(row.name, row.ran_at, row.ok_at, row.error, notes, row.passed_at, row.pass_pages)

    def count_invoices(self, states: Collection[str]) -> int:
        """How many stored invoices are in ``states`` (the walk's cap on open ones)."""
        query = sa.select(sa.func.count()).select_from(invoices).where(invoices.c.state.in_(list(states)))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def prune_invoices(self, before: datetime, *, reported_before: datetime | None = None) -> int:
        """Forget settled invoices emitted before ``before`` (those still offline and the rejected ones stay). Those
        issued offline (a status read said so) stay until ``reported_before``: the monthly report counts them."""
        offline = sa.and_(invoices.c.emission_type.is_not(None), invoices.c.emission_type != ONLINE_EMISSION)
        kept_for_reports = offline if reported_before is None else sa.and_(offline, invoices.c.emission_date >= reported_before)
        with self.engine.begin() as conn:
            gone = conn.execute(
                invoices.delete()
                .where(invoices.c.emission_date < before)
                .where(invoices.c.state.not_in(_KEPT_STATES))
                .where(sa.not_(kept_for_reports))
            ).rowcount
            if gone:
                _bump(conn, invoices.name)
        return gone


_STATUS_CONTENT = ("state", "siat_code", "siat_description", "emission_type")
# Offline and rejected invoices: kept and listed whatever their age, until settled.
_KEPT_STATES = [InvoiceState.CONTINGENCY.value, InvoiceState.REJECTED.value]
REPORT_RETENTION = timedelta(days=400)  # offline invoices are kept this long: the monthly report counts them
ONLINE_EMISSION = "NORMAL"  # cucu's emissionType of an invoice issued online; any other is offline


def _stored_invoice(row: sa.Row[Any]) -> StoredInvoice:
    return StoredInvoice(
        id=row.id,
        invoice_number=row.invoice_number,
        cuf=row.cuf,
        pos_id=row.pos_id,
        state=_lenient(InvoiceState, row.state),
        client_name=row.client_name,
        amount_total=row.amount_total,
        emission_date=row.emission_date,
        listed_at=row.listed_at,
        status_at=row.status_at,
        siat_code=row.siat_code,
        siat_description=row.siat_description,
        emission_type=row.emission_type,
        status_error=row.status_error,
    )
