"""Reading a calendar pick the same way on every page."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from cucu.lapaz import LA_PAZ
from cucu.periods import (
    MAX_RANGE_DAYS,
    Preset,
    date_range,
    day_bounds,
    default_range,
    earliest_day,
    picked_range,
    range_problem,
)

TODAY = date(2026, 12, 2)


def test_default_is_the_last_week_with_today():
    assert default_range(TODAY) == (TODAY - timedelta(days=6), TODAY)
    assert default_range(TODAY, 1) == (TODAY, TODAY)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ((date(2026, 11, 1), date(2026, 11, 3)), (date(2026, 11, 1), date(2026, 11, 3))),
        ([date(2026, 11, 1), date(2026, 11, 3)], (date(2026, 11, 1), date(2026, 11, 3))),
        ((date(2026, 11, 1),), (date(2026, 11, 1), date(2026, 11, 1))),  # the second click still pending
        (date(2026, 11, 1), (date(2026, 11, 1), date(2026, 11, 1))),  # ?fechas=2026-11-01
        ((), None),
        (None, None),
        ((None,), None),
        ("2026-11-01", None),
    ],
)
def test_picked_range(value, expected):
    assert picked_range(value) == expected


def test_day_bounds_are_la_paz_midnights():
    since, until = day_bounds(date(2026, 11, 1), date(2026, 11, 2))
    assert since.tzinfo == LA_PAZ and (since.hour, since.day) == (0, 1) and (until.hour, until.day) == (0, 3)


def refusal(start: date, end: date, today: date) -> str:
    """``range_problem``'s sentence for a range it must refuse."""
    problem = range_problem(start, end, today)
    assert problem is not None
    return problem


def test_date_range_and_limits():
    assert date_range(date(2026, 11, 30), date(2026, 12, 2)) == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
    assert range_problem(TODAY - timedelta(days=MAX_RANGE_DAYS - 1), TODAY, TODAY) is None
    assert "máximo" in refusal(TODAY - timedelta(days=MAX_RANGE_DAYS), TODAY, TODAY)
    assert "anterior" in refusal(TODAY, TODAY - timedelta(days=1), TODAY)
    assert "futuros" in refusal(TODAY, TODAY + timedelta(days=1), TODAY)


def test_a_pick_of_datetimes_is_a_range_of_days():
    # datetime is a date subclass: it was kept, and range_problem then compared it with a date (TypeError).
    moment = datetime(2026, 11, 20, 15, 30)
    assert picked_range(moment) == (date(2026, 11, 20), date(2026, 11, 20))
    assert picked_range((moment, datetime(2026, 11, 21))) == (date(2026, 11, 20), date(2026, 11, 21))
    first, last = picked_range(moment) or (None, None)
    assert first is not None and last is not None and range_problem(first, last, date(2026, 11, 24)) is None


@pytest.mark.parametrize(
    ("today", "preset", "expected"),
    [
        (date(2028, 3, 1), Preset.TODAY, (date(2028, 3, 1), date(2028, 3, 1))),
        (date(2028, 3, 1), Preset.YESTERDAY, (date(2028, 2, 29), date(2028, 2, 29))),
        (date(2028, 3, 1), Preset.LAST_7, (date(2028, 2, 24), date(2028, 3, 1))),
        (date(2028, 3, 1), Preset.LAST_30, (date(2028, 2, 1), date(2028, 3, 1))),
        (date(2028, 3, 1), Preset.LAST_MONTH, (date(2028, 2, 1), date(2028, 2, 29))),
        (date(2027, 1, 15), Preset.LAST_MONTH, (date(2026, 12, 1), date(2026, 12, 31))),
    ],
)
def test_each_shortcut_is_a_range_the_pages_accept(today, preset, expected):
    """Streamlit's own presets went up to "Past 2 Years": four of six ended in "el máximo es 62"."""
    first, last = preset.range(today)
    assert (first, last) == expected
    assert range_problem(first, last, today) is None
    assert preset.label and preset.label[0].isupper()


def test_the_calendar_starts_late_enough_to_keep_streamlits_english_presets_away():
    # Streamlit shows them when the first allowed day is more than two years before the *browser's*
    # today: a month's margin for a tablet whose clock or time zone is ahead of La Paz.
    assert earliest_day(TODAY) > TODAY.replace(year=TODAY.year - 2) + timedelta(days=28)
    assert earliest_day(TODAY) <= TODAY - timedelta(days=MAX_RANGE_DAYS)  # every range the pages accept is in the calendar
