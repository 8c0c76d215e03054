"""La Paz time, the dashboard's one zone (America/La_Paz: UTC-4, no daylight saving time).

Inside the program every time is timezone-aware; what a supervisor sees is La Paz wall-clock
time. Every conversion to La Paz, for single values and for pandas columns, is here; the
Spanish text of a time is in :mod:`cucu.formatting`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

LA_PAZ_NAME = "America/La_Paz"  # also what Streamlit's DatetimeColumn(timezone=...) takes
LA_PAZ = ZoneInfo(LA_PAZ_NAME)
SERIES_DTYPE = f"datetime64[ns, {LA_PAZ_NAME}]"
_PLOTLY_FORMAT = "%Y-%m-%d %H:%M:%S"


def now_la_paz() -> datetime:
    return datetime.now(LA_PAZ)


def to_la_paz(value: datetime) -> datetime:
    """An aware time in La Paz. A naive one is refused: its zone would be a guess."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(LA_PAZ)


def la_paz_series(values: Iterable[Any]) -> pd.Series:
    """Aware datetimes or timestamps (``None``/NaT allowed) as a ``datetime64[ns, America/La_Paz]`` column.

    A Series keeps its index, so the result can be assigned back to the frame it came from.
    """
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.DatetimeTZDtype):  # already a zoned column
        return values.dt.tz_convert(LA_PAZ).astype(SERIES_DTYPE)
    index = values.index if isinstance(values, pd.Series) else None
    converted = pd.to_datetime(pd.Series(list(values), dtype=object, index=index), utc=True)
    return converted.dt.tz_convert(LA_PAZ).astype(SERIES_DTYPE)


def la_paz_from_epoch(seconds: Iterable[float]) -> pd.Series:
    """POSIX seconds as a La Paz column: the fast path for tens of thousands of checks."""
    return pd.to_datetime(pd.Series(list(seconds), dtype="float64"), unit="s", utc=True).dt.tz_convert(LA_PAZ)


def wall_clock(values: pd.Series) -> pd.Series:
    """La Paz wall-clock times without a zone, for plotly (which has none): the axis *is* La Paz time."""
    values = pd.to_datetime(values)
    if values.dt.tz is not None:
        values = values.dt.tz_convert(LA_PAZ).dt.tz_localize(None)
    return values


def wall_clock_text(value: datetime | pd.Timestamp) -> str:
    """One aware time as La Paz wall-clock text, the way plotly reads dates."""
    return str(pd.Timestamp(value).tz_convert(LA_PAZ).strftime(_PLOTLY_FORMAT))
