"""Process-wide resources (one per server process, shared by every browser session)."""

from __future__ import annotations

import atexit
import contextvars
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from cucu.alerts import CHECK_HISTORY
from cucu.alerts.alerter import ALERTS_JOB
from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.rules import Rollup, checks_for_rules, siat_rollup
from cucu.events.maintenance import current_and_upcoming
from cucu.events.policy import PolicyStatus
from cucu.inventory import branch_labels, inventory_stamp
from cucu.invoicing import InvoicePicture, backlog
from cucu.logs import configure_logging
from cucu.runtime import Runtime, build_runtime
from cucu.settings import Settings, SettingsError, load_settings, plain_data
from cucu.store import MaintenanceWindow
from cucu.store.schema import POS_EVENTS, VERSIONED
from cucu.views.alertas import HEADER_HANDLED, OpenAlerts, alerts_known
from cucu.views.estado import EstadoFrames, estado_frames, overview
from cucu.views.facturas import InvoiceColumn, open_invoice_parts, window_closes
from cucu.views.queue import QueuePart, pos_part
from cucu.views.shared_reads import Shared
from cucu.vocabulary import PolicyMode
from cucu.workers import read_apart

log = logging.getLogger("contingencia")
configure_logging(os.environ)

LIVE_REFRESH_S = 10  # live fragments re-read the store this often (cheap: no call to cucu)
OPEN_REFRESH_S = 2  # results and Bitácora rows still "en verificación" are re-read this often, until settled


def read_settings() -> Settings:
    """Settings from ``st.secrets["cucu"]`` and the environment. Raises ``SettingsError``."""
    try:
        section, alerts, policy = st.secrets.get("cucu", {}), st.secrets.get("alerts", {}), st.secrets.get("policy", {})
    except StreamlitSecretNotFoundError as exc:
        if getattr(exc, "error_id", None) != "no-secrets-found":
            raise SettingsError(
                "El archivo .streamlit/secrets.toml no se pudo leer (¿TOML mal escrito?). "
                "Corríjalo o bórrelo; vea .streamlit/secrets.toml.example."
            ) from None
        section, alerts, policy = {}, {}, {}
    for name, table in (("cucu", section), ("alerts", alerts), ("policy", policy)):
        if not hasattr(table, "keys"):
            raise SettingsError(f"En .streamlit/secrets.toml, «{name}» debe ser una tabla [{name}].")
    return load_settings(plain_data(section), os.environ, alerts=plain_data(alerts), policy=plain_data(policy))


# max_entries=1: a changed configuration (an edited inventory, new secrets) releases the old
# runtime, whose collector and DEMO simulator stop, instead of leaving two of them polling.
@st.cache_resource(show_spinner=False, max_entries=1, on_release=lambda runtime: runtime.close())
def _runtime(cache_key: str, inventory_stamp: str, _settings: Settings) -> Runtime:
    log.info("iniciando el tablero en modo %s", _settings.mode.label)
    runtime = build_runtime(_settings)  # an exception is not cached: the next rerun tries again
    atexit.register(runtime.close)  # the collector stops with the server (close is idempotent)
    if len(runtime.inventory.all_pos) >= APART_FROM_POS:
        runtime.workers.start()  # in the background: the first page's build does not wait for its imports
    return runtime


def get_runtime(settings: Settings) -> Runtime:
    """Raises ``InventoryError`` when the inventory is unusable."""
    return _runtime(settings.cache_key(), inventory_stamp(settings.inventory), settings)


def rule_checks(runtime: Runtime, limit: int = 20) -> list[ConnectivityCheck]:
    """The checks SIAT's word is read from, as the alerts and the policy read them (an outage of any
    length keeps its start): the company's, read once per write of the checks for every tablet and scope (the
    header and Estado's word ask for them at every refresh); read-only."""
    company = runtime.company or runtime

    def read() -> list[ConnectivityCheck]:
        return checks_for_rules(company.store.recent_checks, company.store.checks_before, limit)

    return company.shared.now(f"checks_{limit}", data_version(company, ("connectivity_checks",)), read).value


def connectivity(runtime: Runtime, *, fresh: bool = False) -> ConnectivityCheck:
    """The collector's latest check from the store.

    ``fresh`` asks cucu right now (one call, for "Comprobar ahora", throttled per process and counted
    by no rule); so does the very first view before the collector has stored anything, so no page
    starts on "no data".
    """
    latest = None if fresh else runtime.store.latest_check()
    return latest if latest is not None else runtime.collector.check_on_request()


def siat_state(runtime: Runtime) -> Rollup:
    """SIAT's one state now (:func:`cucu.connectivity.rules.siat_rollup` over the rule's checks). Read once per run of
    the app (``ui.shell.siat``): the header and the page draw the same object."""
    checks = rule_checks(runtime)
    if not checks:  # the very first view asks cucu once (counted by no rule: "Sin datos" until the collector's)
        checks = [connectivity(runtime)]
    return siat_rollup(checks, runtime.store.now(), check_interval_s=runtime.settings.check_interval_s)


