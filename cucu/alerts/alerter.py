"""The loop: ``Alerter`` decides in a thread of its own, after each connectivity check of this process's
collector and at least every ``check_interval_s``; the process that holds the collector lease runs the policy
first and decides every rule, and every process watches for "nobody polls cucu" (the poller cannot decide
it; the one-open index keeps it to one incident)."""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from cucu.alerts.delivery import (
    CLAIM_FOR,
    DB_DOWN_EVERY,
    Sender,
    _Courier,
    apprise_send,
    database_down_message,
    give_up_unconfigured,
    scrubbed_label,
)
from cucu.alerts.incidents import Round, decide, read_snapshot, trial_messages
from cucu.alerts.rules import Condition, Snapshot
from cucu.alerts.text import outside
from cucu.api.models import Inventory
from cucu.events.policy import Policy, PolicyStatus, policy_condition
from cucu.formatting import fmt_duration, plural
from cucu.invoicing import INVOICE_JOB
from cucu.lapaz import now_la_paz
from cucu.settings import AlertSettings, Settings
from cucu.store import Store, database_failed
from cucu.vocabulary import AlertRule

# Its row in job_runs: when the rules were last decided. Until then every page says the alerts are not known yet,
# not "0 alertas abiertas" (cucu.views.alertas.OpenAlerts).
ALERTS_JOB = "alertas"

log = logging.getLogger(__name__)


def read_whole(store: Store, inventory: Inventory, snap: Snapshot) -> bool:
    """Whether the rules read everything they judge: every POS's state and CUFD, and a whole pass over the invoices.
    Until a round has, what is open is what fired on part of it (``job_runs.passed_at`` stays empty)."""
    run = store.job_run(INVOICE_JOB)
    if run is None or run.passed_at is None:
        return False
    return all(pos.id in snap.statuses and pos.id in snap.cufds for pos in inventory.all_pos)


