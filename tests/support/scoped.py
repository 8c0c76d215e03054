"""Rows of every region in every table a page reads, for the tests of a scoped person (issue 26, part 2)."""

from __future__ import annotations

from datetime import timedelta

from cucu.alerts import add_note
from cucu.events.actions import Actor
from cucu.events.maintenance import schedule
from cucu.runtime import Runtime
from cucu.simulator import Simulator
from cucu.store import OutboxMessage
from cucu.vocabulary import AlertKind, AlertRule, Motive, Role

ANA = Actor("ana@empresa.bo", "Ana Quispe", Role.SUPERVISOR)  # the whole company's


def seed_every_region(sim: Simulator, runtime: Runtime, mine_region: str) -> tuple[list[str], list[str]]:
    """An outage with events everywhere, a branch alert and maintenance windows for every branch, audited
    actions. Returns what must never reach a person scoped to ``mine_region`` (other regions' branch names,
    cities, branch and POS ids) and their own branches' names."""
    inventory = runtime.inventory
    # An outage: SIAT down, motive 2 started on every free POS of every region, SIAT back, ended.
    sim.update_faults({"siat_down": True})
    for _ in range(4):
        runtime.collector.check_once()
    runtime.collector.sweep_once()
    free = [p.id for p in runtime.actions.plan_siat_outage().to_start]
    runtime.actions.start(ANA, free, Motive.SIAT_FAILURE, "SIAT no responde")
    sim.update_faults({"siat_down": False})
    runtime.collector.check_once()
    runtime.collector.sweep_once()
    runtime.actions.end(ANA, runtime.actions.end_targets(free[: len(free) // 2]))
    runtime.collector.sweep_once()
    now = runtime.store.now()
    # An alert of a branch in each region, and SIAT's (the company's).
    for branch in inventory.branches:
        incident_id = runtime.store.incident_open(
            key=f"{AlertRule.LONG_OPEN}:{branch.id}", rule=AlertRule.LONG_OPEN, branch_id=branch.id, opened_at=now,
            now=now, title=f"Contingencia prolongada en {branch.name}", body=f"{branch.name}: 2 POS",
            messages=[OutboxMessage(AlertKind.OPENED, "c1", "json://x", f"Abierta: {branch.name}", branch.name)],
        )  # fmt: skip
        assert incident_id is not None
        add_note(runtime.store, ANA, incident_id, f"Llamé a {branch.name}", now, inventory)
    runtime.store.incident_open(
        key=str(AlertRule.SIAT_DOWN), rule=AlertRule.SIAT_DOWN, branch_id=None, opened_at=now, now=now,
        title="SIAT no responde", body="SIAT no responde desde hace 2 min", messages=[],
    )  # fmt: skip
    # Maintenance of each branch, and one over every branch.
    for branch in inventory.branches:
        schedule(
            runtime.store, ANA, inventory, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2),
            branch_ids=[branch.id], silenced=[AlertRule.LONG_OPEN], reason=f"Inventario de {branch.name}", now=now,
        )  # fmt: skip
    schedule(
        runtime.store, ANA, inventory, starts_at=now + timedelta(hours=3), ends_at=now + timedelta(hours=4),
        branch_ids=[b.id for b in inventory.branches], silenced=[], reason="Inventario anual", now=now,
    )  # fmt: skip
    theirs = [b for b in inventory.branches if b.region != mine_region]
    forbidden = [b.name for b in theirs] + [b.id for b in theirs] + [p.id for b in theirs for p in b.pos]
    forbidden += [b.city for b in theirs if b.city]
    mine = [b.name for b in inventory.branches if b.region == mine_region]
    assert theirs and mine
    return forbidden, mine
