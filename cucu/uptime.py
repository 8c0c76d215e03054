"""SIAT availability from the stored connectivity checks: rollup word, uptime, outages, heartbeat.

Pure functions (no Streamlit, no I/O) over a list of :class:`~cucu.connectivity.ConnectivityCheck`
ordered oldest first, as ``Store.checks_since`` / ``Store.recent_checks`` return them. Every
function that depends on the current time takes ``now`` so tests can pin it.

A check **failed** when ``siat_ok`` is not ``True``: ``False`` means cucu answered that SIAT does
not respond; ``None`` means cucu itself could not be asked (network, key, timeout...). Uptime
counts only checks where cucu answered, so an outage of our own network does not lower SIAT's
availability; outages and the rollup count both kinds of failure and say which one it was.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

import pandas as pd

from cucu.connectivity import ConnectivityCheck
from cucu.models import LA_PAZ
from cucu.timefmt import fmt_age, fmt_time

ROLLUP_WINDOW = 6  # checks looked at for the rollup (3 min at the default 30 s interval)
DOWN_AFTER = 3  # consecutive failed checks, the latest included, that make SIAT "Caído"
STALE_AFTER_INTERVALS = 3  # no check for this many intervals: the collector is not reporting

OPERATIVO, INTERMITENTE, CAIDO, SIN_DATOS = "Operativo", "Intermitente", "Caído", "Sin datos"

CAUSE_SIAT = "SIAT no responde"
CAUSE_CUCU = "Sin conexión con cucu"
CAUSE_MIXED = "SIAT no responde y sin conexión con cucu"

# The selectable history windows: query-parameter value -> (label, length).
WINDOWS: dict[str, tuple[str, timedelta]] = {
    "24h": ("24 h", timedelta(hours=24)),
    "7d": ("7 días", timedelta(days=7)),
    "30d": ("30 días", timedelta(days=30)),
}

OUTAGE_COLUMNS = ["Inicio", "Fin", "Duración", "En curso", "Causa", "Comprobaciones fallidas"]
HEARTBEAT_COLUMNS = ["Hora", "Estado", "Latencia (ms)", "Error"]


def failed(check: ConnectivityCheck) -> bool:
    """SIAT could not be used: it did not answer, or cucu could not be asked."""
    return check.siat_ok is not True


# ---- rollup --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rollup:
    """A one-word state for supervisors (Statuspage style)."""

    word: str  # Operativo / Intermitente / Caído / Sin datos
    color: str  # green / orange / red / gray (Streamlit's markdown and badge colours)
    icon: str  # a Material icon name for the word
    detail: str  # one short Spanish sentence
    latest: ConnectivityCheck | None = None


def siat_rollup(checks: Sequence[ConnectivityCheck], now: datetime, *, check_interval_s: float = 30) -> Rollup:
    """SIAT's state in one word, from the most recent checks.

    Rule, evaluated in this order:

    - **Sin datos** (gray): there is no check, or the latest is older than
      ``3 × check_interval_s`` (the collector is not reporting, so nothing current is known).
    - **Caído** (red): the latest 3 or more consecutive checks all failed.
    - **Operativo** (green): every check of the recent window (the last 6) succeeded.
    - **Intermitente** (orange): otherwise, i.e. some check of the window failed, but not the
      latest 3 in a row.

    A check failed when ``siat_ok`` is not True. The detail says whether the failures were SIAT
    not answering (``False``) or cucu itself unreachable (``None``: "sin conexión con cucu"),
    because then nothing is known about SIAT and the fix is on our side.
    """
    if not checks:
        return Rollup(SIN_DATOS, "gray", "help", "Todavía no hay comprobaciones de conectividad registradas.")
    latest = checks[-1]
    if now - latest.checked_at > timedelta(seconds=STALE_AFTER_INTERVALS * check_interval_s):
        return Rollup(
            SIN_DATOS,
            "gray",
            "help",
            f"La última comprobación fue {fmt_age(latest.checked_at, now)}: el colector no está informando.",
            latest,
        )
    window = list(checks[-ROLLUP_WINDOW:])
    streak = _failed_streak(checks)
    if streak >= DOWN_AFTER:
        run = checks[len(checks) - streak :]
        since = fmt_time(run[0].checked_at)
        cause = _cause(run)
        if cause == CAUSE_SIAT:
            detail = f"SIAT no responde desde las {since} ({streak} comprobaciones seguidas)."
        elif cause == CAUSE_CUCU:
            detail = (
                f"Sin conexión con cucu desde las {since}: no se sabe si SIAT responde. "
                "Revise la red del servidor o la configuración de cucu."
            )
        else:
            detail = f"Desde las {since} SIAT no responde o no hay conexión con cucu ({streak} comprobaciones seguidas)."
        return Rollup(CAIDO, "red", "error", detail, latest)
    bad = [c for c in window if failed(c)]
    if not bad:
        n = len(window)
        detail = "SIAT respondió en la última comprobación." if n == 1 else f"SIAT respondió en las últimas {n} comprobaciones."
        return Rollup(OPERATIVO, "green", "check_circle", detail, latest)
    cause = _cause(bad)
    what = {CAUSE_SIAT: "SIAT no respondió", CAUSE_CUCU: "sin conexión con cucu"}.get(cause, "SIAT no respondió o no hubo conexión con cucu")
    detail = f"{len(bad)} de las últimas {len(window)} comprobaciones fallaron ({what})."
    if failed(latest):
        detail += " La última falló."
    return Rollup(INTERMITENTE, "orange", "warning", detail, latest)


def siat_down_since(checks: Sequence[ConnectivityCheck], *, min_failures: int = 2) -> datetime | None:
    """When the latest ``min_failures`` or more consecutive checks failed, the time of the first
    failure of that run; otherwise ``None``.

    "Failed" includes cucu being unreachable (``siat_ok is None``); look at the latest check's
    ``label`` to word it ("SIAT no responde" / "Sin conexión con cucu").
    """
    streak = _failed_streak(checks)
    if streak == 0 or streak < min_failures:
        return None
    return checks[len(checks) - streak].checked_at


# ---- uptime --------------------------------------------------------------------------


def uptime(checks: Sequence[ConnectivityCheck], since: datetime) -> float | None:
    """Share (0–1) of the checks at or after ``since`` in which SIAT answered, among those in which
    cucu answered (``siat_ok`` not None); ``None`` when there is no such check."""
    ok = total = 0
    for check in reversed(checks):  # newest first: stop at the window's start
        if check.checked_at < since:
            break
        if check.siat_ok is None:
            continue
        total += 1
        ok += check.siat_ok is True
    return ok / total if total else None


def uptime_windows(checks: Sequence[ConnectivityCheck], now: datetime) -> dict[str, float | None]:
    """Uptime over each of :data:`WINDOWS`: ``{"24h": ..., "7d": ..., "30d": ...}``."""
    return {key: uptime(checks, now - length) for key, (_label, length) in WINDOWS.items()}


def checks_in_window(checks: Sequence[ConnectivityCheck], since: datetime) -> list[ConnectivityCheck]:
    """The checks at or after ``since`` (the input is oldest first)."""
    lo, hi = 0, len(checks)
    while lo < hi:  # bisect on checked_at
        mid = (lo + hi) // 2
        if checks[mid].checked_at < since:
            lo = mid + 1
        else:
            hi = mid
    return list(checks[lo:])


# ---- outages -------------------------------------------------------------------------


def outages(checks: Sequence[ConnectivityCheck], now: datetime) -> pd.DataFrame:
    """One row per run of consecutive failed checks, newest first.

    Columns: ``Inicio`` (the first failed check), ``Fin`` (the first successful check after the run;
    NaT while it goes on), ``Duración`` (to ``now`` while ongoing), ``En curso``, ``Causa``
    (``SIAT no responde``, ``Sin conexión con cucu``, or both when the run mixes them) and
    ``Comprobaciones fallidas``. Times are aware La Paz timestamps.
    """
    rows = []
    run: list[ConnectivityCheck] = []
    for check in checks:
        if failed(check):
            run.append(check)
        elif run:
            rows.append(_outage_row(run, check.checked_at, now))
            run = []
    if run:
        rows.append(_outage_row(run, None, now))
    rows.reverse()
    frame = pd.DataFrame(rows, columns=OUTAGE_COLUMNS)
    frame["Inicio"] = _as_la_paz(frame["Inicio"])
    frame["Fin"] = _as_la_paz(frame["Fin"])
    frame["Duración"] = pd.to_timedelta(frame["Duración"])
    frame["En curso"] = frame["En curso"].astype(bool)
    frame["Causa"] = frame["Causa"].astype(object)
    frame["Comprobaciones fallidas"] = frame["Comprobaciones fallidas"].astype("int64")
    return frame


def _outage_row(run: list[ConnectivityCheck], end: datetime | None, now: datetime) -> dict:
    start = run[0].checked_at
    return {
        "Inicio": start,
        "Fin": end,
        "Duración": (end if end is not None else now) - start,
        "En curso": end is None,
        "Causa": _cause(run),
        "Comprobaciones fallidas": len(run),
    }


# ---- heartbeat and latency frames ------------------------------------------------------


def heartbeat_frame(checks: Sequence[ConnectivityCheck], limit: int = 90) -> pd.DataFrame:
    """The last ``limit`` checks, oldest first, for the heartbeat bar: Hora, Estado, Latencia (ms), Error."""
    recent = list(checks[-limit:]) if limit > 0 else []
    frame = pd.DataFrame(
        {
            "Hora": [c.checked_at for c in recent],
            "Estado": [c.label for c in recent],
            "Latencia (ms)": [c.latency_ms for c in recent],
            "Error": [c.error for c in recent],
        },
        columns=HEARTBEAT_COLUMNS,
    )
    frame["Hora"] = _as_la_paz(frame["Hora"])
    frame["Latencia (ms)"] = pd.to_numeric(frame["Latencia (ms)"], errors="coerce").astype("float64")
    frame["Estado"] = frame["Estado"].astype(object)
    frame["Error"] = frame["Error"].astype(object)
    return frame


def auto_bucket(span: timedelta) -> timedelta | None:
    """The bucket that keeps a latency chart light (a few hundred points, at most ~750): raw checks
    up to 3 h, 2 min up to a day, 15 min up to a week, else 1 h."""
    if span <= timedelta(hours=3):
        return None
    if span <= timedelta(hours=25):
        return timedelta(minutes=2)
    if span <= timedelta(days=8):
        return timedelta(minutes=15)
    return timedelta(hours=1)


def latency_frame(checks: Sequence[ConnectivityCheck], bucket: timedelta | None = None) -> pd.DataFrame:
    """Latency over time, one row per check (``bucket`` None) or per time bucket.

    Columns: ``Hora`` (aware La Paz; a bucket's start), ``Latencia (ms)`` (mean over the checks in
    which SIAT answered; NaN when none did), ``Máxima (ms)``, ``Comprobaciones``, ``SIAT no responde``
    and ``Sin conexión con cucu`` (failed checks of each kind). Vectorised: 30 days of checks
    (≈ 86 000) take milliseconds.
    """
    epoch = [c.checked_at.timestamp() for c in checks]
    ok = [c.siat_ok for c in checks]
    raw = pd.DataFrame(
        {
            "Hora": pd.to_datetime(pd.Series(epoch, dtype="float64"), unit="s", utc=True).dt.tz_convert(LA_PAZ),
            "ok_latency": [c.latency_ms if o is True else None for c, o in zip(checks, ok)],
            "siat": [o is False for o in ok],
            "cucu": [o is None for o in ok],
        }
    )
    raw["ok_latency"] = pd.to_numeric(raw["ok_latency"], errors="coerce").astype("float64")
    if bucket is None:
        return pd.DataFrame(
            {
                "Hora": raw["Hora"],
                "Latencia (ms)": raw["ok_latency"],
                "Máxima (ms)": raw["ok_latency"],
                "Comprobaciones": 1,
                "SIAT no responde": raw["siat"].astype("int64"),
                "Sin conexión con cucu": raw["cucu"].astype("int64"),
            }
        )
    grouped = raw.groupby(raw["Hora"].dt.floor(pd.Timedelta(bucket)), sort=True)
    frame = pd.DataFrame(
        {
            "Latencia (ms)": grouped["ok_latency"].mean(),
            "Máxima (ms)": grouped["ok_latency"].max(),
            "Comprobaciones": grouped.size(),
            "SIAT no responde": grouped["siat"].sum().astype("int64"),
            "Sin conexión con cucu": grouped["cucu"].sum().astype("int64"),
        }
    )
    frame.index.name = "Hora"
    return frame.reset_index()


# ---- helpers ---------------------------------------------------------------------------


def _failed_streak(checks: Sequence[ConnectivityCheck]) -> int:
    streak = 0
    for check in reversed(checks):
        if not failed(check):
            break
        streak += 1
    return streak


def _cause(run: Sequence[ConnectivityCheck]) -> str:
    kinds = {c.siat_ok is None for c in run}
    if kinds == {True}:
        return CAUSE_CUCU
    if kinds == {False}:
        return CAUSE_SIAT
    return CAUSE_MIXED


def _as_la_paz(values: pd.Series) -> pd.Series:
    """Aware datetimes (or None) as a ``datetime64[ns, America/La_Paz]`` series."""
    return pd.to_datetime(values, utc=True).dt.tz_convert(LA_PAZ).astype("datetime64[ns, America/La_Paz]")


# ---- an in-memory window of checks -----------------------------------------------------


class CheckHistory:
    """The last ``keep`` of checks, kept in memory and topped up incrementally.

    Reading 30 days of checks (≈ 86 000 rows) takes the better part of a second; a page that
    refreshes every few seconds asks this object instead, which only reads what is new since
    its last refresh. ``load(since)`` is ``Store.checks_since``. Thread-safe: one instance may be
    shared by every session of a server process. The last ``overlap`` is read again on every
    refresh, so a check written slightly out of order (two writers) is not lost.
    """

    def __init__(self, load, *, keep: timedelta = timedelta(days=30), overlap: timedelta = timedelta(minutes=5)):
        self._load = load
        self.keep = keep
        self.overlap = overlap
        self._checks: list[ConnectivityCheck] = []
        self._loaded = False
        self._lock = threading.Lock()

    def refresh(self, now: datetime) -> list[ConnectivityCheck]:
        """Every check from ``now - keep`` on, oldest first (a copy: the caller may keep it)."""
        with self._lock:
            start = now - self.keep
            if not self._loaded or not self._checks:
                self._checks = list(self._load(start))
                self._loaded = True
            else:
                since = max(start, self._checks[-1].checked_at - self.overlap)
                fresh = list(self._load(since))
                cut = len(self._checks)
                while cut and self._checks[cut - 1].checked_at >= since:
                    cut -= 1
                del self._checks[cut:]
                self._checks.extend(fresh)
                drop = 0
                while drop < len(self._checks) and self._checks[drop].checked_at < start:
                    drop += 1
                if drop:
                    del self._checks[:drop]
            return list(self._checks)
