"""The simulator's faults: run-time switches that make it misbehave like a real, flaky service."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cucu.simulator.hostile import HOSTILE_KINDS

NO_ACTIVE_SHAPES = ("null", "404", "success_false")
MALFORMED_KINDS = ("html", "truncated", "no_success")


class FaultsError(ValueError):
    """A fault update was refused; ``str(err)`` is a Spanish explanation."""


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
    # > 0: a start or end that hangs (and is not hang_after_commit) still lands, this many seconds
    # after its answer was due (cucu kept working on it after the gateway gave up).
    late_write_s: float = 0.0
    malformed_rate: float = 0.0  # share of successful answers replaced by a non-envelope body
    malformed_kind: str = "rotate"  # "rotate" or one of MALFORMED_KINDS
    reject_key: bool = False  # every API call gets 401, as if the key were revoked
    no_active_shape: str = "null"  # how "no active event" looks: see NO_ACTIVE_SHAPES
    # Empty: faults hit every API call. Else only these routes (names as in stats, e.g.
    # "POST /api/v1/events/start"): e.g. writes that time out while reads still answer.
    fault_routes: tuple[str, ...] = ()
    # Share of successful answers replaced by an envelope with odd data (see cucu.simulator.hostile).
    hostile_rate: float = 0.0
    hostile_kind: str = "rotate"  # "rotate" or one of HOSTILE_KINDS

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "fault_routes": list(self.fault_routes)}  # as JSON carries it

    def updated(self, partial: Mapping[str, Any]) -> Faults:
        """A copy with ``partial`` applied; all fields are checked before anything changes."""
        if not isinstance(partial, Mapping):
            raise FaultsError('Las fallas se envían como un objeto JSON, p. ej. {"siat_down": true}.')
        known = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(partial) - set(known))
        if unknown:
            raise FaultsError(f"Campos desconocidos: {', '.join(unknown)}. Campos válidos: {', '.join(known)}.")
        changes = {name: _check_fault(name, value) for name, value in partial.items()}
        return dataclasses.replace(self, **changes)


_RATE_FIELDS = {"error_rate", "rate_limit_rate", "timeout_rate", "malformed_rate"}
_NON_NEGATIVE_FIELDS = {"latency_ms", "latency_jitter_ms", "hang_s", "late_write_s"}
_BOOL_FIELDS = {"siat_down", "hang_after_commit", "reject_key"}


def _check_fault(name: str, value: Any) -> Any:
    if name in ("hostile_rate", "hostile_kind"):
        return _check_hostile(name, value)
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


def _check_hostile(name: str, value: Any) -> Any:
    if name == "hostile_kind":
        if value != "rotate" and value not in HOSTILE_KINDS:
            raise FaultsError(f"«hostile_kind» debe ser «rotate» o uno de: {', '.join(HOSTILE_KINDS)}.")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise FaultsError("«hostile_rate» es una proporción entre 0 y 1.")
    return float(value)


WRITE_ROUTES = ("POST /api/v1/events/start", "POST /api/v1/events/end", "POST /api/v1/codes/cufd")

API_ROUTES = (
    "POST /api/v1/events/start",
    "POST /api/v1/events/end",
    "POST /api/v1/events",
    "GET /api/v1/events/active/{posId}",
    "GET /api/v1/events/check-connection",
    "GET /api/v1/codes/cufd/{posId}",
    "POST /api/v1/codes/cufd",
    "GET /api/v1/invoices",
    "GET /api/v1/invoices/{id}/status",
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
    late_write_s: float = 0.0
    malformed: bool = False
    hostile: bool = False
