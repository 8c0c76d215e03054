"""CSV downloads that open right in Excel on a Spanish (Bolivian) Windows."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from cucu.lapaz import la_paz_series

CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def excel_csv(frame: pd.DataFrame, *, time_columns: Iterable[str] = (), sep: str = ";", decimal: str = ",") -> bytes:
    """The frame's columns as they are; UTF-8 with BOM; aware times as La Paz ``YYYY-MM-DD HH:MM:SS``.

    Semicolon and decimal comma by default: on a Spanish Windows, Excel opens a comma-separated
    file in a single column.
    """
    out = frame.copy()
    for column in time_columns:
        times = la_paz_series(out[column])
        out[column] = times.dt.strftime(CSV_TIME_FORMAT).astype(object).where(out[column].notna(), "")
    text: str = out.to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\r\n")
    return text.encode("utf-8-sig")
