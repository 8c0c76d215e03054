"""AppTest: the Alertas page — open incidents, what was sent where, the test message, DEMO's fault switch."""

from __future__ import annotations

from datetime import timedelta

from streamlit.testing.v1 import AppTest

from cucu.formatting import fmt_datetime, md_text
from cucu.store import OutboxMessage
from cucu.views.alertas import owner_text
from cucu.vocabulary import ActionKind, AlertKind, AlertRule, Delivery, Role
from tests.support.apptest import APP, SUPERVISOR_OFF, run_app, texts
from tests.support.waiting import wait_until

PAGE = "pages/alertas.py"
TOKEN = "t0k3nS3cr3t"
CHANNEL = f"json://alertas:{TOKEN}@127.0.0.1:9/hook"


def open_page(secrets=None, alerts=None, access=SUPERVISOR_OFF):
    at = AppTest.from_file(str(APP), default_timeout=30)
    if secrets is not None:
        at.secrets["cucu"] = secrets
    if alerts is not None:
        at.secrets["alerts"] = alerts
    at.secrets["access"] = access
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_without_channels_it_says_nothing_is_sent_and_shows_the_incidents(app_secrets, seeded_runtime):
    now = seeded_runtime.collector.clock()
    seeded_runtime.store.incident_open(
        key=AlertRule.SIAT_DOWN.value,
        rule=AlertRule.SIAT_DOWN,
        branch_id=None,
        opened_at=now,
        now=now,
        title="SIAT no responde",
        body="SIAT no responde desde las 03:00.",
        messages=[
            OutboxMessage(
                AlertKind.OPENED, "0123456789ab", "json://127.0.0.1 · 0123456789ab", "Contingencia · SIAT no responde", "…"
            )
        ],
    )
    at = open_page(app_secrets)
    assert "No hay canales configurados" in texts(at)
    assert "secrets.toml" not in texts(at) and "Apprise" not in texts(at)  # the operator's words, not a supervisor's
    incidents, sent = at.dataframe[0].value, at.dataframe[1].value
    assert incidents["Asunto"].tolist() == ["SIAT no responde"] and incidents["Alerta"].tolist() == [AlertRule.SIAT_DOWN.label]
    assert sent["Canal"].tolist() == ["json://127.0.0.1 · 0123456789ab"]
    # Its channel is not configured here: the page's own process gives it up, soon or already.
    assert sent["Entrega"].iloc[0] in (Delivery.WAITING.label, Delivery.GAVE_UP.label)
    assert not any(b.key == "alertas_prueba" for b in at.button)
    # the alerts listed, who handles them and their notes, to download (tests/store/test_alert_ownership.py: the file)
    assert {b.proto.label for b in at.get("download_button")} == {"Descargar las alertas (Excel)", "Descargar las alertas (PDF)"}


def rules_decided(store, ago: timedelta = timedelta(0), *, whole: bool = True) -> None:
    """The alert rules decided ``ago`` (as the polling process's round records), having read the whole chain
    (``whole``) or part of it: what a test writes by hand is then what the rules left open."""
    from cucu.alerts.alerter import ALERTS_JOB

    store.record_job(ALERTS_JOB, store.now() - ago, None, passed=whole)


def alerts_link(at):
    """The header's badge linking to Alertas."""
    return next(
        (link.proto for link in at.get("page_link") if "-badge[" in link.proto.label and link.proto.page.endswith("alertas")),
        None,
    )


