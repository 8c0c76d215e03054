"""Alerts: [alerts] settings, the rules, one incident per condition, the outbox and its delivery."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import re
import threading
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from cucu import alerts
from cucu.alerts import (
    BODY_MAX,
    OUTSIDE_MAX,
    Alerter,
    Round,
    Snapshot,
    apprise_send,
    conditions,
    decide,
    deliver,
    outside,
    plain,
    plain_title,
    redact,
    send_url,
    trial_messages,
)
from cucu.api.models import Branch, Cufd, Event, Inventory, PointOfSale
from cucu.connectivity.checks import ConnectivityCheck
from cucu.formatting import fmt_count
from cucu.invoicing import AttributedInvoice, EventSpan, InvoicePicture, backlog, unclosed_events
from cucu.lapaz import LA_PAZ
from cucu.logs import LOGGERS
from cucu.settings import AlertSettings, SettingsError, load_alerts
from cucu.store import Attempt, CufdFetch, OutboxMessage, PosStatus, Store, StoredCufd, StoredInvoice
from cucu.vocabulary import ActionKind, AlertKind, AlertRule, Delivery, ErrorKind, InvoiceState, Outcome
from tests.support.waiting import wait_until

T0 = datetime(2026, 12, 3, 3, 0, tzinfo=LA_PAZ)
TOKEN = "s3cr3tT0ken99"
NORTE, SUR = "b-norte", "b-sur"
INVENTORY = Inventory(
    (
        Branch(NORTE, "Sucursal Norte", (PointOfSale("p1", "Caja 1", NORTE), PointOfSale("p2", "Caja 2", NORTE)), "Santa Cruz"),
        Branch(SUR, "Sucursal Sur", (PointOfSale("p3", "Caja 3", SUR),), "Tarija"),
    )
)


def channels(**extra):
    section = {
        "channels": [
            {"url": f"json://alertas:{TOKEN}@127.0.0.1:9/todo"},
            {"url": f"json://norte:{TOKEN}@127.0.0.1:9/norte", "tags": ["norte"]},
        ],
        "branch_tags": {"Sucursal Norte": ["norte"]},
        **extra,
    }
    return load_alerts(section, {})


def checks(*states, start=T0, every=30):
    return [ConnectivityCheck(start + timedelta(seconds=every * i), ok) for i, ok in enumerate(states)]


def snapshot(now=T0, *, checks_=(), statuses=None, attempts=(), polling=True, last_poll=None):
    return Snapshot(now, list(checks_), statuses or {}, list(attempts), polling, last_poll)


def found(snap, settings=None, **kw):
    return conditions(snap, INVENTORY, settings or AlertSettings(), long_open_hours=kw.get("hours", 24), check_interval_s=30)


def event(eid, pos, start, end=None):
    raw = {
        "id": eid,
        "posId": pos,
        "codigoMotivo": 2,
        "fechaInicio": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "finalizado": end is not None,
    }
    if end is not None:
        raw["fechaFin"] = end.strftime("%Y-%m-%dT%H:%M:%S")
    return Event.from_api(raw)


# ---- settings ------------------------------------------------------------------------------


def test_channels_are_masked_and_never_in_a_repr():
    settings = channels()
    assert [c.tags for c in settings.channels] == [frozenset(), frozenset({"norte"})]
    assert [c.label for c in settings.channels] == [f"json://127.0.0.1 · {c.fingerprint}" for c in settings.channels]
    assert TOKEN not in repr(settings) and TOKEN not in repr(settings.channels[0])
    assert settings.tags_of(INVENTORY.branch(NORTE)) == {"norte"} and settings.tags_of(INVENTORY.branch(SUR)) == frozenset()


def test_a_regions_tags_route_its_branches_alerts_as_a_branchs_do():
    """``[alerts.region_tags]``: a region's channel gets the branch alerts of every branch of the region, and
    names a department however it is written."""
    from cucu.alerts.incidents import audience

    south = dataclasses.replace(INVENTORY.branch(SUR), region="Tarija")
    inventory = Inventory(branches=(INVENTORY.branch(NORTE), south))
    settings = load_alerts(
        {
            "channels": [
                {"url": f"json://alertas:{TOKEN}@127.0.0.1:9/todo"},
                {"url": f"json://sur:{TOKEN}@127.0.0.1:9/sur", "tags": ["sur"]},
            ],
            "region_tags": {"tarija": ["sur"]},
        },
        {},
    )
    assert settings.tags_of(south) == {"sur"} and settings.tags_of(INVENTORY.branch(NORTE)) == frozenset()
    rule = AlertRule.LONG_OPEN
    assert [c.tags for c in audience(settings.channels, settings, inventory, rule, SUR)] == [frozenset({"sur"})]
    assert audience(settings.channels, settings, inventory, rule, NORTE) == []
    with pytest.raises(SettingsError, match="region_tags"):
        load_alerts({"region_tags": {"Tarija": "sur"}}, {})


def test_environment_adds_untagged_channels_and_overrides_numbers():
    settings = load_alerts(
        {"remind_minutes": 30},
        {"CUCU_ALERTS_URLS": f"json://a:{TOKEN}@h/x  json://b:{TOKEN}@h/y", "CUCU_ALERTS_REMIND_MINUTES": "0"},
    )
    assert len(settings.channels) == 2 and settings.remind_minutes == 0


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ({"canales": []}, "claves desconocidas"),
        ({"channels": [{"url": f"nada://{TOKEN}"}]}, "canal 1"),
        ({"channels": [{"url": "json://h/x", "tags": "norte"}]}, "tags"),
        ({"channels": [{"url": "json://h/x", "token": "x"}]}, "claves desconocidas"),
        ({"rules": {"siat": False}}, "reglas"),
        ({"branch_tags": {"Norte": "norte"}}, "branch_tags"),
        ({"public_url": "contingencia.empresa.bo"}, "public_url"),
        ({"remind_minutes": -1}, "remind_minutes"),
    ],
)
def test_a_broken_alerts_table_is_explained_without_its_secrets(section, says):
    with pytest.raises(SettingsError) as err:
        load_alerts(section, {})
    assert says in str(err.value) and TOKEN not in str(err.value)


# Channel URLs whose secret is in every place a URL can hold one: path, topic, user, password, query.
SECRET_URLS = [
    "json://hooks.empresa.bo/webhook/SECRETPATH",
    "ntfy://ntfy.sh/SECRET-TOPIC",
    "ntfy://SECRET-TOPIC",
    f"json://usuario-json:{TOKEN}@127.0.0.1:9/gancho/SECRETPATH?token=QUERYSECRET",
    f"mailtos://usuario.alertas:{TOKEN}@empresa.bo?to=soporte.interno@empresa.bo",
    f"tgram://123456789:{TOKEN}/-1001234567890",
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#alertas",
    "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
]
LABEL = re.compile(r"(?P<scheme>[a-z]+)://(?P<server>[^ ]+) · [0-9a-f]{12}")


def secret_pieces(url, server):
    """Every piece of ``url`` but its scheme and the server its label shows: path, user, password, query."""
    pieces = set(re.split(r"[/:@?&=#,]", url.split("://", 1)[1])) - {server}
    return {p for p in pieces if len(p) >= 4}


def test_a_channel_label_is_its_scheme_server_and_fingerprint_only():
    settings = load_alerts({"channels": [{"url": u} for u in SECRET_URLS]}, {})
    servers = []
    for url, channel in zip(SECRET_URLS, settings.channels, strict=True):
        shown = LABEL.fullmatch(channel.label)
        assert shown is not None and shown["scheme"] == url.split("://")[0], channel.label
        assert not any(piece in channel.label for piece in secret_pieces(url, shown["server"])), channel.label
        servers.append(shown["server"])
    # A server's name is shown; a bot id or token that Apprise reads as the host is not.
    assert servers == ["hooks.empresa.bo", "ntfy.sh", "…", "127.0.0.1", "empresa.bo", "…", "…", "…"]


def test_no_piece_of_a_channel_url_reaches_the_outbox_or_the_log(db, caplog):
    store = Store(db)
    settings = load_alerts({"channels": [{"url": u} for u in SECRET_URLS]}, {})
    store.outbox_add(trial_messages(settings, "ana@empresa.bo", T0), store.db_now())
    receiver = Receiver()
    receiver.down = True
    with caplog.at_level(logging.DEBUG):
        deliver(store, settings.channels, "me", send=receiver, retry_first=timedelta(0))
        local = settings.channels[3]  # a real Apprise send, refused on loopback: its error and log lines
        apprise_failure = apprise_send(local, "t", "b", timeout_s=2)
        receiver.down = False
        assert deliver(store, settings.channels, "me", send=receiver) == len(SECRET_URLS)
    # The server's log is our loggers' (cucu/logs.py); Apprise's own lines (they quote URLs) never reach it.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.split(".")[0] in LOGGERS)
    assert logging.getLogger("apprise").propagate is False
    seen = logged + repr(store.outbox_entries(100)) + (apprise_failure or "")
    assert apprise_failure and "alerta" in logged  # the failures were logged, by label
    for url, channel in zip(SECRET_URLS, settings.channels, strict=True):
        shown = LABEL.fullmatch(channel.label)
        assert shown is not None
        assert not [piece for piece in secret_pieces(url, shown["server"]) if piece in seen], url


def test_every_send_asks_for_plain_text_and_the_timeouts_whatever_the_url_says():
    url = send_url("sms://cuenta/?to=+59170000000&format=html&cto=5&rto=90&mdv=v1", 20)
    assert url.startswith("sms://cuenta/?to=+59170000000&")  # the operator's values, not re-encoded
    assert "format=text" in url and "format=html" not in url and "mdv" not in url
    assert "cto=5" in url and "rto=20" in url  # a shorter timeout of the URL's own is kept, a longer one is not
    assert send_url(f"tgram://123456789:{TOKEN}/-100555", 20).endswith("?format=markdown&mdv=v2&cto=20&rto=20")


def test_redact_removes_every_secret_piece_of_the_url():
    url = f"tgram://123456789:{TOKEN}/-100555"
    assert TOKEN not in redact(f"HTTP 401 from https://api.telegram.org/bot123456789:{TOKEN}/sendMessage", url)


# ---- rules ---------------------------------------------------------------------------------


HOSTILE = (
    "<!channel> <@U024BE7LH> <#C024BE7LR> <http://evil.example|Ingrese al portal SIAT> <mailto:a@evil.example|SIN> "
    "@everyone @here"
)


def test_plain_text_breaks_every_mention_and_link_syntax_and_is_capped():
    text = plain(HOSTILE)
    for markup in ("<!", "<@", "<#", "<http", "<mailto", "@everyone", "@here"):
        assert markup not in text
    assert "Ingrese al portal SIAT" in text and "evil.example" in text  # the words stay, as words
    assert plain(text) == text  # a second pass (at send time) changes nothing
    assert len(plain("y" * 10_000)) == BODY_MAX and len(plain_title("t" * 1000)) <= 200
    assert outside("a\nhttps://evil.example\r\nb\x00c") == "a https://evil.example b c"  # no line of its own
    assert len(outside("x" * 10_000)) == OUTSIDE_MAX


def test_outside_text_in_a_rule_is_capped_to_one_line():
    hostile = "Falla\n\nhttps://evil.example/ingrese " + HOSTILE + " x" * 5000
    failing = [
        ConnectivityCheck(T0 + timedelta(seconds=30 * i), None, error=hostile, error_kind=ErrorKind.SERVER) for i in range(12)
    ]
    cond = found(snapshot(T0 + timedelta(minutes=6), checks_=failing))[AlertRule.CUCU_FAILING.value]
    assert len(cond.body) < OUTSIDE_MAX + 300 and "\n" not in cond.body


def test_siat_down_is_the_same_rule_as_estado():
    two = checks(True, False, False)
    assert AlertRule.SIAT_DOWN.value not in found(snapshot(T0 + timedelta(minutes=2), checks_=two))
    three = checks(True, False, False, False)
    cond = found(snapshot(T0 + timedelta(minutes=2), checks_=three))[AlertRule.SIAT_DOWN.value]
    assert cond.since == three[1].checked_at and "03:00" in cond.body and "motivo 2" in cond.body


def test_cucu_failing_waits_its_minutes_and_names_a_refused_key():
    refused = [
        ConnectivityCheck(T0 + timedelta(seconds=30 * i), None, error="Clave rechazada", error_kind=ErrorKind.AUTH)
        for i in range(12)
    ]
    assert AlertRule.CUCU_FAILING.value not in found(snapshot(T0 + timedelta(minutes=4), checks_=refused[:8]))
    cond = found(snapshot(T0 + timedelta(minutes=6), checks_=refused))[AlertRule.CUCU_FAILING.value]
    assert cond.title == "cucu rechaza la clave API" and "CUCU_API_KEY" in cond.body


def test_nobody_polling_after_two_intervals():
    assert not found(snapshot(T0, polling=False, last_poll=T0 - timedelta(seconds=59)))
    cond = found(snapshot(T0, polling=False, last_poll=T0 - timedelta(seconds=61)))[AlertRule.NO_COLLECTOR.value]
    assert "contingencia-colector" in cond.body
    assert not found(snapshot(T0, polling=True, last_poll=T0 - timedelta(hours=1)))


def test_long_open_is_a_company_summary_and_one_incident_per_branch_with_channels_of_its_own():
    statuses = {
        "p1": PosStatus("p1", NORTE, T0, T0, event("e1", "p1", T0 - timedelta(hours=30)), None),
        "p2": PosStatus("p2", NORTE, T0, T0, event("e2", "p2", T0 - timedelta(hours=25)), None),
        "p3": PosStatus("p3", SUR, T0, T0, event("e3", "p3", T0 - timedelta(hours=26)), None),
    }
    result = found(snapshot(statuses=statuses), channels())  # Norte has a tag, Sur none
    assert set(result) == {AlertRule.LONG_OPEN.value, f"{AlertRule.LONG_OPEN.value}:{NORTE}"}
    summary = result[AlertRule.LONG_OPEN.value]
    assert summary.summary and summary.branch_id is None
    assert "3 puntos de venta en 2 sucursales" in summary.body
    assert summary.body.index("Sucursal Norte (Caja 1") < summary.body.index("Sucursal Sur (Caja 3")  # oldest first
    norte = result[f"{AlertRule.LONG_OPEN.value}:{NORTE}"]
    assert norte.branch_id == NORTE and "2 puntos de venta" in norte.body and "Caja 1" in norte.body and "sucursal=" in norte.path
    assert set(found(snapshot(statuses={"p3": statuses["p3"]}))) == {AlertRule.LONG_OPEN.value}


def test_a_chain_of_a_thousand_branches_gets_one_summary_not_a_thousand_messages(db):
    branches = tuple(Branch(f"b{i}", f"Sucursal {i:04}", (PointOfSale(f"p{i}", "Caja 1", f"b{i}"),), None) for i in range(1000))
    chain = Inventory(branches)
    statuses = {
        f"p{i}": PosStatus(f"p{i}", f"b{i}", T0, T0, event(f"e{i}", f"p{i}", T0 - timedelta(hours=30 + i % 7)), None)
        for i in range(1000)
    }
    store = Store(db)
    settings = load_alerts({"channels": [{"url": "json://127.0.0.1:9/empresa"}]}, {})
    decide(store, chain, settings, snapshot(statuses=statuses), long_open_hours=24, check_interval_s=30, leading=True)
    (message,) = store.outbox_entries(10)
    assert f"{fmt_count(1000)} puntos de venta en {fmt_count(1000)} sucursales" in message.body


def offline(iid, pos, branch, state, span):
    stored = StoredInvoice(iid, "1", None, pos, state, None, None, span.start, span.start, span.start)
    return AttributedInvoice(stored, pos, branch, span)


def test_window_closing_finds_ended_events_whose_invoices_are_not_all_validated_near_their_deadline():
    """Not every ended event (whether it is registered with SIAT is not known here): those whose offline
    invoices are still to send or rejected, with the deadline within the hours or past."""
    closing_soon = EventSpan("e1", "p1", NORTE, T0 - timedelta(hours=44), T0 - timedelta(hours=43))  # 5 h left
    all_validated = EventSpan("e2", "p2", NORTE, T0 - timedelta(hours=45), T0 - timedelta(hours=44))  # 4 h left, done
    far = EventSpan("e3", "p3", SUR, T0 - timedelta(hours=2), T0 - timedelta(hours=1))  # 47 h left
    rejected_late = EventSpan("e4", "p3", SUR, T0 - timedelta(hours=51), T0 - timedelta(hours=50))  # 2 h past
    items = [
        offline("a", "p1", NORTE, InvoiceState.CONTINGENCY, closing_soon),
        offline("c", "p3", SUR, InvoiceState.CONTINGENCY, far),
        offline("d", "p3", SUR, InvoiceState.REJECTED, rejected_late),
    ]
    picture = InvoicePicture(items, backlog(items), [])
    snap = dataclasses.replace(snapshot(), invoices=picture)
    assert [c.span.event_id for c in unclosed_events(items)] == ["e4", "e1", "e3"]  # nearest deadline first
    assert all_validated.event_id not in {c.span.event_id for c in unclosed_events(items)}
    result = {k: c for k, c in found(snap, channels()).items() if c.rule is AlertRule.WINDOW_CLOSING}
    assert set(result) == {AlertRule.WINDOW_CLOSING.value, f"{AlertRule.WINDOW_CLOSING.value}:{NORTE}"}
    summary = result[AlertRule.WINDOW_CLOSING.value]
    assert "2 eventos finalizados en 2 sucursales" in summary.body and "por enviar o rechazadas" in summary.body
    assert "registr" not in summary.body + summary.title  # nothing said of SIAT's registration
    assert "venció" in summary.body and "Cierre+de+eventos" in summary.path
    assert "quedan 5 h" in result[f"{AlertRule.WINDOW_CLOSING.value}:{NORTE}"].body
    assert AlertRule.WINDOW_CLOSING.label == "Eventos por cerrar"


def test_long_open_before_the_first_sweep_says_its_count_is_of_the_pos_read_so_far():
    """A count of POS in contingency during the first sweep is of those read so far, not of all: the
    summary says how many were read and how many are not yet, as Estado does; then it stops saying so."""
    long_ago = T0 - timedelta(hours=30)
    statuses = {
        "p1": PosStatus("p1", NORTE, T0, T0, event("e1", "p1", long_ago), None),
        "p2": PosStatus("p2", NORTE, T0, None, None, "sin respuesta"),  # asked, never answered
    }
    body = found(snapshot(statuses=statuses))[AlertRule.LONG_OPEN.value].body
    assert "1 punto de venta en 1 sucursal en contingencia hace más de 24 h (de 1 consultado; 2 sin datos todavía);" in body
    statuses |= {
        "p2": PosStatus("p2", NORTE, T0, T0, None, None),
        "p3": PosStatus("p3", SUR, T0, T0, None, None),
    }
    body = found(snapshot(statuses=statuses))[AlertRule.LONG_OPEN.value].body
    assert "en contingencia hace más de 24 h; los más antiguos" in body and "sin datos" not in body


def test_invoice_alerts_during_the_walks_first_pass_say_their_count_is_partial(db):
    """Seen: "SIAT rechazó 36 facturas" while the first pass read on (46, 502, 584): until the walk has
    read the whole window once, the invoicing alerts say their count is of what was read, as Estado does."""
    from cucu.invoicing import INVOICE_JOB

    store = Store(db)
    store.record_job(INVOICE_JOB, T0, None, pass_pages=12)
    snap = alerts.read_snapshot(store, polling=True, last_poll=None, now=T0, inventory=INVENTORY)
    assert snap.invoice_progress is not None and "Primer recorrido de las facturas en curso: 12 páginas" in snap.invoice_progress
    span = EventSpan("e1", "p1", NORTE, T0 - timedelta(hours=47), T0 - timedelta(hours=46))
    items = [offline("a", "p1", NORTE, InvoiceState.REJECTED, span), offline("b", "p1", NORTE, InvoiceState.CONTINGENCY, span)]
    partial = dataclasses.replace(snap, invoices=InvoicePicture(items, backlog(items), []))
    result = found(partial, channels())
    for rule in (AlertRule.INVOICES_REJECTED, AlertRule.INVOICES_DEADLINE, AlertRule.WINDOW_CLOSING):
        assert result[rule.value].body.endswith(snap.invoice_progress), rule
    store.record_job(INVOICE_JOB, T0 + timedelta(minutes=5), None, passed=True)
    done = alerts.read_snapshot(store, polling=True, last_poll=None, now=T0, inventory=INVENTORY)
    assert done.invoice_progress is None
    result = found(dataclasses.replace(done, invoices=partial.invoices), channels())
    assert "Primer recorrido" not in result[AlertRule.INVOICES_REJECTED.value].body


def test_the_cufd_alert_counts_only_the_pos_whose_cufd_was_read_as_estado_does():
    """Seen: "Pueden facturar 1 de 3" with one POS never read, beside Estado's "1 de 2 leídos": a POS
    whose CUFD was not read is neither able nor unable to invoice. The alert gives the read ones' figure
    and says how many are unread while some are."""
    ok = StoredCufd("p1", NORTE, T0, T0, Cufd("C", None, T0 + timedelta(hours=8), True), None)
    expired = StoredCufd("p2", NORTE, T0, T0, Cufd("C", None, T0 - timedelta(hours=1), True), None)
    snap = dataclasses.replace(snapshot(), cufds={"p1": ok, "p2": expired})  # p3 not read yet
    body = found(snap)[AlertRule.CUFD.value].body
    assert "1 punto de venta no puede facturar (de 2 con CUFD leído; 1 sin leer todavía)" in body
    assert "Pueden facturar 1 de 2 con CUFD leído." in body and "de 3" not in body
    expiring = StoredCufd("p2", NORTE, T0, T0, Cufd("C", None, T0 + timedelta(hours=1), True), None)
    body = found(dataclasses.replace(snap, cufds={"p1": ok, "p2": expiring}))[AlertRule.CUFD.value].body
    assert "Pueden facturar 2 de 2 con CUFD leído; 1 sin leer todavía." in body
    read_all = {"p1": ok, "p2": expired, "p3": dataclasses.replace(ok, pos_id="p3", branch_id=SUR)}
    body = found(dataclasses.replace(snap, cufds=read_all))[AlertRule.CUFD.value].body
    assert "1 punto de venta no puede facturar: CUFD Sucursal Norte · Caja 2 (vencido)." in body
    assert "Pueden facturar 2 de 3." in body and "sin leer" not in body


def test_unread_cufds_never_open_nor_close_the_cufd_alert(db):
    """Unknown is not fine and not blocked: POS never read do not open the alert; a blocked POS whose
    next read fails keeps its last answer, so the alert stays open; the text follows the reads."""
    store = Store(db)
    settings = channels()
    cufd = functools.partial(CufdFetch, "p1", NORTE, T0, Cufd("C", None, T0 + timedelta(hours=8), True))
    store.save_cufds([cufd(), CufdFetch("p3", SUR, T0, error="sin respuesta")])  # p2 never read, p3 never answered

    def now_(minutes):
        return dataclasses.replace(snapshot(T0 + timedelta(minutes=minutes)), cufds=store.cufds())

    assert run(store, now_(1), settings).opened == 0
    store.save_cufds([CufdFetch("p2", NORTE, T0, Cufd("C", None, T0 - timedelta(hours=1), True))])
    assert run(store, now_(2), settings).opened == 1
    (incident,) = store.open_incidents()
    assert "no puede facturar (de 2 con CUFD leído; 1 sin leer todavía)" in incident.body
    store.save_cufds([CufdFetch("p2", NORTE, T0 + timedelta(minutes=3), error="sin respuesta")])
    assert run(store, now_(4), settings).closed == 0 and store.open_incidents()
    store.save_cufds([CufdFetch("p3", SUR, T0 + timedelta(minutes=5), Cufd("C", None, T0 + timedelta(hours=8), True))])
    assert run(store, now_(6), settings) == Round()
    (incident,) = store.open_incidents()
    assert "Pueden facturar 2 de 3." in incident.body and "sin leer" not in incident.body


def test_unsettled_attempts_after_their_minutes(db):
    store = Store(db)
    store.audit_begin(
        Attempt(requested_at=T0, actor="ana", actor_name=None, role=None, action=ActionKind.START, branch_id=NORTE, pos_id="p1")
    )
    attempts = store.open_attempts(Outcome.PENDING)
    started = attempts[0].requested_at
    assert not found(snapshot(started + timedelta(minutes=14), attempts=attempts))
    assert "Caja 1" in found(snapshot(started + timedelta(minutes=16), attempts=attempts))[AlertRule.UNSETTLED.value].body


def test_a_rule_switched_off_finds_nothing():
    settings = load_alerts({"rules": {AlertRule.SIAT_DOWN.value: False}}, {})
    assert not found(snapshot(T0 + timedelta(minutes=2), checks_=checks(False, False, False, False)), settings)


# ---- decisions -----------------------------------------------------------------------------


def run(store, snap, settings, leading=True):
    return decide(store, INVENTORY, settings, snap, long_open_hours=24, check_interval_s=30, leading=leading)


def down(now):
    """The checks up to ``now``: SIAT's state is read from current checks (older ones are "Sin datos")."""
    return snapshot(now, checks_=checks(True, False, False, False, start=now - timedelta(seconds=90)))


