"""Conectividad: the history windows, uptime per window, outages, the heartbeat and latency frames and
their Spanish sentences, over the checks as :mod:`cucu.connectivity.rules` reads them (oldest first)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime, timedelta
from operator import attrgetter

import pandas as pd

from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.rules import CAUSE_CUCU, CAUSE_SIAT, _cause, uptime
from cucu.formatting import fmt_datetime, fmt_duration, in_sentence, plural
from cucu.lapaz import la_paz_from_epoch, la_paz_series

# The selectable history windows: query-parameter value -> (label, length).
WINDOWS: dict[str, tuple[str, timedelta]] = {
    "24h": ("24 h", timedelta(hours=24)),
    "7d": ("7 días", timedelta(days=7)),
    "30d": ("30 días", timedelta(days=30)),
}


class OutageColumn:
    """Conectividad's outages (``outages``): one row per run of consecutive failed checks."""

    START = "Inicio"  # the first failed check
    END = "Fin"  # the first successful check after the run; NaT while it goes on
    DURATION = "Duración"  # to now while ongoing
    ONGOING = "En curso"
    CAUSE = "Causa"  # a CheckState's label, or both kinds at once
    FAILED = "Comprobaciones fallidas"


OUTAGE_COLUMNS = [
    OutageColumn.START,
    OutageColumn.END,
    OutageColumn.DURATION,
    OutageColumn.ONGOING,
    OutageColumn.CAUSE,
    OutageColumn.FAILED,
]


class HeartbeatColumn:
    """The heartbeat bar's checks (``heartbeat_frame``), one row each."""

    TIME = "Hora"
    STATE = "Estado"  # a CheckState value
    LATENCY = "Latencia (ms)"
    ERROR = "Error"


HEARTBEAT_COLUMNS = [HeartbeatColumn.TIME, HeartbeatColumn.STATE, HeartbeatColumn.LATENCY, HeartbeatColumn.ERROR]


class LatencyColumn:
    """The latency chart's frame (``latency_frame``): one row per check or per time bucket."""

    TIME = "Hora"  # a bucket's start
    LATENCY = "Latencia (ms)"  # the mean over the checks in which SIAT answered
    MAX = "Máxima (ms)"
    CHECKS = "Comprobaciones"
    SIAT_DOWN = CAUSE_SIAT  # failed checks of each kind, named by their CheckState's label
    CUCU_UNREACHABLE = CAUSE_CUCU


def uptime_windows(
    checks: Sequence[ConnectivityCheck], now: datetime, maintenance: Sequence[tuple[datetime, datetime]] = ()
) -> dict[str, float | None]:
    """Uptime over each of :data:`WINDOWS`, without the company's maintenance: ``{"24h": ..., "7d": ..., "30d": ...}``."""
    return {key: uptime(checks, now - length, maintenance) for key, (_label, length) in WINDOWS.items()}


def maintenance_in(periods: Sequence[tuple[datetime, datetime]], since: datetime, now: datetime) -> timedelta:
    """How much of [since, now) the maintenance periods cover (overlaps counted once): shown apart."""
    covered, reach = timedelta(0), since
    for start, end in sorted(periods):
        start, end = max(start, reach), min(end, now)
        if end > start:
            covered += end - start
            reach = end
    return covered


def checks_in_window(checks: Sequence[ConnectivityCheck], since: datetime) -> list[ConnectivityCheck]:
    """The checks at or after ``since`` (the input is oldest first)."""
    return list(checks[bisect.bisect_left(checks, since, key=attrgetter("checked_at")) :])


# ---- outages -------------------------------------------------------------------------


def outages(checks: Sequence[ConnectivityCheck], now: datetime) -> pd.DataFrame:
    """One row per run of consecutive failed checks, newest first.

    Columns: :class:`OutageColumn` (the cause is ``SIAT no responde``, ``Sin conexión con cucu``, or both when
    the run mixes them). Times are aware La Paz timestamps.
    """
    rows = []
    run: list[ConnectivityCheck] = []
    for check in checks:
        if check.failed:
            run.append(check)
        elif run:
            rows.append(_outage_row(run, check.checked_at, now))
            run = []
    if run:
        rows.append(_outage_row(run, None, now))
    rows.reverse()
    frame = pd.DataFrame(rows, columns=OUTAGE_COLUMNS)
    frame[OutageColumn.START] = la_paz_series(frame[OutageColumn.START])
    frame[OutageColumn.END] = la_paz_series(frame[OutageColumn.END])
    frame[OutageColumn.DURATION] = pd.to_timedelta(frame[OutageColumn.DURATION])
    frame[OutageColumn.ONGOING] = frame[OutageColumn.ONGOING].astype(bool)
    frame[OutageColumn.CAUSE] = frame[OutageColumn.CAUSE].astype(object)
    frame[OutageColumn.FAILED] = frame[OutageColumn.FAILED].astype("int64")
    return frame


def partial_history_note(first: datetime, since: datetime) -> str:
    """Said beside a figure over a window that the stored checks do not cover (a new installation)."""
    if first > since + timedelta(hours=1):
        return f" Historial disponible desde el {fmt_datetime(first)}."
    return ""


