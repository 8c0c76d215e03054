"""In-memory state of the cucu events simulator: inventory, events, faults and counters.

Everything here is synchronous and guarded by one ``threading.Lock``: every operation is a
few dictionary look-ups, so the HTTP layer (``app.py``) may call it from the event loop
without blocking it noticeably. Validation failures are raised as :class:`ApiError`, which
the HTTP layer turns into the error envelope.

Randomness is seeded so the demo is reproducible: one ``random.Random`` builds the seed
data (and keeps producing ids and CUFDs for events started later), another decides which
calls get a fault. ``reset()`` re-creates both from the seed.
"""

from __future__ import annotations

import dataclasses
import hmac
import math
import random
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from cucu.inventory import DEMO_INVENTORY_PATH, is_uuid, load_inventory
from cucu.models import (
    LA_PAZ,
    Branch,
    Inventory,
    Motive,
    PointOfSale,
    format_api_datetime,
    now_la_paz,
)

DEFAULT_API_KEY = "sk_test_demo"
DEFAULT_SEED = 20261124
MAX_DESCRIPTION = 500

NO_ACTIVE_SHAPES = ("null", "404", "success_false")
MALFORMED_KINDS = ("html", "truncated", "no_success")


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An API answer other than success: HTTP status, Spanish message, optional field errors."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


class FaultsError(ValueError):
    """A fault update was refused; ``str(err)`` is a Spanish explanation."""


# --------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class Faults:
    """Run-time switches that make the simulator misbehave like a real, flaky service.

    Rates are shares of API calls in ``[0, 1]``; they are drawn with ``random() < rate``,
    so ``0.0`` never and ``1.0`` always triggers.
    """

    siat_down: bool = False  # check-connection answers false; new events get no SIAT code
    latency_ms: float = 0.0  # added to every API call
    latency_jitter_ms: float = 0.0  # plus uniform [0, jitter]
    error_rate: float = 0.0  # share answered 500 / 502 / 503
    rate_limit_rate: float = 0.0  # share answered 429 + Retry-After
    retry_after_s: int = 1
    timeout_rate: float = 0.0  # share that hang ``hang_s`` seconds
    hang_s: float = 30.0
    hang_after_commit: bool = False  # apply the write first, then hang
    malformed_rate: float = 0.0  # share of successful answers replaced by a non-envelope body
    malformed_kind: str = "rotate"  # "rotate" or one of MALFORMED_KINDS
    reject_key: bool = False  # every API call gets 401, as if the key were revoked
    no_active_shape: str = "null"  # how "no active event" looks: see NO_ACTIVE_SHAPES
    # Empty: faults hit every API call. Else only these routes (names as in stats, e.g.
    # "POST /api/v1/events/start"): e.g. writes that time out while reads still answer.
    fault_routes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "fault_routes": list(self.fault_routes)}  # as JSON carries it

    def updated(self, partial: Mapping[str, Any]) -> "Faults":
        """A copy with ``partial`` applied; all fields are checked before anything changes."""
        if not isinstance(partial, Mapping):
            raise FaultsError("Las fallas se envían como un objeto JSON, p. ej. {\"siat_down\": true}.")
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(partial) - set(known))
        if unknown:
            raise FaultsError(
                f"Campo(s) desconocido(s): {', '.join(unknown)}. Campos válidos: {', '.join(known)}."
            )
        changes = {name: _check_fault(name, value) for name, value in partial.items()}
        return dataclasses.replace(self, **changes)


_RATE_FIELDS = {"error_rate", "rate_limit_rate", "timeout_rate", "malformed_rate"}
_NON_NEGATIVE_FIELDS = {"latency_ms", "latency_jitter_ms", "hang_s"}
_BOOL_FIELDS = {"siat_down", "hang_after_commit", "reject_key"}