def up(now):
    return snapshot(now, checks_=checks(True, False, False, False, True, start=now - timedelta(seconds=120)))


def test_one_incident_opens_once_reminds_on_time_and_closes_with_recovery(db):
    store = Store(db)
    settings = channels(remind_minutes=30)
    assert run(store, down(T0 + timedelta(minutes=2)), settings).opened == 1
    assert run(store, down(T0 + timedelta(minutes=3)), settings).opened == 0  # still open: nothing new
    assert run(store, down(T0 + timedelta(minutes=31)), settings).reminded == 0  # 29 min after the alert
    assert run(store, down(T0 + timedelta(minutes=33)), settings).reminded == 1
    assert run(store, up(T0 + timedelta(minutes=40)), settings).closed == 1
    assert not store.open_incidents()
    sent = list(reversed(store.outbox_entries(20)))
    assert [m.kind for m in sent] == [AlertKind.OPENED] * 2 + [AlertKind.REMINDER] * 2 + [AlertKind.CLOSED] * 2  # 2 channels each
    closing = sent[-1]
    assert "SIAT responde de nuevo" in closing.title and "03:40" in closing.body  # back at the fifth check
    assert "estuvo sin responder" in closing.body


def test_siat_alert_reads_the_state_the_screen_shows(db):
    """One state (cucu.connectivity.rules.siat_rollup): "Caído" opens it; "cucu no responde" or no current check is
    not "SIAT responde de nuevo", so it stays open; it closes when SIAT answers, saying since when."""
    store = Store(db)
    settings = channels()
    now = T0 + timedelta(minutes=5)
    assert run(store, down(now), settings).opened == 1
    silent = checks(True, False, False, False, None, None, None, start=now - timedelta(seconds=180))
    assert run(store, snapshot(now + timedelta(minutes=1), checks_=silent), settings) == Round()
    stale = checks(True, False, False, False, start=now - timedelta(seconds=90))
    assert run(store, snapshot(now + timedelta(minutes=10), checks_=stale), settings) == Round()
    assert store.open_incidents()[0].rule is AlertRule.SIAT_DOWN
    back = checks(False, False, False, None, True, start=now + timedelta(minutes=20) - timedelta(seconds=120))
    assert run(store, snapshot(now + timedelta(minutes=20), checks_=back), settings).closed == 1
    closing = store.outbox_entries(1)[0]
    assert closing.title.endswith("SIAT responde de nuevo") and "desde las 03:25" in closing.body


