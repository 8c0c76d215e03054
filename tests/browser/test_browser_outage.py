"""End to end (issue 25): a SIAT outage in the simulator → the alert by e-mail to a local SMTP server → "Lo atiendo"
in Chromium from the message's link → no reminder and no escalation → SIAT back → the events ended → their offline
invoices settled → the dossier closes, with every step on its timeline, in the browser too.

One clock, moved by the test, drives the simulator (its events, invoices and their settling) and the test's
collector, actions and alerts (the database's clock stands in for them); the dashboard in Chromium runs on
PostgreSQL's own clock, which the test's only ever runs ahead of.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from cucu.alerts import decide, deliver, read_snapshot
from cucu.api.client import CucuClient
from cucu.collector import Collector
from cucu.connectivity.outages import read_dossier, read_outages
from cucu.events.actions import Actions, Actor
from cucu.inventory import DEMO_INVENTORY_PATH, load_inventory
from cucu.lapaz import now_la_paz
from cucu.settings import load_alerts
from cucu.simulator import DEFAULT_API_KEY, Simulator
from cucu.simulator.server import SimulatorServer
from cucu.store import Store
from cucu.vocabulary import AlertRule, Motive, OutageKind, OutageState, Role
from tests.support.alert_receivers import SmtpReceiver
from tests.support.browser import TABLET, production_env, streamlit_server, wait_for_app

ANA = Actor("ana@empresa.bo", "Ana Quispe", Role.SUPERVISOR)


class Clock:
    def __init__(self) -> None:
        self.at = now_la_paz().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def world(postgres_server):
    from tests.support.postgres import fresh_database

    clock = Clock()
    inventory = load_inventory(DEMO_INVENTORY_PATH)
    # An empty slate but for the invoices: ~one every 4 s across the company, so the outage's POS issue some offline.
    sim = Simulator(inventory, now=clock, history_days=0, active_share=0, invoices_per_day=22 * 24 * 40)
    server = SimulatorServer(sim).start()
    db = fresh_database(postgres_server)
    store = Store(db, clock=clock)
    client = CucuClient(server.base_url, DEFAULT_API_KEY, timeout=5, sleep=lambda s: None)
    collector = Collector(client, store, inventory, concurrency=8, clock=store.now)
    actions = Actions(client, store, inventory, concurrency=8, settle_window_s=0, clock=store.now)
    with SmtpReceiver() as smtp:
        yield clock, sim, server, db, store, collector, actions, smtp, inventory
    actions.close()
    collector.stop()
    client.close()
    store.close()
    server.stop()


def test_a_siat_outage_from_the_first_failed_check_to_the_closed_dossier(world, page):
    clock, sim, server, db, store, collector, actions, smtp, inventory = world
    env = production_env(server.base_url, db, collector="off", access_allow_anonymous_supervisors="true")
    with streamlit_server(env) as url:
        mail = f"mailto://127.0.0.1:{smtp.port}?from=alertas@empresa.bo&to="
        alerts = load_alerts(
            {
                "channels": [{"url": f"{mail}supervisor@empresa.bo"}, {"url": f"{mail}jefes@empresa.bo", "tags": ["jefes"]}],
                "remind_minutes": 5,
                "escalation": {"steps": [{"after_minutes": 10, "tags": ["jefes"]}]},
                "public_url": url,
            },
            {},
        )

        def alert_round() -> None:
            snap = read_snapshot(store, polling=True, last_poll=store.now(), now=store.now(), inventory=inventory)
            decide(store, inventory, alerts, snap, long_open_hours=24, check_interval_s=30, leading=True)
            deliver(store, alerts.channels, "prueba")

        def checks(n: int) -> None:
            for _ in range(n):
                clock.advance(seconds=30)
                collector.check_once()
                alert_round()

        collector.sweep_once()
        checks(2)  # SIAT answers
        sim.update_faults({"siat_down": True})
        checks(4)  # cucu: SIAT does not respond; declared at the third
        siat_mails = [s for s in smtp.subjects() if "SIAT no responde" in s]
        assert siat_mails == ["Contingencia · SIAT no responde"]
        message = next(m for m, s in zip(smtp.messages, smtp.subjects(), strict=True) if "SIAT no responde" in s)
        body = "".join(
            part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            for part in message.walk()
            if part.get_content_type() == "text/plain"
        )
        found = re.search(r"Para atenderla: (\S+)", body)
        assert found, body
        link = found.group(1)

        # Ana takes it from the message's link, on a tablet.
        page.set_viewport_size(TABLET)
        page.goto(link)
        wait_for_app(page)
        page.get_by_label("Nota").fill("Llamo a soporte de SIAT")
        page.get_by_role("button", name="Lo atiendo").click()
        wait_for_app(page)
        expect(page.get_by_test_id("stMain")).to_contain_text("Usted atiende «SIAT no responde»")

        # She starts motive 2 on three POS; 20 minutes pass: no reminder (quiet for 1 h), no escalation (taken).
        collector.sweep_once()
        chosen = [p.id for p in actions.plan_siat_outage().to_start][:3]
        actions.start(ANA, chosen, Motive.SIAT_FAILURE, "SIAT no responde: facturamos fuera de línea")
        collector.sweep_once()
        for _ in range(20):
            clock.advance(minutes=1)
            collector.check_once()
            alert_round()
        subjects = smtp.subjects()
        assert not [s for s in subjects if "Escalada" in s or ("Recordatorio" in s and "SIAT" in s)], subjects
        assert not any("jefes@" in str(m["To"]) for m in smtp.messages)

        # SIAT back: the alert closes; she ends the events; their offline invoices settle minutes later.
        sim.update_faults({"siat_down": False})
        checks(3)
        assert any("Resuelta: SIAT responde de nuevo" in s for s in smtp.subjects())
        collector.sweep_once()
        actions.end(ANA, actions.end_targets(chosen))
        collector.sweep_once()
        clock.advance(minutes=10)  # past the simulator's settling (1-6 min after the end)
        for _ in range(12):  # the walk and its status follow-ups, round after round
            clock.advance(minutes=2)
            collector.invoices_once()

        now = store.now()
        (outage,) = [o for o in read_outages(store, now - timedelta(hours=2), now) if o.kind is OutageKind.SIAT]
        dossier = read_dossier(store, inventory, outage, now)
        assert dossier.invoices, "no offline invoice was issued during the events"
        assert dossier.state is OutageState.CLOSED, [(i.invoice.state, i.deadline) for i in dossier.invoices]
        said = [t.what for t in dossier.timeline]
        for what in (
            "Primera comprobación fallida", "SIAT declarado caído", "Alerta", "Alerta atendida", "Eventos iniciados",
            "SIAT volvió", "Alerta resuelta", "Eventos finalizados", "Facturas fuera de línea", "Caída cerrada",
        ):  # fmt: skip
            assert what in said, (what, said)
        assert all(t.lane != "Caída" or t.what == "Caída cerrada" for t in dossier.timeline)  # each on its chart lane
        assert said[-1] == "Caída cerrada" and [t.at for t in dossier.timeline] == sorted(t.at for t in dossier.timeline)
        siat = next(i for i in dossier.incidents if i.rule == AlertRule.SIAT_DOWN)
        assert siat.acknowledged_by is not None and siat.escalations == 0

        # The same dossier in the browser.
        page.goto(f"{url}/caidas?caida={outage.key}")
        wait_for_app(page)
        main = page.get_by_test_id("stMain")
        expect(main).to_contain_text("Caída: SIAT no responde")
        expect(main).to_contain_text("Cerrada")
        expect(page.get_by_role("button", name="Descargar el expediente (PDF)")).to_be_visible()
        expect(page.get_by_test_id("stException")).to_have_count(0)
