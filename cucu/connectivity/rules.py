"""SIAT availability from the stored connectivity checks: the rules the policy, the alerts and every screen
ask (SIAT down, streaks, rollup word, uptime). Conectividad's frames and sentences: :mod:`cucu.views.conectividad`.

Pure functions (no Streamlit, no I/O) over a list of :class:`~cucu.connectivity.checks.ConnectivityCheck`
ordered oldest first, as ``Store.checks_since`` / ``Store.recent_checks`` return them. Every
function that depends on the current time takes ``now`` so tests can pin it.

A check **failed** when ``siat_ok`` is not ``True``: ``False`` means cucu answered that SIAT does
not respond; ``None`` means cucu itself could not be asked (network, key, timeout...). Uptime
counts only checks where cucu answered, so an outage of our own network does not lower SIAT's
availability; outages and the rollup count both kinds of failure and say which one it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cucu.connectivity.checks import ConnectivityCheck
from cucu.formatting import fmt_age, fmt_time, in_sentence
from cucu.settings import Settings
from cucu.vocabulary import MIXED_CAUSE, CheckState, Color, SiatStatus

ROLLUP_WINDOW = 6  # checks an "Intermitente" detail counts its failures over (3 min at the default 30 s)
# Consecutive failed checks, the latest included, that make SIAT "Caído": the rollup word, Estado's
# alert and its suggested contingency all ask siat_down_since, so they never disagree.
DOWN_AFTER = 3
# Answers in a row that make SIAT "Operativo" again after a failure: as many as make it "Caído" (and the
# policy's default ``up_checks``). A window of 6 kept "Intermitente" 2.5 min after SIAT came back.
UP_AFTER = DOWN_AFTER
STALE_AFTER_INTERVALS = 3  # no check for this many intervals: the collector is not reporting

CAUSE_SIAT = CheckState.SIAT_DOWN.label
CAUSE_CUCU = CheckState.CUCU_UNREACHABLE.label


# ---- rollup --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rollup:
    """A one-word state for supervisors (Statuspage style)."""

    status: SiatStatus
    detail: str  # one short Spanish sentence
    latest: ConnectivityCheck | None = None  # the latest check the rule counted
    down_since: datetime | None = None  # set while Caído: the first failed check of the run
    # A check a person asked for ("Comprobar ahora") newer than ``latest``: shown beside the state, which
    # it does not change (it counts for no rule, as for the alerts and the policy).
    asked: ConnectivityCheck | None = None

    @property
    def word(self) -> str:
        return self.status.label

    @property
    def key(self) -> tuple[SiatStatus, datetime | None]:
        """What a screen must never show two of at once: the word (and, while Caído, since when)."""
        return self.status, self.down_since

    @property
    def asked_note(self) -> str:
        """One Spanish sentence about a newer check a person asked for, or ""."""
        if self.asked is None:
            return ""
        return (
            f"Comprobación pedida a las {fmt_time(self.asked.checked_at)}: {in_sentence(self.asked.label)}. "
            "El estado lo deciden las comprobaciones periódicas del colector."
        )

    @property
    def color(self) -> Color:
        return self.status.color

    @property
    def icon(self) -> str:
        return self.status.icon


def siat_rollup(
    checks: Sequence[ConnectivityCheck], now: datetime, *, check_interval_s: float = Settings.check_interval_s
) -> Rollup:
    """SIAT's state in one word, from the most recent checks the rules count (not those a person
    asked for: :func:`rule_checks`). The one function every place that shows or tells SIAT's state
    asks: the header, Estado's word and box, Conectividad and the SIAT alerts.

    Rule, evaluated in this order:

    - **Sin datos** (gray): there is no check, or the latest is older than
      ``3 × check_interval_s`` (the collector is not reporting, so nothing current is known).
    - **Caído** (red): cucu said SIAT does not answer (:func:`siat_down_since`).
    - **cucu no responde** (gray): cucu itself gave no answer in the latest ``DOWN_AFTER`` checks
      (:func:`cucu_silent_since`): nothing is known of SIAT, and the fix is on our side. Never
      "Caído": the automatic policy starts nothing on it.
    - **Operativo** (green): SIAT answered in each of the latest ``UP_AFTER`` checks (3).
    - **Intermitente** (orange): otherwise: one of the latest 3 failed, without making SIAT Caído.
    """
    counted = rule_checks(checks)
    asked = next((c for c in reversed(checks) if c.on_request), None)
    if asked is not None and counted and asked.checked_at <= counted[-1].checked_at:
        asked = None  # the collector has checked since
    if not counted:
        return Rollup(SiatStatus.NO_DATA, "Todavía no hay comprobaciones de conectividad registradas.", asked=asked)
    latest = counted[-1]
    if now - latest.checked_at > timedelta(seconds=STALE_AFTER_INTERVALS * check_interval_s):
        return Rollup(
            SiatStatus.NO_DATA,
            f"La última comprobación fue {fmt_age(latest.checked_at, now)}: el colector no está informando.",
            latest,
            asked=asked,
        )
    down_since = siat_down_since(counted)
    if down_since is not None:
        said = sum(1 for c in counted if c.siat_ok is False and c.checked_at >= down_since)
        detail = f"SIAT no responde desde las {fmt_time(down_since)} (cucu lo dijo en {said} comprobaciones)."
        return Rollup(SiatStatus.DOWN, detail, latest, down_since, asked)
    silent_since = cucu_silent_since(counted)
    if silent_since is not None:
        detail = (
            f"Sin respuesta de cucu desde las {fmt_time(silent_since)}: no se sabe si SIAT responde. "
            "Revise la red del servidor o la configuración de cucu."
        )
        return Rollup(SiatStatus.CUCU_SILENT, detail, latest, asked=asked)
    streak = ok_streak(counted)
    if streak >= UP_AFTER or streak == len(counted):
        n = min(streak, ROLLUP_WINDOW)
        detail = "SIAT respondió en la última comprobación." if n == 1 else f"SIAT respondió en las últimas {n} comprobaciones."
        return Rollup(SiatStatus.OPERATIONAL, detail, latest, asked=asked)
    window = counted[-ROLLUP_WINDOW:]
    bad = [c for c in window if c.failed]
    cause = _cause(bad)
    what = {CAUSE_SIAT: "SIAT no respondió", CAUSE_CUCU: "sin respuesta de cucu"}.get(
        cause, "SIAT no respondió o no hubo respuesta de cucu"
    )
    detail = f"{len(bad)} de las últimas {len(window)} comprobaciones fallaron ({what})."
    if latest.failed:
        detail += " La última falló."
    else:
        answered = "la última" if streak == 1 else f"las últimas {streak}"
        detail += f" SIAT respondió en {answered}: vuelve a Operativo con {UP_AFTER} respuestas seguidas."
    return Rollup(SiatStatus.INTERMITTENT, detail, latest, asked=asked)


def rule_checks(checks: Sequence[ConnectivityCheck]) -> list[ConnectivityCheck]:
    """The checks a rule may count: the collector's, not those a person asked for (``on_request``)."""
    return [c for c in checks if not c.on_request]