def test_siat_alert_opens_exactly_when_the_word_says_caido():
    for states, word in (((True, False, False), "Intermitente"), ((True, False, False, False), "Caído")):
        snap = snapshot(
            T0 + timedelta(minutes=2),
            checks_=checks(*states, start=T0 + timedelta(minutes=2) - timedelta(seconds=30 * (len(states) - 1))),
        )
        assert (AlertRule.SIAT_DOWN.value in found(snap)) is (word == "Caído")


def test_an_open_incident_follows_its_figure_and_a_reminder_carries_it_with_since_when(db):
    store = Store(db)
    settings = channels(remind_minutes=30)

    def rejected(n):
        cond = alerts.Condition(
            AlertRule.INVOICES_REJECTED.value,
            AlertRule.INVOICES_REJECTED,
            None,
            "Facturas rechazadas por SIAT",
            f"SIAT rechazó {n} facturas.",
        )
        return {cond.key: cond}

    def decide_with(now, n):
        return decide(
            store, INVENTORY, settings, snapshot(now), long_open_hours=24, check_interval_s=30, leading=True, extra=rejected(n)
        )

    assert decide_with(T0, 2).opened == 1
    queued = len(store.outbox_entries(50))
    assert decide_with(T0 + timedelta(minutes=5), 584) == Round()
    (incident,) = store.open_incidents()
    assert incident.body == "SIAT rechazó 584 facturas." and incident.opened_at == T0  # the figure moves, not the start
    assert len(store.outbox_entries(50)) == queued  # no message until a reminder is due
    assert not store.incident_update(incident, title=incident.title, body=incident.body)  # already says so: no write
    assert decide_with(T0 + timedelta(minutes=31), 590).reminded == 1
    reminder = store.outbox_entries(1)[0]
    assert reminder.kind is AlertKind.REMINDER and "SIAT rechazó 590 facturas." in reminder.body
    assert f"Alerta abierta desde el {T0:%d/%m/%Y %H:%M}" in reminder.body
    assert store.open_incidents()[0].body == "SIAT rechazó 590 facturas."
    assert store.open_incident_counts()[0] == 1


