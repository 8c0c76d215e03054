"""One zone for the whole dashboard, for single values and pandas columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from cucu.lapaz import LA_PAZ, SERIES_DTYPE, la_paz_series, to_la_paz, wall_clock, wall_clock_text


def test_values_convert_and_naive_ones_are_refused():
    assert to_la_paz(datetime(2026, 12, 2, 12, tzinfo=UTC)).hour == 8
    with pytest.raises(ValueError):
        to_la_paz(datetime(2026, 12, 2, 12))


def test_a_column_keeps_its_index_and_its_gaps():
    values = pd.Series([datetime(2026, 12, 2, 12, tzinfo=UTC), None], index=[10, 20])
    converted = la_paz_series(values)
    assert list(converted.index) == [10, 20] and str(converted.dtype) == SERIES_DTYPE
    assert converted[10].hour == 8 and pd.isna(converted[20])


def test_plotly_gets_la_paz_wall_clock_times():
    column = la_paz_series([datetime(2026, 12, 2, 12, tzinfo=UTC)])
    assert wall_clock(column).dt.tz is None and wall_clock(column)[0].hour == 8
    assert wall_clock_text(datetime(2026, 12, 2, 12, tzinfo=UTC)) == "2026-12-02 08:00:00"
    assert wall_clock_text(datetime(2026, 12, 2, 8, tzinfo=LA_PAZ)) == "2026-12-02 08:00:00"
