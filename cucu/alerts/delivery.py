"""Delivery of the outbox with Apprise: any process sends what is due, each channel from a thread of its own
(``_Courier``), claiming one row at a time (two senders never send one message both), retrying with backoff
until delivered or given up; failures are recorded, never raised. Messages go as plain text; a channel is
shown by scheme, server and fingerprint only. When the database itself fails, one message goes straight to
the company's channels, at most every DB_DOWN_EVERY."""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cucu.alerts.text import TITLE_PREFIX, plain, plain_title
from cucu.formatting import fmt_duration, fmt_hour
from cucu.settings import AlertSettings, Channel
from cucu.store import OutboxEntry, Store, database_failed

if TYPE_CHECKING:
    from cucu.alerts.alerter import Alerter

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=2)  # a sender that dies mid-send leaves its messages to another after this
RETRY_MAX = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(hours=24)  # a message older than this is given up (recorded), not sent late
SEND_BATCH = 50  # messages claimed per round
DB_DOWN_EVERY = timedelta(minutes=30)  # one direct message per process at most this often while the database fails

Sender = Callable[[Channel, str, str], str | None]  # (channel, title, body) -> None when delivered, else why not

# What every send asks of Apprise, whatever the operator's URL says: plain text (Apprise then escapes it
# for a channel that speaks only HTML or Markdown; an e-mail goes as text/plain alone). Telegram has no
# plain mode in Apprise: MarkdownV2, where Apprise escapes every reserved character and Telegram refuses a
# message with one unescaped rather than render it (HTML mode let outside text become links).
_FORMAT_ARGS: Mapping[str, Mapping[str, str]] = {"tgram": {"format": "markdown", "mdv": "v2"}}
_PLAIN_ARGS: Mapping[str, str] = {"format": "text"}
_TIMEOUT_ARGS = ("cto", "rto")  # Apprise's connect and read timeouts, per channel


def send_url(url: str, timeout_s: float) -> str:
    """The channel's URL with the format and the timeouts every send uses (the operator's own ``cto`` and
    ``rto`` are kept when shorter). The query is edited as text: decoding and encoding it again would
    change values (a ``+`` in a phone number)."""
    base, _, query = url.partition("?")
    forced = _FORMAT_ARGS.get(base.split("://", 1)[0].lower(), _PLAIN_ARGS)
    timeouts = dict.fromkeys(_TIMEOUT_ARGS, timeout_s)
    kept = []
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        key = key.strip().lower()
        if key in timeouts:
            try:
                own = float(value)
            except ValueError:
                continue
            if 0 < own < timeouts[key]:  # NaN is neither
                timeouts[key] = own
        elif key not in ("format", "mdv"):
            kept.append(pair)
    args = [*kept, *(f"{k}={v}" for k, v in forced.items()), *(f"{k}={v:g}" for k, v in timeouts.items())]
    return f"{base}?{'&'.join(args)}"


def apprise_send(
    channel: Channel,
    title: str,
    body: str,
    *,
    timeout_s: float = AlertSettings.send_timeout_s,
    attach: Sequence[str] = (),
) -> str | None:
    """Send one message to one channel as plain text, within ``timeout_s``, with the files at ``attach`` (the
    monthly report's); None when it was accepted."""
    import apprise

    logging.getLogger("apprise").propagate = False  # nothing of Apprise reaches the server's log (URLs hold tokens)
    try:
        sender = apprise.Apprise()
        if not sender.add(send_url(channel.url, timeout_s)):
            return "Apprise no reconoce la dirección del canal."
        # The call's own deadline as well: a plugin that does not use cto/rto is not waited for past it.
        files = apprise.AppriseAttachment(list(attach)) if attach else None
        result = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT, timeout=timeout_s, attach=files)
    except Exception as exc:  # a plugin's bug must not stop the others
        return redact(f"{type(exc).__name__}: {exc}", channel.url)
    if result:
        return None
    # Apprise's own lines of this call (they may quote the URL: redacted, kept for the outbox, never logged).
    said = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
    return redact("; ".join(said[-3:]) or "el servicio no aceptó el mensaje", channel.url)


def redact(text: str, url: str) -> str:
    """``text`` without any piece of ``url`` that could be a secret (user, password, token, path, query)."""
    rest = url.split("://", 1)[-1]
    for piece in sorted(set(re.split(r"[/:@?&=#,+]", rest)), key=len, reverse=True):
        if len(piece) >= 4:
            text = text.replace(piece, "****")
    return text[:500]


GONE = "El canal ya no está configurado en [alerts]."


_LABEL = re.compile(r"[a-z0-9+.-]{1,20}://[^ /@?]+ · [0-9a-f]{12}")


def scrubbed_label(label: str, fingerprint: str) -> str:
    """A label stored by an older version (Apprise's masked URL, which kept paths and topics) as the
    scheme and the fingerprint only."""
    if _LABEL.fullmatch(label):
        return label
    scheme = label.split("://", 1)[0].lower() if "://" in label else ""
    return f"{scheme if re.fullmatch(r'[a-z0-9+.-]{1,20}', scheme) else '?'}://… · {fingerprint}"


def give_up_unconfigured(store: Store, channels: Sequence[Channel], holder: str, *, claim_for: timedelta = CLAIM_FOR) -> int:
    """Give up (recorded) the due messages of channels no longer in [alerts]; returns how many."""
    entries = store.outbox_claim(holder, for_=claim_for, limit=SEND_BATCH, other_than=[c.fingerprint for c in channels])
    for entry in entries:
        store.outbox_give_up(entry.id, holder, error=GONE)
    return len(entries)