OPEN_ALERTS_EVERY_S = 5  # the header's count of open alerts is read at most this often per process


def open_alerts(runtime: Runtime) -> OpenAlerts:
    """Open incidents of the person's scope (``runtime.store`` is cut to it), how many nobody handles, and the first
    few handled with who and since when, for the header of every page: one read per process every few seconds; the
    session that has just acknowledged one reads it afresh (``note_own_write``)."""

    def read() -> OpenAlerts:
        count, unowned = runtime.store.open_incident_counts()
        handled = runtime.store.open_incidents_handled(HEADER_HANDLED) if count > unowned else []
        run = runtime.store.job_run(ALERTS_JOB)
        known = alerts_known(run.ok_at if run else None, runtime.store.now(), runtime.settings.check_interval_s)
        return OpenAlerts(count, unowned, tuple(handled), known, partial=run is None or run.passed_at is None)

    if _own_write_unseen("open_alerts"):
        return read()
    return runtime.shared.now("open_alerts", int(time.time() // OPEN_ALERTS_EVERY_S), read).value


def maintenance_now(runtime: Runtime) -> tuple[list[MaintenanceWindow], list[MaintenanceWindow]]:
    """The maintenance windows running now and those starting within a day, for every page: one read per
    process every few seconds."""

    def read() -> tuple[list[MaintenanceWindow], list[MaintenanceWindow]]:
        now = runtime.store.now()
        return current_and_upcoming(runtime.store.maintenance_windows(ending_after=now), now)

    if _own_write_unseen("maintenance"):
        return read()
    return runtime.shared.now("maintenance", int(time.time() // OPEN_ALERTS_EVERY_S), read).value


# ---- frames shared by every session of the process ---------------------------------------
# Computed once per version of the data they read (the store's write counters) and per minute (ages
# and staleness move with the clock even when nothing is written), then the same object is served to
# every tablet: 30 tablets refreshing every 10 s cost one computation a minute, not 180. A new version
# is built in the background while the last one is served (``cucu.views.shared_reads``), so no viewer waits
# for a chain's rebuild. No pickling per read (a 10 000-row frame costs ~80 ms to unpickle).
# What it returns is shared: callers must not change it in place.

T = TypeVar("T")


MINUTE_S = 60.0
# The invoices' window moves on with the clock, but its edge can wait: an invoice leaving a 72 h window ten
# minutes late is no news, and "Queda" is worked out where shown (cucu.views.facturas.invoices_time_left).
INVOICE_CLOCK_S = 600.0


def _clock(every_s: float) -> int:
    return int(time.time() // every_s)


# The write counters read in this run of the app or of a live part (``start_run``), by store: a run asks for
# them for every frame it draws (Estado's live part, six times), one query is enough. None outside a run.
_VERSIONS_THIS_RUN: contextvars.ContextVar[dict[int, dict[str, int]] | None] = contextvars.ContextVar(
    "contingencia_versiones", default=None
)


def start_run() -> None:
    """A run of the whole app or of a live part begins: the write counters it reads are read once in it."""
    _VERSIONS_THIS_RUN.set({})


def data_version(
    runtime: Runtime, tables: tuple[str, ...], *, fresh: bool = False, clock_s: float = MINUTE_S
) -> tuple[object, ...]:
    """The write counters of ``tables`` and the clock's slot of ``clock_s`` (the minute); ``fresh`` reads them
    again (after this session's write)."""
    known = _VERSIONS_THIS_RUN.get()
    if known is None or fresh:
        return (*runtime.store.data_version(*tables), _clock(clock_s))
    counters = known.get(id(runtime.store))
    if counters is None or not set(tables) <= counters.keys():
        every = tuple(dict.fromkeys((*VERSIONED, *tables)))
        counters = known[id(runtime.store)] = dict(zip(every, runtime.store.data_version(*every), strict=True))
    return (*(counters[t] for t in tables), _clock(clock_s))


OWN_WRITES = "escrituras_propias"  # how many actions this session has finished (ui.actions counts them)
SEEN_WRITES = "escrituras_vistas"  # per shared frame, that count when this session last read it


def note_own_write() -> None:
    """This session changed the data (an action finished): its next read of each frame waits for the
    version holding the change, so the person who ended an event does not see it still open."""
    st.session_state[OWN_WRITES] = st.session_state.get(OWN_WRITES, 0) + 1


def _own_write_unseen(name: str) -> bool:
    writes, seen = st.session_state.get(OWN_WRITES, 0), st.session_state.setdefault(SEEN_WRITES, {})
    if seen.get(name, 0) == writes:
        return False
    seen[name] = writes
    return True


def per_version(
    runtime: Runtime, name: str, tables: tuple[str, ...], build: Callable[[], T], *, clock_s: float = MINUTE_S
) -> Shared[T]:
    """``build()`` for the current version of ``tables`` (and slot of ``clock_s``: the minute), shared by the whole
    process; while a newer version builds in the background, the last one built (see ``Shared.version``), except
    for the session that has just written: it reads its own write (``note_own_write``)."""
    if _own_write_unseen(name):
        return runtime.shared.now(name, data_version(runtime, tables, fresh=True, clock_s=clock_s), build)
    return runtime.shared.behind(name, data_version(runtime, tables, clock_s=clock_s), build)


def at_most_every(runtime: Runtime, name: str, every_s: float, build: Callable[[], T]) -> Shared[T] | None:
    """A value that costs seconds and need not follow every write (a period's report): its first build runs in the
    background (None while it does: the page shows its progress, ``runtime.shared.building_for``), and it is built
    again, in the background, at most every ``every_s`` while someone looks, whatever was written meanwhile; it
    says its own time."""
    return runtime.shared.soon(name, int(time.time() // every_s), build)


# Below a chain's size the builds sent to the worker process take milliseconds: sending them would cost more (the
# process's start, the pickling) than it saves, so they run here.
APART_FROM_POS = 1_000


def apart(runtime: Runtime, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``read(store, inventory, *args, **kwargs)`` in the web server's worker process (``cucu.workers``), on the store
    and inventory this runtime's person sees: for a build of a second or more, which in a thread would hold the
    interpreter every session shares. ``read`` is a module-level function; its arguments and result are pickled.
    Below ``APART_FROM_POS`` points of sale, here."""
    company = runtime.company or runtime
    if len(company.inventory.all_pos) < APART_FROM_POS:
        return read(runtime.store, runtime.inventory, *args, **kwargs)
    return runtime.workers.run(read_apart, runtime.store.url, company.inventory.branches, runtime.scope, read, *args, **kwargs)


def derived(runtime: Runtime, source: Shared[Any], name: str, build: Callable[[], T]) -> T:
    """A value built from ``source`` (a figure from a frame): once per version of it, always matching it."""
    return runtime.shared.now(name, source.version, build).value


def current_frames(runtime: Runtime) -> Shared[EstadoFrames]:
    """Every POS's state and Estado's rollup, shared across sessions; read-only. A scoped view's are cut from the
    whole company's (one read of every POS for all scopes, not one per scope at every version)."""
    if runtime.company is not None:
        company = current_frames(runtime.company)

        def narrow() -> EstadoFrames:
            whole = company.value
            mine = whole.cut(runtime.inventory)
            return EstadoFrames(mine, overview(mine, runtime.inventory, whole.built_at), whole.built_at)

        return runtime.shared.now("estado", company.version, narrow)

    def build() -> EstadoFrames:
        # At a chain, in the worker process: 0.4-0.9 s of reading and parsing 10 000 POS and their CUFDs a minute
        # that would hold the interpreter every page shares; the frame comes back in 3 MB, unpickled in 4 ms.
        settings = runtime.settings
        return apart(runtime, estado_frames, settings.long_open_hours, timedelta(hours=settings.cufd_expiring_hours))

    return per_version(runtime, "estado", ("pos_status", "pos_cufd"), build)


@dataclass(frozen=True)
class InvoiceTables:
    """The invoices still to send or rejected, and the frame Facturas lists of them, built together in the
    background: a chain's 6 600 rows cost a viewer nothing after a change."""

    picture: InvoicePicture  # open invoices only: its ``closes`` is empty (see current_closes)
    open_invoices: pd.DataFrame  # cucu.views.facturas.invoices_frame
    built_at: datetime
    states: list[tuple[str, datetime, str]]  # (POS, emission, state) of every invoice of the window (Estado's queue)
    # The whole company's, by POS id in lower case (as cucu's list writes it): its invoices' places in ``picture``
    # and its states; and each invoice's row. What a scoped view's cut looks up instead of testing every row.
    by_pos: Mapping[str, tuple[list[int], list[tuple[str, datetime, str]]]] = field(default_factory=dict)
    row_of_invoice: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of_company(
        cls, picture: InvoicePicture, frame: pd.DataFrame, built_at: datetime, states: list[tuple[str, datetime, str]]
    ) -> InvoiceTables:
        by_pos: dict[str, tuple[list[int], list[tuple[str, datetime, str]]]] = {}
        for at, attributed in enumerate(picture.invoices):
            by_pos.setdefault((attributed.invoice.pos_id or "").lower(), ([], []))[0].append(at)
        for state in states:
            by_pos.setdefault((state[0] or "").lower(), ([], []))[1].append(state)
        rows = dict(zip(frame[InvoiceColumn.INVOICE_ID], range(len(frame)), strict=True))
        return cls(picture, frame, built_at, states, by_pos, rows)

    def cut(self, lower_pos_ids: Iterable[str]) -> InvoiceTables:
        """The invoices of these POS (a scoped view's), in this one's order; their rows of the company's frame (a
        stable sort's subset keeps its order: the frame the cut's own invoices would give)."""
        places: list[int] = []
        states: list[tuple[str, datetime, str]] = []
        for pos_id in lower_pos_ids:
            if (found := self.by_pos.get(pos_id)) is not None:
                places += found[0]
                states += found[1]
        invoices = [self.picture.invoices[at] for at in sorted(places)]
        rows = sorted(self.row_of_invoice[a.invoice.id] for a in invoices)
        frame = self.open_invoices.take(rows).reset_index(drop=True)
        return InvoiceTables(InvoicePicture(invoices, backlog(invoices), []), frame, self.built_at, states)


# What the invoices' attribution to events reads: the POS' events, not each sweep (a chain's picture costs 0.9 s).
INVOICE_SOURCES = ("invoices", POS_EVENTS, "day_events")


def current_invoices(runtime: Runtime) -> Shared[InvoiceTables]:
    """Estado's backlog and Facturas' list: the open invoices of the window with their events and
    deadlines; read-only. Only the open ones: the whole window (50 000 at a chain) is read for the closings.
    A scoped view's are cut from the whole company's, as ``current_frames``'."""
    if runtime.company is not None:
        company = current_invoices(runtime.company)

        return runtime.shared.now("facturas", company.version, lambda: company.value.cut(runtime.inventory.lower_pos_ids))

    def build() -> InvoiceTables:
        # Read and attributed in the worker process (0.6 s at a chain, some times a minute); its indexes here (30 ms:
        # as pickled dictionaries they would cost the interpreter more to receive than to build).
        now = runtime.store.now()
        window = timedelta(hours=runtime.settings.invoice_window_hours)
        picture, frame, states = apart(runtime, open_invoice_parts, now, window)
        return InvoiceTables.of_company(picture, frame, now, states)

    return per_version(runtime, "facturas", INVOICE_SOURCES, build, clock_s=INVOICE_CLOCK_S)


def current_closes(runtime: Runtime) -> Shared[pd.DataFrame]:
    """Each ended event's closing (cucu.views.facturas.closes_frame), from every invoice of the window: built
    only when someone opens Facturas' closing tab, in the background after that."""

    def build() -> pd.DataFrame:  # in the worker process: every invoice of the window (a chain: 62 000)
        now = runtime.store.now()
        return apart(runtime, window_closes, now, timedelta(hours=runtime.settings.invoice_window_hours))

    return per_version(runtime, "facturas_cierres", INVOICE_SOURCES, build, clock_s=INVOICE_CLOCK_S)


def current_queue(runtime: Runtime) -> Shared[QueuePart]:
    """The part of Estado's queue read from every POS and the invoices (``cucu.views.queue.pos_part``), shared
    across sessions, rebuilt in the background when its sources move on; read-only. A scoped view's is the
    company's cut to its branches (each item is one POS's or one invoice's), as ``current_frames``'."""
    if runtime.company is not None:
        company = current_queue(runtime.company)
        return runtime.shared.now("cola", company.version, lambda: company.value.within(runtime.inventory.branch_ids))
    frames, invoices = current_frames(runtime), current_invoices(runtime)
    labels = branch_labels(runtime.inventory)

    def build() -> QueuePart:
        now = runtime.store.now()
        window = timedelta(hours=runtime.settings.invoice_window_hours)
        return pos_part(
            frames.value.pos,
            invoices.value.picture,
            invoices.value.states,
            runtime.inventory,
            labels,
            now,
            long_open_hours=runtime.settings.long_open_hours,
            invoice_window=window,
        )

    return runtime.shared.behind("cola", (frames.version, invoices.version), build)


def current_policy(runtime: Runtime) -> PolicyStatus | None:
    """Where the automatic policy stands (None when it is off), shared across sessions; the pause is read
    each time (one row), so pausing shows at once."""
    if runtime.settings.policy.mode is PolicyMode.OFF:
        return None
    paused_by = runtime.store.policy_paused_by()

    def build() -> PolicyStatus:
        return runtime.policy.status(runtime.store.now(), rule_checks(runtime, CHECK_HISTORY), runtime.store.pos_statuses())

    version = (*data_version(runtime, ("pos_status", "connectivity_checks")), paused_by)
    status = runtime.shared.behind("policy", version, build).value
    if status.paused_by != paused_by:  # paused or resumed since it was built: shown at once, never a build behind
        status = runtime.shared.now("policy", version, build).value
    return status