def _check_fault(name: str, value: Any) -> Any:
    if name in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise FaultsError(f"«{name}» debe ser true o false.")
        return value
    if name in _RATE_FIELDS or name in _NON_NEGATIVE_FIELDS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise FaultsError(f"«{name}» debe ser un número.")
        if value < 0:
            raise FaultsError(f"«{name}» no puede ser negativo.")
        if name in _RATE_FIELDS and value > 1:
            raise FaultsError(f"«{name}» es una proporción entre 0 y 1.")
        return float(value)
    if name == "retry_after_s":
        # Retry-After carries whole seconds.
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FaultsError("«retry_after_s» debe ser un entero de segundos (0 o más).")
        return value
    if name == "no_active_shape":
        if value not in NO_ACTIVE_SHAPES:
            raise FaultsError(f"«no_active_shape» debe ser uno de: {', '.join(NO_ACTIVE_SHAPES)}.")
        return value
    if name == "fault_routes":
        if not isinstance(value, (list, tuple)) or not all(isinstance(r, str) and r in API_ROUTES for r in value):
            raise FaultsError(f"«fault_routes» es una lista con algunas de: {', '.join(API_ROUTES)}.")
        return tuple(value)
    if name == "malformed_kind":
        if value != "rotate" and value not in MALFORMED_KINDS:
            raise FaultsError(f"«malformed_kind» debe ser «rotate» o uno de: {', '.join(MALFORMED_KINDS)}.")
        return value
    raise FaultsError(f"Campo desconocido: {name}.")  # pragma: no cover - guarded by updated()


API_ROUTES = (
    "POST /api/v1/events/start",
    "POST /api/v1/events/end",
    "POST /api/v1/events",
    "GET /api/v1/events/active/{posId}",
    "GET /api/v1/events/check-connection",
)


@dataclass(frozen=True)
class FaultPlan:
    """What the faults decided for one API call (drawn once, at the start of the call)."""

    latency_s: float = 0.0
    reject_key: bool = False
    rate_limited: bool = False
    retry_after_s: int = 1
    error_status: int | None = None  # 500 / 502 / 503
    error_body: str = "json"  # "json", "html" or "text"
    hang_s: float | None = None
    hang_after_commit: bool = False
    malformed: bool = False


# --------------------------------------------------------------------------- events


@dataclass
class _Event:
    id: str
    pos_id: str
    branch_id: str
    codigo_motivo: int
    descripcion: str
    fecha_inicio: datetime
    fecha_fin: datetime | None
    cufd_evento: str
    codigo_evento_siat: int | None
    created_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "posId": self.pos_id,
            "branchId": self.branch_id,
            "codigoMotivo": self.codigo_motivo,
            "descripcionMotivo": Motive(self.codigo_motivo).label,
            "descripcion": self.descripcion,
            "fechaInicio": format_api_datetime(self.fecha_inicio),
            "fechaFin": format_api_datetime(self.fecha_fin) if self.fecha_fin else None,
            "cufdEvento": self.cufd_evento,
            "codigoEventoSiat": self.codigo_evento_siat,
            "finalizado": self.fecha_fin is not None,
            "createdAt": format_api_datetime(self.created_at),
        }


# Seed texts, as a cashier would type them.
_DESCRIPTIONS: dict[int, tuple[str, ...]] = {
    1: (
        "Sin conexión a internet en la sucursal",
        "Corte del proveedor de internet (fibra)",
        "Router sin señal, se llamó al proveedor",
        "Caída del enlace de datos",
    ),
    2: (
        "SIAT no responde a verificarComunicacion",
        "Servicio web de Impuestos fuera de línea",
        "Tiempo de espera agotado al enviar facturas a SIAT",
        "Impuestos Nacionales en mantenimiento",
    ),
    3: (
        "Equipo de caja infectado, en revisión por soporte",
        "El antivirus bloqueó el sistema de facturación",
    ),
    4: (
        "Corte de energía eléctrica",
        "Cambio de equipo de caja",
        "Venta en feria fuera de la sucursal",
    ),
}
_MOTIVE_WEIGHTS = ((1, 45), (2, 35), (3, 7), (4, 13))  # outages and SIAT failures dominate
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_HEX = "0123456789ABCDEF"
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GAP = timedelta(minutes=5)  # minimum pause between two events of one POS in the seed


def _cufd(rng: random.Random) -> str:
    """An opaque, CUFD-looking code: uppercase base32 then hex, 48 characters."""
    return "BQ" + "".join(rng.choice(_BASE32) for _ in range(30)) + "".join(rng.choice(_HEX) for _ in range(16))


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _seed_duration(rng: random.Random) -> timedelta:
    # Log-uniform between 10 min and 8 h: most events are short, a few last a shift.
    return timedelta(minutes=10 * 48 ** rng.random())


# --------------------------------------------------------------------------- inventory


