"""Spanish renderings shared by every page: La Paz times, durations, ages, numbers, percentages."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cucu.lapaz import now_la_paz, to_la_paz


def is_missing(value: Any) -> bool:
    """``None``, NaN and pandas' NaT (the last two are not equal to themselves)."""
    return value is None or bool(value != value)


def fmt_datetime(value: datetime | None, *, seconds: bool = False) -> str:
    if value is None or is_missing(value):
        return "—"
    return to_la_paz(value).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def fmt_time(value: datetime | None) -> str:
    return "—" if value is None or is_missing(value) else to_la_paz(value).strftime("%H:%M:%S")


def fmt_hour(value: datetime) -> str:
    """``09:10``: a time of day in a sentence ("desde las 09:10")."""
    return to_la_paz(value).strftime("%H:%M")


def fmt_duration(delta: timedelta | None) -> str:
    """``2 d 3 h``, ``5 h 12 min``, ``7 min``, ``40 s``."""
    if delta is None or is_missing(delta):
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


def fmt_durations(deltas: pd.Series) -> pd.Series:
    """``fmt_duration`` of each value of a timedelta column, one call per distinct text: past a minute the text
    has no seconds, so a chain's 10 000 CUFD deadlines make at most a few thousand calls, not a Python call
    per row at every refresh of Eventos activos (a third of its server time)."""
    seconds = deltas.dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(seconds)
    whole = np.floor(np.where(missing, 0, seconds)).clip(min=0).astype("int64")  # int() of a positive float
    whole = np.where(whole < 60, whole, whole // 60 * 60)
    distinct, where = np.unique(whole, return_inverse=True)
    said = np.array([fmt_duration(timedelta(seconds=int(s))) for s in distinct], dtype=object)[where]
    said[missing] = "—"
    return pd.Series(said, index=deltas.index, dtype=object)


def fmt_age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, e.g. ``hace 12 s``."""
    if value is None or is_missing(value):
        return "nunca"
    return f"hace {fmt_duration((now or now_la_paz()) - value)}"


def fmt_every(bucket: timedelta) -> str:
    """A bucket of a chart after "cada": ``hora``, ``15 min``, ``6 h``."""
    minutes = int(bucket.total_seconds() // 60)
    if minutes == 60:
        return "hora"
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def fmt_number(value: float, decimals: int = 1) -> str:
    """Bolivian style: ``1 234,5`` (a space between thousands, a decimal comma)."""
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")


def fmt_count(value: int) -> str:
    """``10 000``: a whole number with its thousands apart, as a supervisor reads it."""
    return fmt_number(value, 0)


def plural(n: int, singular: str, plural: str) -> str:
    """``1 evento abierto``, ``2 500 eventos abiertos``, ``0 eventos abiertos``: a count and its noun in
    real Spanish (never a noun with a bracketed plural), the count with its thousands apart as :func:`fmt_count` writes it."""
    return f"{fmt_count(n)} {singular if n == 1 else plural}"


def fmt_percent(share: float | None) -> str:
    """A share (0–1) as ``99,95 %``: two decimals near 100 %, where the difference matters; ``—`` when unknown."""
    if share is None:
        return "—"
    digits = 2 if share >= 0.99 else 1
    return f"{fmt_number(share * 100, digits)} %"


def in_sentence(label: str) -> str:
    """A label inside a sentence: "Sin conexión con cucu" -> "sin conexión con cucu"; "SIAT …" stays."""
    return label[0].lower() + label[1:] if label[:1].isupper() and not label[:2].isupper() else label


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")
_ZWSP = "\u200b"  # invisible: breaks what Streamlit would otherwise turn into a link, an icon or a colour


def md_text(text: object) -> str:
    """``text`` shown literally where Streamlit reads Markdown (alerts, badges, captions, markdown).

    For text nobody here wrote: cucu's messages and descriptions, inventory names, a sign-in name,
    what a supervisor typed. Markdown punctuation is backslash-escaped; a zero-width space after
    ``:``, ``@`` and ``www`` keeps Streamlit's directives (``:red[…]``, ``:material/…:``, emoji
    shortcodes) and GitHub's autolinks (``http://…``, ``www.…``, e-mail addresses) from forming.
    """
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", str(text))
    escaped = escaped.replace(":", ":" + _ZWSP).replace("@", "@" + _ZWSP)
    return re.sub(r"(?i)www", lambda m: m.group(0) + _ZWSP, escaped)


def plotly_text(text: object) -> str:
    """``text`` shown literally where plotly reads its subset of HTML (trace and legend names, category
    tick labels, hover texts): ``<a href>``, ``<b>``, ``<br>``, ``<span style>``… For the same text as
    :func:`md_text`. Only ``&``, ``<`` and ``>`` are escaped: plotly turns ``&amp;`` ``&lt;`` ``&gt;`` back
    into characters but would show ``&quot;`` as typed, and without ``<`` no tag forms."""
    return html.escape(str(text), quote=False)


MONTH_NAMES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre",
    "diciembre",
)  # fmt: skip


def fmt_month(year: int, month: int) -> str:
    """ "noviembre de 2026"."""
    return f"{MONTH_NAMES[month - 1]} de {year}"
