"""Escalation (issue 25, part 2): an alert nobody acknowledged goes, step by step, to the channels of the
step's tags; "Lo atiendo" stops it; the escalated channels hear of nothing before, and hear it ended.
End to end with a real SMTP server on loopback and two tags."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cucu.alerts import acknowledge, deliver, escalation_due
from cucu.events.actions import Actor
from cucu.settings import SettingsError, load_alerts
from cucu.store import Store
from cucu.vocabulary import AlertKind, AlertRule, Role
from tests.store.test_alerts import INVENTORY, T0, down, up
from tests.support.alert_receivers import SmtpReceiver

ANA = Actor("ana@empresa.bo", "Ana Quispe", Role.SUPERVISOR)
COMPANY = "json://127.0.0.1:9/empresa"
BOSSES = "json://127.0.0.1:9/jefes"
MANAGEMENT = "json://127.0.0.1:9/gerencia"
STEPS = [{"after_minutes": 15, "tags": ["jefes"]}, {"after_minutes": 30, "tags": ["gerencia"]}]


def escalating(company=COMPANY, bosses=BOSSES, management=MANAGEMENT, **escalation):
    return load_alerts(
        {
            "channels": [{"url": company}, {"url": bosses, "tags": ["jefes"]}, {"url": management, "tags": ["gerencia"]}],
            "remind_minutes": 0,
            "escalation": escalation or {"steps": STEPS},
        },
        {},
    )


def run(store, snap, settings):
    from cucu.alerts import decide

    return decide(store, INVENTORY, settings, snap, long_open_hours=24, check_interval_s=30, leading=True)


def sent_to(store, kind):
    """The channels (by label) each message of ``kind`` went to."""
    return sorted(m.channel_label for m in store.outbox_entries(100) if m.kind is kind)


def labels(settings, *tags):
    return sorted(c.label for c in settings.channels if (c.tags & set(tags)) or (not c.tags and "" in tags))


def test_unacknowledged_it_escalates_step_by_step_and_the_escalated_hear_it_ended(db):
    store = Store(db)
    settings = escalating()
    assert run(store, down(T0 + timedelta(minutes=2)), settings).opened == 1
    assert sent_to(store, AlertKind.OPENED) == labels(settings, "")  # the escalation channels hear nothing yet
    assert run(store, down(T0 + timedelta(minutes=16)), settings).escalated == 0  # 14 min after the alert
    assert run(store, down(T0 + timedelta(minutes=17)), settings).escalated == 1
    assert sent_to(store, AlertKind.ESCALATED) == labels(settings, "jefes")
    assert run(store, down(T0 + timedelta(minutes=46)), settings).escalated == 0  # 30 min more: at 47
    assert run(store, down(T0 + timedelta(minutes=47)), settings).escalated == 1
    assert sent_to(store, AlertKind.ESCALATED) == sorted(labels(settings, "jefes") + labels(settings, "gerencia"))
    assert run(store, down(T0 + timedelta(hours=5)), settings).escalated == 0  # no step left
    assert store.open_incidents()[0].escalations == 2
    assert run(store, up(T0 + timedelta(hours=6)), settings).closed == 1
    assert sent_to(store, AlertKind.CLOSED) == labels(settings, "", "jefes", "gerencia")
    escalation = next(m for m in store.outbox_entries(100) if m.kind is AlertKind.ESCALATED)
    assert escalation.title.endswith("Sin atender: SIAT no responde") and "Nadie la atiende desde" in escalation.body


def test_lo_atiendo_stops_escalation(db):
    store = Store(db)
    settings = escalating()
    run(store, down(T0 + timedelta(minutes=2)), settings)
    incident = store.open_incidents()[0]
    acknowledge(store, ANA, incident.id, "Llamo a SIAT", timedelta(minutes=30), T0 + timedelta(minutes=10))
    for minutes in (17, 47, 120):  # even once its reminders' quiet time is over
        assert run(store, down(T0 + timedelta(minutes=minutes)), settings).escalated == 0
    assert not sent_to(store, AlertKind.ESCALATED)
    assert run(store, up(T0 + timedelta(hours=3)), settings).closed == 1
    assert sent_to(store, AlertKind.CLOSED) == labels(settings, "")  # escalated to nobody: nobody else told


def test_an_acknowledgment_between_the_decision_and_the_write_wins(db):
    """Two processes: one decided to escalate from what it read, the other acknowledged meanwhile."""
    store = Store(db)
    settings = escalating()
    run(store, down(T0 + timedelta(minutes=2)), settings)
    stale = store.open_incidents()[0]
    acknowledge(store, ANA, stale.id, "Lo veo", timedelta(hours=1), T0 + timedelta(minutes=16))
    assert escalation_due(settings, stale, T0 + timedelta(minutes=17)) is not None  # what the other one read
    assert not store.incident_escalate(stale, messages=[])
    assert store.open_incidents()[0].escalations == 0


def test_a_rule_has_its_own_steps_or_the_default(db):
    settings = escalating(steps=STEPS, rules={AlertRule.SIAT_DOWN.value: [{"after_minutes": 5, "tags": ["gerencia"]}]})
    store = Store(db)
    run(store, down(T0 + timedelta(minutes=2)), settings)
    assert run(store, down(T0 + timedelta(minutes=7)), settings).escalated == 1
    assert sent_to(store, AlertKind.ESCALATED) == labels(settings, "gerencia")
    assert [s.after for s in settings.escalation_for(AlertRule.CUFD)] == [timedelta(minutes=15), timedelta(minutes=30)]


def test_an_incident_from_before_v16_counts_from_its_opening():
    from dataclasses import replace

    from cucu.store import Incident

    settings = escalating()
    old = Incident(1, "k", AlertRule.SIAT_DOWN, None, T0, T0, 0, None, "t", "b")
    assert old.alerted_at is None
    assert escalation_due(settings, old, T0 + timedelta(minutes=14)) is None
    assert escalation_due(settings, old, T0 + timedelta(minutes=15)) == settings.escalation[0]
    assert escalation_due(settings, replace(old, escalations=2), T0 + timedelta(days=1)) is None


@pytest.mark.parametrize(
    "escalation",
    [
        {"pasos": []},
        {"steps": {"after_minutes": 5, "tags": ["jefes"]}},
        {"steps": [{"after_minutes": 0, "tags": ["jefes"]}]},
        {"steps": [{"after_minutes": True, "tags": ["jefes"]}]},
        {"steps": [{"after_minutes": 5, "tags": []}]},
        {"steps": [{"after_minutes": 5}]},
        {"steps": [{"after_minutes": 5, "tags": ["jefes"], "url": "x"}]},
        {"rules": {"no_existe": []}},
    ],
)
def test_a_malformed_escalation_says_how_to_write_it(escalation):
    with pytest.raises(SettingsError, match=r"\[alerts.escalation\]"):
        load_alerts({"escalation": escalation}, {})


def test_no_escalation_by_default():
    settings = load_alerts({}, {})
    assert settings.escalation == () and settings.escalation_tags == frozenset()


def test_escalation_end_to_end_by_e_mail_with_two_tags(db):
    """Real Apprise to a real SMTP server: the company's address gets the alert, jefes@ the first escalation,
    gerencia@ the second, and all three hear that SIAT is back."""
    store = Store(db)
    with SmtpReceiver() as smtp:
        base = f"mailto://127.0.0.1:{smtp.port}?from=alertas@empresa.bo&to="
        settings = escalating(f"{base}supervisor@empresa.bo", f"{base}jefes@empresa.bo", f"{base}gerencia@empresa.bo")

        def step(snap):
            run(store, snap, settings)
            deliver(store, settings.channels, "prueba")

        step(down(T0 + timedelta(minutes=2)))
        step(down(T0 + timedelta(minutes=17)))
        step(down(T0 + timedelta(minutes=47)))
        step(up(T0 + timedelta(hours=1)))
        received = [(m["To"], m["Subject"]) for m in smtp.messages]
        subjects = smtp.subjects()

    by_address: dict[str, list[str]] = {}
    for (to, _), subject in zip(received, subjects, strict=True):
        by_address.setdefault(str(to), []).append(subject)
    assert by_address == {
        "supervisor@empresa.bo": ["Contingencia · SIAT no responde", "Contingencia · Resuelta: SIAT responde de nuevo"],
        "jefes@empresa.bo": [
            "Contingencia · Escalada: Sin atender: SIAT no responde",
            "Contingencia · Resuelta: SIAT responde de nuevo",
        ],
        "gerencia@empresa.bo": [
            "Contingencia · Escalada: Sin atender: SIAT no responde",
            "Contingencia · Resuelta: SIAT responde de nuevo",
        ],
    }
