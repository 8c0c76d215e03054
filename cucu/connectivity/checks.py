"""One connectivity check (cucu's ``check-connection``) and what its failure means to an operator."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cucu.api.client import CucuClient
from cucu.api.errors import (
    CucuAuthError,
    CucuBadResponseError,
    CucuConnectionError,
    CucuError,
    CucuRateLimitError,
    CucuServerError,
    CucuTimeoutError,
)
from cucu.lapaz import now_la_paz
from cucu.settings import Settings
from cucu.store.checks import ConnectivityCheck as ConnectivityCheck  # its record, where the rules look for it
from cucu.vocabulary import ErrorKind, Mode

# Most specific first: a timeout is also a connection error.
_ERROR_KINDS: tuple[tuple[type[CucuError], ErrorKind], ...] = (
    (CucuAuthError, ErrorKind.AUTH),
    (CucuRateLimitError, ErrorKind.RATE_LIMIT),
    (CucuTimeoutError, ErrorKind.TIMEOUT),
    (CucuConnectionError, ErrorKind.CONNECTION),
    (CucuServerError, ErrorKind.SERVER),
    (CucuBadResponseError, ErrorKind.BAD_RESPONSE),
)


def error_kind(exc: CucuError) -> ErrorKind:
    for cls, kind in _ERROR_KINDS:
        if isinstance(exc, cls):
            return kind
    return ErrorKind.OTHER


def check_connectivity(client: CucuClient, clock: Callable[[], datetime] = now_la_paz) -> ConnectivityCheck:
    """Ask cucu whether SIAT answers. Never raises a ``CucuError``: it is recorded instead."""
    started = time.perf_counter()
    checked_at = clock()
    try:
        ok = client.check_connection()
    except CucuError as exc:
        return ConnectivityCheck(checked_at, None, _ms(started), error=exc.message, error_kind=error_kind(exc))
    return ConnectivityCheck(checked_at, ok, _ms(started))


@dataclass(frozen=True)
class Diagnosis:
    title: str
    explanation: str
    fix: str


def diagnose(check: ConnectivityCheck, settings: Settings) -> Diagnosis | None:
    """A Spanish explanation of a failed check and how to fix it; ``None`` when cucu answered."""
    if check.siat_ok is not None:
        return None
    where = settings.base_url or "el simulador de demostración"
    kind = check.error_kind
    if kind == ErrorKind.AUTH:
        return Diagnosis(
            "cucu rechazó la clave API",
            f"{where} respondió que la clave configurada no es válida o fue revocada.",
            "Revise CUCU_API_KEY o [cucu].api_key en .streamlit/secrets.toml y reinicie el tablero. "
            "Las claves de sandbox empiezan con sk_test_.",
        )
    if kind in (ErrorKind.CONNECTION, ErrorKind.TIMEOUT):
        return Diagnosis(
            "No se puede conectar con cucu",
            f"No hubo respuesta de {where}: {check.error}",
            "Revise CUCU_BASE_URL o [cucu].base_url, la red del servidor y su proxy o cortafuegos. "
            + ("" if settings.mode is Mode.DEMO else "Sin dirección configurada el tablero funciona en modo DEMO."),
        )
    if kind == ErrorKind.BAD_RESPONSE:
        return Diagnosis(
            "La dirección configurada no parece ser cucu",
            f"{where} respondió algo que no es la API de cucu.",
            "Revise que CUCU_BASE_URL apunte a la API de cucu (por ejemplo https://sandbox.cucu.bo), no a otra página.",
        )
    if kind == ErrorKind.RATE_LIMIT:
        return Diagnosis(
            "cucu está limitando las consultas", check.error or "", "Espere un momento; el tablero volverá a consultar solo."
        )
    return Diagnosis("cucu respondió con un error", check.error or "", "Intente de nuevo en unos momentos.")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
