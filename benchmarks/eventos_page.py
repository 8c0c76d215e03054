"""Benchmark 4: the Eventos activos page script with 2000 POS in the store, in under 1 s of server time.

The store is filled as a sweep would leave it (a quarter of the POS in contingency, some
stale); the page runs under AppTest (app.py + page, as the server runs them) with the
collector off, so only the page's own work is timed.  Run: .venv/bin/python -m benchmarks.eventos_page
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks.common import API_KEY, ROOT, Verdicts, inventory_arguments
from cucu.api.models import Event, format_api_datetime
from cucu.connectivity.checks import ConnectivityCheck
from cucu.inventory import inventory_to_toml
from cucu.lapaz import now_la_paz
from cucu.simulator import synthetic_inventory
from cucu.store import PosFetch, Store


def fill_store(store: Store, inventory) -> None:
    now = now_la_paz()
    store.add_check(ConnectivityCheck(now, True, 12.0))
    fetches = []
    for i, pos in enumerate(inventory.all_pos):
        event = None
        if i % 4 == 0:
            start = now - timedelta(minutes=7 * i % 3000)
            event = Event.from_api(
                {
                    "id": f"ev-{i}",
                    "posId": pos.id,
                    "codigoMotivo": 1 + i % 4,
                    "descripcionMotivo": None,
                    "fechaInicio": format_api_datetime(start),
                    "fechaFin": None,
                    "finalizado": False,
                    "cufdEvento": "BQUFDQ0JBQkE" * 4,
                    "codigoEventoSiat": 100000 + i,
                    "descripcion": "Corte de internet en la zona",
                }
            )
        error = "cucu no respondió a tiempo." if i % 50 == 0 else None
        fetches.append(PosFetch(pos.id, pos.branch_id, now, event=event, error=error))
    store.save_pos_fetches([PosFetch(f.pos_id, f.branch_id, f.fetched_at, event=f.event) for f in fetches])
    store.save_pos_fetches([f for f in fetches if f.error])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=40, pos_per_branch=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from streamlit.testing.v1 import AppTest

    inventory = synthetic_inventory(args.branches, args.pos_per_branch)
    with tempfile.TemporaryDirectory() as tmp:
        inv_path = Path(tmp) / "inv.toml"
        inv_path.write_text(inventory_to_toml(inventory))
        db = str(Path(tmp) / "bench.db")
        fill_store(Store(db), inventory)
        secrets = {
            "base_url": "http://127.0.0.1:9",  # never called: the collector is off and a check is stored
            "api_key": API_KEY,
            "inventory": str(inv_path),
            "db": db,
            "collector": False,
        }
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.secrets["cucu"] = secrets
        at.run()
        at.switch_page("pages/eventos.py").run()  # warm: runtime built, modules imported
        assert not at.exception, [e.value for e in at.exception]
        tables = len(at.dataframe)
        rows = max((len(d.value) for d in at.dataframe), default=0)  # the one table of every POS
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
            assert not at.exception
    median = statistics.median(times)
    print(
        f"Eventos activos con {len(inventory.all_pos)} puntos de venta ({rows} filas en la tabla de todos, {tables} tablas): "
        f"mediana {median:.3f} s en {args.runs} ejecuciones (min {min(times):.3f}, max {max(times):.3f})"
    )
    v = Verdicts()
    v.check("tiempo de servidor del script (s)", median, "<", 1.0)
    v.check("filas mostradas", rows, ">=", len(inventory.all_pos))
    v.exit()


if __name__ == "__main__":
    main()