def test_a_branch_alert_goes_to_its_tagged_channels_and_the_summary_to_the_untagged_ones(db):
    store = Store(db)
    settings = channels()  # [0] untagged, [1] tagged "norte"; Sucursal Norte carries "norte"
    untagged, norte_channel = (c.label for c in settings.channels)
    statuses = {
        "p1": PosStatus("p1", NORTE, T0, T0, event("e1", "p1", T0 - timedelta(hours=30)), None),
        "p3": PosStatus("p3", SUR, T0, T0, event("e3", "p3", T0 - timedelta(hours=30)), None),
    }
    run(store, snapshot(statuses=statuses), settings)
    by_key = {i.key: i.id for i in store.open_incidents()}
    assert set(by_key) == {AlertRule.LONG_OPEN.value, f"{AlertRule.LONG_OPEN.value}:{NORTE}"}  # Sur has no channel of its own
    summary = {m.channel_label for m in store.outbox_entries(10, incident_id=by_key[AlertRule.LONG_OPEN.value])}
    norte = {m.channel_label for m in store.outbox_entries(10, incident_id=by_key[f"{AlertRule.LONG_OPEN.value}:{NORTE}"])}
    assert summary == {untagged} and norte == {norte_channel}
    siat = run(store, dataclasses.replace(down(T0 + timedelta(minutes=2)), statuses=statuses), settings)
    assert siat == Round(opened=1)
    assert len(store.outbox_entries(100)) == 2 + 2  # the whole company's alert: every channel