def siat_down_since(checks: Sequence[ConnectivityCheck]) -> datetime | None:
    """The rule "SIAT is down": cucu **said** so (``siat_ok is False``), in the latest check and in at
    least ``DOWN_AFTER`` checks since it first said so, with no answer "SIAT responds" in between.

    Returns the time of the first of those answers, or ``None``. A check where cucu itself gave no
    answer (``siat_ok is None``: 5xx, 429, 401, timeout, garbage) says nothing of SIAT: a few of them
    neither start nor end the run, but ``DOWN_AFTER`` in a row end it (what SIAT was before cucu went
    silent is not what it is after), and a latest check without an answer is not "down" (the
    automatic policy acts only on a positive signal). Checks a person asked for count for nothing.
    """
    return _down_run(checks)[0]


def down_run_is_whole(checks: Sequence[ConnectivityCheck]) -> bool:
    """Whether the checks reach back past the start of SIAT's current down run (or there is none), so
    :func:`siat_down_since` read on them is the outage's true start, however long it has lasted."""
    return _down_run(checks)[1]


def _down_run(checks: Sequence[ConnectivityCheck]) -> tuple[datetime | None, bool]:
    counted = rule_checks(checks)
    if not counted or counted[-1].siat_ok is not False:
        return None, True
    said_down, since, silent = 0, None, 0
    for check in reversed(counted):
        if check.siat_ok is None:
            silent += 1
            if silent >= DOWN_AFTER:
                break
            continue
        if check.siat_ok is True:
            break
        said_down, since, silent = said_down + 1, check.checked_at, 0
    else:  # the list ended inside the run: it may have started earlier
        return (since if said_down >= DOWN_AFTER else None), False
    return (since if said_down >= DOWN_AFTER else None), True