_SYNTHETIC_NS = uuid.UUID("5f1d0c2e-8a4b-4c37-9d6e-2b7a1c0e9f11")
_CITIES = ("La Paz", "El Alto", "Cochabamba", "Santa Cruz", "Oruro", "Potosí", "Sucre", "Tarija", "Trinidad", "Cobija")


def synthetic_inventory(branches: int, pos_per_branch: int) -> Inventory:
    """A large inventory for load tests; UUIDs are derived from the indices, so stable."""
    if branches < 1 or pos_per_branch < 1:
        raise ValueError("Se necesita al menos una sucursal y un punto de venta por sucursal.")
    result = []
    for b in range(1, branches + 1):
        branch_id = str(uuid.uuid5(_SYNTHETIC_NS, f"branch-{b}"))
        pos = tuple(
            PointOfSale(id=str(uuid.uuid5(_SYNTHETIC_NS, f"branch-{b}/pos-{p}")), name=f"Caja {p}", branch_id=branch_id)
            for p in range(1, pos_per_branch + 1)
        )
        result.append(Branch(id=branch_id, name=f"Sucursal {b:03d}", pos=pos, city=_CITIES[(b - 1) % len(_CITIES)]))
    return Inventory(branches=tuple(result))


# --------------------------------------------------------------------------- simulator