def test_every_page_shows_the_count_of_open_alerts_in_the_header(app_secrets, seeded_runtime, monkeypatch):
    from app import PAGE_FILES
    from ui import resources

    monkeypatch.setattr(resources, "OPEN_ALERTS_EVERY_S", 1e-6)  # no cached count between the two states
    now = seeded_runtime.collector.clock()
    for n, rule in enumerate((AlertRule.SIAT_DOWN, AlertRule.INVOICES_REJECTED)):
        seeded_runtime.store.incident_open(
            key=rule.value, rule=rule, branch_id=None, opened_at=now, now=now, title=f"t{n}", body="b", messages=[]
        )
    rules_decided(seeded_runtime.store)
    at = open_page(app_secrets)
    for file, *_ in PAGE_FILES:
        at.switch_page(file).run()
        assert not at.exception, (file, [e.value for e in at.exception])
        link = alerts_link(at)
        assert link is not None and "2 alertas abiertas" in link.label and link.page.endswith("alertas"), file
    (first, _) = seeded_runtime.store.open_incidents()
    seeded_runtime.store.incident_close(first.id, now=now, title="x", body="y", messages=[])
    at.run()
    assert "1 alerta abierta" in alerts_link(at).label


def test_the_headers_tooltip_says_who_handles_the_open_alerts_of_the_persons_scope(app_secrets, seeded_runtime, monkeypatch):
    """The header names who handles each open alert and since when (names escaped: stored text), then how many wait;
    a person scoped to a region counts and names only the alerts of their branches, and SIAT's."""
    from cucu.access import Identity
    from cucu.alerts import acknowledge
    from cucu.events.actions import Actor
    from cucu.formatting import md_text
    from cucu.lapaz import to_la_paz
    from ui import resources

    monkeypatch.setattr(resources, "OPEN_ALERTS_EVERY_S", 1e-6)
    store, inventory = seeded_runtime.store, seeded_runtime.inventory
    mine = next(b for b in inventory.branches if b.region == "La Paz")
    theirs = next(b for b in inventory.branches if b.region != "La Paz")
    now = seeded_runtime.collector.clock()
    for branch, who in ((mine, "*Ana* Quispe"), (theirs, "Beto Mamani")):
        incident_id = store.incident_open(
            key=f"{AlertRule.LONG_OPEN}:{branch.id}", rule=AlertRule.LONG_OPEN, branch_id=branch.id, opened_at=now,
            now=now, title=f"Contingencia prolongada en {branch.name}", body="…", messages=[],
        )  # fmt: skip
        assert incident_id is not None
        acknowledge(store, Actor(f"{who}@empresa.bo", who, Role.SUPERVISOR), incident_id, "Reviso", timedelta(hours=1), now)
    open_siat_incident(seeded_runtime)  # nobody handles it; everyone's
    rules_decided(store)
    since = f"{to_la_paz(now):%d/%m %H:%M}"

    at = open_page(app_secrets)
    link = alerts_link(at)
    assert "3 alertas abiertas · 1 sin atender" in link.label
    lines = link.help.split("\n")
    ana = next(line for line in lines if md_text("*Ana* Quispe") in line)
    assert ana.startswith(f"- {md_text(f'Contingencia prolongada en {mine.name}')}: atendida por ")
    assert md_text(since) in ana and "*Ana*" not in link.help  # escaped, never bold
    assert any("Beto Mamani" in line for line in lines) and "- 1 sin atender" in lines

    monkeypatch.setattr("ui.identity.signed_in_identity", lambda access: Identity("luis"))
    access = {"mode": "proxy", "users": {"luis": {"role": "supervisor", "regions": ["La Paz"]}}}
    at = run_app(app_secrets, page=PAGE, access=access)
    link = alerts_link(at)
    assert "2 alertas abiertas · 1 sin atender" in link.label
    assert md_text("*Ana* Quispe") in link.help and "Beto" not in link.help and theirs.name not in link.help


def test_a_supervisor_sends_a_test_message_to_every_channel_and_no_token_reaches_the_page(app_secrets):
    at = open_page(app_secrets, {"channels": [{"url": CHANNEL}, {"url": CHANNEL.replace("hook", "otro"), "tags": ["norte"]}]})
    assert TOKEN not in str(at._tree) and "etiquetas: norte" in "\n".join(t.value for t in at.text)
    at.button(key="alertas_prueba").click().run()
    assert not at.exception and "Mensaje de prueba en cola para 2 canales" in texts(at)
    sent = at.dataframe[-1].value
    assert (sent["Mensaje"] == AlertKind.TEST.label).sum() == 2
    assert TOKEN not in str(at._tree)


