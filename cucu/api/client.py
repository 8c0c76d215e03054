"""The one HTTP client of the cucu events API.

One ``CucuClient`` per base URL and key: httpx with connection pooling, an explicit timeout,
the key sent by an ``httpx.Auth`` (so it lives in no header dict, repr or log line), and an
injectable ``transport=`` for tests. Read calls are retried with jittered exponential
backoff and ``Retry-After``; start and end are never retried (a timeout after sending may
have taken effect: the caller must verify, see ``CucuConnectionError.request_sent``).

A 429 pauses the whole client, not only the call that got it: every caller sharing it (the
collector's sweep and backfill, the actions) waits out ``Retry-After`` (or a growing backoff)
before its next request, so a rate-limited cucu sees the process slow down as one.

What cucu sends is checked where it enters, before anything else reads it: a body is read as a
stream and refused beyond ``MAX_BODY_BYTES`` (decoded, so a small gzip bomb is refused too), JSON
deeper than ``MAX_JSON_DEPTH`` or with non-finite numbers is refused, and ``Event.from_api`` checks
each field. Every such refusal is a ``CucuBadResponseError``: a page shows its Spanish message for
the part that failed, never a traceback.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Generator
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from cucu.api.errors import (
    CucuAuthError,
    CucuBadResponseError,
    CucuConnectionError,
    CucuError,
    CucuHTTPStatusError,
    CucuRateLimitError,
    CucuRejectedError,
    CucuServerError,
    CucuTimeoutError,
)
from cucu.api.models import MAX_PAGE_SIZE, Cufd, Event, InvoicePage, InvoiceStatus, OverlongPageError, clip_text
from cucu.formatting import fmt_count

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
MAX_RETRY_AFTER_S = 30.0  # a longer Retry-After is surfaced as an error instead of blocking a page
USER_AGENT = "contingencia/1.0"
# An answer of cucu is an envelope around one event or one POS-day's events: a few kB. A megabyte is
# hundreds of times that and still quick to parse; anything larger is refused unread.
MAX_BODY_BYTES = 1_048_576
MAX_JSON_DEPTH = 32  # the envelope, a list, an event, a nested error: 4; json.loads itself recurses
MAX_MESSAGE_LENGTH = 300  # cucu's own explanation, as an error message quotes it
MAX_RETRY_AFTER_HEADER_S = 86_400.0  # a longer Retry-After is read as a day (and then not waited, see above)


class _ApiKeyAuth(httpx.Auth):
    """Adds ``X-API-Key`` at send time, so the key is in no client header dict or repr."""

    def __init__(self, api_key: str):
        self._api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-API-Key"] = self._api_key
        yield request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(<oculta>)"


class RateGate:
    """Process-wide pause after a 429: ``wait()`` before each request, ``limited()`` on a 429,
    ``passed()`` on any other answer. Thread-safe."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic):
        self._sleep = sleep
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._until = 0.0
        self._strikes = 0  # 429s in a row, for the backoff when cucu sends no Retry-After

    def wait(self) -> float:
        """Sleep until the pause is over; returns how long it slept."""
        with self._lock:
            remaining = self._until - self._monotonic()
        if remaining <= 0:
            return 0.0
        self._sleep(remaining)
        return remaining

    def limited(self, retry_after: float | None) -> float:
        """A 429: pause every caller for ``retry_after`` (capped) or a backoff that doubles; returns the pause."""
        with self._lock:
            self._strikes += 1
            pause = retry_after if retry_after is not None else 0.5 * 2.0 ** (self._strikes - 1)
            pause = min(pause, MAX_RETRY_AFTER_S)
            self._until = max(self._until, self._monotonic() + pause)
            return pause

    def passed(self) -> None:
        if self._strikes:
            with self._lock:
                self._strikes = 0


