"""Spanish, La Paz renderings of times and durations, shared by every page."""

from __future__ import annotations

from datetime import datetime, timedelta

from cucu.models import LA_PAZ, now_la_paz


def _missing(value) -> bool:
    return value is None or value != value  # NaN and pandas' NaT are not equal to themselves


def fmt_datetime(value: datetime | None, *, seconds: bool = False) -> str:
    if _missing(value):
        return "—"
    return value.astimezone(LA_PAZ).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def fmt_time(value: datetime | None) -> str:
    return "—" if _missing(value) else value.astimezone(LA_PAZ).strftime("%H:%M:%S")


def fmt_duration(delta: timedelta | None) -> str:
    """``2 d 3 h``, ``5 h 12 min``, ``7 min``, ``40 s``."""
    if _missing(delta):
        return "—"
    seconds = max(0, int(delta.total_seconds()))
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def fmt_age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, e.g. ``hace 12 s``."""
    if _missing(value):
        return "nunca"
    return f"hace {fmt_duration((now or now_la_paz()) - value)}"
