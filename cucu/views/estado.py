"""Estado: KPIs and branch tiles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cucu.api.models import Inventory
from cucu.formatting import fmt_count, plural
from cucu.organization.regions import branches_by_region, region_label
from cucu.views.pos import PosColumn, pos_frame
from cucu.vocabulary import CufdHealth, PosState

if TYPE_CHECKING:
    from cucu.store import Store


@dataclass(frozen=True)
class PosCounts:
    """What a tile counts of its POS (a branch's, or a region's summed): Estado's and Pantalla's tiles."""

    total: int
    in_contingency: int
    unknown: int
    stale: int
    long_open: int

    @property
    def needs_attention(self) -> bool:
        return bool(self.in_contingency or self.stale or self.unknown)

    @property
    def known(self) -> int:
        """Its POS with a state read from cucu: what "Sin contingencia" may speak for."""
        return self.total - self.unknown

    @property
    def headline(self) -> str:
        """Its state in one line of Markdown: the POS in contingency, else whether all, some or none were read
        (unknown grey, never green)."""
        if self.in_contingency:
            state = PosState.CONTINGENCY
            return f":{state.tone.color}[**{state.icon} {fmt_count(self.in_contingency)} de {fmt_count(self.total)}** en contingencia]"
        unknown = PosState.UNKNOWN
        if not self.known:  # nothing read yet
            return f":{unknown.tone.color}[{unknown.icon} Sin datos] · {fmt_count(self.total)} POS"
        if self.unknown:  # the notes say how many are unread
            return f":{unknown.tone.color}[Sin contingencia en {fmt_count(self.known)} de {fmt_count(self.total)} POS]"
        normal = PosState.NORMAL
        return f":{normal.tone.color}[{normal.icon} Sin contingencia] · {fmt_count(self.total)} POS"

    def notes(self, long_open_hours: float) -> list[str]:
        """What else a supervisor should know, shortest first."""
        notes = []
        if self.long_open:
            notes.append(f"⏰ {plural(self.long_open, 'abierto', 'abiertos')} hace más de {long_open_hours:g} h")
        if self.stale:
            notes.append(f"⚠ {fmt_count(self.stale)} sin respuesta reciente")
        if self.unknown and self.known:  # without any data, the headline says so
            notes.append(f"{PosState.UNKNOWN.icon} {fmt_count(self.unknown)} sin datos")
        return notes


@dataclass(frozen=True, kw_only=True)
class BranchTile(PosCounts):
    branch_id: str
    name: str
    city: str | None


@dataclass(frozen=True, kw_only=True)
class RegionTile(PosCounts):
    """A region's branches summed: what Estado shows first at a chain's size, one tile per region."""

    region: str  # its label (``cucu.organization.regions.region_label``), what the URL's ``region`` carries
    branches: int
    branches_in_contingency: int
    branches_needing_attention: int

    def notes(self, long_open_hours: float) -> list[str]:
        affected = self.branches_in_contingency
        return [
            *([plural(affected, "sucursal afectada", "sucursales afectadas")] if affected else []),
            *super().notes(long_open_hours),
        ]


def region_tiles(tiles: list[BranchTile], inventory: Inventory) -> list[RegionTile]:
    """One tile per region of the inventory, in ``cucu.organization.regions.ordered_regions``'s order."""
    by_id = {t.branch_id: t for t in tiles}
    found = []
    for region, branch_ids in branches_by_region(inventory).items():
        members = [by_id[b] for b in branch_ids if b in by_id]
        found.append(
            RegionTile(
                region=region,
                branches=len(members),
                total=sum(t.total for t in members),
                in_contingency=sum(t.in_contingency for t in members),
                unknown=sum(t.unknown for t in members),
                stale=sum(t.stale for t in members),
                long_open=sum(t.long_open for t in members),
                branches_in_contingency=sum(1 for t in members if t.in_contingency),
                branches_needing_attention=sum(1 for t in members if t.needs_attention),
            )
        )
    return found


# Up to this many branches, a company's whole table of branches still reads at a glance: shown with no region opened.
ALL_BRANCHES_UP_TO = 100


