"""Benchmark: Bitácora's reads on a large audit log (SQLite): the count and the first page of a filter.

The log is generated (``tests.support.audit``) over a chain's inventory, spread evenly over
``--days`` days up to now; each filter is read as the page reads it (the user list, the count, the
first page) and, for contrast, the last page and the CSV's first chunk. Absolute seconds, medians of
``--runs`` (one machine, one run: compare the filters with each other, not across machines).
Run: .venv/bin/python -m benchmarks.bitacora [--rows 1000000] [--db /tmp/bitacora.db]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from benchmarks.common import Verdicts, inventory_arguments
from cucu.lapaz import now_la_paz
from cucu.periods import day_bounds, default_range
from cucu.simulator import synthetic_inventory
from cucu.store import AuditFilter, Store, page_count
from cucu.vocabulary import ActionKind, Outcome
from tests.support.audit import ACTORS, audit_rows, insert_audit_rows


def timed(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def first_page(store: Store, where: AuditFilter) -> object:
    return store.audit_count(where), store.audit_page(where, page=1)


def first_chunk(store: Store, where: AuditFilter) -> object:
    return next(store.audit_chunks(where), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90, help="the log spans this many days up to now")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", help="reuse (or create) this SQLite file instead of a temporary one")
    args = parser.parse_args()

    inventory = synthetic_inventory(args.branches, args.pos_per_branch)
    places = [(p.branch_id, p.id) for p in inventory.all_pos]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db or Path(tmp) / "bitacora.db")
        store = Store(str(path))
        now = now_la_paz()
        if store.audit_count() != args.rows:
            if store.audit_count():
                raise SystemExit(f"{path} holds another log: remove it or use another --db")
            started = time.perf_counter()
            every = timedelta(days=args.days) / args.rows
            insert_audit_rows(store, audit_rows(args.rows, now - timedelta(minutes=1), places, every=every))
            print(
                f"{args.rows} intentos generados en {time.perf_counter() - started:.0f} s ({path}, {path.stat().st_size / 1e6:.0f} MB)"
            )
        week = day_bounds(*default_range(now.date()))
        everything = day_bounds(now.date() - timedelta(days=args.days + 1), now.date())
        filters = {
            "semana por defecto": AuditFilter(since=week[0], until=week[1]),
            "todo el registro": AuditFilter(since=everything[0], until=everything[1]),
            "todo, una sucursal": AuditFilter(since=everything[0], until=everything[1], branch_ids=(places[0][0],)),
            "todo, tres sucursales": AuditFilter(
                since=everything[0], until=everything[1], branch_ids=tuple(b.id for b in inventory.branches[:3])
            ),
            "semana, una sucursal y un usuario": AuditFilter(
                since=week[0], until=week[1], branch_ids=(places[0][0],), actors=(ACTORS[0],)
            ),
            "todo, resultado Error": AuditFilter(since=everything[0], until=everything[1], outcomes=(Outcome.ERROR,)),
            "todo, Error o Sin confirmar": AuditFilter(
                since=everything[0], until=everything[1], outcomes=(Outcome.ERROR, Outcome.UNCERTAIN)
            ),
            "todo, una acción": AuditFilter(since=everything[0], until=everything[1], actions=(ActionKind.START,)),
            "todo, un usuario": AuditFilter(since=everything[0], until=everything[1], actors=(ACTORS[3],)),
        }
        print(f"lista de usuarios (cada carga): {timed(args.runs, store.audit_actors):.3f} s")
        verdicts = Verdicts()
        print("filtro: filas | conteo + primera página | última página | primer bloque del CSV")
        for name, where in filters.items():
            total = store.audit_count(where)
            opening = timed(args.runs, partial(first_page, store, where))
            last = timed(args.runs, partial(store.audit_page, where, page=page_count(total)))
            chunk = timed(args.runs, partial(first_chunk, store, where))
            print(f"  {name}: {total} | {opening:.3f} s | {last:.3f} s | {chunk:.3f} s")
            verdicts.check(f"{name}: conteo + primera página (s)", opening, "<=", 1.0)
        store.close()
    verdicts.exit()


if __name__ == "__main__":
    main()
