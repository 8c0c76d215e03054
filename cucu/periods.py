"""The periods a supervisor picks (Historial, Bitácora): the default, the normalised pick, limits, bounds.

One place, so every page reads a calendar pick the same way: Streamlit's range picker gives a
tuple of one or two dates while the second click is pending, and a URL may carry one date.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from cucu.lapaz import LA_PAZ

DEFAULT_RANGE_DAYS = 7  # the last week, today included
MAX_RANGE_DAYS = 62  # a longer range is refused (the backfill keeps as many days, CUCU_BACKFILL_DAYS)
# How far back the calendar goes. Streamlit's range picker adds English quick-select presets ("Past
# Week" … "Past 2 Years", four of them longer than MAX_RANGE_DAYS) whenever its first allowed day is
# more than two years before the browser's today; a month short of that keeps them away for any
# browser clock, and the Spanish shortcuts below stand in for them.
EARLIEST_DAYS = 700


class Preset(StrEnum):
    """The period shortcuts beside the calendar, each within MAX_RANGE_DAYS."""

    TODAY = "hoy"
    YESTERDAY = "ayer"
    LAST_7 = "7-dias"
    LAST_30 = "30-dias"
    LAST_MONTH = "mes-anterior"

    @property
    def label(self) -> str:
        return _PRESET[self]

    def range(self, today: date) -> tuple[date, date]:
        """The (first, last) day of this shortcut on ``today``."""
        if self is Preset.TODAY:
            return today, today
        if self is Preset.YESTERDAY:
            return today - timedelta(days=1), today - timedelta(days=1)
        if self is Preset.LAST_MONTH:
            last = today.replace(day=1) - timedelta(days=1)
            return last.replace(day=1), last
        return default_range(today, 7 if self is Preset.LAST_7 else 30)


_PRESET: dict[Preset, str] = {
    Preset.TODAY: "Hoy",
    Preset.YESTERDAY: "Ayer",
    Preset.LAST_7: "Últimos 7 días",
    Preset.LAST_30: "Últimos 30 días",
    Preset.LAST_MONTH: "Mes anterior",
}


def earliest_day(today: date) -> date:
    """The first day the calendar offers (see EARLIEST_DAYS)."""
    return today - timedelta(days=EARLIEST_DAYS)


def default_range(today: date, days: int = DEFAULT_RANGE_DAYS) -> tuple[date, date]:
    """The last ``days`` days, today included."""
    return today - timedelta(days=days - 1), today


def picked_range(value: object) -> tuple[date, date] | None:
    """The (first, last) day of a calendar pick, or ``None`` while it has no first day.

    One day alone (a range picked with a single click, or ``?fechas=AAAA-MM-DD`` in the URL, where
    the widget drops a repeated equal date) is a one-day range.
    """
    if isinstance(value, date):
        return _day(value), _day(value)
    values = tuple(_day(v) for v in value or () if isinstance(v, date)) if isinstance(value, (tuple, list)) else ()
    if len(values) == 1:
        return values[0], values[0]
    if len(values) == 2:
        return values[0], values[1]
    return None


def _day(value: date) -> date:
    """A day, also from a datetime (a ``date`` subclass that ``range_problem`` could not compare with one)."""
    return value.date() if isinstance(value, datetime) else value


def date_range(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From La Paz midnight at the start of ``first`` to the midnight that ends ``last``."""
    return datetime.combine(first, time.min, tzinfo=LA_PAZ), datetime.combine(last + timedelta(days=1), time.min, tzinfo=LA_PAZ)


def range_problem(start: date, end: date, today: date, *, max_days: int = MAX_RANGE_DAYS) -> str | None:
    """A Spanish explanation of why ``start``..``end`` cannot be loaded, or ``None`` when it can."""
    if end < start:
        return "La fecha final es anterior a la inicial. Elija primero la fecha inicial y luego la final."
    if end > today:
        return f"El período no puede incluir días futuros: el último día posible es hoy, {today:%d/%m/%Y}."
    days = (end - start).days + 1
    if days > max_days:
        return f"El período elegido tiene {days} días; el máximo es {max_days}. Elija un período más corto."
    return None
