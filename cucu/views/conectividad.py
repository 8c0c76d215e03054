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
from cucu.formatting import fmt_datetime, fmt_duration, in_sentence
from cucu.lapaz import la_paz_from_epoch, la_paz_series

# The selectable history windows: query-parameter value -> (label, length).
WINDOWS: dict[str, tuple[str, timedelta]] = {
    "24h": ("24 h", timedelta(hours=24)),
    "7d": ("7 días", timedelta(days=7)),
    "30d": ("30 días", timedelta(days=30)),
}

OUTAGE_COLUMNS = ["Inicio", "Fin", "Duración", "En curso", "Causa", "Comprobaciones fallidas"]
HEARTBEAT_COLUMNS = ["Hora", "Estado", "Latencia (ms)", "Error"]


def uptime_windows(checks: Sequence[ConnectivityCheck], now: datetime) -> dict[str, float | None]:
    """Uptime over each of :data:`WINDOWS`: ``{"24h": ..., "7d": ..., "30d": ...}``."""
    return {key: uptime(checks, now - length) for key, (_label, length) in WINDOWS.items()}


def checks_in_window(checks: Sequence[ConnectivityCheck], since: datetime) -> list[ConnectivityCheck]:
    """The checks at or after ``since`` (the input is oldest first)."""
    return list(checks[bisect.bisect_left(checks, since, key=attrgetter("checked_at")) :])


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
        if check.failed:
            run.append(check)
        elif run:
            rows.append(_outage_row(run, check.checked_at, now))
            run = []
    if run:
        rows.append(_outage_row(run, None, now))
    rows.reverse()
    frame = pd.DataFrame(rows, columns=OUTAGE_COLUMNS)
    frame["Inicio"] = la_paz_series(frame["Inicio"])
    frame["Fin"] = la_paz_series(frame["Fin"])
    frame["Duración"] = pd.to_timedelta(frame["Duración"])
    frame["En curso"] = frame["En curso"].astype(bool)
    frame["Causa"] = frame["Causa"].astype(object)
    frame["Comprobaciones fallidas"] = frame["Comprobaciones fallidas"].astype("int64")
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
    return table[table["En curso"] | (table["Fin"] >= since)]


def outages_summary(table: pd.DataFrame, window_label: str) -> str:
    """One Spanish sentence about a non-empty :func:`outages` table: how many, how long, the longest."""
    longest = table.loc[table["Duración"].idxmax()]
    ongoing = " Una caída sigue en curso." if table["En curso"].any() else ""
    count = f"{len(table)} caída{'s' if len(table) != 1 else ''}"
    total = fmt_duration(table["Duración"].sum().to_pytimedelta())
    return (
        f"{count} en los últimos {window_label}, duración total {total}; la más larga: "
        f"{fmt_duration(longest['Duración'].to_pytimedelta())} desde el {fmt_datetime(longest['Inicio'].to_pydatetime())} "
        f"({in_sentence(longest['Causa'])}).{ongoing}"
    )


def _outage_row(run: list[ConnectivityCheck], end: datetime | None, now: datetime) -> dict[str, object]:
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
            "Estado": [c.state.value for c in recent],
            "Latencia (ms)": [c.latency_ms for c in recent],
            "Error": [c.error for c in recent],
        },
        columns=HEARTBEAT_COLUMNS,
    )
    frame["Hora"] = la_paz_series(frame["Hora"])
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
            "Hora": la_paz_from_epoch(epoch),
            "ok_latency": [c.latency_ms if o is True else None for c, o in zip(checks, ok, strict=True)],
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
                CAUSE_SIAT: raw["siat"].astype("int64"),
                CAUSE_CUCU: raw["cucu"].astype("int64"),
            }
        )
    grouped = raw.groupby(raw["Hora"].dt.floor(pd.Timedelta(bucket)), sort=True)
    frame = pd.DataFrame(
        {
            "Latencia (ms)": grouped["ok_latency"].mean(),
            "Máxima (ms)": grouped["ok_latency"].max(),
            "Comprobaciones": grouped.size(),
            CAUSE_SIAT: grouped["siat"].sum().astype("int64"),
            CAUSE_CUCU: grouped["cucu"].sum().astype("int64"),
        }
    )
    frame.index.name = "Hora"
    return frame.reset_index()