class CucuClient:
    """Typed access to cucu's nine calls (SIAT's connection, events, CUFD, invoices). Thread-safe; share one per process."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_connections: int = 64,
        max_body_bytes: int = MAX_BODY_BYTES,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).hostname or self.base_url
        self.max_retries = max_retries
        self.max_body_bytes = max_body_bytes
        read_s = timeout.read if isinstance(timeout, httpx.Timeout) else timeout
        # httpx times each read; a body dripped a byte at a time must also end: three read timeouts in all.
        self._body_deadline_s = 3 * (read_s or DEFAULT_TIMEOUT.read or 10.0)
        self._monotonic = monotonic
        self._sleep = sleep
        self.gate = RateGate(sleep, monotonic)
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=_ApiKeyAuth(api_key),
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"CucuClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CucuClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the nine calls -------------------------------------------------------------

    def check_connection(self) -> bool:
        """``True`` when SIAT answers (cucu's ``check-connection``)."""
        data = self._call("GET", "/api/v1/events/check-connection", idempotent=True)
        return _as_bool(data)

    def get_active_event(self, pos_id: str) -> Event | None:
        """The POS's active event, or ``None`` in any of the undocumented "none" shapes."""
        data = self._call("GET", f"/api/v1/events/active/{pos_id}", idempotent=True, missing_is_none=True)
        if data is None or data == {} or data == []:
            return None
        if isinstance(data, list):  # defensive: a list of active events, one per POS at most
            data = data[0]
        event = _event(data)
        return event if event.active else None

    def list_events(self, pos_id: str, branch_id: str, day: date) -> list[Event]:
        """The events of a POS on a date (La Paz calendar day)."""
        body = {"posId": pos_id, "branchId": branch_id, "fechaEvento": day.isoformat()}
        # A query sent as POST: safe to repeat, so it is retried like a GET.
        data = self._call("POST", "/api/v1/events", json=body, idempotent=True)
        if data is None:
            return []
        if not isinstance(data, list):
            raise CucuBadResponseError(detail=f"events: se esperaba una lista, llegó {type(data).__name__}")
        return [_event(item) for item in data]

    def start_event(self, pos_id: str, branch_id: str, codigo_motivo: int, descripcion: str) -> Event:
        body = {"posId": pos_id, "branchId": branch_id, "codigoMotivo": int(codigo_motivo), "descripcion": descripcion.strip()}
        return _event(self._call("POST", "/api/v1/events/start", json=body, idempotent=False))

    def end_event(self, pos_id: str, branch_id: str, evento_id: str) -> Event:
        body = {"posId": pos_id, "branchId": branch_id, "eventoId": evento_id}
        return _event(self._call("POST", "/api/v1/events/end", json=body, idempotent=False))

    # ---- CUFD and invoices ----------------------------------------------------------

    def get_cufd(self, pos_id: str) -> Cufd | None:
        """The POS's active CUFD, or ``None`` when cucu has none for it (a 404 or an empty body)."""
        data = self._call("GET", f"/api/v1/codes/cufd/{quote(pos_id, safe='')}", idempotent=True, missing_is_none=True)
        if data is None or data == {}:
            return None
        return _parsed(Cufd.from_api, data, "CUFD")

    def renew_cufd(self, pos_id: str) -> Cufd:
        """A new CUFD for the POS. A write: never retried blindly (like starting an event)."""
        return _parsed(Cufd.from_api, self._call("POST", "/api/v1/codes/cufd", json={"posId": pos_id}, idempotent=False), "CUFD")

    def list_invoices(self, page: int = 0, size: int = MAX_PAGE_SIZE) -> InvoicePage:
        """One page of invoices, newest first (pages from 0; ``size`` 1 to 50)."""
        if not 1 <= size <= MAX_PAGE_SIZE or page < 0:
            raise ValueError(f"page desde 0 y size de 1 a {MAX_PAGE_SIZE}")
        data = self._call("GET", f"/api/v1/invoices?page={int(page)}&size={int(size)}", idempotent=True)
        return _parsed(lambda d: InvoicePage.from_api(d, asked=size), data, "página de facturas")

    def invoice_status(self, invoice_id: str) -> InvoiceStatus:
        data = self._call("GET", f"/api/v1/invoices/{quote(invoice_id, safe='')}/status", idempotent=True)
        return _parsed(InvoiceStatus.from_api, data, "estado de factura")

    # ---- transport, retries, envelope -----------------------------------------------

    def _call(self, method: str, path: str, *, json: Any = None, idempotent: bool, missing_is_none: bool = False) -> Any:
        attempt = 0
        while True:
            try:
                self.gate.wait()
                response = self._send(method, path, json)
                if response.status_code != 429:
                    self.gate.passed()
                return _interpret(response, missing_is_none=missing_is_none)
            except CucuError as exc:
                if isinstance(exc, CucuRateLimitError):
                    pause = self.gate.limited(exc.retry_after)
                    log.warning("cucu %s %s: límite de consultas; todo el proceso espera %.1fs", method, path, pause)
                delay = self._retry_delay(exc, attempt) if idempotent else None
                if delay is None:
                    raise
                log.info("cucu %s %s: %s; reintento %d en %.2fs", method, path, type(exc).__name__, attempt + 1, delay)
                if not isinstance(exc, CucuRateLimitError):  # a 429's wait is the gate's, at the next try
                    self._sleep(delay)
                attempt += 1

    def _send(self, method: str, path: str, json: Any) -> httpx.Response:
        try:
            with self._http.stream(method, path, json=json) as response:
                return self._read_capped(response)
        except httpx.DecodingError as exc:  # a Content-Encoding that does not decode
            raise CucuBadResponseError(detail=repr(exc)) from None
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise CucuTimeoutError(
                f"No se pudo conectar con cucu ({self.host}) a tiempo.", request_sent=False, detail=repr(exc)
            ) from None
        except httpx.TimeoutException as exc:  # read/write timeout: the request left
            raise CucuTimeoutError(f"cucu ({self.host}) no respondió a tiempo.", request_sent=True, detail=repr(exc)) from None
        except httpx.ConnectError as exc:
            raise CucuConnectionError(
                f"No se pudo conectar con cucu ({self.host}). Revise la red y la dirección configurada.",
                request_sent=False,
                detail=repr(exc),
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise CucuConnectionError(
                f"La dirección de cucu «{self.base_url}» no es válida: debe empezar con https:// o http://.",
                request_sent=False,
                detail=repr(exc),
            ) from None
        except httpx.TransportError as exc:  # dropped connection mid-exchange: may have been processed
            raise CucuConnectionError(
                f"Se cortó la conexión con cucu ({self.host}).", request_sent=True, detail=repr(exc)
            ) from None

    def _read_capped(self, response: httpx.Response) -> httpx.Response:
        """The response with its body read, refused as soon as it passes ``max_body_bytes``."""
        cap = self.max_body_bytes
        too_big = CucuBadResponseError(
            f"cucu envió una respuesta demasiado grande (más de {_size_text(cap)}).", status_code=response.status_code
        )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap and "Content-Encoding" not in response.headers:
            raise too_big
        deadline = self._monotonic() + self._body_deadline_s
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decoded: the cap is on what would be parsed
            size += len(chunk)
            if size > cap:
                raise too_big
            if self._monotonic() > deadline:
                raise CucuTimeoutError(f"cucu ({self.host}) no terminó de responder a tiempo.", request_sent=True)
            chunks.append(chunk)
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")]
        return httpx.Response(response.status_code, headers=headers, content=b"".join(chunks), request=response.request)

    def _retry_delay(self, exc: CucuError, attempt: int) -> float | None:
        """Seconds to wait before retrying a read call, or ``None`` to give up."""
        if attempt >= self.max_retries:
            return None
        if isinstance(exc, CucuRateLimitError):
            if exc.retry_after is not None:
                return exc.retry_after if exc.retry_after <= MAX_RETRY_AFTER_S else None
        elif not isinstance(exc, (CucuConnectionError, CucuServerError, CucuBadResponseError)) and exc.status_code != 408:
            return None
        # Exponential backoff with jitter, as openai-python does: 0.5 s, 1 s, 2 s... capped.
        base = min(0.5 * 2.0**attempt, 8.0)
        return base * (1 - 0.25 * random.random())


# ---- pure helpers (no I/O) ---------------------------------------------------------------


def _interpret(response: httpx.Response, *, missing_is_none: bool = False) -> Any:
    """Turn a response into ``data`` or the right ``CucuError``."""
    status = response.status_code
    try:
        body = parse_json(response.content)
    except ValueError:
        body = None
    api_message = extract_message(body)
    if status in (401, 403):
        raise CucuAuthError(detail=api_message, status_code=status)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        message = CucuRateLimitError.default_message
        if retry_after is not None:
            message = f"cucu está limitando las consultas. Intente de nuevo en {max(1, round(retry_after))} s."
        raise CucuRateLimitError(message, retry_after=retry_after, status_code=status, detail=api_message)
    if missing_is_none and status == 404:
        return None
    if status >= 500:
        raise CucuServerError(
            f"cucu tuvo un error interno (HTTP {status}). Intente de nuevo en unos momentos.",
            status_code=status,
            detail=api_message or _snippet(response),
        )
    if not 200 <= status < 300:
        if api_message:
            raise CucuRejectedError(f"cucu rechazó la solicitud: {api_message}", api_message=api_message, status_code=status)
        raise CucuHTTPStatusError(f"cucu respondió con el código HTTP {status}.", status_code=status, detail=_snippet(response))
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
        raise CucuBadResponseError(status_code=status, detail=_snippet(response))
    if body["success"] is not True:
        if missing_is_none:
            return None
        said = f"cucu rechazó la solicitud: {api_message}" if api_message else None
        raise CucuRejectedError(said, api_message=api_message, status_code=status)
    return body.get("data")


def parse_json(content: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON as cucu may send it; ``ValueError`` for broken JSON and for what no answer of cucu holds:
    nesting deeper than ``max_depth`` (``json.loads`` would raise ``RecursionError`` further down),
    ``NaN``/``Infinity`` or a number too large for a float, an integer beyond Python's 4300 digits."""
    try:
        value = jsonlib.loads(content, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("JSON anidado demasiado profundo") from None
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:  # iterative: this check must not recurse either
        item, depth = stack.pop()
        if depth > max_depth:
            raise ValueError(f"JSON anidado a más de {max_depth} niveles")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"JSON con {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("JSON con un número demasiado grande")
    return value


def extract_message(body: Any) -> str | None:
    """The human message of an error body: ``message``, ``error`` (text or object) or ``errors``."""
    if not isinstance(body, dict):
        return None
    parts: list[str] = []
    message = body.get("message")
    if isinstance(message, str) and message.strip():
        parts.append(message.strip())
    error = body.get("error")
    if isinstance(error, str) and error.strip():
        parts.append(error.strip())
    elif isinstance(error, dict) and isinstance(error.get("message"), str):
        parts.append(error["message"].strip())
    errors = body.get("errors")
    if isinstance(errors, dict):
        errors = [f"{k}: {v}" for k, v in errors.items()]
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict):
                text = item.get("message") or item.get("defaultMessage") or item.get("msg")
                field = item.get("field")
                if isinstance(text, str):
                    parts.append(f"{field}: {text}" if field else text)
    unique = list(dict.fromkeys(p for p in parts if p))
    return clip_text("; ".join(unique), MAX_MESSAGE_LENGTH) if unique else None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:  # "inf" and "nan" are floats too; round(inf) raised OverflowError when the message was written
        return min(max(0.0, seconds), MAX_RETRY_AFTER_HEADER_S) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - (now or datetime.now(UTC))).total_seconds()), MAX_RETRY_AFTER_HEADER_S)


