"""Typed models of the cucu events API and of the operator's inventory.

Times inside the program are always timezone-aware. The API sends local La Paz times
without an offset (``fechaInicio``, ``createdAt``); :func:`parse_api_datetime` attaches
the zone, and converts values that do carry an offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from cucu.lapaz import LA_PAZ, to_la_paz
from cucu.vocabulary import InvoiceState, Motive

# What an event's fields may be. cucu is another party's service: its data is checked where it enters,
# so odd values become one documented error (``ValueError`` here, ``CucuBadResponseError`` at the client)
# instead of an ``OverflowError`` or a ``TypeError`` deep inside a page. Identifiers and codes that are too
# long are refused (a cut id names another event, a cut CUFD is a wrong one); free text is cut for display.
REGISTRATION_WINDOW = timedelta(hours=48)  # SIAT: an event, and its offline invoices, within 48 h after it ends
MAX_ID_LENGTH = 64  # id, posId, branchId: UUIDs are 36 characters
MAX_CODE_LENGTH = 200  # cufdEvento, codigoEventoSiat: a CUFD is about 60 characters
MAX_TEXT_LENGTH = 500  # descripcionMotivo, descripcion: cucu's own limit for a description
MAX_MOTIVE_CODE = 999  # cucu's codes are 1-4 and SIAT's 1-7; an unknown code in range shows as "Motivo N"
MAX_DATETIME_LENGTH = 40  # "2026-11-24T08:15:00.123456-04:00" is 32
# Events are years of today: anything else is a broken value, and outside pandas' nanosecond range
# (1677-2262) it would break every frame built from it.
MIN_YEAR, MAX_YEAR = 2000, 2100
ELLIPSIS = "…"


def parse_api_datetime(value: Any) -> datetime | None:
    """Parse an API timestamp into an aware La Paz datetime; ``None`` for empty values.

    Raises ``ValueError`` for anything but an ISO-8601 date-time text between ``MIN_YEAR`` and ``MAX_YEAR``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        if len(value) > MAX_DATETIME_LENGTH:
            raise ValueError(f"fecha no reconocida: un texto de {len(value)} caracteres")
        try:
            parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError:
            raise ValueError(f"fecha no reconocida: {value!r}") from None
    else:
        raise ValueError(f"fecha no reconocida: un valor de tipo {type(value).__name__}")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(f"fecha fuera de rango: año {parsed.year}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=LA_PAZ)
    return to_la_paz(parsed)


def clip_text(text: str, limit: int = MAX_TEXT_LENGTH) -> str:
    """``text`` cut to at most ``limit`` characters, the cut marked with an ellipsis (idempotent)."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


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
        """Build from the API's JSON object. Raises ``ValueError`` when it is not an event (a wrong type,
        an out-of-range number or date, an over-long id): never ``TypeError`` or ``OverflowError``."""
        if not isinstance(data, Mapping):
            raise ValueError("el evento no es un objeto JSON")
        event_id = _identifier(data, "id", MAX_ID_LENGTH)
        if event_id is None:
            raise ValueError("el evento no tiene id")
        codigo = data.get("codigoMotivo")
        if codigo is not None and (isinstance(codigo, bool) or not isinstance(codigo, int)):
            raise ValueError(f"codigoMotivo no es un número entero: llegó {type(codigo).__name__}")
        if codigo is not None and not 0 <= codigo <= MAX_MOTIVE_CODE:
            raise ValueError(f"codigoMotivo fuera de rango (0 a {MAX_MOTIVE_CODE})")
        fecha_fin = _datetime(data, "fechaFin")
        finalizado = data.get("finalizado")
        if finalizado is None:
            finalizado = fecha_fin is not None
        elif not isinstance(finalizado, bool):
            raise ValueError(f"finalizado no es true ni false: llegó {type(finalizado).__name__}")
        descripcion_motivo = _text(data, "descripcionMotivo")
        descripcion = _text(data, "descripcion")
        # What the store keeps and reads back: the fields above, texts as cut, nothing else cucu sent.
        raw = {key: data[key] for key in API_FIELDS if key in data}
        raw.update({k: v for k, v in (("descripcionMotivo", descripcion_motivo), ("descripcion", descripcion)) if k in raw})
        return cls(
            id=event_id,
            pos_id=_identifier(data, "posId", MAX_ID_LENGTH, numbers=False) or "",
            codigo_motivo=codigo,
            descripcion_motivo=descripcion_motivo,
            fecha_inicio=_datetime(data, "fechaInicio"),
            fecha_fin=fecha_fin,
            cufd_evento=_identifier(data, "cufdEvento", MAX_CODE_LENGTH, numbers=False),
            codigo_evento_siat=_identifier(data, "codigoEventoSiat", MAX_CODE_LENGTH),
            finalizado=finalizado,
            created_at=_datetime(data, "createdAt"),
            descripcion=descripcion,
            branch_id=_identifier(data, "branchId", MAX_ID_LENGTH, numbers=False),
            raw=raw,
        )


API_FIELDS = (
    "id",
    "posId",
    "branchId",
    "codigoMotivo",
    "descripcionMotivo",
    "descripcion",
    "fechaInicio",
    "fechaFin",
    "cufdEvento",
    "codigoEventoSiat",
    "finalizado",
    "createdAt",
)


def _identifier(data: Mapping[str, Any], key: str, limit: int, *, numbers: bool = True) -> str | None:
    """A text (or, where ``numbers``, a non-negative JSON integer) of at most ``limit`` characters;
    ``None`` when absent or empty."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        # bit_length first: str() of an int beyond 4300 digits raises, and such a number is no code anyway.
        if value < 0 or value.bit_length() > 3.33 * limit:
            raise ValueError(f"{key} fuera de rango")
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{key} no es un texto: llegó {type(value).__name__}")
    if len(value) > limit:
        raise ValueError(f"{key} demasiado largo: {len(value)} caracteres (máximo {limit})")
    return value