def deliver_to(
    store: Store,
    channel: Channel,
    holder: str,
    *,
    send: Sender = apprise_send,
    retry_first: timedelta = timedelta(seconds=30),
    claim_for: timedelta = CLAIM_FOR,
) -> int:
    """Send what is due to ``channel``, one message at a time: claim one, send it, settle it. A claim so
    covers one send (bounded by the channel's timeout), never a batch whose last sends could outlast it
    and be claimed and sent again by another process. Returns how many were delivered."""
    delivered, last = 0, None
    for _ in range(SEND_BATCH):
        claimed = store.outbox_claim(holder, for_=claim_for, limit=1, channels=[channel.fingerprint], after_id=last)
        if not claimed:
            break
        last = claimed[0].id  # one attempt per message per pass, however short its backoff
        delivered += _send_one(store, channel, holder, claimed[0], send, retry_first)
    return delivered


def _send_one(store: Store, channel: Channel, holder: str, entry: OutboxEntry, send: Sender, retry_first: timedelta) -> int:
    try:
        # Plain again at the last step: a row queued by an older version goes out as safe as a new one.
        error = send(channel, plain_title(entry.title), plain(entry.body))
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    if error is None:
        if not store.outbox_delivered(entry.id, holder):
            log.warning("alerta %d entregada a %s cuando su reserva ya había vencido", entry.id, channel.label)
        return 1
    error = redact(error, channel.url)  # whatever the sender says, no piece of the URL is kept
    age = store.db_now() - entry.created_at
    if age >= GIVE_UP_AFTER:
        store.outbox_give_up(entry.id, holder, error=error)
        log.error("alerta %d no entregada a %s tras %d intentos: se abandona", entry.id, channel.label, entry.attempts + 1)
    else:
        wait = min(RETRY_MAX, retry_first * (2**entry.attempts))
        store.outbox_retry(entry.id, holder, after=wait, error=error)
        log.warning(
            "alerta %d no entregada a %s (intento %d); otra vez en %s",
            entry.id,
            channel.label,
            entry.attempts + 1,
            fmt_duration(wait),
        )
    return 0


def deliver(
    store: Store,
    channels: Sequence[Channel],
    holder: str,
    *,
    send: Sender = apprise_send,
    retry_first: timedelta = timedelta(seconds=30),
    claim_for: timedelta = CLAIM_FOR,
) -> int:
    """Send what is due to every channel in turn, and give up the messages of channels no longer
    configured; returns how many were delivered. A failure waits ``retry_first``, then twice as long each
    time, up to RETRY_MAX; a message not delivered within GIVE_UP_AFTER is given up. (The Alerter sends
    to each channel from a thread of its own instead: ``deliver_to``.)"""
    give_up_unconfigured(store, channels, holder, claim_for=claim_for)
    return sum(deliver_to(store, c, holder, send=send, retry_first=retry_first, claim_for=claim_for) for c in channels)


def database_down_message(settings: AlertSettings, now: datetime) -> tuple[str, str]:
    """The one message that goes out without the outbox, when the database itself fails."""
    link = f"\n{settings.public_url}" if settings.public_url else ""
    return (
        f"{TITLE_PREFIX} · Falla la base de datos del tablero",
        f"El tablero no puede usar su base de datos (a las {fmt_hour(now)}, hora de La Paz): no guarda comprobaciones "
        "ni alertas, y las alertas en cola no se envían. Revise el disco y la base de datos del servidor. Este aviso "
        f"se repite como mucho cada {fmt_duration(DB_DOWN_EVERY)} mientras dure.{link}",
    )


class _Courier:
    """One channel's sender, in a thread of its own: a channel that is slow or never answers delays only its
    own messages, and the decisions (and the policy) never wait on a send."""

    def __init__(self, alerter: Alerter, channel: Channel) -> None:
        self.alerter = alerter
        self.channel = channel
        self.wake = threading.Event()
        self.direct: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()  # sent without the outbox
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._loop, name=f"alerts-{self.channel.fingerprint}", daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        alerter, channel = self.alerter, self.channel
        database_failing = False
        while not alerter._stop.is_set():
            self.wake.clear()
            self._send_direct()
            try:
                deliver_to(
                    alerter.store,
                    channel,
                    alerter.holder,
                    send=alerter.send,
                    retry_first=timedelta(seconds=alerter.settings.retry_s),
                    claim_for=alerter.claim_for,
                )
                database_failing = False
            except Exception as exc:
                if not database_failed(exc):
                    log.exception("alertas: no se pudo enviar a %s", channel.label)
                elif not database_failing:  # once per outage: the decision loop says the rest
                    database_failing = True
                    log.warning("alertas: sin base de datos, los mensajes en cola para %s esperan", channel.label)
            self.wake.wait(alerter.check_interval_s)

    def _send_direct(self) -> None:
        while True:
            try:
                title, body = self.direct.get_nowait()
            except queue.Empty:
                return
            try:
                error = self.alerter.send(self.channel, plain_title(title), plain(body))
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            if error is None:
                log.warning("alertas: aviso directo entregado a %s", self.channel.label)
            else:
                log.error("alertas: aviso directo no entregado a %s: %s", self.channel.label, redact(error, self.channel.url))