def test_a_viewer_gets_no_test_button(app_secrets):
    viewer = {"mode": "off"}  # SANDBOX/PRODUCCIÓN without sign-in: viewers
    at = open_page(app_secrets, {"channels": [{"url": CHANNEL}]}, access=viewer)
    assert not any(b.key == "alertas_prueba" for b in at.button)


def test_demo_has_a_fault_switch_that_makes_siat_fail(clean_env):
    at = open_page()
    toggle = at.toggle(key="alertas_demo_siat")
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception
    from ui.resources import get_runtime, read_settings

    simulator = get_runtime(read_settings()).simulator
    wait_until(lambda: simulator is not None and simulator.faults.siat_down, what="the simulator's SIAT down")
    at.toggle(key="alertas_demo_siat").set_value(False).run()
    assert simulator is not None and not simulator.faults.siat_down


def test_an_unreachable_simulator_is_said_in_spanish_not_raised(clean_env, monkeypatch):
    import httpx

    at = open_page()
    from ui.resources import get_runtime, read_settings

    simulator = get_runtime(read_settings()).simulator
    assert simulator is not None

    def unreachable(self):
        raise httpx.ConnectError("connection refused")

    monkeypatch.setattr(type(simulator), "faults", property(unreachable))
    at.run()
    assert not at.exception
    assert "El simulador de cucu no responde" in texts(at)


def test_estado_shows_the_policy_and_a_supervisor_pauses_and_resumes_it(app_secrets, seeded_runtime):
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["cucu"] = app_secrets
    at.secrets["policy"] = {"mode": "on", "down_minutes": 5}
    at.secrets["access"] = SUPERVISOR_OFF
    at.run()
    assert not at.exception
    assert "Política automática: Armada" in texts(at) and "si cucu dice que SIAT no responde durante 5 min" in texts(at)
    at.button(key="estado_politica_pausa").click().run()
    assert not at.exception and "En pausa por" in texts(at)
    assert seeded_runtime.store.policy_paused_by() is not None
    at.button(key="estado_politica_pausa").click().run()
    assert seeded_runtime.store.policy_paused_by() is None and "Armada" in texts(at)
    kinds = [e.action for e in seeded_runtime.store.audit_entries()]
    assert ActionKind.PAUSE_POLICY in kinds and ActionKind.RESUME_POLICY in kinds  # in Bitácora


def test_without_a_policy_estado_says_nothing_of_it(app_secrets, seeded_runtime):
    at = open_page(app_secrets)
    at.switch_page("pages/estado.py").run()
    assert "Política automática" not in texts(at) and not any(b.key == "estado_politica_pausa" for b in at.button)


def test_a_channel_shows_its_scheme_server_and_fingerprint_never_its_path_or_topic(app_secrets):
    """Seen: json://host/webhook/SECRETPATH and ntfy://ntfy.sh/SECRET-TOPIC kept their secret in the "masked"
    label, shown to viewers here and stored in the outbox."""
    channels = [{"url": "json://127.0.0.1:9/webhook/SECRETPATH"}, {"url": "ntfy://127.0.0.1:9/SECRET-TOPIC"}]
    at = open_page(app_secrets, {"channels": channels})
    shown = "\n".join(t.value for t in at.text)
    assert "json://127.0.0.1 · " in shown and "ntfy://127.0.0.1 · " in shown
    at.button(key="alertas_prueba").click().run()
    assert not at.exception and (at.dataframe[-1].value["Mensaje"] == AlertKind.TEST.label).sum() == 2
    for secret in ("SECRETPATH", "SECRET-TOPIC", "webhook"):
        assert secret not in str(at._tree)