def test_the_public_url_links_to_the_page_that_shows_it(db):
    store = Store(db)
    settings = load_alerts(
        {"channels": [{"url": "json://127.0.0.1:9/x"}], "public_url": "https://contingencia.empresa.bo/contingencia/"}, {}
    )
    statuses = {"p1": PosStatus("p1", NORTE, T0, T0, event("e1", "p1", T0 - timedelta(hours=30)), None)}
    run(store, snapshot(statuses=statuses), settings)
    body = store.outbox_entries(1)[0].body
    assert body.endswith("\nhttps://contingencia.empresa.bo/contingencia/eventos")


def test_two_deciders_at_once_open_one_incident(db):
    stores = [Store(db), Store(db)]
    settings = channels()
    barrier = threading.Barrier(2)
    results = []

    def decide_now(store):
        barrier.wait()
        results.append(run(store, down(T0 + timedelta(minutes=2)), settings).opened)

    threads = [threading.Thread(target=decide_now, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1] and len(stores[0].open_incidents()) == 1
    assert len(stores[0].outbox_entries(10)) == 2  # one per channel, not two


def test_a_process_that_does_not_poll_only_opens_nobody_polling(db):
    store = Store(db)
    settings = channels()
    run(store, down(T0 + timedelta(minutes=2)), settings)  # the poller opened SIAT down
    stale = snapshot(T0 + timedelta(minutes=10), polling=False, last_poll=T0)  # SIAT's checks are gone from it
    assert run(store, stale, settings, leading=False).opened == 1
    assert run(store, stale, settings, leading=False).opened == 0
    keys = {i.key for i in store.open_incidents()}
    assert keys == {AlertRule.SIAT_DOWN.value, AlertRule.NO_COLLECTOR.value}  # it closed nothing it does not evaluate


# ---- delivery ------------------------------------------------------------------------------


class Receiver:
    """A sender that fails while ``down`` and records what it delivered."""

    def __init__(self):
        self.down = False
        self.got: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, channel, title, body):
        if self.down:
            return f"HTTP 503 para {channel.url}"
        with self.lock:
            self.got.append((channel.fingerprint, title))
        return None


