"""The monthly compliance report at a chain's size (issue 26, part 4): last month written into a deployed chain's
database (1 000 branches x 10 POS by default), then, in one run, the report's build from the store, its workbook
and PDF, and Informe mensual loaded in Chromium against a bare Streamlit page.

The month: a check every 30 s (86 400), three SIAT outages of two hours with motive 2 on every POS (30 000 events,
60 % started by the policy, 30 % by people, the rest outside the dashboard), 50 branch internet outages, three
offline invoices per event (90 000; 90 % validated, some late, some rejected), an alert per outage.
Run: .venv/bin/python -m benchmarks.report [--branches 1000 --pos-per-branch 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import sync_playwright

from benchmarks.common import deployed_chain, inventory_arguments
from benchmarks.pages import LOAD_TIMEOUT_MS, paired_loads, report
from cucu.api.models import Event, Inventory, Invoice, InvoiceStatus
from cucu.events.policy import POLICY_ACTOR
from cucu.inventory import load_inventory
from cucu.reports.compliance import compliance_report, month_period, previous_month
from cucu.store import ConnectivityCheck, DayEvents, StatusRead, Store
from cucu.store.schema import audit_log
from cucu.views.informe import report_pdf, report_xlsx
from cucu.vocabulary import ActionKind, AlertRule, InvoiceState, Outcome
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, TABLET, streamlit_server, wait_for_app

CHUNK = 5_000


def _event(id_: str, pos: str, branch: str, motive: int, start: datetime, end: datetime) -> Event:
    raw = {"id": id_, "posId": pos, "codigoMotivo": motive, "fechaInicio": start.strftime("%Y-%m-%dT%H:%M:%S"),
           "fechaFin": end.strftime("%Y-%m-%dT%H:%M:%S"), "finalizado": True}  # fmt: skip
    return replace(Event.from_api(raw), branch_id=branch)


def seed_month(store: Store, inventory: Inventory, start: datetime, end: datetime) -> dict[str, int]:
    """Last month at this chain's size, written straight into the store (see the module docstring)."""
    rng = random.Random(26)
    outages = [start + timedelta(days=d, hours=10) for d in (4, 13, 22)]
    checks, t = [], start
    while t < end:
        down = any(o <= t < o + timedelta(hours=2) for o in outages)
        checks.append(ConnectivityCheck(t, not down, 120.0))
        t += timedelta(seconds=30)
    for n in range(0, len(checks), CHUNK):
        store.add_checks(checks[n : n + CHUNK])
    days, audit, invoices, statuses = [], [], [], []
    for k, began in enumerate(outages):
        for pos in inventory.all_pos:
            s = began + timedelta(minutes=2 + rng.random() * 20)
            e = began + timedelta(hours=2, minutes=rng.random() * 40)
            ev = _event(f"e{k}-{pos.id}", pos.id, pos.branch_id, 2, s, e)
            days.append(DayEvents(pos.id, pos.branch_id, s.date(), end, True, (ev,), True))
            who = rng.random()
            if who < 0.9:
                actor = POLICY_ACTOR.id if who < 0.6 else "ana@empresa.bo"
                audit.append({"requested_at": s, "completed_at": s, "actor": actor, "actor_name": actor, "role": "supervisor",
                              "action": ActionKind.START.value, "branch_id": pos.branch_id, "pos_id": pos.id, "motive": 2,
                              "description": "SIAT", "event_id": ev.id, "outcome": Outcome.OK.value, "message": "ok"})  # fmt: skip
            for j in range(3):
                iid = f"i{k}{j}-{pos.id}"
                emitted = s + timedelta(minutes=5 + 20 * j)
                invoices.append(Invoice(iid, str(j), f"C{iid}", InvoiceState.CONTINGENCY, pos.id, "c", 10.0, emitted))
                roll = rng.random()
                state = InvoiceState.VALIDATED if roll < 0.9 else InvoiceState.REJECTED if roll < 0.95 else None
                if state is not None:
                    seen = e + timedelta(hours=1 if rng.random() < 0.95 else 60)
                    code = 908 if state is InvoiceState.VALIDATED else rng.choice((1037, 902, 1041))
                    status = InvoiceStatus(iid, str(j), f"C{iid}", state, code, "SIAT", "CONTINGENCIA", seen)
                    statuses.append(StatusRead(iid, seen, status=status))
    for b, branch in enumerate(inventory.branches[:50]):  # internet outages of 50 branches
        s = start + timedelta(days=b % 28, hours=15)
        for pos in branch.pos:
            ev = _event(f"net{b}-{pos.id}", pos.id, branch.id, 1, s + timedelta(minutes=1), s + timedelta(hours=3))
            days.append(DayEvents(pos.id, branch.id, s.date(), end, True, (ev,), True))
    for n in range(0, len(days), CHUNK):
        store.put_days(days[n : n + CHUNK])
    with store.engine.begin() as conn:
        for n in range(0, len(audit), CHUNK):
            conn.execute(sa.insert(audit_log), audit[n : n + CHUNK])
    for n in range(0, len(invoices), CHUNK):
        store.save_invoices(invoices[n : n + CHUNK], end)
    for n in range(0, len(statuses), CHUNK):
        store.save_invoice_statuses(statuses[n : n + CHUNK])
    for k, began in enumerate(outages):
        opened = began + timedelta(minutes=1)
        store.incident_open(key=f"bench-{k}", rule=AlertRule.SIAT_DOWN, branch_id=None, opened_at=opened, now=opened,
                            title="SIAT no responde", body="benchmark", messages=[])  # fmt: skip
    return {"checks": len(checks), "events": len(days), "audit": len(audit), "invoices": len(invoices)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    inventory_arguments(parser, branches=1000, pos_per_branch=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with deployed_chain(args.branches, args.pos_per_branch) as (env, db):
        inventory = load_inventory(env["CUCU_INVENTORY"])
        store = Store(db)
        now = store.now()
        start, end = month_period(*previous_month(now.date()))
        began = time.perf_counter()
        written = seed_month(store, inventory, start, end)
        print(f"mes escrito en {time.perf_counter() - began:.0f} s: {written}")
        builds, books, pdfs = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            figures = compliance_report(store, inventory, start, end, store.now())
            t1 = time.perf_counter()
            report_xlsx(figures, inventory)
            t2 = time.perf_counter()
            report_pdf(figures, inventory)
            builds.append(t1 - t0)
            books.append(t2 - t1)
            pdfs.append(time.perf_counter() - t2)
        print(
            f"informe de {len(inventory.all_pos)} POS: armado {statistics.median(builds):.2f} s, "
            f"Excel {statistics.median(books):.2f} s, PDF {statistics.median(pdfs):.2f} s (medianas de {args.runs})"
        )
        store.close()
        print(f"en Chromium, de abrir Informe mensual a ver el informe (servidor recién iniciado): {cold_report_s(env):.1f} s")
        pages = {"informe": ("Informe mensual", 2.0)}
        times, bare_times = paired_loads(env, pages, args.runs)
    report(pages, times, bare_times).exit()


def cold_report_s(env: dict[str, str]) -> float:
    """Seconds from opening Informe mensual on a fresh server to the month's tables shown (built in the background
    meanwhile, the page saying so)."""
    with streamlit_server(env, timeout_s=300) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=TABLET).new_page()
        page.goto(url)  # the runtime is built by the first visit, as for every page's benchmark
        wait_for_app(page, timeout_ms=LOAD_TIMEOUT_MS)
        started = time.perf_counter()
        page.goto(f"{url}/informe")
        page.get_by_role("heading", name="Sucursales (").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        seconds = time.perf_counter() - started
        browser.close()
    return seconds


if __name__ == "__main__":
    main()
