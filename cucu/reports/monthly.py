"""The monthly compliance report sent on the 1st (issue 26, part 4): last month's, as an Excel workbook and a PDF
attached, to each channel whose tags are in ``[alerts].monthly_report_tags``.

Run after each round of the alerter of the process that polls, one in the whole deployment (``cucu.runtime``
wires it: the alerts may not import views), from ``SEND_FROM`` on the 1st in La Paz. Each channel's send is a job run of its own (``informe:2026-11:<channel>``), so a channel that failed
is retried every ``RETRY_EVERY`` until ``GIVE_UP_AFTER`` without sending twice to those that got it, and a
restart does not send it again. The report is built once per round that has a channel to serve.

It waits, up to ``HISTORY_WAIT``, until every POS's days of the month are read from cucu (the backfill reads the
month's last day after midnight): sent before, the events and hours would say "al menos". After that it goes as it
is, saying how much of the history was verified.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from cucu.api.models import Inventory
from cucu.formatting import fmt_count, fmt_month
from cucu.reports.compliance import closed_days, compliance_report, month_period, month_start, previous_month
from cucu.settings import AlertSettings, Channel
from cucu.store import Store
from cucu.views.informe import report_pdf, report_xlsx, summary_frame

REPORT_JOB = "informe"  # job_runs.name holds 32 characters: "informe:2026-11:<channel, 12>"
SEND_FROM = timedelta(hours=6)  # after midnight: the night's last events and invoices are read by then
RETRY_EVERY = timedelta(minutes=15)
HISTORY_WAIT = timedelta(hours=18)  # from SEND_FROM: at most until midnight of the 2nd for the month's history
GIVE_UP_AFTER = timedelta(days=7)  # a week late, last month's report is no longer "the 1st's": not sent
log = logging.getLogger("contingencia")

Send = Callable[..., str | None]  # cucu.alerts.delivery.apprise_send


def job_name(year: int, month: int, channel: Channel) -> str:
    return f"{REPORT_JOB}:{year}-{month:02d}:{channel.fingerprint}"


def report_channels(settings: AlertSettings) -> list[Channel]:
    wanted = settings.monthly_report_tags
    return [c for c in settings.channels if c.tags & wanted] if wanted else []


def due_month(now: datetime) -> tuple[int, int] | None:
    """The month whose report is due now (last month's, from the 1st's ``SEND_FROM`` for ``GIVE_UP_AFTER``)."""
    opens = month_start(now.year, now.month) + SEND_FROM
    return previous_month(now.date()) if opens <= now < opens + GIVE_UP_AFTER else None


def history_read(store: Store, inventory: Inventory, year: int, month: int, now: datetime) -> bool:
    """Every POS's every day of the month read from cucu after it was over (one grouped count, no events parsed)."""
    days = closed_days(*month_period(year, month), now)
    if not days:
        return False
    verified = store.verified_per_pos(days[0], days[-1])
    return all(verified.get(p.id, 0) >= len(days) for p in inventory.all_pos)


def send_monthly_report(
    store: Store,
    inventory: Inventory,
    settings: AlertSettings,
    now: datetime,
    send: Send,
    *,
    backfill_days: int | None = None,
) -> list[tuple[Channel, str | None]]:
    """Send last month's report where it is due and not yet delivered; what each channel answered (None: sent).
    ``backfill_days``: how far back the backfill reads (the report says older unverified days stay so)."""
    month = due_month(now)
    channels = report_channels(settings)
    if month is None or not channels:
        return []
    waiting = []
    for channel in channels:
        run = store.job_run(job_name(*month, channel))
        if run is not None and (run.ok_at is not None or now - run.ran_at < RETRY_EVERY):
            continue
        waiting.append(channel)
    if not waiting:
        return []
    year, number = month
    opens = month_start(now.year, now.month) + SEND_FROM
    if now < opens + HISTORY_WAIT and not history_read(store, inventory, year, number, now):
        return []  # the month's last days are being read: the report would count "at least" its events
    horizon = now.date() - timedelta(days=backfill_days) if backfill_days is not None else None
    report = compliance_report(store, inventory, *month_period(year, number), now, horizon=horizon)
    title = f"Informe de contingencia de {fmt_month(year, number)}"
    lines = [f"{k}: {v}" for k, v in summary_frame(report, inventory).values]
    body = "\n".join([title, "", *lines, "", "Adjuntos: el informe en Excel (una hoja por vista) y en PDF."])
    answers = []
    with tempfile.TemporaryDirectory(prefix="informe-") as folder:
        stem = Path(folder) / f"informe_contingencia_{year}-{number:02d}"
        files = [str(stem.with_suffix(".xlsx")), str(stem.with_suffix(".pdf"))]
        Path(files[0]).write_bytes(report_xlsx(report, inventory))
        Path(files[1]).write_bytes(report_pdf(report, inventory))
        for channel in waiting:
            error = send(channel, title, body, timeout_s=settings.send_timeout_s, attach=files)
            store.record_job(job_name(*month, channel), now, error)
            if error is not None:
                log.warning("informe mensual: %s no lo recibió (%s); se reintenta", channel.label, error)
            answers.append((channel, error))
    return answers


# For the operator, in a tooltip: the supervisor reading the page is told what to do, not the setting's name.
SETTING_HELP = "Los canales con una etiqueta de [alerts].monthly_report_tags reciben el informe."


def monthly_report_state(store: Store, settings: AlertSettings, now: datetime) -> str:
    """What the Informe page says of the sending, in Spanish, to a supervisor (no configuration names: those are
    ``SETTING_HELP``, for whoever administers the dashboard)."""
    channels = report_channels(settings)
    if not channels:
        return (
            "El informe mensual no se envía solo: ningún canal está configurado para recibirlo. "
            "Pídaselo a quien administra el tablero."
        )
    month = previous_month(now.date())
    runs = [store.job_run(job_name(*month, c)) for c in channels]
    sent = sum(1 for r in runs if r is not None and r.ok_at is not None)
    failed = [r.error for r in runs if r is not None and r.ok_at is None and r.error]
    text = (
        "El informe se envía el día 1 a los canales configurados para él. "
        f"Informe de {fmt_month(*month)}: enviado a {fmt_count(sent)} de {fmt_count(len(channels))} canales"
    )
    if failed:
        text += f"; {fmt_count(len(failed))} sin recibirlo todavía (se reintenta cada 15 min hasta el día 8)"
    elif sent < len(channels):
        text += " (se envía el día 1 desde las 06:00, en cuanto su historia esté leída de cucu; a más tardar el 2)"
    return text + "."
