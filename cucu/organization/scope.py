"""A person's scope: the part of the chain they see and act on (issue 26, scoped supervisors and viewers).

A scope names regions and branches; a branch is in it when its id is listed or its region is. The empty
scope is the whole company. A scoped person's pages are drawn from :func:`within` (the inventory cut to
their branches), every store read a page makes is narrowed to those branches, and the actions refuse,
and audit, any POS outside it (``cucu.events.actions``): hiding buttons is not the guard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cucu.api.models import Branch, Inventory
from cucu.formatting import plural
from cucu.inventory import branch_labels
from cucu.organization.regions import region_label
from cucu.vocabulary import AlertRule

# The company's alerts a scoped person sees too: SIAT's, cucu's and the collector's state are everyone's and
# name no branch (a company summary of branch rules may name any branch: it is not theirs to read).
SHARED_RULES = frozenset({AlertRule.SIAT_DOWN, AlertRule.CUCU_FAILING, AlertRule.NO_COLLECTOR})


@dataclass(frozen=True)
class Scope:
    regions: frozenset[str] = frozenset()  # region labels as the dashboard writes them ("Sin región" included)
    branches: frozenset[str] = frozenset()  # branch ids

    @property
    def whole_company(self) -> bool:
        return not self.regions and not self.branches

    def covers(self, branch: Branch) -> bool:
        return self.whole_company or branch.id in self.branches or region_label(branch.region) in self.regions

    def covers_branch_id(self, inventory: Inventory, branch_id: str | None) -> bool:
        """Whether a stored row's branch is this person's; a row of no branch (the company's: SIAT, the policy)
        only for the whole company's people, a branch no longer in the inventory for nobody scoped."""
        if self.whole_company:
            return True
        if not branch_id:
            return False
        try:
            return self.covers(inventory.branch(branch_id))
        except KeyError:
            return False

    @property
    def key(self) -> str:
        """A stable text naming this scope (the name of its shared reads)."""
        return "|".join(["r:" + r for r in sorted(self.regions)] + ["b:" + b for b in sorted(self.branches)])

    def label(self, inventory: Inventory) -> str:
        """What the header says: "Toda la empresa", "Región Santa Cruz", "Regiones La Paz y Oruro · 2 sucursales"."""
        if self.whole_company:
            return "Toda la empresa"
        parts = []
        regions = sorted(self.regions)
        if len(regions) == 1:
            parts.append(f"Región {regions[0]}")
        elif regions:
            parts.append(f"Regiones {', '.join(regions[:-1])} y {regions[-1]}")
        known = {b: inventory.branch(b) for b in self.branches if b in inventory.branch_ids}
        extra = sorted(b for b in self.branches if b not in known or region_label(known[b].region) not in self.regions)
        if len(extra) == 1 and extra[0] in known:
            parts.append(f"Sucursal {known[extra[0]].name}")
        elif extra:
            parts.append(plural(len(extra), "sucursal", "sucursales"))
        return " · ".join(parts)

    def union(self, other: Scope) -> Scope:
        """Both scopes: the whole company when either is (a person in two groups sees what either gives)."""
        if self.whole_company or other.whole_company:
            return WHOLE_COMPANY
        return Scope(self.regions | other.regions, self.branches | other.branches)


WHOLE_COMPANY = Scope()


def union(scopes: Iterable[Scope]) -> Scope:
    result: Scope | None = None
    for scope in scopes:
        result = scope if result is None else result.union(scope)
    return WHOLE_COMPANY if result is None else result


def within(inventory: Inventory, scope: Scope) -> Inventory:
    """The inventory cut to ``scope``'s branches (the same object for the whole company), kept with the
    inventory: every run of a scoped person's page reads it."""
    if scope.whole_company:
        return inventory
    name = f"within:{scope.key}"
    cut = inventory.derived.get(name)
    if cut is None:
        cut = inventory.derived[name] = Inventory(tuple(b for b in inventory.branches if scope.covers(b)))
        # A branch is named as the whole company names it (a name repeated elsewhere keeps its city): one name
        # wherever it appears, and the links of what is cut from the company's values work in the scoped view.
        whole = branch_labels(inventory)
        cut.derived["branch_labels"] = {b.id: whole[b.id] for b in cut.branches}
    return cut


def unknown_names(scope: Scope, inventory: Inventory) -> list[str]:
    """The regions and branch ids ``scope`` names that the inventory does not have, in Spanish quotes."""
    regions = {region_label(b.region) for b in inventory.branches}
    branch_ids = {b.id for b in inventory.branches}
    return [f"la región «{r}»" for r in sorted(scope.regions - regions)] + [
        f"la sucursal «{b}»" for b in sorted(scope.branches - branch_ids)
    ]