def test_a_failing_channel_is_retried_with_backoff_and_the_error_is_redacted(db):
    store = Store(db)
    settings = channels()
    run(store, down(T0 + timedelta(minutes=2)), settings)
    receiver = Receiver()
    receiver.down = True
    assert deliver(store, settings.channels, "me", send=receiver, retry_first=timedelta(seconds=0)) == 0
    waiting = store.outbox_entries(10)
    assert all(m.delivery is Delivery.WAITING and m.attempts == 1 for m in waiting)
    assert all(TOKEN not in (m.last_error or "") and "503" in (m.last_error or "") for m in waiting)
    receiver.down = False
    assert deliver(store, settings.channels, "me", send=receiver, retry_first=timedelta(seconds=0)) == 2
    assert deliver(store, settings.channels, "me", send=receiver) == 0  # delivered once, never again
    assert len(receiver.got) == 2 and all(m.delivery is Delivery.DELIVERED for m in store.outbox_entries(10))


def test_a_retry_waits_its_backoff(db):
    store = Store(db)
    settings = channels()
    run(store, down(T0 + timedelta(minutes=2)), settings)
    receiver = Receiver()
    receiver.down = True
    deliver(store, settings.channels, "me", send=receiver)  # next attempt in 30 s
    receiver.down = False
    assert deliver(store, settings.channels, "me", send=receiver) == 0 and not receiver.got


