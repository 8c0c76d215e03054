"""``python -m cucu.simulator``: run the cucu events simulator in the foreground."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from datetime import datetime

from cucu.inventory import InventoryError, load_inventory
from cucu.settings import SettingsError, parse_size
from cucu.simulator.faults import NO_ACTIVE_SHAPES, Faults, FaultsError
from cucu.simulator.seed import synthetic_inventory
from cucu.simulator.server import BACKFILL_DB_ENV, SimulatorServer
from cucu.simulator.state import DEFAULT_API_KEY, DEFAULT_HISTORY_DAYS, DEFAULT_SEED, Simulator


def _synthetic(value: str) -> tuple[int, int]:
    try:
        return parse_size(value, "--synthetic")
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _instant(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed-time: «{value}» no es un instante ISO 8601.") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError("--seed-time: falta la zona horaria (p. ej. -04:00).")
    return when


def _backfill(simulator: Simulator, db: str) -> None:
    """What the DEMO runtime does for a fresh database, here so that the dashboard does not wait for it."""
    from cucu.simulator.demo import backfill_demo
    from cucu.store import Store

    store = Store(db)
    try:
        backfill_demo(store, simulator)
    finally:
        store.close()
    print("  Historial sembrado copiado a la base del tablero", flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cucu.simulator",
        description="Simulador local de la API de eventos de cucu (con fallas configurables).",
    )
    p.add_argument("--host", default="127.0.0.1", help="dirección de escucha (por defecto 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="puerto (0 = uno libre; por defecto 8765)")
    p.add_argument("--api-key", default=DEFAULT_API_KEY, help=f"clave esperada en X-API-Key (por defecto {DEFAULT_API_KEY})")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--inventory", metavar="PATH", help="inventario TOML (por defecto el de demostración)")
    source.add_argument("--synthetic", metavar="SUCURSALESxPUNTOS", type=_synthetic, help="inventario sintético, p. ej. 50x4")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="semilla de los datos y de las fallas")
    p.add_argument("--history-days", type=int, default=DEFAULT_HISTORY_DAYS, help="días de historial sembrado (0 = ninguno)")
    p.add_argument(
        "--seed-time",
        type=_instant,
        metavar="ISO",
        help="instante desde el que se siembran los datos, p. ej. 2026-12-05T08:00:00-04:00 (por defecto, ahora)",
    )
    p.add_argument(
        "--invoices-per-day",
        type=int,
        default=None,
        help="facturas emitidas al día en la empresa (por defecto 24 por punto, hasta 10 000)",
    )
    p.add_argument("--active-share", type=float, default=0.25, help="proporción de puntos en contingencia al iniciar")
    p.add_argument(
        "--backfill-db",
        metavar="URL",
        # From the environment by default: a PostgreSQL URL's password stays out of the process list.
        default=os.environ.get(BACKFILL_DB_ENV),
        help=f"base nueva del tablero que se llena, una vez en marcha, con el historial sembrado (como el modo DEMO; "
        f"por defecto la variable {BACKFILL_DB_ENV})",
    )
    p.add_argument("--parent-pid", type=int, help="terminar cuando termine este proceso (el tablero que lo inició)")
    f = p.add_argument_group("fallas iniciales (se cambian en marcha con PUT /_sim/faults)")
    f.add_argument("--siat-down", action="store_true", help="check-connection responde false")
    f.add_argument("--latency-ms", type=float, default=0.0)
    f.add_argument("--latency-jitter-ms", type=float, default=0.0)
    f.add_argument("--error-rate", type=float, default=0.0, help="proporción de respuestas 500/502/503")
    f.add_argument("--rate-limit-rate", type=float, default=0.0, help="proporción de respuestas 429")
    f.add_argument("--retry-after-s", type=int, default=1)
    f.add_argument("--timeout-rate", type=float, default=0.0, help="proporción de llamadas que se cuelgan")
    f.add_argument("--hang-s", type=float, default=30.0)
    f.add_argument("--hang-after-commit", action="store_true", help="aplicar la escritura antes de colgarse")
    f.add_argument("--late-write-s", type=float, default=0.0, help="la escritura colgada llega N s después del 504")
    f.add_argument("--malformed-rate", type=float, default=0.0, help="proporción de cuerpos que no son el sobre")
    f.add_argument("--reject-key", action="store_true", help="toda llamada recibe 401")
    f.add_argument(
        "--hostile-rate",
        type=float,
        default=0.0,
        help="proporción de cuerpos hostiles: tipos erróneos, números enormes, anidamiento profundo, "
        "textos muy largos, Markdown/HTML en los mensajes, cuerpos de más de 2 MB",
    )
    f.add_argument("--no-active-shape", choices=NO_ACTIVE_SHAPES, default="null")
    return p


def initial_faults(args: argparse.Namespace) -> Faults:
    """The faults the command line asks for; raises :class:`FaultsError` for a bad value."""
    return Faults().updated(
        {
            "siat_down": args.siat_down,
            "latency_ms": args.latency_ms,
            "latency_jitter_ms": args.latency_jitter_ms,
            "error_rate": args.error_rate,
            "rate_limit_rate": args.rate_limit_rate,
            "retry_after_s": args.retry_after_s,
            "timeout_rate": args.timeout_rate,
            "hang_s": args.hang_s,
            "hang_after_commit": args.hang_after_commit,
            "late_write_s": args.late_write_s,
            "malformed_rate": args.malformed_rate,
            "reject_key": args.reject_key,
            "no_active_shape": args.no_active_shape,
            "hostile_rate": args.hostile_rate,
        }
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        faults = initial_faults(args)
        if args.synthetic:
            inventory = synthetic_inventory(*args.synthetic)
        elif args.inventory:
            inventory = load_inventory(args.inventory)
        else:
            inventory = None
        simulator = Simulator(
            inventory,
            api_key=args.api_key,
            seed=args.seed,
            history_days=args.history_days,
            active_share=args.active_share,
            invoices_per_day=args.invoices_per_day,
            faults=faults,
            seed_time=args.seed_time,
        )
    except (FaultsError, InventoryError, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2

    server = SimulatorServer(simulator, host=args.host, port=args.port)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        print(f"Error: no se pudo escuchar en {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    url = server.base_url
    n_pos = len(simulator.inventory.all_pos)
    print(f"Simulador de cucu escuchando en {url}")
    print(
        f"  {len(simulator.inventory.branches)} sucursales, {n_pos} puntos de venta, {len(simulator.events())} eventos sembrados"
    )
    print(f"  API key: {args.api_key}  (cabecera X-API-Key)")
    print("  Cambiar fallas en marcha:")
    print(
        f"    curl -X PUT {url}/_sim/faults -H 'Content-Type: application/json' -d '{{\"siat_down\": true, \"latency_ms\": 500}}'"
    )
    print(f"  Ver fallas: GET {url}/_sim/faults   Reiniciar: POST {url}/_sim/reset   Estadísticas: GET {url}/_sim/stats")
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print("  Atención: escucha fuera de loopback; es un simulador sin seguridad real.")
    print("Ctrl-C para detener.", flush=True)
    # Stop as cleanly on SIGTERM (service managers, `kill`) as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.backfill_db:
            _backfill(simulator, args.backfill_db)
        while server.running and (args.parent_pid is None or os.getppid() == args.parent_pid):
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nDeteniendo…")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