# ---- who handles an alert (issue 25, part 1) ----------------------------------------------------------------


def open_siat_incident(runtime, title="SIAT no responde"):
    now = runtime.collector.clock()
    runtime.store.incident_open(
        key=AlertRule.SIAT_DOWN.value,
        rule=AlertRule.SIAT_DOWN,
        branch_id=None,
        opened_at=now,
        now=now,
        title=title,
        body="SIAT no responde desde las 03:00.",
        messages=[],
    )
    return runtime.store.open_incidents()[0]


def open_linked(app_secrets, key, access=SUPERVISOR_OFF):
    """The page as an alert message's link opens it: /alertas?alerta=<key>."""
    return run_app(app_secrets, page=PAGE, access=access, query={"alerta": key})


def button(at, label):
    return next(b for b in at.button if b.label == label)


def test_a_supervisor_says_lo_atiendo_from_the_messages_link_and_every_page_shows_who(app_secrets, seeded_runtime, monkeypatch):
    from ui import resources

    monkeypatch.setattr(resources, "OPEN_ALERTS_EVERY_S", 1e-6)
    incident = open_siat_incident(seeded_runtime)
    rules_decided(seeded_runtime.store)
    at = open_linked(app_secrets, incident.key)
    assert at.selectbox(key="alertas_atender").value == incident.id
    assert "Nadie la atiende todavía." in texts(at) and "1 sin atender" in alerts_link(at).label
    at.text_area(key="alertas_nota_texto").input("Llamo a soporte de SIAT")
    button(at, "Lo atiendo").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Usted atiende «SIAT no responde»: sin recordatorios durante 1 h." in texts(at)
    assert "Atendida por **Sesión" in texts(at)  # without sign-in, the browser session is who acted
    assert any("Lo atiendo: Llamo a soporte de SIAT" in t.value for t in at.text)
    assert "1 alerta abierta · atendida" in alerts_link(at).label
    assert at.dataframe[0].value["Atendida por"].iloc[0].startswith("Sesión")
    [entry] = seeded_runtime.store.audit_page()
    assert entry.action is ActionKind.ACKNOWLEDGE and "«Llamo a soporte de SIAT»" in (entry.message or "")
    stored = seeded_runtime.store.open_incidents()[0]
    assert stored.quiet_until is not None and stored.acknowledged_at is not None
    assert f"desde {fmt_datetime(stored.acknowledged_at)}" in texts(at)  # since when, in La Paz time

    at.text_area(key="alertas_nota_texto").input("SIAT confirma un corte hasta las 10:00")
    button(at, "Agregar nota").click().run()
    assert "Nota agregada." in texts(at)
    assert [n.text for n in seeded_runtime.store.incident_notes(incident.id)] == [
        "Llamo a soporte de SIAT",
        "SIAT confirma un corte hasta las 10:00",
    ]
    at.switch_page("pages/estado.py").run()  # Estado names who handles it and since when, and offers no "Atender"
    assert not at.exception, [e.value for e in at.exception]
    assert f"**SIAT no responde** · {md_text(owner_text(stored))}" in texts(at) and "Sin atender" not in texts(at)
    assert any(p.proto.label == "Ver en Alertas" for p in at.get("page_link"))


def test_lo_atiendo_without_a_note_says_why_and_changes_nothing(app_secrets, seeded_runtime):
    incident = open_siat_incident(seeded_runtime)
    at = open_linked(app_secrets, incident.key)
    button(at, "Lo atiendo").click().run()
    assert not at.exception and "Escriba una nota breve" in texts(at)
    assert seeded_runtime.store.open_incidents()[0].acknowledged_by is None
    assert not seeded_runtime.store.incident_notes(incident.id)


def test_a_viewer_sees_who_handles_it_but_cannot_act(app_secrets, seeded_runtime):
    incident = open_siat_incident(seeded_runtime)
    at = open_linked(app_secrets, incident.key, access={"mode": "off"})
    assert "Atender una alerta o escribir notas es para supervisores." in texts(at)
    assert not [b for b in at.button if b.label in ("Lo atiendo", "Agregar nota")]


