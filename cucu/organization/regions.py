"""Regions: how a chain's branches are grouped above the branch (issue 26).

A branch's region is what its inventory entry says (``region = "Occidente"``); without one, the Bolivian
department of its city, when the city is one this module knows (the README lists them). A branch with
neither is in no region and is shown as "Sin región": never guessed into one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from cucu.api.models import Inventory

# Bolivia's nine departments, as the dashboard writes them.
DEPARTMENTS = ("La Paz", "Cochabamba", "Santa Cruz", "Oruro", "Potosí", "Chuquisaca", "Tarija", "Beni", "Pando")

# Each department's capital and its other towns with branches of national chains (a city not here, and with
# no ``region`` of its own, is in no region). Matched without case or accents: "Potosi" is Potosí.
_TOWNS = {
    "La Paz": ("La Paz", "El Alto", "Viacha", "Achacachi", "Caranavi", "Copacabana", "Coroico", "Patacamaya"),
    "Cochabamba": (
        "Cochabamba", "Quillacollo", "Sacaba", "Tiquipaya", "Colcapirhua", "Vinto", "Punata", "Cliza", "Villa Tunari",
        "Ivirgarzama", "Aiquile",
    ),
    "Santa Cruz": (
        "Santa Cruz", "Santa Cruz de la Sierra", "Montero", "Warnes", "La Guardia", "Cotoca", "El Torno", "Camiri",
        "Mineros", "Portachuelo", "San Julián", "Puerto Suárez", "Puerto Quijarro", "San Ignacio de Velasco",
        "Vallegrande", "Samaipata", "Roboré", "Concepción", "Yapacaní", "Ascensión de Guarayos",
    ),
    "Oruro": ("Oruro", "Huanuni", "Challapata", "Caracollo"),
    "Potosí": ("Potosí", "Uyuni", "Llallagua", "Tupiza", "Villazón", "Uncía"),
    "Chuquisaca": ("Chuquisaca", "Sucre", "Monteagudo", "Camargo", "Padilla", "Muyupampa"),
    "Tarija": ("Tarija", "Yacuiba", "Bermejo", "Villamontes", "Entre Ríos"),
    "Beni": ("Beni", "Trinidad", "Riberalta", "Guayaramerín", "Rurrenabaque", "San Borja", "Santa Ana del Yacuma"),
    "Pando": ("Pando", "Cobija", "Porvenir"),
}  # fmt: skip

NO_REGION = "Sin región"


def _folded(text: str) -> str:
    """``text`` without case, accents or repeated spaces: how names are compared."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.casefold().split())


_DEPARTMENT_OF_TOWN = {_folded(town): department for department, towns in _TOWNS.items() for town in towns}
_DEPARTMENT_BY_NAME = {_folded(department): department for department in DEPARTMENTS}


def department_of_city(city: str | None) -> str | None:
    """The department of a known town (``"El Alto"`` gives ``"La Paz"``), else ``None``."""
    return _DEPARTMENT_OF_TOWN.get(_folded(city)) if city else None


def region_name(region: str) -> str:
    """A region as the inventory gives it, written as the dashboard writes it: a department's name in its own
    spelling ("santa cruz", "Potosi" give "Santa Cruz", "Potosí"), any other name as given."""
    return _DEPARTMENT_BY_NAME.get(_folded(region), region.strip())


def ordered_regions(regions: Iterable[str | None]) -> list[str | None]:
    """The distinct regions, departments first in their usual order, then the others alphabetically, then
    "no region" (``None``) last."""
    distinct = set(regions)
    departments = [d for d in DEPARTMENTS if d in distinct]
    others = sorted((r for r in distinct if r is not None and r not in DEPARTMENTS), key=_folded)
    return [*departments, *others, *([None] if None in distinct else [])]


def region_label(region: str | None) -> str:
    return NO_REGION if region is None else region


def branches_by_region(inventory: Inventory) -> dict[str, list[str]]:
    """Region label -> its branch ids (inventory order), regions in :func:`ordered_regions`'s order. The same
    dict for every caller (kept with the inventory, which never changes): not to be changed."""
    regions = inventory.derived.get("branches_by_region")
    if regions is None:
        by_region: dict[str | None, list[str]] = {}
        for branch in inventory.branches:
            by_region.setdefault(branch.region, []).append(branch.id)
        regions = inventory.derived["branches_by_region"] = {region_label(r): by_region[r] for r in ordered_regions(by_region)}
    return regions
