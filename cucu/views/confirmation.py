"""What a confirmation says an action touches, the same way for one POS and for a chain's 7 500.

One line names the POS, or counts them with their branches; above one branch, a breakdown by branch
and motive, and the person acknowledges how many branches the action reaches before it can be sent
(a mass action must not look like a single one).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cucu.formatting import md_text, plural
from cucu.vocabulary import ActionKind


class ReachColumn:
    """The rows of a ``Reach``, one per POS, as the dialog lists them (the first three are what it counts by),
    and its breakdown's count."""

    BRANCH = "Sucursal"
    POS = "Punto de venta"
    MOTIVE = "Motivo"  # when known
    SINCE = "Desde"  # an event's start, for an end
    OPEN_FOR = "Abierto"
    CUFD = "CUFD actual"  # for a renewal
    COUNT = "Puntos de venta"  # the breakdown's: how many POS


_SENTENCE = {
    ActionKind.START: "Se iniciará un evento de contingencia en",
    ActionKind.END: "Se finalizará el evento activo de",
    ActionKind.RENEW_CUFD: "Se pedirá a cucu un CUFD nuevo (vigente por un día) para",
}


def _pos(n: int) -> str:
    return plural(n, "punto de venta", "puntos de venta")


@dataclass(frozen=True)
class Reach:
    """The POS an action touches: ``rows`` has one row per POS (branch, POS and, when known, motive)."""

    kind: ActionKind
    rows: pd.DataFrame

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def branches(self) -> int:
        return int(self.rows[ReachColumn.BRANCH].nunique())

    @property
    def headline(self) -> str:
        """One line of Markdown: "… en **Casa Matriz · Caja 3**", "… en **12 puntos de venta** de Casa Matriz",
        "… en **7 500 puntos de venta** de **750 sucursales**"."""
        if self.count == 1:
            row = self.rows.iloc[0]
            touched = f"**{md_text(row[ReachColumn.BRANCH])} · {md_text(row[ReachColumn.POS])}**"
        elif self.branches == 1:
            touched = f"**{_pos(self.count)}** de {md_text(self.rows[ReachColumn.BRANCH].iloc[0])}"
        else:
            touched = f"**{_pos(self.count)}** de **{plural(self.branches, 'sucursal', 'sucursales')}**"
        return f"{_SENTENCE[self.kind]} {touched}."

    @property
    def button(self) -> str:
        if self.kind is ActionKind.START:
            return f"Iniciar contingencia en {_pos(self.count)}"
        if self.kind is ActionKind.RENEW_CUFD:
            return f"Renovar el CUFD de {_pos(self.count)}"
        return f"Finalizar {plural(self.count, 'evento', 'eventos')}"

    @property
    def needs_acknowledgement(self) -> bool:
        """Above one branch the person says they understand the reach before the action can be sent."""
        return self.branches > 1

    @property
    def acknowledgement(self) -> str:
        return f"Entiendo que afecta a {plural(self.branches, 'sucursal', 'sucursales')}"

    def breakdown(self) -> pd.DataFrame:
        """One row per branch and motive, in the order the POS came (the inventory's): how many POS each."""
        branch, motive, count = ReachColumn.BRANCH, ReachColumn.MOTIVE, ReachColumn.COUNT
        keys = [branch, motive] if motive in self.rows.columns else [branch]
        counted = self.rows.groupby(keys, sort=False, dropna=False).size().rename(count).reset_index()
        return counted[[branch, count, *keys[1:]]]