class Simulator:
    """The cucu events service in memory. Thread-safe.

    ``history_days`` and ``active_share`` shape the seed: use ``history_days=0,
    active_share=0`` for an empty slate. ``faults`` are the initial faults, restored by
    :meth:`reset`.
    """

    def __init__(
        self,
        inventory: Inventory | None = None,
        api_key: str = DEFAULT_API_KEY,
        seed: int = DEFAULT_SEED,
        now: Callable[[], datetime] = now_la_paz,
        *,
        history_days: int = 14,
        active_share: float = 0.25,
        faults: Faults | None = None,
    ):
        if history_days < 0 or not 0 <= active_share <= 1:
            raise ValueError("history_days debe ser >= 0 y active_share estar entre 0 y 1.")
        self.inventory = inventory if inventory is not None else load_inventory(DEMO_INVENTORY_PATH)
        self.api_key = api_key
        self.seed = seed
        self.history_days = history_days
        self.active_share = active_share
        self._now = now
        self._initial_faults = faults or Faults()
        self._lock = threading.Lock()
        self._in_flight = 0
        # Case-insensitive look-ups; answers use the inventory's own spelling.
        self._branches = {b.id.lower(): b for b in self.inventory.branches}
        self._pos = {p.id.lower(): p for p in self.inventory.all_pos}
        with self._lock:
            self._reset_locked()

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        """Current La Paz time, whole seconds (the API has no sub-second precision)."""
        return self._now().astimezone(LA_PAZ).replace(microsecond=0)

    # ------------------------------------------------------------------ reset and seed

    def reset(self) -> None:
        """Back to the seeded state: data, faults, random generators and counters."""
        with self._lock:
            self._reset_locked()

    def _reset_locked(self) -> None:
        self._faults = self._initial_faults
        self._fault_rng = random.Random(f"faults:{self.seed}")
        self._malformed_counter = 0
        self._data_rng = random.Random(f"data:{self.seed}")
        self._events: dict[str, _Event] = {}
        self._by_pos: dict[str, list[_Event]] = {p.id: [] for p in self.inventory.all_pos}
        self._active: dict[str, _Event] = {}
        self._next_siat_code = self._data_rng.randint(1_200_000, 1_900_000)
        self._reset_stats_locked()
        self._seed_locked()

    def _seed_locked(self) -> None:
        rng = self._data_rng
        now = self.now()
        pos_list = list(self.inventory.all_pos)
        # Busy intervals per POS; an open event counts as busy until the end of time.
        busy: dict[str, list[tuple[datetime, datetime]]] = {p.id: [] for p in pos_list}
        forever = now + timedelta(days=3650)
        planned: list[tuple[PointOfSale, datetime, datetime | None]] = []

        def free(pos: PointOfSale, start: datetime, end: datetime) -> bool:
            return all(end + _GAP <= s or e + _GAP <= start for s, e in busy[pos.id])

        def place(pos: PointOfSale, start: datetime, end: datetime | None) -> None:
            busy[pos.id].append((start, end or forever))
            planned.append((pos, start, end))

        # 1) About a quarter of the POS are in contingency now; the first one for more than a day.
        n_active = 0
        if pos_list and self.active_share > 0:
            n_active = min(len(pos_list), max(1, round(len(pos_list) * self.active_share)))
        for i, pos in enumerate(rng.sample(pos_list, n_active)):
            if i == 0:
                start = now - timedelta(hours=rng.uniform(26, 60))
            else:
                start = now - timedelta(minutes=rng.uniform(5, 6 * 60))
            place(pos, start.replace(microsecond=0), None)

        if self.history_days > 0:
            # 2) A few events ended within the last 48 h: the ones a supervisor must get registered.
            n_recent = max(2, len(pos_list) // 6)
            recent = 0
            for pos in rng.sample(pos_list, len(pos_list)):
                if recent >= n_recent:
                    break
                for _ in range(10):
                    end = now - timedelta(minutes=rng.uniform(20, 47 * 60))
                    start = end - _seed_duration(rng)
                    if free(pos, start, end):
                        place(pos, start.replace(microsecond=0), end.replace(microsecond=0))
                        recent += 1
                        break

            # 3) Past history: per POS and week, 0-3 events placed where they fit.
            origin = now - timedelta(days=self.history_days)
            for pos in pos_list:
                for week in range(math.ceil(self.history_days / 7)):
                    w_start = origin + timedelta(days=7 * week)
                    w_end = min(w_start + timedelta(days=7), now - _GAP)
                    count = rng.choices((0, 1, 2, 3), weights=(2, 4, 3, 1))[0]
                    for _ in range(count):
                        for _ in range(10):
                            duration = _seed_duration(rng)
                            span = (w_end - duration - w_start).total_seconds()
                            if span <= 0:
                                continue
                            start = w_start + timedelta(seconds=rng.uniform(0, span))
                            end = start + duration
                            if free(pos, start, end):
                                place(pos, start.replace(microsecond=0), end.replace(microsecond=0))
                                break

        # Materialise oldest first, so SIAT codes grow with time as they would.
        planned.sort(key=lambda item: item[1])
        for pos, start, end in planned:
            motive = rng.choices([m for m, _ in _MOTIVE_WEIGHTS], weights=[w for _, w in _MOTIVE_WEIGHTS])[0]
            # An open "Falla SIAT" event was started while SIAT was down: no SIAT code yet.
            siat_code = None if (end is None and motive == Motive.FALLA_SIAT) else self._take_siat_code()
            self._store(
                _Event(
                    id=_uuid4(rng),
                    pos_id=pos.id,
                    branch_id=pos.branch_id,
                    codigo_motivo=motive,
                    descripcion=rng.choice(_DESCRIPTIONS[motive]),
                    fecha_inicio=start,
                    fecha_fin=end,
                    cufd_evento=_cufd(rng),
                    codigo_evento_siat=siat_code,
                    created_at=start,
                )
            )

    def _take_siat_code(self) -> int:
        code = self._next_siat_code
        self._next_siat_code += self._data_rng.randint(1, 40)  # other taxpayers register events too
        return code

    def _store(self, event: _Event) -> None:
        self._events[event.id] = event
        self._by_pos[event.pos_id].append(event)
        if event.fecha_fin is None:
            self._active[event.pos_id] = event

    # ------------------------------------------------------------------ faults

    @property
    def faults(self) -> Faults:
        return self._faults

    def update_faults(self, partial: Mapping[str, Any]) -> Faults:
        """Apply a partial update atomically; raises :class:`FaultsError` and changes nothing on error."""
        with self._lock:
            self._faults = self._faults.updated(partial)
            return self._faults

    def plan_call(self, route: str) -> FaultPlan:
        """Count one API call and draw its faults. Called once at the start of every API call."""
        with self._lock:
            self._stats_total += 1
            self._in_flight += 1
            self._stats_routes[route] = self._stats_routes.get(route, 0) + 1
            f = self._faults
            rng = self._fault_rng
            # Always draw the same numbers, so one rate does not shift the others' sequence.
            jitter, r_limit, r_error, r_hang, r_malformed, pick = (rng.random() for _ in range(6))
            error_status = None
            error_body = "json"
            if f.fault_routes and route not in f.fault_routes:  # only latency for the other routes
                return FaultPlan(latency_s=(f.latency_ms + jitter * f.latency_jitter_ms) / 1000)
            if r_error < f.error_rate:
                error_status = (500, 502, 503)[int(pick * 3)]
                # A 502 comes from the proxy (HTML); a 503 sometimes from a load balancer (text).
                error_body = {500: "json", 502: "html", 503: "text" if pick > 5 / 6 else "json"}[error_status]
            return FaultPlan(
                latency_s=(f.latency_ms + jitter * f.latency_jitter_ms) / 1000,
                reject_key=f.reject_key,
                rate_limited=r_limit < f.rate_limit_rate,
                retry_after_s=f.retry_after_s,
                error_status=error_status,
                error_body=error_body,
                hang_s=f.hang_s if r_hang < f.timeout_rate else None,
                hang_after_commit=f.hang_after_commit,
                malformed=r_malformed < f.malformed_rate,
            )

    def next_malformed_kind(self) -> str:
        with self._lock:
            kind = self._faults.malformed_kind
            if kind == "rotate":
                kind = MALFORMED_KINDS[self._malformed_counter % len(MALFORMED_KINDS)]
                self._malformed_counter += 1
            return kind

    # ------------------------------------------------------------------ stats

    def record_status(self, status: int) -> None:
        """Count an API call's answer; pairs with :meth:`plan_call`."""
        with self._lock:
            self._in_flight -= 1
            key = str(status)
            self._stats_status[key] = self._stats_status.get(key, 0) + 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._stats_total,
                "by_route": dict(self._stats_routes),
                "by_status": dict(self._stats_status),
                # A gauge, not a counter: calls still being answered (hanging ones included).
                "in_flight": self._in_flight,
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._reset_stats_locked()

    def _reset_stats_locked(self) -> None:
        self._stats_total = 0  # in_flight is a gauge: calls started before a reset still end after it
        self._stats_routes: dict[str, int] = {}
        self._stats_status: dict[str, int] = {}

    # ------------------------------------------------------------------ the API

    def check_key(self, key: str | None) -> None:
        if not key:
            raise ApiError(401, "Falta la cabecera X-API-Key.")
        if self._faults.reject_key or not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise ApiError(401, "API key inválida o revocada.")

    def siat_up(self) -> bool:
        return not self._faults.siat_down

    def start_event(self, body: Any) -> dict[str, Any]:
        data = _require_object(body)
        errors = _check_ids(data, ("posId", "branchId"))
        motive = data.get("codigoMotivo")
        if motive is None:
            errors.append("codigoMotivo: es obligatorio.")
        elif isinstance(motive, bool) or not isinstance(motive, int):
            errors.append("codigoMotivo: debe ser un número entero.")
        elif motive not in tuple(Motive):
            errors.append("codigoMotivo: debe ser 1, 2, 3 o 4.")
        text = data.get("descripcion")
        if text is None:
            errors.append("descripcion: es obligatoria.")
        elif not isinstance(text, str):
            errors.append("descripcion: debe ser texto.")
        elif not text.strip():
            errors.append("descripcion: no puede estar vacía.")
        elif len(text.strip()) > MAX_DESCRIPTION:
            errors.append(f"descripcion: admite como máximo {MAX_DESCRIPTION} caracteres.")
        _raise_validation(errors)
        with self._lock:
            pos = self._locate_pos(data["posId"], data["branchId"])
            current = self._active.get(pos.id)
            if current is not None:
                raise ApiError(
                    409,
                    f"El punto de venta «{pos.name}» ya tiene un evento activo ({current.id}); finalícelo antes de iniciar otro.",
                )
            now = self.now()
            event = _Event(
                id=_uuid4(self._data_rng),
                pos_id=pos.id,
                branch_id=pos.branch_id,
                codigo_motivo=motive,
                descripcion=text.strip(),
                fecha_inicio=now,
                fecha_fin=None,
                cufd_evento=_cufd(self._data_rng),
                codigo_evento_siat=None if self._faults.siat_down else self._take_siat_code(),
                created_at=now,
            )
            self._store(event)
            return event.to_api()

    def end_event(self, body: Any) -> dict[str, Any]:
        data = _require_object(body)
        _raise_validation(_check_ids(data, ("posId", "branchId", "eventoId")))
        with self._lock:
            pos = self._locate_pos(data["posId"], data["branchId"])
            event = self._events.get(data["eventoId"].lower())
            if event is None:
                raise ApiError(404, f"No existe el evento {data['eventoId']}.")
            if event.pos_id != pos.id:
                raise ApiError(404, f"El evento {event.id} no pertenece al punto de venta «{pos.name}».")
            if event.fecha_fin is not None:
                raise ApiError(409, f"El evento {event.id} ya fue finalizado el {format_api_datetime(event.fecha_fin)}.")
            event.fecha_fin = max(self.now(), event.fecha_inicio)
            # Registered with SIAT at the end if it could not be at the start (and SIAT is back).
            if event.codigo_evento_siat is None and not self._faults.siat_down:
                event.codigo_evento_siat = self._take_siat_code()
            self._active.pop(event.pos_id, None)
            return event.to_api()

    def events_on_date(self, body: Any) -> list[dict[str, Any]]:
        data = _require_object(body)
        errors = _check_ids(data, ("posId", "branchId"))
        day = data.get("fechaEvento")
        parsed: date | None = None
        if day is None:
            errors.append("fechaEvento: es obligatoria.")
        elif not isinstance(day, str) or not _DATE_RE.fullmatch(day):
            errors.append("fechaEvento: debe tener el formato AAAA-MM-DD.")
        else:
            try:
                parsed = date.fromisoformat(day)
            except ValueError:
                errors.append(f"fechaEvento: {day} no es una fecha válida.")
        _raise_validation(errors)
        with self._lock:
            pos = self._locate_pos(data["posId"], data["branchId"])
            found = [e for e in self._by_pos[pos.id] if e.fecha_inicio.astimezone(LA_PAZ).date() == parsed]
            found.sort(key=lambda e: e.fecha_inicio)
            return [e.to_api() for e in found]

    def active_event(self, pos_id: str) -> dict[str, Any] | None:
        if not is_uuid(pos_id):
            raise ApiError(400, "posId: no es un UUID válido.", ["posId: no es un UUID válido."])
        with self._lock:
            pos = self._pos.get(pos_id.lower())
            if pos is None:
                raise ApiError(404, f"No existe el punto de venta {pos_id}.")
            event = self._active.get(pos.id)
            return event.to_api() if event else None

    def _locate_pos(self, pos_id: str, branch_id: str) -> PointOfSale:
        branch = self._branches.get(branch_id.lower())
        if branch is None:
            raise ApiError(404, f"No existe la sucursal {branch_id}.")
        pos = self._pos.get(pos_id.lower())
        if pos is None:
            raise ApiError(404, f"No existe el punto de venta {pos_id}.")
        if pos.branch_id != branch.id:
            raise ApiError(404, f"El punto de venta «{pos.name}» no pertenece a la sucursal «{branch.name}».")
        return pos

    # ------------------------------------------------------------------ inspection (tests, demo)

    def connectivity_history(self, interval: timedelta = timedelta(minutes=5)) -> list[tuple[datetime, bool, float]]:
        """What a collector would have recorded over the seeded history: ``(when, siat_ok, latency_ms)``.

        SIAT was down while the seed's ended "Falla SIAT" events were open, so the demo's
        Conectividad page and its Historial tell one story. Deterministic for a seed.
        """
        with self._lock:
            outages = [
                (e.fecha_inicio, e.fecha_fin)
                for e in self._events.values()
                if e.codigo_motivo == Motive.FALLA_SIAT and e.fecha_fin is not None
            ]
        rng = random.Random(f"connectivity:{self.seed}")
        now = self.now()
        when = now - timedelta(days=self.history_days)
        history = []
        while when < now - interval:
            down = any(start <= when < end for start, end in outages)
            history.append((when, not down, round(max(20.0, rng.gauss(120, 35)), 1)))
            when += interval
        return history

    def events(self, pos_id: str | None = None) -> list[dict[str, Any]]:
        """All events (or one POS's), oldest first, in the API's JSON shape."""
        with self._lock:
            source: Iterable[_Event] = self._by_pos.get(pos_id, []) if pos_id else self._events.values()
            return [e.to_api() for e in sorted(source, key=lambda e: e.fecha_inicio)]


# --------------------------------------------------------------------------- validation helpers


def _require_object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise ApiError(400, "El cuerpo de la solicitud debe ser un objeto JSON.", ["body: se esperaba un objeto JSON."])
    return body


def _check_ids(data: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    errors = []
    for name in names:
        value = data.get(name)
        if value is None or value == "":
            errors.append(f"{name}: es obligatorio.")
        elif not is_uuid(value):
            errors.append(f"{name}: no es un UUID válido.")
    return errors


def _raise_validation(errors: list[str]) -> None:
    if errors:
        raise ApiError(400, "Datos inválidos: " + "; ".join(errors), errors)
