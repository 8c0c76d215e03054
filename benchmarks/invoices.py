"""Calls a round for invoicing at a chain's size: 10 000 invoices a day, 72 h of them, 10 000 POS' CUFDs.

The simulator in this process on a simulated clock (one round a simulated minute, no latency: this
counts calls, not seconds), the collector's invoice and CUFD rounds with the default budgets. It
prints, per round: list calls and status calls (bounded by the budgets), the CUFD calls, how many
rounds a full pass down to the window takes, and how many rounds after an event ends its offline
invoices are seen settled. Targets: every round within its budgets; a full pass within an hour.
Run: .venv/bin/python -m benchmarks.invoices [--branches 1000 --pos-per-branch 10 --per-day 10000 --rounds 70]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import timedelta
from pathlib import Path

from benchmarks.common import Verdicts, inventory_arguments
from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.invoicing import REJECTED_STATUS_EVERY, STATUS_EVERY
from cucu.lapaz import now_la_paz
from cucu.settings import Settings
from cucu.simulator import DEFAULT_API_KEY, Simulator, SimulatorServer
from cucu.simulator.seed import synthetic_inventory
from cucu.vocabulary import InvoiceState


class Clock:
    def __init__(self) -> None:
        self.now = now_la_paz().replace(microsecond=0)

    def __call__(self):
        return self.now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    parser.add_argument("--per-day", type=int, default=10_000, help="facturas emitidas al día en la empresa")
    parser.add_argument("--rounds", type=int, default=70, help="rondas de un minuto simulado")
    args = parser.parse_args()
    clock = Clock()
    inventory = synthetic_inventory(args.branches, args.pos_per_branch)
    sim = Simulator(inventory, now=clock, invoices_per_day=args.per_day)
    in_window = sum(1 for i in sim._invoicing.invoices if i.emitted >= clock() - timedelta(hours=72))
    offline = sum(1 for i in sim._invoicing.invoices if i.event_id)
    print(
        f"{len(inventory.all_pos)} puntos de venta, {args.per_day} facturas al día: {in_window} facturas en 72 h "
        f"({-(-in_window // 50)} páginas de 50), {offline} emitidas fuera de línea"
    )
    with (
        SimulatorServer(sim) as server,
        CucuClient(server.base_url, DEFAULT_API_KEY, timeout=30, sleep=lambda s: None) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        from cucu.store import Store

        store = Store(str(Path(tmp) / "b.db"))
        collector = Collector(client, store, inventory, concurrency=32, clock=clock)
        collector.sweep_once()  # which POS are in contingency: the follow-ups put ended events first
        pages, statuses, cufd_calls, pass_rounds = [], [], [], []
        rounds_in_pass = 0
        ended_at_round: int | None = None
        settled_after: int | None = None
        watched: set[str] = set()
        for n in range(args.rounds):
            done = collector.invoices_once()
            cufd_calls.append(len(collector.cufd_once()))
            pages.append(done.pages)
            statuses.append(done.statuses)
            rounds_in_pass += 1
            if done.pass_done:
                pass_rounds.append(rounds_in_pass)
                rounds_in_pass = 0
            if ended_at_round is None and collector.invoice_walk.passes >= 1:
                # End the events whose offline invoices the store holds; wait for them to settle there.
                active = {e["id"]: e for e in sim.events() if not e["finalizado"]}
                chosen = list(active.values())[:20]
                watched = {i.id for i in sim._invoicing.invoices if i.event_id in {e["id"] for e in chosen}}
                for event in chosen:
                    client.end_event(event["posId"], event["branchId"], event["id"])
                collector.sweep_once()  # as the running collector's next sweep would
                ended_at_round = n
            elif ended_at_round is not None and settled_after is None and watched:
                held = {i.id: i.state for i in store.invoices_since(clock() - timedelta(days=5)) if i.id in watched}
                if len(held) == len(watched) and all(s is not InvoiceState.CONTINGENCY for s in held.values()):
                    settled_after = n - ended_at_round
            clock.now += timedelta(minutes=1)
        store.close()
    print(f"rondas de facturas: {args.rounds} (una por minuto simulado)")
    print(
        f"  llamadas de lista por ronda: máx {max(pages)}, mediana {statistics.median(pages):.0f} (tope {Settings.invoice_pages_per_round})"
    )
    print(
        f"  llamadas de estado por ronda: máx {max(statuses)}, mediana {statistics.median(statuses):.0f} "
        f"(tope {Settings.invoice_statuses_per_round}; cada pendiente cada {STATUS_EVERY}, rechazada cada {REJECTED_STATUS_EVERY})"
    )
    print(
        f"  CUFD por ronda: primera {cufd_calls[0]}, luego mediana {statistics.median(cufd_calls[1:]):.0f}, "
        f"máx {max(cufd_calls[1:])} (cada punto cada {Settings.cufd_interval_s / 60:.0f} min)"
    )
    print(f"  pasadas completas hasta 72 h: {len(pass_rounds)}, rondas por pasada: {pass_rounds}")
    if settled_after is not None:
        print(f"  {len(watched)} facturas de 20 eventos finalizados, vistas resueltas {settled_after} rondas después")
    verdicts = Verdicts()
    verdicts.check("llamadas de lista por ronda / tope", max(pages) / Settings.invoice_pages_per_round, "<=", 1)
    verdicts.check("llamadas de estado por ronda / tope", max(statuses) / Settings.invoice_statuses_per_round, "<=", 1)
    verdicts.check("rondas por pasada completa (minutos)", max(pass_rounds) if pass_rounds else args.rounds, "<=", 60)
    verdicts.check("CUFD por ronda después de la primera / puntos", max(cufd_calls[1:]) / len(inventory.all_pos), "<=", 0.2)
    verdicts.exit()


if __name__ == "__main__":
    main()
