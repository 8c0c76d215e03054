"""Load and validate the operator's inventory file (branches and their points of sale).

The file is written by other tools too, so the shape is strict: any unknown key, missing
name, malformed or repeated UUID, or branch without POS is refused with a Spanish message
that names the offending entry.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cucu.api.models import Branch, Inventory, PointOfSale
from cucu.organization.regions import department_of_city, region_name
from cucu.settings import ConfigurationError

DEMO_INVENTORY_PATH = Path(__file__).with_name("demo_inventory.toml")

_BRANCH_KEYS = {"id", "name", "city", "region", "pos"}
_POS_KEYS = {"id", "name"}


class InventoryError(ConfigurationError):
    """The inventory cannot be used; ``str(err)`` is a Spanish explanation."""


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    # uuid.UUID also accepts braces, "urn:uuid:" and missing hyphens; the API wants the canonical form.
    return len(value) == 36 and value.count("-") == 4


def inventory_stamp(path: str | Path | None) -> str:
    """Changes when the inventory file does: the dashboard's cache key and the collector service's
    reload both use it, so an edited file is picked up without a restart."""
    if path is None:
        return "demo"
    try:
        return str(os.stat(path).st_mtime_ns)
    except OSError:
        return "missing"


def branch_labels(inventory: Inventory) -> dict[str, str]:
    """Branch id -> how a filter names it (the same dict for every caller: not to be changed). Filters bound to the URL carry labels and Streamlit reads a
    label back to the last option that has it, so labels must be unique whatever the names and ids.

    A branch is named by its name; a name that repeats gets its city, then the start of its id, longer
    (8, 13, 18, 23 characters) while it still repeats, at last the whole id. Each round lengthens every
    label that repeats, whichever step it came from: "Centro (La Paz)" may be one branch's name and
    another's name with its city. The last step ends in the whole id (a UUID, which no other branch has),
    so the loop ends with unique labels, which depend on the inventory alone.
    """
    labels = inventory.derived.get("branch_labels")
    if labels is None:
        labels = inventory.derived["branch_labels"] = _unique_labels(inventory)
    return labels


def _unique_labels(inventory: Inventory) -> dict[str, str]:
    choices = {b.id: _label_choices(b) for b in inventory.branches}
    step = dict.fromkeys(choices, 0)
    while True:
        labels = {branch_id: choices[branch_id][step[branch_id]] for branch_id in choices}
        count = Counter(labels.values())
        repeated = [i for i, label in labels.items() if count[label] > 1 and step[i] < len(choices[i]) - 1]
        if not repeated:
            return labels
        for branch_id in repeated:
            step[branch_id] += 1


def _label_choices(branch: Branch) -> list[str]:
    """A branch's labels, from the shortest; the last one holds the whole id."""
    with_city = [f"{branch.name} ({branch.city})"] if branch.city else []
    return [branch.name, *with_city, *(f"{branch.name} ({branch.id[:n]})" for n in (8, 13, 18, 23, len(branch.id)))]


MAX_INVENTORY_BYTES = 16 * 1024 * 1024  # a chain of 20 000 POS (the most DEMO generates) is under 3 MB


def load_inventory(path: str | Path) -> Inventory:
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_INVENTORY_BYTES + 1)  # never more than the cap into memory
        if len(raw) > MAX_INVENTORY_BYTES:
            raise InventoryError(
                f"El archivo de inventario «{path}» pasa de {MAX_INVENTORY_BYTES // (1024 * 1024)} MB: no parece un inventario."
            )
        text = raw.decode("utf-8-sig")  # a BOM (Notepad, Excel's "UTF-8") is not part of the TOML
    except FileNotFoundError:
        raise InventoryError(f"No se encontró el archivo de inventario «{path}».") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(f"No se pudo leer el archivo de inventario «{path}»: {exc}.") from None
    return parse_inventory(text, source=str(path))


def parse_inventory(text: str, source: str = "inventario") -> Inventory:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(f"El inventario «{source}» no es TOML válido: {exc}.") from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise InventoryError(f"El inventario «{source}» anida listas o tablas a demasiada profundidad.") from None
    except ValueError as exc:  # an integer beyond Python's 4300 digits; tomllib does not wrap it
        raise InventoryError(f"El inventario «{source}» no es TOML válido: {exc}.") from None
    return inventory_from_dict(data, source)