def test_a_link_to_a_resolved_alert_says_so(app_secrets, seeded_runtime):
    incident = open_siat_incident(seeded_runtime)
    now = seeded_runtime.collector.clock()
    seeded_runtime.store.incident_close(incident.id, now=now, title="SIAT responde de nuevo", body="…", messages=[])
    at = open_linked(app_secrets, incident.key)
    assert "ya se resolvió" in texts(at) and "no hay nada que atender" in texts(at)
    at = open_linked(app_secrets, "no_existe")
    assert "El enlace no corresponde a ninguna alerta" in texts(at)


def test_estado_names_the_open_alerts_and_who_handles_them(app_secrets, seeded_runtime):
    open_siat_incident(seeded_runtime)
    at = open_page(app_secrets)
    at.switch_page("pages/estado.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "**SIAT no responde** · Sin atender" in texts(at)
    link = next(p.proto for p in at.get("page_link") if p.proto.label == "Atender en Alertas")
    assert link.page.endswith("alertas") and "alerta=siat_caido" in link.query_string


def test_a_resolved_alert_takes_notes_but_not_lo_atiendo(app_secrets, seeded_runtime):
    incident = open_siat_incident(seeded_runtime)
    now = seeded_runtime.collector.clock()
    seeded_runtime.store.incident_close(incident.id, now=now, title="SIAT responde de nuevo", body="…", messages=[])
    at = open_linked(app_secrets, incident.key)
    assert at.selectbox(key="alertas_atender").value == incident.id
    assert button(at, "Lo atiendo").disabled
    at.text_area(key="alertas_nota_texto").input("Causa: corte del proveedor de internet")
    button(at, "Agregar nota").click().run()
    assert not at.exception and "Nota agregada." in texts(at)
    assert any("Nota: Causa: corte del proveedor de internet" in t.value for t in at.text)
    assert any("Se cerró: SIAT responde de nuevo" in t.value for t in at.text)


def test_before_the_rules_are_decided_the_count_is_unknown_never_zero(app_secrets, seeded_runtime, monkeypatch):
    """Seen on the demo's first minute: "0 alertas abiertas" and a green "Ninguna alerta abierta" while Estado listed
    an expired CUFD and rejected invoices: no alert round had run yet. Unknown until the rules are decided, and again
    when their last decision is older than a few rounds (nobody decides them)."""
    from cucu.views.alertas import ALERTS_STALE_ROUNDS
    from ui import resources

    monkeypatch.setattr(resources, "OPEN_ALERTS_EVERY_S", 1e-6)
    at = open_page(app_secrets)
    link = alerts_link(at)
    assert "Alertas sin evaluar" in link.label and ":gray-badge[" in link.label and "0 alertas" not in link.label
    assert "Abiertas (—)" in [h.value for h in at.subheader]
    assert not at.success and any("no se han evaluado" in i.value for i in at.info)

    rules_decided(seeded_runtime.store, whole=False)  # decided on what was read so far: not "nothing wrong"
    at.run()
    assert "0 alertas abiertas · lectura parcial" in alerts_link(at).label and ":gray-badge[" in alerts_link(at).label
    assert not at.success and any("Ninguna alerta abierta en lo leído hasta ahora" in i.value for i in at.info)

    rules_decided(seeded_runtime.store)
    at.run()
    assert "0 alertas abiertas]" in alerts_link(at).label
    assert "Abiertas (0)" in [h.value for h in at.subheader] and "Ninguna alerta abierta." in [s.value for s in at.success]

    interval = seeded_runtime.settings.check_interval_s
    rules_decided(seeded_runtime.store, ago=timedelta(seconds=(ALERTS_STALE_ROUNDS + 1) * interval))
    at.run()
    assert "Alertas sin evaluar" in alerts_link(at).label