@dataclass(frozen=True)
class Overview:
    pos_total: int
    pos_in_contingency: int
    pos_unknown: int
    pos_stale: int
    branches_total: int
    branches_affected: int
    longest_open: pd.Series | None  # the row of pos_frame with the longest open event
    tiles: list[BranchTile]
    fetched_at: datetime | None  # the oldest "Consultado" among POS: how fresh the whole picture is
    pos_can_invoice: int = 0  # with a valid, active CUFD
    pos_cufd_expiring: int = 0  # valid, expiring within the setting
    pos_cufd_unread: int = 0
    pos_asked: int = 0  # POS the collector has asked cucu about, answered or not (the first sweep's progress)
    branches_known: int = 0  # branches with at least one POS whose state is known
    regions: list[RegionTile] = field(default_factory=list)

    @property
    def pos_known(self) -> int:
        """POS whose state cucu told: the counts of POS in contingency speak only for these."""
        return self.pos_total - self.pos_unknown

    @property
    def pos_cufd_read(self) -> int:
        return self.pos_total - self.pos_cufd_unread

    def tiles_by_attention(self) -> list[BranchTile]:
        """Affected branches first: with many branches, those are the ones a supervisor looks for."""
        return sorted(self.tiles, key=lambda t: (-t.in_contingency, -t.stale, -t.unknown))

    def needing_attention(self, limit: int, branch_ids: frozenset[str] | None = None) -> list[BranchTile]:
        """The ``limit`` branches a supervisor should look at first: in contingency, stale or without data
        (of ``branch_ids`` alone when given: a region's)."""
        return [t for t in self.tiles_by_attention() if t.needs_attention and (branch_ids is None or t.branch_id in branch_ids)][
            :limit
        ]

    def by_region_first(self, region_opened: bool) -> bool:
        """A chain with regions is read region by region: with none opened, its branches are not one table (more
        than ``ALL_BRANCHES_UP_TO`` of them do not read at a glance); a region's tile opens its own."""
        return not region_opened and len(self.regions) > 1 and self.branches_total > ALL_BRANCHES_UP_TO

    def regions_by_attention(self) -> list[RegionTile]:
        """The regions, those with most POS in contingency first (then stale, then without data); ties keep
        the regions' own order."""
        return sorted(self.regions, key=lambda r: (-r.in_contingency, -r.stale, -r.unknown))


def overview(frame: pd.DataFrame, inventory: Inventory, now: datetime) -> Overview:
    in_cont = frame[PosColumn.STATE] == PosState.CONTINGENCY
    unknown = frame[PosColumn.STATE] == PosState.UNKNOWN
    # One pass over the rows for every branch (a filter per branch would cost branches x POS), over the five flags
    # alone: assigning them to the frame copied all its columns, at every rebuild and for every scoped view.
    flags = pd.DataFrame(
        {
            "_branch": frame[PosColumn.BRANCH_ID].to_numpy(dtype=object),
            "_pos": 1,
            "_cont": in_cont.to_numpy(dtype=bool),
            "_unknown": unknown.to_numpy(dtype=bool),
            "_stale": frame[PosColumn.STALE].to_numpy(dtype=bool),
            "_long": frame[PosColumn.LONG_OPEN].to_numpy(dtype=bool),
        },
        index=range(len(frame)),
    )
    counts = flags.groupby("_branch", sort=False).sum()
    # As plain tuples: a row looked up with .loc per branch cost a chain's rebuild 0.1 s, and a scoped view's as much.
    by_branch = dict(zip(counts.index, counts.itertuples(index=False, name=None), strict=True))
    tiles = []
    for branch in inventory.branches:
        total, cont, unread, stale, long_open = by_branch.get(branch.id, (0, 0, 0, 0, 0))
        tiles.append(
            BranchTile(
                branch_id=branch.id,
                name=branch.name,
                city=branch.city,
                total=int(total),
                in_contingency=int(cont),
                unknown=int(unread),
                stale=int(stale),
                long_open=int(long_open),
            )
        )
    open_hours = frame[PosColumn.HOURS_OPEN].where(in_cont)
    longest = frame.loc[open_hours.idxmax()] if open_hours.notna().any() else None
    fetched = frame[PosColumn.FETCHED].dropna()
    return Overview(
        pos_total=len(frame),
        pos_in_contingency=int(in_cont.sum()),
        pos_unknown=int(unknown.sum()),
        pos_stale=int(frame[PosColumn.STALE].sum()),
        branches_total=len(inventory.branches),
        branches_affected=sum(1 for t in tiles if t.in_contingency),
        longest_open=longest,
        tiles=tiles,
        fetched_at=fetched.min() if len(fetched) else None,  # vectorized: min() walked the rows one by one
        pos_can_invoice=int(frame[PosColumn.CAN_INVOICE].sum()),
        pos_cufd_expiring=int((frame[PosColumn.CUFD] == CufdHealth.EXPIRING).sum()),
        pos_cufd_unread=int((frame[PosColumn.CUFD] == CufdHealth.UNKNOWN).sum()),
        pos_asked=int(frame[PosColumn.FETCHED].notna().sum()),
        branches_known=sum(1 for t in tiles if t.known),
        regions=region_tiles(tiles, inventory),
    )


