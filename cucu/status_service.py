"""The status API as its own small service: ``python -m cucu.status_service`` (deploy/systemd), behind the
same nginx as the dashboard (``/contingencia/api/``).

- ``GET /api/estado``: JSON (``cucu.views.status.status_json``);
- ``GET /api/metricas``: OpenMetrics for Prometheus and Grafana (``cucu.views.status.status_openmetrics``).

Both want ``Authorization: Bearer <token>``, a token the operator made (``--nuevo-token``) and listed by its
SHA-256 in ``CUCU_STATUS_TOKENS_SHA256`` or ``[status].tokens_sha256`` of secrets.toml. Read-only: the store
alone, never cucu; settings as for the dashboard (environment over ``[cucu]``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from cucu.access import is_digest, new_token, token_allowed
from cucu.api.models import Inventory
from cucu.logs import configure_logging
from cucu.runtime import inventory_for
from cucu.settings import DEFAULT_DB_PATH, ConfigurationError, Settings, load_settings
from cucu.store import Store
from cucu.views.status import OPENMETRICS_TYPE, Status, read_status, status_json, status_openmetrics

log = logging.getLogger("cucu.status_service")

TOKENS_ENV = "CUCU_STATUS_TOKENS_SHA256"
DEFAULT_PORT = 8601
FRESH_S = 5.0  # one read of the store serves every request within this (a scraper cannot load the database)


def token_digests(section: Mapping[str, object], environ: Mapping[str, str]) -> tuple[str, ...]:
    """The SHA-256 digests of the tokens allowed: the environment's, else ``[status].tokens_sha256``."""
    raw: object = environ[TOKENS_ENV].split() if environ.get(TOKENS_ENV) else section.get("tokens_sha256", [])
    if not isinstance(raw, list) or not all(is_digest(d) for d in raw):
        raise ConfigurationError(
            f"{TOKENS_ENV} (o [status].tokens_sha256) lista los SHA-256 de los tokens, 64 caracteres hexadecimales "
            "cada uno; créelos con: python -m cucu.status_service --nuevo-token"
        )
    return tuple(d.lower() for d in raw)


def create_app(read: Callable[[], Status], digests: Sequence[str]) -> Starlette:
    """The two routes over ``read`` (the store's status), each behind the bearer token."""
    lock = threading.Lock()
    cached: list[tuple[float, Status]] = []

    def current() -> Status:
        with lock:
            if not cached or time.monotonic() - cached[0][0] > FRESH_S:
                cached[:] = [(time.monotonic(), read())]
            return cached[0][1]

    def authorized(request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token_allowed(token.strip(), digests)

    def refused() -> Response:
        return JSONResponse(
            {"error": "Falta un token válido: Authorization: Bearer <token>."},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="contingencia"'},
        )

    def failed(exc: Exception) -> Response:
        log.warning("no se pudo leer el estado: %s", type(exc).__name__)
        return JSONResponse({"error": "No se pudo leer la base de datos del tablero."}, status_code=503)

    def estado(request: Request) -> Response:
        if not authorized(request):
            return refused()
        try:
            status = current()
        except Exception as exc:  # the database away: the monitor must see it as such, not as a crash
            return failed(exc)
        return JSONResponse(status_json(status), headers={"Cache-Control": "no-store"})

    def metricas(request: Request) -> Response:
        if not authorized(request):
            return refused()
        try:
            status = current()
        except Exception as exc:
            return failed(exc)
        return PlainTextResponse(status_openmetrics(status), media_type=OPENMETRICS_TYPE, headers={"Cache-Control": "no-store"})

    # Sync handlers: Starlette runs them in its thread pool, so a slow read of the store blocks no other request.
    return Starlette(routes=[Route("/api/estado", estado), Route("/api/metricas", metricas)])


def build(secrets_path: Path, environ: Mapping[str, str]) -> tuple[Starlette, Store]:
    secrets_toml: dict[str, object] = {}
    if secrets_path.exists():
        try:
            secrets_toml = tomllib.loads(secrets_path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"No se pudo leer {secrets_path}: {exc}.") from None
    section = secrets_toml.get("status", {})
    if not isinstance(section, Mapping) or set(section) - {"tokens_sha256"}:
        raise ConfigurationError("[status] admite solo tokens_sha256.")
    settings: Settings = load_settings(secrets_toml.get("cucu", {}), environ)  # type: ignore[arg-type]
    digests = token_digests(section, environ)
    if not digests:
        raise ConfigurationError(f"No hay tokens: defina {TOKENS_ENV} (cree uno con --nuevo-token).")
    inventory: Inventory = inventory_for(settings)
    store = Store(settings.db or DEFAULT_DB_PATH)
    return create_app(lambda: read_status(store, inventory, settings), digests), store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--secrets", type=Path, default=Path(".streamlit/secrets.toml"))
    parser.add_argument("--nuevo-token", action="store_true", help="imprime un token nuevo y su SHA-256, y termina")
    args = parser.parse_args(argv)
    if args.nuevo_token:
        token, digest = new_token()
        print(f"token (para la herramienta de monitoreo): {token}")
        print(f"{TOKENS_ENV}={digest}")
        return 0
    configure_logging(os.environ)
    try:
        app, store = build(args.secrets, os.environ)
    except ConfigurationError as exc:
        print(f"contingencia-estado: {exc}", file=sys.stderr)
        return 2
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, server_header=False)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
