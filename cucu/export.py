"""CSV downloads that open right in Excel on a Spanish (Bolivian) Windows."""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from cucu.lapaz import la_paz_series

CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# A text cell starting with one of these is a formula to Excel and LibreOffice (CSV injection):
# a leading apostrophe makes them show it as text. Numbers are left alone (a negative is a number).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: object) -> object:
    """``value`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def excel_csv(frame: pd.DataFrame, *, time_columns: Collection[str] = (), sep: str = ";", decimal: str = ",") -> bytes:
    """The frame's columns as they are; UTF-8 with BOM; aware times as La Paz ``YYYY-MM-DD HH:MM:SS``.

    Semicolon and decimal comma by default: on a Spanish Windows, Excel opens a comma-separated
    file in a single column. Text that a spreadsheet would run as a formula (a description typed
    in cucu, a name in the inventory) is written as text (see ``FORMULA_START``).
    """
    out = frame.copy()
    for column in out.columns:
        if column not in time_columns and (out[column].dtype == object or pd.api.types.is_string_dtype(out[column])):
            out[column] = out[column].map(as_text)
    for column in time_columns:
        times = la_paz_series(out[column])
        out[column] = times.dt.strftime(CSV_TIME_FORMAT).astype(object).where(out[column].notna(), "")
    text: str = out.to_csv(index=False, sep=sep, decimal=decimal, lineterminator="\r\n")
    return text.encode("utf-8-sig")