def test_two_senders_at_once_send_each_message_once(db):
    store = Store(db)
    settings = load_alerts({"channels": [{"url": f"json://127.0.0.1:9/{n}"} for n in range(10)]}, {})
    run(store, down(T0 + timedelta(minutes=2)), settings)
    receiver = Receiver()
    barrier = threading.Barrier(2)

    def send_now(holder):
        barrier.wait()
        deliver(Store(db), settings.channels, holder, send=receiver)

    threads = [threading.Thread(target=send_now, args=(h,)) for h in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(f for f, _ in receiver.got) == sorted(c.fingerprint for c in settings.channels)


def test_a_message_for_a_channel_no_longer_configured_is_given_up(db):
    store = Store(db)
    run(store, down(T0 + timedelta(minutes=2)), channels())
    deliver(store, (), "me", send=Receiver())
    assert {m.delivery for m in store.outbox_entries(10)} == {Delivery.GAVE_UP}
    assert "ya no está configurado" in (store.outbox_entries(1)[0].last_error or "")


def test_a_test_message_goes_to_every_channel(db):
    store = Store(db)
    settings = channels()
    store.outbox_add(trial_messages(settings, "ana@empresa.bo", T0), T0)
    receiver = Receiver()
    assert deliver(store, settings.channels, "me", send=receiver) == 2
    assert {m.kind for m in store.outbox_entries(10)} == {AlertKind.TEST}


def test_a_short_claim_still_sends_each_message_once(db):
    """Seen: with a 1 s claim, 5 messages were sent 9 times (a batch claimed at once outlived its claim while
    its first messages were sent, and another sender took the rest). One claim covers one send now."""
    store = Store(db)
    settings = load_alerts({"channels": [{"url": "json://127.0.0.1:9/uno"}]}, {})
    (channel,) = settings.channels
    now = store.db_now()
    store.outbox_add([OutboxMessage(AlertKind.TEST, channel.fingerprint, channel.label, f"m{n}", "…") for n in range(5)], now)
    sent: list[str] = []
    lock = threading.Lock()

    def slow(channel, title, body):
        time.sleep(0.3)  # five of them outlast the claim; one does not
        with lock:
            sent.append(title)

    def sender(holder):
        mine = Store(db)
        until = time.monotonic() + 3.5
        while time.monotonic() < until:
            deliver(mine, settings.channels, holder, send=slow, claim_for=timedelta(seconds=1))
            time.sleep(0.05)

    threads = [threading.Thread(target=sender, args=(h,)) for h in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(sent) == [f"m{n}" for n in range(5)]
    assert {e.delivery for e in store.outbox_entries(10)} == {Delivery.DELIVERED}


def break_database(store, tmp_path):
    """The store's database gone, as with PostgreSQL stopped or the disk full: every read and write raises
    OperationalError."""
    if store.engine.dialect.name == "sqlite":
        store.engine = sa.create_engine(f"sqlite:///{tmp_path}/no-such-dir/gone.db")
    else:
        store.engine = sa.create_engine(store.engine.url.set(port=1))


def test_when_the_database_fails_one_direct_message_goes_to_the_untagged_channels(db, tmp_path, caplog):
    store = Store(db)
    settings = channels()  # [0] untagged, [1] tagged "norte"
    receiver = Receiver()
    alerter = Alerter(
        store,
        INVENTORY,
        settings,
        leading=lambda: True,
        polling=lambda: (True, None),
        holder="yo",
        long_open_hours=24,
        check_interval_s=0.05,
        send=receiver,
    )
    break_database(store, tmp_path)
    with caplog.at_level(logging.INFO, logger="cucu.alerts"):
        alerter.start()
        try:
            wait_until(lambda: receiver.got, 10, what="the direct message")
            rounds = alerter.rounds
            wait_until(lambda: alerter.rounds >= rounds + 5, 10, what="more rounds, the database still failing")
        finally:
            alerter.stop()
    # Once for the whole outage (rate-limited), to the company's channel only.
    assert receiver.got == [(settings.channels[0].fingerprint, "Contingencia · Falla la base de datos del tablero")]
    assert "la base de datos falla" in caplog.text and "aviso directo, sin la cola, a 1 canal sin etiqueta" in caplog.text
    assert "aviso directo entregado a json://127.0.0.1" in caplog.text and TOKEN not in caplog.text


def test_labels_an_older_version_stored_lose_their_path_at_start(db):
    store = Store(db)
    settings = channels()
    old = OutboxMessage(AlertKind.TEST, "0123456789ab", "json://alertas:****@127.0.0.1:9/webhook/SECRETPATH", "t", "b")
    new = trial_messages(settings, "ana", T0)
    # Queued by an older version for a channel still configured: its fingerprint was sha256(url)[:12].
    legacy = hashlib.sha256(settings.channels[1].url.encode()).hexdigest()[:12]
    waiting = OutboxMessage(AlertKind.TEST, legacy, "json://norte:****@127.0.0.1:9/norte", "t", "b")
    store.outbox_add([old, *new, waiting], store.db_now())
    alerter = Alerter(
        store,
        INVENTORY,
        settings,
        leading=lambda: False,
        polling=lambda: (True, None),
        holder="yo",
        long_open_hours=24,
        check_interval_s=30,
        send=Receiver(),
    )
    alerter.start()
    alerter.stop()
    labels = [(e.channel, e.channel_label) for e in store.outbox_entries(10)]
    assert ("0123456789ab", "json://… · 0123456789ab") in labels
    # Today's labels untouched; the older row is the channel's own again (sent, not given up as unknown).
    assert sorted(labels) == sorted(
        [
            ("0123456789ab", "json://… · 0123456789ab"),
            *[(c.fingerprint, c.label) for c in settings.channels],
            (settings.channels[1].fingerprint, settings.channels[1].label),
        ]
    )


def test_a_round_decided_by_the_polling_process_is_recorded_and_one_that_only_watches_is_not(db):
    """Pages say the open alerts are unknown until the rules were decided (cucu.views.alertas.alerts_known): the
    leading process's round records when, on the store's clock as every page reads it."""
    from cucu.alerts.alerter import ALERTS_JOB, Alerter

    store = Store(db)

    def alerter(leading: bool) -> Alerter:
        return Alerter(
            store, INVENTORY, channels(), leading=lambda: leading, polling=lambda: (True, None), holder="yo",
            long_open_hours=24, check_interval_s=30, send=lambda *_: None, clock=lambda: T0,
        )  # fmt: skip

    alerter(leading=False).run_once()
    assert store.job_run(ALERTS_JOB) is None  # it only watched for nobody polling
    alerter(leading=True).run_once()
    run = store.job_run(ALERTS_JOB)
    assert run is not None and run.ok_at == T0 and run.error is None


def test_the_recent_incidents_of_the_branches_a_filter_chose_keep_the_companys_and_are_not_crowded_out(db):
    """Alertas' region and branch filter (issue 26): the last ``limit`` of the chosen branches' incidents and of
    those naming no branch (SIAT's), however many other branches opened since."""
    store = Store(db)

    def opened(key: str, rule: AlertRule, branch_id: str | None, minutes: int) -> None:
        at = T0 + timedelta(minutes=minutes)
        found = store.incident_open(
            key=key, rule=rule, branch_id=branch_id, opened_at=at, now=at, title=key, body="", messages=[]
        )
        assert found is not None

    opened("sur", AlertRule.LONG_OPEN, SUR, 1)
    opened("siat", AlertRule.SIAT_DOWN, None, 2)
    for n in range(3):
        opened(f"norte{n}", AlertRule.LONG_OPEN, NORTE, 3 + n)
    assert [i.key for i in store.recent_incidents(2)] == ["norte2", "norte1"]  # the company's list
    assert [i.key for i in store.recent_incidents(2, chosen=[SUR])] == ["siat", "sur"]
    assert [i.key for i in store.recent_incidents(10, chosen=[NORTE])] == ["norte2", "norte1", "norte0", "siat"]
    assert [i.key for i in store.recent_incidents(10, branch_ids=[SUR], chosen=[NORTE])] == ["siat"]  # scope first


def test_the_rules_read_the_whole_chain_only_with_every_pos_and_cufd_and_a_whole_pass_over_the_invoices(db):
    """Until a round has read it all, what is open is what fired on part of it: the header says "lectura parcial"
    (cucu.views.alertas.OpenAlerts.partial). Each missing piece keeps it partial."""
    from dataclasses import replace

    from cucu.alerts.alerter import read_whole
    from cucu.invoicing import INVOICE_JOB

    store = Store(db)
    every = [pos.id for pos in INVENTORY.all_pos]
    status = {p: PosStatus(p, NORTE, T0, T0, None, None) for p in every}
    cufd = {p: StoredCufd(p, NORTE, T0, T0, None, None) for p in every}  # read, whether or not cucu had one
    whole = replace(snapshot(statuses=status), cufds=cufd)
    assert not read_whole(store, INVENTORY, whole)  # the invoices never walked
    store.record_job(INVOICE_JOB, T0, None)
    assert not read_whole(store, INVENTORY, whole)  # walked in part
    store.record_job(INVOICE_JOB, T0, None, passed=True)
    assert read_whole(store, INVENTORY, whole)
    one_less = every[1:]
    assert not read_whole(store, INVENTORY, replace(whole, statuses={p: status[p] for p in one_less}))
    assert not read_whole(store, INVENTORY, replace(whole, cufds={p: cufd[p] for p in one_less}))
