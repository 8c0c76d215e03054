"""The collector as its own service: ``python -m cucu.collector_service`` (deploy/systemd).

Streamlit builds a web process's runtime at its first page load, so a web process alone polls
cucu only once someone has opened the dashboard. This service polls from boot, whoever is
watching, and writes to the database the web processes read. The lease in the database keeps
one poller at a time: web processes sharing the database stand by, and take over if it stops.

Settings as for the dashboard: environment variables over the ``[cucu]`` table of
``.streamlit/secrets.toml`` (relative to the working directory). An edited inventory file is
picked up within seconds, as the dashboard picks it up on its next page load.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path

from cucu.inventory import inventory_stamp
from cucu.logs import configure_logging
from cucu.runtime import Runtime, build_runtime
from cucu.settings import ConfigurationError, Settings, load_settings
from cucu.vocabulary import Mode

log = logging.getLogger("cucu.collector_service")

WATCH_S = 5.0  # how often the inventory file is looked at


class ServiceError(Exception):
    """Cannot start; ``str(err)`` says why in Spanish."""


def read_settings(secrets_path: Path, environ: Mapping[str, str]) -> Settings:
    secrets = {}
    if secrets_path.exists():
        try:
            secrets = tomllib.loads(secrets_path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ServiceError(f"No se pudo leer {secrets_path}: {exc}.") from None
    settings = load_settings(secrets.get("cucu", {}), environ, alerts=secrets.get("alerts", {}), policy=secrets.get("policy", {}))
    if settings.mode is Mode.DEMO:
        raise ServiceError(
            "Falta CUCU_BASE_URL: en modo DEMO el tablero consulta su simulador por sí mismo y "
            "este servicio no hace falta. Defina la dirección de cucu para usarlo."
        )
    return settings


def run(secrets_path: Path, environ: Mapping[str, str], stop: threading.Event, watch_s: float = WATCH_S) -> None:
    """Collect until ``stop`` is set; rebuild when the inventory file changes (a bad edit keeps the old one)."""
    settings = read_settings(secrets_path, environ)
    runtime: Runtime = build_runtime(settings, start_collector=True)
    stamp: str | None = inventory_stamp(settings.inventory)
    log.info("servicio colector en marcha (%s, %s)", settings.mode.label, runtime.collector.holder)
    try:
        while not stop.wait(watch_s):
            current = inventory_stamp(settings.inventory)
            if current == stamp:
                continue
            stamp = current
            try:
                fresh = build_runtime(settings, start_collector=False)
            except ConfigurationError as exc:
                log.error("inventario modificado pero no válido, se sigue con el anterior: %s", exc)
                continue
            except Exception:  # e.g. the database is unreachable right now: try again at the next look
                log.exception("no se pudo aplicar el inventario modificado; se reintenta")
                stamp = None  # look again at the next tick
                continue
            runtime.close()
            runtime = fresh
            runtime.start()
            log.info("inventario modificado: %d puntos de venta", len(runtime.inventory.all_pos))
    finally:
        runtime.close()
        log.info("servicio colector detenido")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cucu.collector_service", description=__doc__.split("\n")[0])
    parser.add_argument("--secrets", type=Path, default=Path(".streamlit/secrets.toml"), help="archivo con la tabla [cucu]")
    parser.add_argument("--watch-s", type=float, default=WATCH_S, help="cada cuántos segundos mirar si cambió el inventario")
    opts = parser.parse_args(argv)
    configure_logging(os.environ)
    stop = threading.Event()
    # Set from another thread: a handler that runs while the main thread is inside stop.wait()
    # would otherwise wait for the lock that wait() holds.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: threading.Thread(target=stop.set, daemon=True).start())
    try:
        run(opts.secrets, os.environ, stop, opts.watch_s)
    except (ServiceError, ConfigurationError) as exc:
        log.error("%s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
