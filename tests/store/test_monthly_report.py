"""The monthly report sent on the 1st (issue 26, part 4): to the channels tagged for it, with the workbook and the
PDF attached, through Apprise to a real webhook; once per channel, a failed channel retried without resending
to the others, nothing before 06:00 of the 1st nor a week late (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import functools
from datetime import datetime, timedelta

from cucu.alerts.delivery import apprise_send
from cucu.lapaz import LA_PAZ
from cucu.reports.monthly import monthly_report_state, send_monthly_report
from cucu.settings import load_alerts
from tests.store.test_compliance import INVENTORY, november  # noqa: F401 - the fixture
from tests.support.alert_receivers import WebhookReceiver


def at(day, hour, minute=0):
    return datetime(2026, 12, day, hour, minute, tzinfo=LA_PAZ)


def test_last_months_report_goes_to_the_tagged_channels_once_each(november):  # noqa: F811
    store = november
    with WebhookReceiver() as informes, WebhookReceiver() as gerencia, WebhookReceiver() as alertas:
        settings = load_alerts(
            {
                "monthly_report_tags": ["informes"],
                "channels": [
                    {"url": informes.url, "tags": ["informes"]},
                    {"url": gerencia.url, "tags": ["gerencia", "informes"]},
                    {"url": alertas.url},  # untagged: every alert, not the report
                ],
            },
            {},
        )

        def send(now):
            return send_monthly_report(store, INVENTORY, settings, now, apprise_send)

        said = monthly_report_state(store, settings, at(1, 5))
        assert "El informe se envía el día 1 a los canales configurados para él" in said
        assert "enviado a 0 de 2 canales" in said and "monthly_report_tags" not in said
        assert send(at(1, 5, 59)) == []  # before 06:00 of the 1st
        gerencia.failing = True
        answers = send(at(1, 6, 30))
        assert [error is None for _c, error in answers] == [True, False]
        [post] = informes.posts
        assert post["title"] == "Informe de contingencia de noviembre de 2026"
        assert "Disponibilidad de SIAT (sin mantenimientos)" in post["message"]
        files = {a["filename"]: base64.b64decode(a["base64"]) for a in post["attachments"]}
        assert files["informe_contingencia_2026-11.xlsx"][:2] == b"PK"
        assert files["informe_contingencia_2026-11.pdf"].startswith(b"%PDF")
        assert not alertas.posts
        assert "1 sin recibirlo todavía" in monthly_report_state(store, settings, at(1, 6, 31))
        gerencia.failing = False
        assert send(at(1, 6, 40)) == []  # retried 15 min after, not at every round
        assert [error for _c, error in send(at(1, 6, 46))] == [None]  # only the one that failed
        assert len(informes.posts) == 1 and len(gerencia.posts) == 1
        assert send(at(2, 9)) == []  # a restart, the next day: nothing sent twice
        assert "enviado a 2 de 2 canales" in monthly_report_state(store, settings, at(2, 9))


def test_nothing_is_sent_without_tags_or_a_week_late(november):  # noqa: F811
    store = november
    with WebhookReceiver() as informes:
        tagged = {"monthly_report_tags": ["informes"], "channels": [{"url": informes.url, "tags": ["informes"]}]}
        untagged = load_alerts({"channels": [{"url": informes.url, "tags": ["informes"]}]}, {})
        assert send_monthly_report(store, INVENTORY, untagged, at(1, 7), apprise_send) == []
        said = monthly_report_state(store, untagged, at(1, 7))
        assert "ningún canal está configurado para recibirlo" in said and "quien administra el tablero" in said
        assert "monthly_report_tags" not in said and "[alerts]" not in said  # a supervisor reads it
        late = at(1, 6) + timedelta(days=7)
        assert send_monthly_report(store, INVENTORY, load_alerts(tagged, {}), late, apprise_send) == []
        assert not informes.posts


def test_the_polling_process_sends_it_after_its_alert_round(db):
    """Wired by the runtime (the alerts may not import the report's views): after a round, only where it leads."""
    from cucu.alerts import Alerter
    from cucu.store import Store

    calls: list[datetime] = []
    for leading in (False, True):
        alerter = Alerter(
            Store(db), INVENTORY, load_alerts({}, {}), leading=functools.partial(bool, leading), polling=lambda: (True, None),
            holder="h", long_open_hours=24, check_interval_s=30, after_round=calls.append,
            clock=lambda: at(1, 7),
        )  # fmt: skip
        alerter.run_once()
    assert calls == [at(1, 7)]


def test_the_runtime_wires_the_monthly_report(sim, sim_server, tmp_path):
    from cucu.inventory import DEMO_INVENTORY_PATH
    from cucu.runtime import build_runtime
    from cucu.settings import load_settings
    from cucu.simulator import DEFAULT_API_KEY

    with WebhookReceiver() as informes:
        settings = load_settings(
            {"base_url": sim_server.base_url, "api_key": DEFAULT_API_KEY, "inventory": str(DEMO_INVENTORY_PATH),
             "db": str(tmp_path / "c.db"), "collector": False},
            {},
            alerts={"monthly_report_tags": ["informes"], "channels": [{"url": informes.url, "tags": ["informes"]}]},
        )  # fmt: skip
        runtime = build_runtime(settings, start_collector=False)
        try:
            assert runtime.alerter.after_round is not None
            runtime.alerter.after_round(at(1, 7))
            assert not informes.posts  # the demo's November is not read from cucu: it waits for it
            runtime.alerter.after_round(at(2, 1))  # then goes as it is, saying how much was read
            [post] = informes.posts
            assert "Historia de eventos verificada con cucu" in post["message"]
            assert [p["title"] for p in informes.posts] == ["Informe de contingencia de noviembre de 2026"]
        finally:
            runtime.close()


def _tagged(url):
    return load_alerts({"monthly_report_tags": ["informes"], "channels": [{"url": url, "tags": ["informes"]}]}, {})


def test_the_report_waits_for_the_months_history(db):
    """At 06:00 of the 1st the backfill may still be reading the month's last day: sent then, the events would be
    "al menos". It waits for the history (one grouped count, no events parsed) and goes once it is read."""
    from cucu.store import Store
    from tests.store.test_compliance import verify

    store = Store(db)
    with WebhookReceiver() as informes:
        verify(store, datetime(2026, 11, 1).date(), datetime(2026, 11, 29).date())  # the 30th not read yet
        assert send_monthly_report(store, INVENTORY, _tagged(informes.url), at(1, 6, 30), apprise_send) == []
        assert send_monthly_report(store, INVENTORY, _tagged(informes.url), at(1, 23, 59), apprise_send) == []
        verify(store, datetime(2026, 11, 30).date(), datetime(2026, 11, 30).date())
        answers = send_monthly_report(store, INVENTORY, _tagged(informes.url), at(1, 23, 59), apprise_send)
        assert [error for _c, error in answers] == [None]
        [post] = informes.posts
        assert "Eventos: 0\n" in post["message"] and "Aviso:" not in post["message"]  # read: none, not unknown


def test_a_month_never_read_goes_after_the_wait_saying_its_events_are_unknown(db):
    from cucu.store import Store

    store = Store(db)
    with WebhookReceiver() as informes:
        assert send_monthly_report(store, INVENTORY, _tagged(informes.url), at(1, 6, 30), apprise_send) == []
        answers = send_monthly_report(store, INVENTORY, _tagged(informes.url), at(2, 0, 1), apprise_send, backfill_days=7)
        assert [error for _c, error in answers] == [None]
        [post] = informes.posts
        assert "Eventos: —" in post["message"] and "no se conocen todavía" in post["message"]
        assert "no se completan solos (CUCU_BACKFILL_DAYS)" in post["message"]  # November is beyond 7 days back
