"""In-memory state of the cucu events simulator: the API's data, the faults in force, and counters.

Everything here is synchronous and guarded by one ``threading.Lock``: every operation is a
few dictionary look-ups, so the HTTP layer (``app.py``) may call it from the event loop
without blocking it noticeably. Validation failures are raised as :class:`ApiError`, which
the HTTP layer turns into the error envelope.

Randomness is seeded so the demo is reproducible: one ``random.Random`` builds the seed
data (and keeps producing ids and CUFDs for events started later), another decides which
calls get a fault. ``reset()`` re-creates both from the seed.
"""

from __future__ import annotations

import hmac
import random
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from cucu.api.models import Inventory, PointOfSale, format_api_datetime
from cucu.inventory import DEMO_INVENTORY_PATH, is_uuid, load_inventory
from cucu.lapaz import now_la_paz, to_la_paz
from cucu.simulator.faults import MALFORMED_KINDS, FaultPlan, Faults
from cucu.simulator.hostile import HOSTILE_KINDS
from cucu.simulator.invoicing import SimInvoicing
from cucu.simulator.seed import (
    SimEvent,
    check_history,
    plan_seed,
    random_cufd,
    random_uuid,
    seed_description,
    seed_motive,
    siat_story,
)
from cucu.vocabulary import Motive

DEFAULT_API_KEY = "sk_test_demo"
DEFAULT_HISTORY_DAYS = 14
DEFAULT_SEED = 20261124
MAX_DESCRIPTION = 500
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An API answer other than success: HTTP status, Spanish message, optional field errors."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


# --------------------------------------------------------------------------- simulator


