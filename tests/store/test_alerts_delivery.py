"""Alerts end to end, through Apprise to real receivers on loopback: a JSON webhook and an SMTP server.

The simulator's SIAT goes down: the alert arrives once at each receiver, reminders arrive, SIAT comes
back and the recovery arrives. A receiver that fails for a while gets the alert once it is back. Two
collector processes on one database send each alert once, and a restart in the middle loses none.
Text from outside arrives as plain text (a real SMTP server; Slack's and Telegram's payloads as Apprise
builds them), and a channel that never answers delays neither the others nor the decisions.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cucu.alerts import Alerter, apprise_send, deliver, messages_for
from cucu.api.models import Inventory
from cucu.runtime import build_runtime
from cucu.settings import load_alerts, load_settings
from cucu.simulator import DEFAULT_API_KEY
from cucu.store import Store
from cucu.vocabulary import AlertKind, Delivery
from tests.support.alert_receivers import HttpCapture, SilentSmtp, SmtpReceiver, WebhookReceiver
from tests.support.clock_ahead import inherited_clock
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "t0k3nS3cr3t"
WAIT_S = 30  # rounds of processes on a busy 2-core machine
# Exact titles: the demo's data opens other incidents too (a branch in contingency for days).
OPENED = "Contingencia · SIAT no responde"
REMINDED = "Contingencia · Recordatorio: SIAT no responde"
BACK = "Contingencia · Resuelta: SIAT responde de nuevo"


@pytest.fixture
def webhook():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def mailbox():
    with SmtpReceiver() as receiver:
        yield receiver


def count(titles, title):
    return sum(1 for t in titles if t == title)


# These tests are about delivery: the invoicing rules (the demo has an expired CUFD from the start) would
# only add messages to wait for; they are covered in tests/store/test_invoicing.py.
INVOICING_RULES_OFF = {"cufd_por_vencer": False, "facturas_por_vencer": False, "facturas_rechazadas": False}


def runtime_for(tmp_path, sim_server, demo_inventory_path, alerts):
    alerts = {**alerts, "rules": {**INVOICING_RULES_OFF, **alerts.get("rules", {})}}
    settings = load_settings(
        {
            "base_url": sim_server.base_url,
            "api_key": DEFAULT_API_KEY,
            "inventory": demo_inventory_path,
            "db": str(tmp_path / "alertas.db"),
            "check_interval_s": 1,
            "sweep_interval_s": 2,
            "backfill_per_minute": 0,
        },
        {},
        alerts=alerts,
    )
    return build_runtime(settings, start_collector=True)


def test_siat_down_alerts_once_reminds_and_recovers_by_webhook_and_email(
    tmp_path, sim, sim_server, demo_inventory_path, webhook, mailbox
):
    alerts = {"channels": [{"url": webhook.url}, {"url": mailbox.url}], "remind_minutes": 0.05, "retry_s": 0.2}
    runtime = runtime_for(tmp_path, sim_server, demo_inventory_path, alerts)
    try:
        wait_until(lambda: runtime.collector.rounds["check"] >= 2, WAIT_S, what="the first checks")
        sim.update_faults({"siat_down": True})
        wait_until(lambda: count(webhook.titles(), OPENED) and count(mailbox.subjects(), OPENED), WAIT_S, what="the alert")
        wait_until(lambda: count(webhook.titles(), REMINDED), WAIT_S, what="a reminder, 3 s later")
        sim.update_faults({"siat_down": False})
        wait_until(lambda: count(webhook.titles(), BACK) and count(mailbox.subjects(), BACK), WAIT_S, what="the recovery")
        body = next(p["message"] for p in webhook.posts if p["title"] == BACK)
        assert "estuvo sin responder" in body and "hora de La Paz" in body
        for titles in (webhook.titles(), mailbox.subjects()):
            assert count(titles, OPENED) == 1 and count(titles, REMINDED) >= 1 and count(titles, BACK) == 1
        assert all(i.title != "SIAT no responde" for i in runtime.store.open_incidents())
        # Every message is delivered; reminders of other incidents keep coming every 3 s, so "all delivered"
        # is a moment to wait for, not a state to find at once.
        wait_until(
            lambda: {e.delivery for e in runtime.store.outbox_entries(100)} == {Delivery.DELIVERED},
            WAIT_S,
            what="every message delivered",
        )
    finally:
        runtime.close()
        sim.update_faults({"siat_down": False})


def test_a_receiver_that_fails_for_a_while_gets_the_alert_once_it_is_back(
    tmp_path, sim, sim_server, demo_inventory_path, webhook
):
    alerts = {"channels": [{"url": webhook.url}], "remind_minutes": 0, "retry_s": 0.3}
    webhook.failing = True
    runtime = runtime_for(tmp_path, sim_server, demo_inventory_path, alerts)
    try:
        sim.update_faults({"siat_down": True})
        wait_until(
            lambda: any(e.title == OPENED and e.attempts >= 2 for e in runtime.store.outbox_entries(10)),
            WAIT_S,
            what="two refused attempts",
        )
        assert all(e.delivery is Delivery.WAITING and "503" in (e.last_error or "") for e in runtime.store.outbox_entries(10))
        webhook.failing = False
        wait_until(lambda: count(webhook.titles(), OPENED), WAIT_S, what="the alert after the receiver is back")
        wait_until(
            lambda: {e.delivery for e in runtime.store.outbox_entries(10)} == {Delivery.DELIVERED},
            WAIT_S,
            what="marked delivered",
        )
        assert count(webhook.titles(), OPENED) == 1
    finally:
        runtime.close()
        sim.update_faults({"siat_down": False})


# ---- collector processes ---------------------------------------------------------------------


@pytest.fixture
def service(tmp_path, sim, sim_server, demo_inventory_path, webhook):
    """Starts ``python -m cucu.collector_service`` processes on one database, alerting to ``webhook``."""
    secrets = tmp_path / "secrets.toml"
    url = webhook.url.replace("json://", f"json://alertas:{TOKEN}@")  # a URL with a secret, as real ones have
    secrets.write_text(f'[alerts]\nremind_minutes = 0\nretry_s = 0.3\n[[alerts.channels]]\nurl = "{url}"\n', encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "CUCU_BASE_URL": sim_server.base_url,
        "CUCU_API_KEY": DEFAULT_API_KEY,
        "CUCU_INVENTORY": demo_inventory_path,
        "CUCU_DB": str(tmp_path / "contingencia.db"),
        "CUCU_CHECK_INTERVAL_S": "1",
        "CUCU_SWEEP_INTERVAL_S": "2",
        "CUCU_BACKFILL_PER_MINUTE": "0",
        **inherited_clock(),  # a run a year ahead (tests/clock-ahead.sh) shifts these processes too
    }
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "-m", "cucu.collector_service", "--secrets", str(secrets)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        return proc

    yield start, Store(env["CUCU_DB"])
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    sim.update_faults({"siat_down": False})
    logs = "".join(p.read_text(encoding="utf-8", errors="replace") for p in tmp_path.glob("*.log"))
    assert "Traceback" not in logs, logs
    assert TOKEN not in logs  # the channel's secret is in no log line


def test_two_collector_processes_send_each_alert_once(service, sim, webhook):
    start, store = service
    start("a"), start("b")
    wait_until(lambda: store.latest_check() is not None and store.lease("collector"), WAIT_S, what="a process polling")
    sim.update_faults({"siat_down": True})
    wait_until(lambda: count(webhook.titles(), OPENED), WAIT_S, what="the alert")
    sim.update_faults({"siat_down": False})
    wait_until(lambda: count(webhook.titles(), BACK), WAIT_S, what="the recovery")
    # Both processes had every round in between to send it again: neither did.
    assert count(webhook.titles(), OPENED) == 1 and count(webhook.titles(), BACK) == 1
    assert len(webhook.titles()) == len(set(webhook.titles()))  # no message twice, whatever the incident


def test_a_restart_in_the_middle_loses_no_alert(service, sim, webhook):
    start, store = service
    first = start("a")
    wait_until(lambda: store.latest_check() is not None, WAIT_S, what="the first check")
    webhook.failing = True
    sim.update_faults({"siat_down": True})

    def siat_alerts():
        return [e for e in store.outbox_entries(20) if e.title == OPENED]

    wait_until(lambda: any(e.attempts for e in siat_alerts()), WAIT_S, what="an attempt the receiver refused")
    first.send_signal(signal.SIGTERM)  # systemctl restart: the message is still to send
    assert first.wait(timeout=30) == 0
    (siat,) = siat_alerts()
    assert siat.kind is AlertKind.OPENED and siat.delivery is Delivery.WAITING
    webhook.failing = False
    start("b")
    wait_until(lambda: count(webhook.titles(), OPENED), WAIT_S, what="the alert, sent by the new process")
    sim.update_faults({"siat_down": False})
    wait_until(lambda: count(webhook.titles(), BACK), WAIT_S, what="the recovery")
    assert count(webhook.titles(), OPENED) == 1 and len(webhook.titles()) == len(set(webhook.titles()))


# ---- plain text ------------------------------------------------------------------------------

# What cucu, SIAT or a name may carry into a message: HTML, Slack's mention and link syntax, Markdown.
HOSTILE = (
    'Error de cucu: <img src=x onerror="alert(1)"> <script>alert(document.cookie)</script> '
    '<a href="http://evil.example/login">Ingrese al portal SIAT</a> <!channel> <@U024BE7LH> '
    "<http://evil.example|Ingrese al portal SIAT> [Ingrese al portal SIAT](http://evil.example)"
)
SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#alertas"
TELEGRAM = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234567890"


def queue_hostile(db, urls):
    """A message whose body carries HOSTILE, queued for each channel as a decision queues it."""
    store = Store(db)
    settings = load_alerts({"channels": [{"url": u} for u in urls]}, {})
    messages = messages_for(
        settings.channels,
        settings,
        Inventory(()),
        AlertKind.OPENED,
        rule="cucu_no_responde",
        branch_id=None,
        title="cucu <b>no</b> responde",
        body=f"Sin conexión con cucu: {HOSTILE}.",
        path="",
    )
    store.outbox_add(messages, store.db_now())
    return store, settings


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def test_an_email_carries_outside_text_as_plain_text_only(db, mailbox):
    store, settings = queue_hostile(db, [mailbox.url])
    assert deliver(store, settings.channels, "me") == 1
    (message,) = mailbox.messages
    parts = [(p.get_content_type(), p.get_payload(decode=True).decode()) for p in message.walk() if not p.is_multipart()]
    assert [kind for kind, _ in parts] == ["text/plain"]  # no HTML part to carry a tag, live or not
    text = parts[0][1]
    assert "Ingrese al portal SIAT" in text and "onerror" in text  # the words arrive, as words
    assert "<!channel>" not in text and "<http://evil" not in text


def test_slack_and_telegram_get_outside_text_that_cannot_mention_link_or_render(db, monkeypatch):
    http = HttpCapture(monkeypatch)
    # The operator's own ?format= does not bring markup back.
    urls = [SLACK, TELEGRAM, f"{SLACK}?format=markdown", f"{TELEGRAM}?format=html"]
    store, settings = queue_hostile(db, urls)
    assert deliver(store, settings.channels, "me") == len(urls)
    slack = http.json_to("hooks.slack.com")
    assert len(slack) == 2
    for payload in slack:
        assert payload.get("mrkdwn") is False
        for text in strings(payload):
            for markup in ("<!", "<@", "<http", "<script", "<img", "<a "):
                assert markup not in text, text
    assert any("Ingrese al portal SIAT" in text for text in strings(slack[0]))
    telegram = http.json_to("api.telegram.org")
    assert len(telegram) == 2
    for payload in telegram:
        assert payload["parse_mode"] == "MarkdownV2"  # never HTML
        # MarkdownV2: every reserved character escaped, so no link, bold or tag can form.
        assert not re.search(r"(?<!\\)[\[\]()<>|]", payload["text"].replace("*Contingencia", "", 1)), payload["text"]
        assert "Ingrese al portal SIAT" in payload["text"]


# ---- one slow channel --------------------------------------------------------------------------


def test_a_send_to_a_server_that_never_greets_ends_at_its_timeout():
    with SilentSmtp() as silent:
        (channel,) = load_alerts({"channels": [{"url": silent.url}]}, {}).channels
        started = time.monotonic()
        error = apprise_send(channel, "Contingencia · Prueba", "…", timeout_s=1)
        took = time.monotonic() - started
    assert error is not None and took < 5, (error, took)


def test_a_channel_that_never_greets_delays_neither_the_others_nor_the_decisions(db, webhook):
    """Seen: an SMTP server that never greets made one round take 60 s for 4 messages, the policy's and
    the alerts' decisions waiting behind it."""
    with SilentSmtp() as silent:
        store = Store(db)
        settings = load_alerts({"channels": [{"url": silent.url}, {"url": webhook.url}]}, {})
        alerter = Alerter(
            store,
            Inventory(()),
            settings,
            leading=lambda: False,
            polling=lambda: (True, None),
            holder="yo",
            long_open_hours=24,
            check_interval_s=0.2,
        )
        alerter.start()
        try:
            wait_until(lambda: alerter.rounds, what="the first round")
            alerter.queue_test("ana@empresa.bo")
            wait_until(lambda: webhook.titles(), 5, what="the good channel's message, while the other hangs")
            wait_until(lambda: silent.accepted, what="the silent server reached")
            rounds = alerter.rounds
            wait_until(lambda: alerter.rounds >= rounds + 5, 5, what="decision rounds while a send hangs")
            mute = next(e for e in store.outbox_entries(10) if e.channel == settings.channels[0].fingerprint)
            assert mute.delivery is Delivery.WAITING and mute.attempts == 0  # still hanging, within its timeout
        finally:
            alerter.stop(timeout=1)
    assert webhook.titles() == ["Contingencia · Prueba"]
