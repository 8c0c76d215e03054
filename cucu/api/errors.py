"""Errors raised by the cucu client.

Every error carries ``message``: one short Spanish sentence a supervisor understands, safe
to show in the browser (it never contains the API key). ``str(err)`` is that message.
Technical detail for logs goes in ``detail``. :func:`recorded` turns a failed read into a
recorded failure (per POS, per invoice) instead of an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class CucuError(Exception):
    """Base class: something went wrong talking to cucu."""

    default_message = "Ocurrió un error al comunicarse con cucu."

    def __init__(self, message: str | None = None, *, detail: str | None = None, status_code: int | None = None):
        self.message = message or self.default_message
        self.detail = detail
        self.status_code = status_code
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class CucuConnectionError(CucuError):
    """The exchange with the server failed at the network level.

    ``request_sent`` says whether the request may have reached the server (a dropped
    connection or a read timeout after sending): a start or end in that state must be
    verified, never retried blindly. ``False`` means it certainly did not leave.
    """

    default_message = "No se pudo conectar con cucu. Revise la red y la dirección configurada."

    def __init__(self, message: str | None = None, *, request_sent: bool = False, **kw: Any):
        super().__init__(message, **kw)
        self.request_sent = request_sent


class CucuTimeoutError(CucuConnectionError):
    """No answer in time (see ``request_sent``: a read timeout means it was sent)."""

    default_message = "cucu no respondió a tiempo."


class CucuHTTPStatusError(CucuError):
    """The server answered with a non-2xx status and no usable explanation of its own."""

    default_message = "cucu respondió con un error."


class CucuServerError(CucuHTTPStatusError):
    """5xx: cucu (or a proxy in front of it) failed."""

    default_message = "cucu tuvo un error interno. Intente de nuevo en unos momentos."


class CucuAuthError(CucuHTTPStatusError):
    """401/403: the API key is missing, wrong or revoked."""

    default_message = "cucu rechazó la clave API. Revise CUCU_API_KEY o [cucu].api_key."


class CucuRateLimitError(CucuHTTPStatusError):
    """429: too many requests; ``retry_after`` is in seconds when the server said it."""

    default_message = "cucu está limitando las consultas. Espere un momento e intente de nuevo."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class CucuRejectedError(CucuError):
    """The API said no (``success: false`` or a 4xx with its own message): ``api_message``."""

    default_message = "cucu rechazó la solicitud."

    def __init__(self, message: str | None = None, *, api_message: str | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.api_message = api_message


class CucuBadResponseError(CucuError):
    """The body is not the documented envelope (HTML page, broken JSON, unexpected shape)."""

    default_message = "cucu envió una respuesta que no se pudo interpretar."


def recorded(
    read: Callable[[], T], failed: Callable[[str], T], *, unexpected: str, log: logging.Logger, what: str, about: str
) -> T:
    """``read()``, or its failure recorded, never raised: ``failed`` gets the error's Spanish message, or
    ``unexpected`` for anything else (a bug, odd data), whose traceback is logged (``what % about``) so one
    bad POS or invoice never stops a round."""
    try:
        return read()
    except CucuError as exc:
        return failed(exc.message)
    except Exception:
        log.exception(what, about)
        return failed(unexpected)