class Simulator:
    """The cucu events service in memory. Thread-safe.

    ``history_days`` and ``active_share`` shape the seed: use ``history_days=0,
    active_share=0`` for an empty slate. ``faults`` are the initial faults, restored by
    :meth:`reset`. ``seed_time`` is the instant the data is seeded from (the clock's now by default).
    """

    def __init__(
        self,
        inventory: Inventory | None = None,
        api_key: str = DEFAULT_API_KEY,
        seed: int = DEFAULT_SEED,
        now: Callable[[], datetime] = now_la_paz,
        *,
        history_days: int = DEFAULT_HISTORY_DAYS,
        active_share: float = 0.25,
        faults: Faults | None = None,
        invoices_per_day: int | None = None,
        seed_time: datetime | None = None,
    ):
        if history_days < 0 or not 0 <= active_share <= 1:
            raise ValueError("history_days debe ser >= 0 y active_share estar entre 0 y 1.")
        self.inventory = inventory if inventory is not None else load_inventory(DEMO_INVENTORY_PATH)
        self.api_key = api_key
        self.seed = seed
        self.history_days = history_days
        self.active_share = active_share
        self.invoices_per_day = invoices_per_day  # None: 24 a POS a day, at most 10 000
        self._now = now
        # The instant the data is seeded from (default: the clock at each seed), given by a chain demo's
        # web process, which writes the check history from the same SIAT story (``seed.siat_story``).
        self._seed_time = to_la_paz(seed_time).replace(microsecond=0) if seed_time is not None else None
        self._initial_faults = faults or Faults()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._peak_in_flight = 0
        # Case-insensitive look-ups; answers use the inventory's own spelling.
        self._branches = {b.id.lower(): b for b in self.inventory.branches}
        self._pos = {p.id.lower(): p for p in self.inventory.all_pos}
        with self._lock:
            self._reset_locked()

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        """Current La Paz time, whole seconds (the API has no sub-second precision)."""
        return to_la_paz(self._now()).replace(microsecond=0)

    # ------------------------------------------------------------------ reset and seed

    def reset(self) -> None:
        """Back to the seeded state: data, faults, random generators and counters."""
        with self._lock:
            self._reset_locked()

    def _reset_locked(self) -> None:
        self._faults = self._initial_faults
        self._fault_rng = random.Random(f"faults:{self.seed}")
        self._malformed_counter = 0
        # Its own generator: turning hostile bodies on leaves the draws of every other fault as they were.
        self._hostile_rng = random.Random(f"hostile:{self.seed}")
        self._hostile_counter = 0
        self._data_rng = random.Random(f"data:{self.seed}")
        self._events: dict[str, SimEvent] = {}
        self._by_pos: dict[str, list[SimEvent]] = {p.id: [] for p in self.inventory.all_pos}
        self._active: dict[str, SimEvent] = {}
        self._next_siat_code = self._data_rng.randint(1_200_000, 1_900_000)
        self._reset_stats_locked()
        self._seed_locked()
        self._invoicing = SimInvoicing(
            self.seed,
            [p.id for p in self.inventory.all_pos],
            list(self._events.values()),
            self._seed_time or self.now(),
            invoices_per_day=self.invoices_per_day,
        )

    def _seed_locked(self) -> None:
        rng = self._data_rng
        now = self._seed_time or self.now()
        # SIAT's own story first, from its own generator: the events and the check history follow it.
        self._siat_outages = siat_story(self.seed, now, self.history_days)
        planned = plan_seed(rng, list(self.inventory.all_pos), now, self.history_days, self.active_share, self._siat_outages)
        # Materialise oldest first, so SIAT codes grow with time as they would.
        planned.sort(key=lambda item: item[1])
        for pos, start, end, siat in planned:
            motive = Motive.SIAT_FAILURE if siat else seed_motive(rng)
            # An open "Falla SIAT" event was started while SIAT was down: no SIAT code yet.
            siat_code = None if (end is None and motive == Motive.SIAT_FAILURE) else self._take_siat_code()
            self._store(
                SimEvent(
                    id=random_uuid(rng),
                    pos_id=pos.id,
                    branch_id=pos.branch_id,
                    codigo_motivo=motive,
                    descripcion=seed_description(rng, motive),
                    fecha_inicio=start,
                    fecha_fin=end,
                    cufd_evento=random_cufd(rng),
                    codigo_evento_siat=siat_code,
                    created_at=start,
                )
            )

    def _take_siat_code(self) -> int:
        code = self._next_siat_code
        self._next_siat_code += self._data_rng.randint(1, 40)  # other taxpayers register events too
        return code

    def _store(self, event: SimEvent) -> None:
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
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
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
                late_write_s=f.late_write_s,
                malformed=r_malformed < f.malformed_rate,
                hostile=f.hostile_rate > 0 and self._hostile_rng.random() < f.hostile_rate,
            )

    def next_malformed_kind(self) -> str:
        with self._lock:
            kind = self._faults.malformed_kind
            if kind == "rotate":
                kind = MALFORMED_KINDS[self._malformed_counter % len(MALFORMED_KINDS)]
                self._malformed_counter += 1
            return kind

    def next_hostile_kind(self) -> str:
        with self._lock:
            kind = self._faults.hostile_kind
            if kind == "rotate":
                kind = HOSTILE_KINDS[self._hostile_counter % len(HOSTILE_KINDS)]
                self._hostile_counter += 1
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
                # The most calls answered at once since the last reset: what a client's concurrency reached.
                "peak_in_flight": self._peak_in_flight,
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._reset_stats_locked()

    def _reset_stats_locked(self) -> None:
        self._stats_total = 0  # in_flight is a gauge: calls started before a reset still end after it
        self._peak_in_flight = self._in_flight
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
        assert isinstance(motive, int) and isinstance(text, str)  # validated above
        with self._lock:
            pos = self._locate_pos(data["posId"], data["branchId"])
            current = self._active.get(pos.id)
            if current is not None:
                raise ApiError(
                    409,
                    f"El punto de venta «{pos.name}» ya tiene un evento activo ({current.id}); finalícelo antes de iniciar otro.",
                )
            now = self.now()
            event = SimEvent(
                id=random_uuid(self._data_rng),
                pos_id=pos.id,
                branch_id=pos.branch_id,
                codigo_motivo=motive,
                descripcion=text.strip(),
                fecha_inicio=now,
                fecha_fin=None,
                cufd_evento=random_cufd(self._data_rng),
                codigo_evento_siat=None if self._faults.siat_down else self._take_siat_code(),
                created_at=now,
            )
            self._invoicing.issue_until(now)  # what was issued before it stays an ordinary invoice
            self._store(event)
            self._invoicing.note_event(event)
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
            self._invoicing.issue_until(self.now())  # what was issued until now is offline, of this event
            event.fecha_fin = max(self.now(), event.fecha_inicio)
            self._invoicing.note_event(event)
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
            found = [e for e in self._by_pos[pos.id] if to_la_paz(e.fecha_inicio).date() == parsed]
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

    # ------------------------------------------------------------------ CUFD and invoices

    def cufd(self, pos_id: str) -> dict[str, Any]:
        with self._lock:
            pos = self._known_pos(pos_id)
            return dict(self._invoicing.cufds[pos.id])

    def renew_cufd(self, body: Any) -> dict[str, Any]:
        data = _require_object(body)
        pos_id = data.get("posId")
        if not isinstance(pos_id, str) or not is_uuid(pos_id):
            raise ApiError(400, "posId: no es un UUID válido.", ["posId: no es un UUID válido."])
        with self._lock:
            pos = self._known_pos(pos_id)
            return self._invoicing.renew(pos.id, self.now())

    def invoices_page(self, page: Any, size: Any) -> dict[str, Any]:
        try:
            page_n, size_n = int(page if page is not None else 0), int(size if size is not None else 20)
        except (TypeError, ValueError):
            raise ApiError(400, "page y size deben ser números enteros.") from None
        if page_n < 0 or not 1 <= size_n <= 50:
            raise ApiError(400, "page desde 0; size de 1 a 50.", ["size: como máximo 50."])
        with self._lock:
            self._invoicing.issue_until(self.now())
            return self._invoicing.page(page_n, size_n, self._event_end, self.now())

    def invoice_status(self, invoice_id: str) -> dict[str, Any]:
        with self._lock:
            self._invoicing.issue_until(self.now())
            invoice = self._invoicing.by_id.get(invoice_id.lower())
            if invoice is None:
                raise ApiError(404, f"No existe la factura {invoice_id}.")
            return self._invoicing.status(invoice, self._event_end(invoice.event_id), self.now())

    def _event_end(self, event_id: str | None) -> datetime | None:
        event = self._events.get(event_id) if event_id else None
        return event.fecha_fin if event is not None else None

    def _known_pos(self, pos_id: str) -> PointOfSale:
        if not is_uuid(pos_id):
            raise ApiError(400, "posId: no es un UUID válido.", ["posId: no es un UUID válido."])
        pos = self._pos.get(pos_id.lower())
        if pos is None:
            raise ApiError(404, f"No existe el punto de venta {pos_id}.")
        return pos

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

        SIAT was down during the seed's SIAT outages (:func:`plan_siat_outages`), the ones its
        "Falla SIAT" events began in, so the demo's Conectividad, Estado and Historial tell one
        story. Deterministic for a seed.
        """
        with self._lock:
            outages = list(self._siat_outages)
        return check_history(outages, self.seed, self.now(), self.history_days, interval)

    def events(self, pos_id: str | None = None) -> list[dict[str, Any]]:
        """All events (or one POS's), oldest first, in the API's JSON shape."""
        with self._lock:
            source: Iterable[SimEvent] = self._by_pos.get(pos_id, []) if pos_id else self._events.values()
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
