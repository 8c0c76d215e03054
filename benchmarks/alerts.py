"""How soon people hear of it, and how soon the policy undoes what it did, in check intervals.

The simulator in its own process (a generated chain, 100 ms a call), a runtime with its collector,
alerts to a JSON webhook on loopback and the automatic policy on (down 1 minute, back 3 checks).
SIAT goes down: the time from the check that makes the rule fire (the third failed one) to the alert
at the receiver, and from the first failed check; the policy's start after ``down_minutes``. SIAT
comes back: the time from the first good check to the last of the policy's events ended (the rule
needs ``up_checks`` good checks, then the calls take their time). Target: the alert within one
interval after the rule fires.
Run: .venv/bin/python -m benchmarks.alerts [--interval-s 2 --branches 20]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.common import API_KEY, Verdicts, inventory_arguments, simulator_process
from cucu.inventory import inventory_to_toml
from cucu.runtime import build_runtime
from cucu.settings import load_settings
from cucu.simulator.seed import synthetic_inventory
from tests.support.alert_receivers import WebhookReceiver

OPENED = "Contingencia · SIAT no responde"
UP_CHECKS = 3


def wait_for(condition, timeout_s: float, what: str):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"no llegó a tiempo: {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=20, pos_per_branch=10)
    parser.add_argument("--interval-s", type=float, default=2.0, help="segundos entre comprobaciones")
    args = parser.parse_args()
    interval = args.interval_s
    inventory = synthetic_inventory(args.branches, args.pos_per_branch)
    size = f"{args.branches}x{args.pos_per_branch}"
    with (
        simulator_process("--synthetic", size, "--latency-ms", "100", "--history-days", "0") as sim_url,
        WebhookReceiver() as hook,
        tempfile.TemporaryDirectory() as tmp,
    ):
        path = Path(tmp) / "inventario.toml"
        path.write_text(inventory_to_toml(inventory), encoding="utf-8")
        settings = load_settings(
            {
                "base_url": sim_url,
                "api_key": API_KEY,
                "inventory": str(path),
                "db": str(Path(tmp) / "alertas.db"),
                "check_interval_s": interval,
                "sweep_interval_s": interval,
                "backfill_per_minute": 0,
            },
            {},
            alerts={"channels": [{"url": hook.url}], "remind_minutes": 0, "retry_s": 1},
            policy={"mode": "on", "down_minutes": 1, "up_checks": UP_CHECKS},
        )
        runtime = build_runtime(settings, start_collector=True)
        store = runtime.store
        try:
            wait_for(
                lambda: runtime.collector.rounds["check"] >= 2 and runtime.collector.rounds["sweep"] >= 1,
                60,
                "las primeras rondas",
            )
            httpx.put(f"{sim_url}/_sim/faults", json={"siat_down": True}, timeout=5).raise_for_status()
            wait_for(lambda: OPENED in [p["title"] for p in hook.posts], 10 * interval + 30, "la alerta")
            alert_at = hook.arrived[[p["title"] for p in hook.posts].index(OPENED)]
            checks = store.recent_checks(50)
            failed = [c for c in checks if c.failed]
            first_fail, fires = failed[0].checked_at.timestamp(), failed[2].checked_at.timestamp()
            print(f"{len(inventory.all_pos)} puntos de venta; comprobación cada {interval:g} s")
            print(
                f"  de la primera comprobación fallida a la alerta en el receptor: {(alert_at - first_fail) / interval:.2f} intervalos"
            )

            from cucu.events.policy import POLICY_ACTOR
            from cucu.store import AuditFilter

            def policy_starts() -> list[object]:
                return [e for e in store.audit_entries(AuditFilter(actors=(POLICY_ACTOR.id,))) if e.event_id]

            # The policy's round is over when its own alert is decided, right after its calls.
            wait_for(
                lambda: any(i.rule == "politica_automatica" for i in store.open_incidents()),
                120,
                "la política inicia contingencia",
            )
            started = policy_starts()
            started_at = max(e.requested_at.timestamp() for e in started)  # type: ignore[attr-defined]
            print(
                f"  la política inició {len(started)} eventos {(started_at - first_fail - 60) / interval:.2f} intervalos "
                "después del minuto de caída"
            )
            ids = {e.event_id for e in started}  # type: ignore[attr-defined]
            httpx.put(f"{sim_url}/_sim/faults", json={"siat_down": False}, timeout=5).raise_for_status()

            def open_policy_events() -> int:
                statuses = store.pos_statuses()  # the actions write what they ended at once
                return sum(1 for s in statuses.values() if s.event is not None and s.event.active and s.event.id in ids)

            wait_for(lambda: (latest := store.latest_check()) is not None and latest.siat_ok, 30, "SIAT de vuelta")
            recent = store.recent_checks(200)
            last_failed = max(i for i, c in enumerate(recent) if c.failed)
            first_ok = recent[last_failed + 1].checked_at.timestamp()
            wait_for(lambda: open_policy_events() == 0, 30 * interval + 60, "el fin de los eventos de la política")
            ended_at = time.time()
            after = [c for c in store.recent_checks(200) if c.checked_at.timestamp() >= first_ok]
            rule_met = after[UP_CHECKS - 1].checked_at.timestamp() if len(after) >= UP_CHECKS else first_ok
            print(
                f"  SIAT de vuelta: {UP_CHECKS} comprobaciones buenas en {(rule_met - first_ok) / interval:.2f} intervalos; "
                f"la política finalizó sus eventos {(ended_at - rule_met) / interval:.2f} intervalos después"
            )
            verdicts = Verdicts()
            verdicts.check(
                "de la regla cumplida (tercera comprobación fallida) a la alerta, en intervalos",
                (alert_at - fires) / interval,
                "<=",
                1.0,
            )
            print(
                f"  de la primera comprobación buena al fin de los eventos de la política: {(ended_at - first_ok) / interval:.2f} intervalos"
            )
        finally:
            runtime.close()
    verdicts.exit()


if __name__ == "__main__":
    main()
