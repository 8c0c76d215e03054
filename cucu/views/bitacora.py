"""Bitácora: the audit log's frames, its pages and its CSV."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import pandas as pd

from cucu.api.models import Inventory, motive_label
from cucu.formatting import fmt_count
from cucu.store import AuditEntry, AuditFilter, Store, page_count
from cucu.views.export import excel_csv_file
from cucu.vocabulary import stored_label


class AuditColumn:
    """Bitácora's attempts (``audit_frame``), one row each."""

    REQUESTED = "Fecha"
    ACTION = "Acción"
    BRANCH = "Sucursal"
    POS = "Punto de venta"
    OUTCOME = "Resultado"
    USER = "Usuario"
    MOTIVE = "Motivo"
    DESCRIPTION = "Descripción"
    DETAIL = "Detalle"  # cucu's answer
    NAME = "Nombre"
    ROLE = "Rol"
    EVENT_ID = "ID evento"
    COMPLETED = "Completado"


# What happened first (a tablet shows the first columns), then who and the details.
AUDIT_COLUMNS = [
    AuditColumn.REQUESTED,
    AuditColumn.ACTION,
    AuditColumn.BRANCH,
    AuditColumn.POS,
    AuditColumn.OUTCOME,
    AuditColumn.USER,
    AuditColumn.MOTIVE,
    AuditColumn.DESCRIPTION,
    AuditColumn.DETAIL,
    AuditColumn.NAME,
    AuditColumn.ROLE,
    AuditColumn.EVENT_ID,
    AuditColumn.COMPLETED,
]
AUDIT_TIME_COLUMNS = (AuditColumn.REQUESTED, AuditColumn.COMPLETED)


def audit_frame(entries: Iterable[AuditEntry], inventory: Inventory) -> pd.DataFrame:
    """One row per attempt, in the given order (the store's: newest first), with branch and POS names from the inventory."""
    return _AuditNames(inventory).frame(entries)


def page_sentence(page: int, total: int, size: int) -> str:
    """Where page ``page`` of ``size`` rows sits among ``total``: "Página 2 de 5 · registros 201–400"."""
    first = (page - 1) * size + 1
    last = min(page * size, total)
    return f"Página {fmt_count(page)} de {fmt_count(page_count(total, size))} · registros {fmt_count(first)}–{fmt_count(last)}"


def audit_frames(chunks: Iterable[Iterable[AuditEntry]], inventory: Inventory) -> Iterator[pd.DataFrame]:
    """``audit_frame`` of each chunk (the CSV of a whole filter, a chunk at a time); at least one, maybe empty."""
    names = _AuditNames(inventory)
    empty = True
    for chunk in chunks:
        empty = False
        yield names.frame(chunk)
    if empty:
        yield names.frame(())


def audit_csv(store: Store, where: AuditFilter, inventory: Inventory) -> io.BytesIO:
    """Bitácora's CSV: every attempt of the filter, read a chunk at a time and written as it is read."""
    return excel_csv_file(audit_frames(store.audit_chunks(where), inventory), time_columns=AUDIT_TIME_COLUMNS)


class _AuditNames:
    def __init__(self, inventory: Inventory) -> None:
        self.branches = {b.id: b.name for b in inventory.branches}
        self.pos_names = {p.id: p.name for p in inventory.all_pos}

    def frame(self, entries: Iterable[AuditEntry]) -> pd.DataFrame:
        rows = [
            {
                AuditColumn.REQUESTED: e.requested_at,
                AuditColumn.USER: e.actor,
                AuditColumn.NAME: e.actor_name,
                AuditColumn.ROLE: stored_label(e.role) if e.role else None,
                AuditColumn.ACTION: stored_label(e.action),
                AuditColumn.BRANCH: self.branches.get(e.branch_id, e.branch_id) or "—",  # "—": the policy's pause
                AuditColumn.POS: self.pos_names.get(e.pos_id, e.pos_id) or "—",
                AuditColumn.MOTIVE: motive_label(e.motive) if e.motive else None,
                AuditColumn.DESCRIPTION: e.description,
                AuditColumn.OUTCOME: stored_label(e.outcome),
                AuditColumn.DETAIL: e.message,
                AuditColumn.EVENT_ID: e.event_id,
                AuditColumn.COMPLETED: e.completed_at,
            }
            for e in entries
        ]
        return pd.DataFrame(rows, columns=AUDIT_COLUMNS)