class BranchColumn:
    """Estado's table of branches (``branches_frame``), one row per branch."""

    BRANCH_ID = "branch_id"
    BRANCH = "Sucursal"
    REGION = "Región"
    CITY = "Ciudad"
    POS = "POS"  # how many
    IN_CONTINGENCY = "En contingencia"
    LONG_OPEN = "Abiertos hace mucho"
    STALE = "Sin respuesta"
    UNKNOWN = "Sin datos"


BRANCH_COLUMNS = [
    BranchColumn.BRANCH,
    BranchColumn.REGION,
    BranchColumn.CITY,
    BranchColumn.POS,
    BranchColumn.IN_CONTINGENCY,
    BranchColumn.LONG_OPEN,
    BranchColumn.STALE,
    BranchColumn.UNKNOWN,
]


def branches_frame(ov: Overview, inventory: Inventory) -> pd.DataFrame:
    """Every branch, one row each, those needing attention first (a table sorts and searches the rest)."""
    rows = [
        {
            BranchColumn.BRANCH_ID: t.branch_id,
            BranchColumn.BRANCH: t.name,
            BranchColumn.REGION: region_label(inventory.branch(t.branch_id).region),
            BranchColumn.CITY: t.city or "",
            BranchColumn.POS: t.total,
            BranchColumn.IN_CONTINGENCY: t.in_contingency,
            BranchColumn.LONG_OPEN: t.long_open,
            BranchColumn.STALE: t.stale,
            BranchColumn.UNKNOWN: t.unknown,
        }
        for t in ov.tiles_by_attention()
    ]
    return pd.DataFrame(rows, columns=[BranchColumn.BRANCH_ID, *BRANCH_COLUMNS])


@dataclass(frozen=True)
class EstadoFrames:
    """What Estado and Eventos activos show of every POS, built together so they always agree."""

    pos: pd.DataFrame  # cucu.views.pos.pos_frame
    overview: Overview
    built_at: datetime  # the store's time the frame was worked out at (its ages and CUFD health)
    rows_of_branch: Mapping[str, np.ndarray] = field(default_factory=dict)  # the whole company's: where each branch's rows are

    def cut(self, inventory: Inventory) -> pd.DataFrame:
        """The rows of ``inventory``'s branches (a scoped view's), in this frame's order: one lookup per branch, not a
        test of every row for each of fifty scopes at every version."""
        found = [self.rows_of_branch[b] for b in inventory.branch_ids if b in self.rows_of_branch]
        rows = np.sort(np.concatenate(found)) if found else np.empty(0, dtype=np.intp)
        return self.pos.take(rows).reset_index(drop=True)


def estado_frames(store: Store, inventory: Inventory, long_open_hours: float, cufd_expiring: timedelta) -> EstadoFrames:
    """Every POS's state (with its CUFD's health) and the rollup, read from ``store`` at its time: what
    ``ui.resources.current_frames`` shares, built in the worker process at a chain (``ui.resources.apart``)."""
    now = store.now()
    frame = pos_frame(inventory, store.pos_statuses(), now, long_open_hours, store.cufds(), cufd_expiring)
    rows = {str(b): np.asarray(r) for b, r in frame.groupby(PosColumn.BRANCH_ID, sort=False).indices.items()}
    return EstadoFrames(frame, overview(frame, inventory, now), now, rows)