class Alerter:
    """Decides alerts in a background thread of its own: after each connectivity check of this process's
    collector (``wake``), and at least every ``check_interval_s``. Each channel's messages are sent from a
    thread of that channel's (``_Courier``), woken after each decision."""

    def __init__(
        self,
        store: Store,
        inventory: Inventory,
        settings: AlertSettings,
        *,
        leading: Callable[[], bool],
        polling: Callable[[], tuple[bool, datetime | None]],
        holder: str,
        long_open_hours: float,
        check_interval_s: float,
        send: Sender | None = None,
        clock: Callable[[], datetime] = now_la_paz,
        policy: Policy | None = None,
        cufd_expiring_hours: float = Settings.cufd_expiring_hours,
        invoice_window_hours: float = Settings.invoice_window_hours,
        claim_for: timedelta = CLAIM_FOR,
        after_round: Callable[[datetime], object] | None = None,
    ) -> None:
        self.store = store
        self.inventory = inventory
        self.settings = settings
        self.leading = leading
        self.polling = polling
        self.holder = holder
        self.long_open_hours = long_open_hours
        self.check_interval_s = check_interval_s
        self.cufd_expiring_hours = cufd_expiring_hours
        self.invoice_window = timedelta(hours=invoice_window_hours)
        self.send: Sender = send or functools.partial(apprise_send, timeout_s=settings.send_timeout_s)
        # What the polling process also does after each round (the runtime hands it the monthly report's sending,
        # which reads views this package may not import).
        self.after_round = after_round
        # A claim outlasts the longest send it covers, whatever the timeout is set to.
        self.claim_for = max(claim_for, timedelta(seconds=3 * settings.send_timeout_s))
        self._couriers = {c.fingerprint: _Courier(self, c) for c in settings.channels}
        self._direct_at: float | None = None  # time.monotonic() of the last direct message (the database failing)
        self.policy = policy
        self.last_policy: PolicyStatus | None = None  # what the policy did in this process's last round
        self.clock = clock
        self.rounds = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls,
        store: Store,
        inventory: Inventory,
        settings: Settings,
        *,
        leading: Callable[[], bool],
        polling: Callable[[], tuple[bool, datetime | None]],
        holder: str,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = now_la_paz,
        send: Sender | None = None,
        after_round: Callable[[datetime], object] | None = None,
    ) -> Alerter:
        """The alerter the settings describe (``[alerts]`` and the thresholds it shares with the pages), as
        ``cucu.runtime`` builds it; the keywords stay for tests."""
        return cls(
            store,
            inventory,
            settings.alerts,
            leading=leading,
            polling=polling,
            holder=holder,
            long_open_hours=settings.long_open_hours,
            check_interval_s=settings.check_interval_s,
            send=send,
            clock=clock,
            policy=policy,
            cufd_expiring_hours=settings.cufd_expiring_hours,
            invoice_window_hours=settings.invoice_window_hours,
            after_round=after_round,
        )

    def run_once(self) -> Round:
        """One decision (if this process leads, or watches for nobody polling); the channels' threads send."""
        now = self.clock()
        done = Round()
        leading = False
        try:
            leading = self.leading()
            polling, last_poll = (True, None) if leading else self.polling()
            # A process that does not poll watches only for nobody polling: it reads nothing else.
            snap = (
                read_snapshot(
                    self.store,
                    polling=polling,
                    last_poll=last_poll,
                    now=now,
                    inventory=self.inventory,
                    invoice_window=self.invoice_window,
                )
                if leading
                else Snapshot(now, [], {}, [], polling, last_poll)
            )
            extra = {}
            if leading and self.policy is not None:
                try:  # the policy acts before the alerts are decided, so they say what it did
                    self.last_policy = self.policy.run_once(now, snap.checks, snap.statuses)
                except Exception:
                    log.exception("política automática: no se pudo ejecutar esta ronda")
                for key, (title, body) in policy_condition(self.last_policy, self.policy.settings).items():
                    extra[key] = Condition(key, AlertRule.POLICY, None, title, body, path="bitacora")
            done = decide(
                self.store,
                self.inventory,
                self.settings,
                snap,
                long_open_hours=self.long_open_hours,
                check_interval_s=self.check_interval_s,
                leading=leading,
                extra=extra,
                cufd_expiring_hours=self.cufd_expiring_hours,
            )
            if leading:
                self.store.record_job(ALERTS_JOB, now, None, passed=read_whole(self.store, self.inventory, snap))
        except Exception as exc:
            self._failed(exc, "alertas: no se pudo decidir esta ronda")
        if leading and self.after_round is not None:
            try:
                self.after_round(now)
            except Exception as exc:
                self._failed(exc, "alertas: lo que sigue a la ronda falló (el informe mensual)")
        try:
            give_up_unconfigured(self.store, self.settings.channels, self.holder)
        except Exception as exc:
            self._failed(exc, "alertas: no se pudieron descartar los mensajes de canales quitados")
        self._wake_couriers()
        self.rounds += 1
        return done

    def _failed(self, exc: Exception, what: str) -> None:
        if not database_failed(exc):
            log.exception(what)
            return
        # The outbox cannot be written: one message straight to the company's (untagged) channels, at most
        # every DB_DOWN_EVERY per process; the log says each time.
        detail = f"{type(exc).__name__}: {outside(getattr(exc, 'orig', None) or exc, 300)}"
        if self._direct_at is not None and time.monotonic() - self._direct_at < DB_DOWN_EVERY.total_seconds():
            log.error(
                "%s: la base de datos falla (%s); el aviso directo ya salió hace menos de %s",
                what,
                detail,
                fmt_duration(DB_DOWN_EVERY),
            )
            return
        self._direct_at = time.monotonic()
        title, body = database_down_message(self.settings, self.clock())
        targets = [c for c in self.settings.channels if not c.tags]
        for channel in targets:
            courier = self._couriers[channel.fingerprint]
            courier.direct.put((title, body))
            courier.wake.set()
        log.error(
            "%s: la base de datos falla (%s), la cola de alertas no se puede escribir; aviso directo, sin la cola, a %s sin etiqueta",
            what,
            detail,
            plural(len(targets), "canal", "canales"),
        )

    def _wake_couriers(self) -> None:
        for courier in self._couriers.values():
            courier.wake.set()

    def queue_test(self, actor: str) -> int:
        """A test message to every channel, sent by the next round (at once: it wakes the loop)."""
        messages = trial_messages(self.settings, actor, self.clock())
        self.store.outbox_add(messages, self.clock())
        self._wake_couriers()
        return len(messages)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> Alerter:
        # Rows an older version stored: a label that kept a URL's path or topic, and a fingerprint made by a
        # fast hash (today's is slow), which would leave their messages to no channel.
        legacy = {hashlib.sha256(c.url.encode()).hexdigest()[:12]: (c.fingerprint, c.label) for c in self.settings.channels}
        try:
            if relabeled := self.store.outbox_relabel(scrubbed_label, legacy):
                log.info(
                    "alertas: %s con la dirección de su canal, ahora sin ella",
                    plural(relabeled, "mensaje guardado", "mensajes guardados"),
                )
        except Exception:
            log.exception("alertas: no se pudieron limpiar las etiquetas de canal guardadas")
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="alerts", daemon=True)
            self._thread.start()
        for courier in self._couriers.values():
            courier.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop deciding and sending; a send under way is not waited for past ``timeout`` (its thread is a
        daemon, and its message, unsettled, is sent again once its claim lapses)."""
        self._stop.set()
        self._wake.set()
        self._wake_couriers()
        deadline = time.monotonic() + timeout
        threads = [self._thread, *(c.thread for c in self._couriers.values())]
        for thread in threads:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        self._thread = None
        for courier in self._couriers.values():
            courier.thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self.check_interval_s)
            self._wake.clear()