def _text(data: Mapping[str, Any], key: str) -> str | None:
    """Free text, cut to ``MAX_TEXT_LENGTH``; ``None`` when absent or empty."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} no es un texto: llegó {type(value).__name__}")
    return clip_text(value)


def _datetime(data: Mapping[str, Any], key: str) -> datetime | None:
    try:
        return parse_api_datetime(data.get(key))
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


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
    # Its region (``cucu.organization.regions``): the inventory's, else its city's department; None when neither is known.
    region: str | None = None


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
    def branch_ids(self) -> frozenset[str]:
        return frozenset(self._branch_by_id)

    @cached_property
    def pos_ids(self) -> frozenset[str]:
        return frozenset(self._pos_by_id)

    @cached_property
    def lower_pos_ids(self) -> frozenset[str]:
        """Its POS ids in lower case: cucu's invoice list writes them in any case."""
        return frozenset(p.lower() for p in self._pos_by_id)

    @cached_property
    def _pos_by_id(self) -> dict[str, PointOfSale]:
        return {p.id: p for p in self.all_pos}

    @cached_property
    def derived(self) -> dict[str, Any]:
        """Values other modules derive from this inventory alone (its branch labels, its POS labels), kept
        with it since it never changes: a chain's 1 000 branches were labelled again at every page run."""
        return {}

    def branch(self, branch_id: str) -> Branch:
        """Raises ``KeyError`` for an id that is not in the inventory."""
        return self._branch_by_id[branch_id]

    def pos(self, pos_id: str) -> PointOfSale:
        """Raises ``KeyError`` for an id that is not in the inventory."""
        return self._pos_by_id[pos_id]


# ---- CUFD and invoices (``/api/v1/codes/cufd``, ``/api/v1/invoices``) -----------------------------

MAX_PAGE_SIZE = 50  # cucu's limit for GET /api/v1/invoices


@dataclass(frozen=True)
class Cufd:
    """A POS's daily invoicing code: without a valid, active one the POS cannot invoice at all."""

    cufd: str
    codigo_control: str | None
    vigencia: datetime | None  # until when it is valid (La Paz)
    activo: bool

    def valid_at(self, now: datetime) -> bool:
        return self.activo and self.vigencia is not None and self.vigencia > now

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Cufd:
        if not isinstance(data, Mapping):
            raise ValueError("el CUFD no es un objeto JSON")
        code = _identifier(data, "cufd", MAX_CODE_LENGTH, numbers=False)
        if code is None:
            raise ValueError("la respuesta no trae el cufd")
        activo = data.get("activo", True)  # a freshly issued CUFD comes without the flag: it is the active one
        if not isinstance(activo, bool):
            raise ValueError(f"activo no es true ni false: llegó {type(activo).__name__}")
        return cls(code, _identifier(data, "codigoControl", MAX_CODE_LENGTH), _datetime(data, "vigencia"), activo)