@dataclass(frozen=True)
class DownPeriod:
    """A period SIAT was down by the one rule (``siat_down_since``): from cucu's first "down" of the run, declared at
    its ``DOWN_AFTER``-th, until SIAT answered again, or cucu stopped answering (``DOWN_AFTER`` checks in a row
    without an answer: what SIAT was then is unknown), or still going on (``ended_at`` None)."""

    first_failed: datetime
    declared_at: datetime
    ended_at: datetime | None
    back: bool  # ended by SIAT answering (False: by cucu's silence, or not ended)
    said_down: int  # cucu's "down" answers in it


def siat_down_periods(checks: Sequence[ConnectivityCheck]) -> list[DownPeriod]:
    """Every period of ``checks`` (oldest first) in which SIAT was down by the one rule, oldest first: the same
    runs :func:`siat_down_since` reads backwards (a few checks without an answer neither start nor end one)."""
    periods: list[DownPeriod] = []
    start: ConnectivityCheck | None = None
    declared: datetime | None = None
    downs = silent = 0
    silent_from: datetime | None = None

    def close(ended_at: datetime | None, back: bool) -> None:
        if start is not None and declared is not None:
            periods.append(DownPeriod(start.checked_at, declared, ended_at, back, downs))

    for check in rule_checks(checks):
        if check.siat_ok is None:
            silent += 1
            silent_from = silent_from or check.checked_at
            if silent >= DOWN_AFTER and start is not None:
                close(silent_from, False)
                start, declared, downs = None, None, 0
            continue
        silent, silent_from = 0, None
        if check.siat_ok:
            close(check.checked_at, True)
            start, declared, downs = None, None, 0
            continue
        start = start or check
        downs += 1
        if downs == DOWN_AFTER:
            declared = check.checked_at
    close(None, False)
    return periods


OLDER_CHECKS = 1000  # checks read at a time further back, while an outage outlasts the recent ones


def checks_for_rules(
    recent: Callable[[int], list[ConnectivityCheck]],
    before: Callable[[int, int], list[ConnectivityCheck]],
    limit: int,
) -> list[ConnectivityCheck]:
    """The last ``limit`` checks (``Store.recent_checks``), reaching further back (``Store.checks_before``)
    while SIAT's current down run started before them: an outage of any length keeps its start, so
    "once per outage", its caps and "desde las …" do not restart when it outlasts ``limit`` checks."""
    checks = recent(limit)
    while checks and not down_run_is_whole(checks) and checks[0].id is not None:
        older = before(checks[0].id, OLDER_CHECKS)
        if not older:
            break
        checks = older + checks
    return checks


def cucu_silent_since(checks: Sequence[ConnectivityCheck]) -> datetime | None:
    """cucu gave no answer in the latest ``DOWN_AFTER`` or more checks: nothing is known of SIAT.

    Its own state ("cucu no responde"), never "SIAT caído": it alerts, it starts nothing.
    """
    counted = rule_checks(checks)
    streak = 0
    for check in reversed(counted):
        if check.siat_ok is not None:
            break
        streak += 1
    return counted[len(counted) - streak].checked_at if streak >= DOWN_AFTER else None


# ---- uptime --------------------------------------------------------------------------


def uptime(
    checks: Sequence[ConnectivityCheck], since: datetime, excluded: Sequence[tuple[datetime, datetime]] = ()
) -> float | None:
    """Share (0–1) of the checks at or after ``since`` in which SIAT answered, among those in which
    cucu answered (``siat_ok`` not None) outside the ``excluded`` periods (maintenance: [start, end));
    ``None`` when there is no such check."""
    ok = total = 0
    for check in reversed(checks):  # newest first: stop at the window's start
        if check.checked_at < since:
            break
        if check.siat_ok is None or any(start <= check.checked_at < end for start, end in excluded):
            continue
        total += 1
        ok += check.siat_ok is True
    return ok / total if total else None


# ---- helpers ---------------------------------------------------------------------------


def ok_streak(checks: Sequence[ConnectivityCheck]) -> int:
    """How many of the latest checks said "SIAT responds" in a row (the automatic policy waits for a
    few); a check without an answer breaks the streak, one a person asked for is not counted."""
    streak = 0
    for check in reversed(rule_checks(checks)):
        if check.failed:
            break
        streak += 1
    return streak


def _cause(run: Sequence[ConnectivityCheck]) -> str:
    """What a run of failed checks was: one check state's label, or both kinds at once."""
    states = {c.state for c in run}
    return next(iter(states)).label if len(states) == 1 else MIXED_CAUSE