def inventory_from_dict(data: dict[str, Any], source: str = "inventario") -> Inventory:
    def fail(msg: str) -> InventoryError:
        return InventoryError(f"Inventario «{source}»: {msg}")

    unknown = set(data) - {"branches"}
    if unknown:
        raise fail(f"claves desconocidas en el nivel superior: {_names(unknown)}. Solo se admite [[branches]].")
    raw_branches = data.get("branches")
    if not isinstance(raw_branches, list) or not raw_branches:
        raise fail("no define ninguna sucursal ([[branches]]).")

    seen: dict[str, str] = {}  # id -> where it was first used
    branches: list[Branch] = []
    for b_index, raw in enumerate(raw_branches, start=1):
        where, branch_id, name = _entry(
            raw,
            f"la sucursal {b_index}",
            table="[[branches]]",
            keys=_BRANCH_KEYS,
            keys_text="id, name, city, region y [[branches.pos]]",
            seen=seen,
            fail=fail,
        )
        city = raw.get("city")
        if city is not None and (not isinstance(city, str) or not city.strip()):
            raise fail(f"{where} tiene un «city» vacío o que no es texto.")
        if city is not None:
            _check_name(city, where, fail, key="city")
        region = raw.get("region")
        if region is not None:
            region = region_name(_check_name(region, where, fail, key="region"))
        else:
            region = department_of_city(city)
        raw_pos = raw.get("pos")
        if not isinstance(raw_pos, list) or not raw_pos:
            raise fail(f"{where} no tiene puntos de venta ([[branches.pos]]).")
        pos_list: list[PointOfSale] = []
        for p_index, rp in enumerate(raw_pos, start=1):
            _, pos_id, pos_name = _entry(
                rp,
                f"el punto de venta {p_index}",
                of=f" de {where}",
                table="[[branches.pos]]",
                keys=_POS_KEYS,
                keys_text="id y name",
                seen=seen,
                fail=fail,
            )
            pos_list.append(PointOfSale(id=pos_id, name=pos_name, branch_id=branch_id))
        branches.append(Branch(id=branch_id, name=name, city=city.strip() if city else None, region=region, pos=tuple(pos_list)))
    return Inventory(branches=tuple(branches))


def _entry(
    raw: Any,
    label: str,
    *,
    of: str = "",
    table: str,
    keys: set[str],
    keys_text: str,
    seen: dict[str, str],
    fail: Callable[[str], InventoryError],
) -> tuple[str, str, str]:
    """What a branch and a POS are both checked for: a table with known keys, a unique UUID and a name.

    Messages name the entry as ``label``, its name once known and ``of`` (the branch of a POS):
    "el punto de venta 2 («Caja 2») de la sucursal 1 («Centro»)". Returns (that text, id, name).
    """
    name = raw.get("name") if isinstance(raw, dict) else None
    named = f" («{_shortened(name.strip())}»)" if isinstance(name, str) and name.strip() else ""
    here = f"{label}{named}{of}"
    if not isinstance(raw, dict):
        raise fail(f"{here} no es una tabla {table}.")
    unknown = set(raw) - keys
    if unknown:
        raise fail(f"{here} tiene claves desconocidas: {_names(unknown)}. Se admiten {keys_text}.")
    return here, _check_id(raw.get("id"), here, seen, fail), _check_name(raw.get("name"), here, fail)


def _check_id(value: Any, where: str, seen: dict[str, str], fail: Callable[[str], InventoryError]) -> str:
    if value is None:
        raise fail(f"{where} no tiene «id».")
    if not is_uuid(value):
        raise fail(f"{where} tiene un id que no es un UUID válido: {value!r}.")
    key = value.lower()
    if key in seen:
        raise fail(f"{where} repite el id {value}, ya usado por {seen[key]}.")
    seen[key] = where
    return str(value)


MAX_NAME_LENGTH = 120  # a branch's or POS's name (and a city, a region): what fits a tile, a lane, a table cell


def _check_name(value: Any, where: str, fail: Callable[[str], InventoryError], key: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(f"{where} no tiene «{key}» (un nombre no vacío).")
    if len(value.strip()) > MAX_NAME_LENGTH:
        raise fail(f"{where} tiene un «{key}» de {len(value.strip())} caracteres; el máximo es {MAX_NAME_LENGTH}.")
    return value.strip()


def _shortened(text: str, keep: int = 40) -> str:
    """A name as an error message quotes it: at most ``keep`` characters."""
    return text if len(text) <= keep else f"{text[:keep]}…"


def _names(keys: set[str]) -> str:
    return ", ".join(f"«{k}»" for k in sorted(keys))


def inventory_to_toml(inventory: Inventory) -> str:
    """The inventory in the file format :func:`parse_inventory` reads (for tools and load tests)."""
    lines: list[str] = []
    for branch in inventory.branches:
        lines += ["[[branches]]", f"id = {_toml_str(branch.id)}", f"name = {_toml_str(branch.name)}"]
        if branch.city:
            lines.append(f"city = {_toml_str(branch.city)}")
        if branch.region and branch.region != department_of_city(branch.city):
            lines.append(f"region = {_toml_str(branch.region)}")
        lines.append("")
        for pos in branch.pos:
            lines += ["[[branches.pos]]", f"id = {_toml_str(pos.id)}", f"name = {_toml_str(pos.name)}", ""]
    return "\n".join(lines)


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