def _as_bool(data: Any) -> bool:
    if isinstance(data, bool):
        return data
    if isinstance(data, str) and data.strip().lower() in ("true", "false"):
        return data.strip().lower() == "true"
    if isinstance(data, dict):  # defensive: {"connected": true} and similar
        for key in ("connected", "conectado", "conexion", "disponible", "online", "status"):
            value = data.get(key)
            if isinstance(value, bool):
                return value
    raise CucuBadResponseError(detail=f"check-connection: valor inesperado {data!r:.80}")


def _event(data: Any) -> Event:
    return _parsed(Event.from_api, data, "evento")


def _parsed(build: Callable[[Any], T], data: Any, what: str) -> T:
    try:
        return build(data)
    except (ValueError, TypeError, OverflowError) as exc:  # from_api promises ValueError; the others are a guard
        message = None
        if isinstance(exc, OverlongPageError):  # refused whole: say why, not only "unreadable"
            message = (
                f"cucu envió una página de facturas con {fmt_count(exc.count)} facturas cuando se pidieron {exc.asked}: "
                "no es una respuesta válida y no se guardó nada de ella."
            )
        raise CucuBadResponseError(message, detail=f"{what} inválido: {exc}") from None


def _snippet(response: httpx.Response) -> str:
    return response.text[:200]


def _size_text(size: int) -> str:
    return f"{size / 1_048_576:.4g} MB" if size >= 1_048_576 else f"{max(1, size // 1024)} KB"