def outages_since(checks: Sequence[ConnectivityCheck], now: datetime, since: datetime) -> pd.DataFrame:
    """The outages that ended at or after ``since`` or go on. Derived from all of ``checks``, so an
    outage begun before the window keeps its real start."""
    table = outages(checks, now)
    return table[table[OutageColumn.ONGOING] | (table[OutageColumn.END] >= since)]


def outages_summary(table: pd.DataFrame, window_label: str) -> str:
    """One Spanish sentence about a non-empty :func:`outages` table: how many, how long, the longest."""
    longest = table.loc[table[OutageColumn.DURATION].idxmax()]
    ongoing = " Una caída sigue en curso." if table[OutageColumn.ONGOING].any() else ""
    count = plural(len(table), "caída", "caídas")
    total = fmt_duration(table[OutageColumn.DURATION].sum().to_pytimedelta())
    longest_for = fmt_duration(longest[OutageColumn.DURATION].to_pytimedelta())
    longest_from = fmt_datetime(longest[OutageColumn.START].to_pydatetime())
    return (
        f"{count} en los últimos {window_label}, duración total {total}; la más larga: "
        f"{longest_for} desde el {longest_from} ({in_sentence(longest[OutageColumn.CAUSE])}).{ongoing}"
    )


def _outage_row(run: list[ConnectivityCheck], end: datetime | None, now: datetime) -> dict[str, object]:
    start = run[0].checked_at
    return {
        OutageColumn.START: start,
        OutageColumn.END: end,
        OutageColumn.DURATION: (end if end is not None else now) - start,
        OutageColumn.ONGOING: end is None,
        OutageColumn.CAUSE: _cause(run),
        OutageColumn.FAILED: len(run),
    }


# ---- heartbeat and latency frames ------------------------------------------------------


def heartbeat_frame(checks: Sequence[ConnectivityCheck], limit: int = 90) -> pd.DataFrame:
    """The last ``limit`` checks, oldest first, for the heartbeat bar (columns: :class:`HeartbeatColumn`)."""
    recent = list(checks[-limit:]) if limit > 0 else []
    frame = pd.DataFrame(
        {
            HeartbeatColumn.TIME: [c.checked_at for c in recent],
            HeartbeatColumn.STATE: [c.state.value for c in recent],
            HeartbeatColumn.LATENCY: [c.latency_ms for c in recent],
            HeartbeatColumn.ERROR: [c.error for c in recent],
        },
        columns=HEARTBEAT_COLUMNS,
    )
    frame[HeartbeatColumn.TIME] = la_paz_series(frame[HeartbeatColumn.TIME])
    frame[HeartbeatColumn.LATENCY] = pd.to_numeric(frame[HeartbeatColumn.LATENCY], errors="coerce").astype("float64")
    frame[HeartbeatColumn.STATE] = frame[HeartbeatColumn.STATE].astype(object)
    frame[HeartbeatColumn.ERROR] = frame[HeartbeatColumn.ERROR].astype(object)
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

    Columns: :class:`LatencyColumn` (times aware La Paz; the latency NaN when SIAT answered none of a
    bucket's checks). Vectorised: 30 days of checks (≈ 86 000) take milliseconds.
    """
    epoch = [c.checked_at.timestamp() for c in checks]
    ok = [c.siat_ok for c in checks]
    raw = pd.DataFrame(
        {
            LatencyColumn.TIME: la_paz_from_epoch(epoch),
            "ok_latency": [c.latency_ms if o is True else None for c, o in zip(checks, ok, strict=True)],
            "siat": [o is False for o in ok],
            "cucu": [o is None for o in ok],
        }
    )
    raw["ok_latency"] = pd.to_numeric(raw["ok_latency"], errors="coerce").astype("float64")
    if bucket is None:
        return pd.DataFrame(
            {
                LatencyColumn.TIME: raw[LatencyColumn.TIME],
                LatencyColumn.LATENCY: raw["ok_latency"],
                LatencyColumn.MAX: raw["ok_latency"],
                LatencyColumn.CHECKS: 1,
                LatencyColumn.SIAT_DOWN: raw["siat"].astype("int64"),
                LatencyColumn.CUCU_UNREACHABLE: raw["cucu"].astype("int64"),
            }
        )
    grouped = raw.groupby(raw[LatencyColumn.TIME].dt.floor(pd.Timedelta(bucket)), sort=True)
    frame = pd.DataFrame(
        {
            LatencyColumn.LATENCY: grouped["ok_latency"].mean(),
            LatencyColumn.MAX: grouped["ok_latency"].max(),
            LatencyColumn.CHECKS: grouped.size(),
            LatencyColumn.SIAT_DOWN: grouped["siat"].sum().astype("int64"),
            LatencyColumn.CUCU_UNREACHABLE: grouped["cucu"].sum().astype("int64"),
        }
    )
    frame.index.name = LatencyColumn.TIME
    return frame.reset_index()
