"""Typed models of the cucu events API and of the operator's inventory.

Times inside the program are always timezone-aware. The API sends local La Paz times
without an offset (``fechaInicio``, ``createdAt``); :func:`parse_api_datetime` attaches
the zone, and converts values that do carry an offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from cucu.lapaz import LA_PAZ, to_la_paz
from cucu.vocabulary import Motive


def parse_api_datetime(value: Any) -> datetime | None:
    """Parse an API timestamp into an aware La Paz datetime; ``None`` for empty values.

    Raises ``ValueError`` for text that is not an ISO-8601 date-time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    else:
        raise ValueError(f"fecha no reconocida: {value!r}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=LA_PAZ)
    return to_la_paz(parsed)


def format_api_datetime(value: datetime) -> str:
    """The API's own format: La Paz local time without offset."""
    return to_la_paz(value).replace(tzinfo=None).isoformat(timespec="seconds")


def motive_label(code: int | None, api_description: str | None = None) -> str:
    """The API's own ``descripcionMotivo`` where given, else our Spanish name for the code."""
    if api_description:
        return api_description
    if code is None:
        return "Motivo desconocido"
    try:
        return Motive(code).label
    except ValueError:
        return f"Motivo {code}"


@dataclass(frozen=True)
class Event:
    """A contingency event (evento significativo) as the API returns it."""

    id: str
    pos_id: str
    codigo_motivo: int | None
    descripcion_motivo: str | None
    fecha_inicio: datetime | None
    fecha_fin: datetime | None
    cufd_evento: str | None
    codigo_evento_siat: str | None
    finalizado: bool
    created_at: datetime | None
    descripcion: str | None = None
    branch_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def active(self) -> bool:
        return not self.finalizado and self.fecha_fin is None

    @property
    def motive_text(self) -> str:
        return motive_label(self.codigo_motivo, self.descripcion_motivo)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Event:
        """Build from the API's JSON object. Raises ``ValueError`` when it is not an event."""
        if not isinstance(data, Mapping):
            raise ValueError("el evento no es un objeto JSON")
        event_id = data.get("id")
        if event_id in (None, ""):
            raise ValueError("el evento no tiene id")
        codigo = data.get("codigoMotivo")
        try:
            codigo = int(codigo) if codigo is not None else None
        except (TypeError, ValueError):
            raise ValueError(f"codigoMotivo no es un número: {codigo!r}") from None
        fecha_fin = parse_api_datetime(data.get("fechaFin"))
        finalizado = data.get("finalizado")
        if finalizado is None:
            finalizado = fecha_fin is not None
        siat = data.get("codigoEventoSiat")
        return cls(
            id=str(event_id),
            pos_id=str(data.get("posId") or ""),
            codigo_motivo=codigo,
            descripcion_motivo=data.get("descripcionMotivo") or None,
            fecha_inicio=parse_api_datetime(data.get("fechaInicio")),
            fecha_fin=fecha_fin,
            cufd_evento=data.get("cufdEvento") or None,
            codigo_evento_siat=str(siat) if siat not in (None, "") else None,
            finalizado=bool(finalizado),
            created_at=parse_api_datetime(data.get("createdAt")),
            descripcion=data.get("descripcion") or None,
            branch_id=data.get("branchId") or None,
            raw=dict(data),
        )


@dataclass(frozen=True)
class PointOfSale:
    id: str
    name: str
    branch_id: str


@dataclass(frozen=True)
class Branch:
    id: str
    name: str
    pos: tuple[PointOfSale, ...]
    city: str | None = None


@dataclass(frozen=True)
class Inventory:
    """The operator's branches and points of sale (the API has no endpoint that lists them)."""

    branches: tuple[Branch, ...]

    @cached_property
    def all_pos(self) -> tuple[PointOfSale, ...]:
        return tuple(p for b in self.branches for p in b.pos)

    @cached_property
    def _branch_by_id(self) -> dict[str, Branch]:
        return {b.id: b for b in self.branches}

    @cached_property
    def _pos_by_id(self) -> dict[str, PointOfSale]:
        return {p.id: p for p in self.all_pos}

    def branch(self, branch_id: str) -> Branch:
        """Raises ``KeyError`` for an id that is not in the inventory."""
        return self._branch_by_id[branch_id]

    def pos(self, pos_id: str) -> PointOfSale:
        """Raises ``KeyError`` for an id that is not in the inventory."""
        return self._pos_by_id[pos_id]