@dataclass(frozen=True)
class Invoice:
    """An invoice in cucu's list. ``pos_id`` only when cucu names the POS (undocumented: ``posId`` or
    ``pointOfSaleId``); without it the invoice counts at company level."""

    id: str
    invoice_number: str | None
    cuf: str | None
    state: InvoiceState | str
    pos_id: str | None
    client_name: str | None
    amount_total: float | None
    emission_date: datetime | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Invoice:
        if not isinstance(data, Mapping):
            raise ValueError("la factura no es un objeto JSON")
        invoice_id = _identifier(data, "id", MAX_ID_LENGTH)
        if invoice_id is None:
            raise ValueError("la factura no tiene id")
        amount = data.get("amountTotal")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int | float) or not -1e12 < amount < 1e12):
            raise ValueError("amountTotal no es un importe")
        return cls(
            id=invoice_id,
            invoice_number=_identifier(data, "invoiceNumber", MAX_ID_LENGTH),
            cuf=_identifier(data, "cuf", MAX_CODE_LENGTH, numbers=False),
            state=_state(data),
            pos_id=_identifier(data, "posId", MAX_ID_LENGTH, numbers=False)
            or _identifier(data, "pointOfSaleId", MAX_ID_LENGTH, numbers=False),
            client_name=_text(data, "clientBusinessName"),
            amount_total=float(amount) if amount is not None else None,
            emission_date=_datetime(data, "emissionDate"),
        )


class OverlongPageError(ValueError):
    """A list page with more items than its ``size`` asked for: not an answer cucu gives."""

    def __init__(self, count: int, asked: int):
        super().__init__(f"la página trae {count} facturas y se pidieron a lo sumo {asked}")
        self.count, self.asked = count, asked


@dataclass(frozen=True)
class InvoicePage:
    """One page of ``GET /api/v1/invoices`` (pages from 0, newest ``emissionDate`` first)."""

    items: tuple[Invoice, ...]
    page: int
    size: int
    total_elements: int
    total_pages: int
    first: bool
    last: bool

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, asked: int = MAX_PAGE_SIZE) -> InvoicePage:
        """``asked``: the ``size`` requested; a page holding more items is refused whole, before any is read
        (a hostile answer of thousands of rows a page once put 400 000 rows in the store in 5 rounds)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("content"), list):
            raise ValueError("la página de facturas no trae content")
        if len(data["content"]) > asked:
            raise OverlongPageError(len(data["content"]), asked)
        numbers = {}
        for key in ("page", "size", "totalElements", "totalPages"):
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**9:
                raise ValueError(f"{key} no es un número de página válido")
            numbers[key] = value
        flags = {}
        for key in ("first", "last"):
            value = data.get(key)
            if not isinstance(value, bool):
                raise ValueError(f"{key} no es true ni false")
            flags[key] = value
        return cls(
            items=tuple(Invoice.from_api(item) for item in data["content"]),
            page=numbers["page"],
            size=numbers["size"],
            total_elements=numbers["totalElements"],
            total_pages=numbers["totalPages"],
            **flags,
        )


@dataclass(frozen=True)
class InvoiceStatus:
    """``GET /api/v1/invoices/{id}/status``: where the invoice stands with SIAT."""

    id: str
    invoice_number: str | None
    cuf: str | None
    state: InvoiceState | str
    siat_code: int | None  # e.g. 908 validated, 902 rejected
    siat_description: str | None
    emission_type: str | None  # NORMAL, or offline
    last_checked: datetime | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> InvoiceStatus:
        if not isinstance(data, Mapping):
            raise ValueError("el estado de la factura no es un objeto JSON")
        invoice_id = _identifier(data, "id", MAX_ID_LENGTH)
        if invoice_id is None:
            raise ValueError("el estado no trae el id de la factura")
        code = data.get("siatCode")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 99_999):
            raise ValueError("siatCode no es un código de SIAT")
        return cls(
            id=invoice_id,
            invoice_number=_identifier(data, "invoiceNumber", MAX_ID_LENGTH),
            cuf=_identifier(data, "cuf", MAX_CODE_LENGTH, numbers=False),
            state=_state(data),
            siat_code=code,
            siat_description=_text(data, "siatDescription"),
            emission_type=_identifier(data, "emissionType", MAX_ID_LENGTH, numbers=False),
            last_checked=_datetime(data, "lastChecked"),
        )


def _state(data: Mapping[str, Any]) -> InvoiceState | str:
    raw = _identifier(data, "state", MAX_ID_LENGTH, numbers=False)
    if raw is None:
        raise ValueError("la factura no trae su estado (state)")
    try:
        return InvoiceState(raw.upper())
    except ValueError:
        return raw  # a state this version does not know: shown as it came, never a crash
