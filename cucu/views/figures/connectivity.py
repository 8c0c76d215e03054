"""Charts of the Conectividad page: the heartbeat bar and the latency chart, as Vega-Lite specs.

Streamlit's own charts (Vega-Lite), not plotly: a fresh tab draws them in a fraction of the time
plotly.js takes to start, and this page is opened often. Light on purpose (they render on tablets):
few points (long windows arrive bucketed), no legend clutter. Times are drawn as La Paz wall-clock
times: passed as that wall clock on a UTC scale, so the browser's own zone never shifts them. Hover
texts are built here in Spanish, as plain text (Vega's tooltips show text, not HTML).
"""

from __future__ import annotations

import textwrap
from datetime import timedelta
from typing import Any

import pandas as pd

from cucu.formatting import fmt_datetime, fmt_every
from cucu.lapaz import wall_clock
from cucu.views.conectividad import HeartbeatColumn, LatencyColumn
from cucu.views.figures import BASE_CONFIG, SCHEMA
from cucu.vocabulary import CheckState

LINE_COLOR = "#0F5A9C"  # the theme's primary colour
HEARTBEAT_SLOTS = 90
STATE_SCALE = {"domain": [s.label for s in CheckState], "range": [s.chart_color for s in CheckState]}
# The latency frame's count of each kind of failed check; the chart names each by its label.
FAILED_COLUMNS = {CheckState.SIAT_DOWN: LatencyColumn.SIAT_DOWN, CheckState.CUCU_UNREACHABLE: LatencyColumn.CUCU_UNREACHABLE}


class HeartbeatField:
    """The fields of ``heartbeat_chart``'s rows, one per check (the tooltip names a field by them)."""

    SLOT = "Posición"
    STATE = "Estado"  # a CheckState's label
    TIME = "Hora"
    LATENCY = "Latencia"
    ERROR = "Error"


class LatencyField:
    """The fields of ``latency_chart``'s rows, one per check or bucket; beside them, a count per kind of
    failed check named by its CheckState's label."""

    TIME = "t"  # the La Paz wall clock on a UTC scale
    SHOWN_TIME = "Hora"
    LATENCY = "ms"
    MAX = "Máxima"
    CHECKS = "Comprobaciones"


def heartbeat_chart(frame: pd.DataFrame, *, slots: int = HEARTBEAT_SLOTS, height: int = 90) -> dict[str, Any]:
    """Uptime Kuma's heartbeat bar: one equal bar per check (a ``heartbeat_frame``), newest at
    the right; green SIAT answered, red SIAT does not answer, gray cucu could not be asked.
    With fewer checks than ``slots`` the bar is right-aligned, like a bar that fills up."""
    frame = frame.tail(slots).reset_index(drop=True)
    offset = slots - len(frame)
    rows = [
        {
            HeartbeatField.SLOT: offset + i,
            HeartbeatField.STATE: CheckState(state).label,
            HeartbeatField.TIME: fmt_datetime(pd.Timestamp(when).to_pydatetime(), seconds=True),
            HeartbeatField.LATENCY: f"{latency:.0f} ms" if pd.notna(latency) else "—",
            HeartbeatField.ERROR: _wrap(error) if isinstance(error, str) and error else "",
        }
        for i, (when, state, latency, error) in enumerate(
            zip(
                frame[HeartbeatColumn.TIME],
                frame[HeartbeatColumn.STATE],
                frame[HeartbeatColumn.LATENCY],
                frame[HeartbeatColumn.ERROR],
                strict=True,
            )
        )
    ]
    return {
        "$schema": SCHEMA,
        "data": {"values": rows},
        "height": height,
        "mark": {"type": "bar", "cornerRadius": 3, "width": {"band": 0.75}},
        "encoding": {
            "x": {"field": HeartbeatField.SLOT, "type": "ordinal", "scale": {"domain": list(range(slots))}, "axis": None},
            "color": {"field": HeartbeatField.STATE, "type": "nominal", "scale": STATE_SCALE, "legend": None},
            "tooltip": [
                {"field": f, "type": "nominal"}
                for f in (HeartbeatField.STATE, HeartbeatField.TIME, HeartbeatField.LATENCY, HeartbeatField.ERROR)
            ],
        },
        "config": BASE_CONFIG,
    }


def latency_chart(frame: pd.DataFrame, *, bucket: timedelta | None = None, height: int = 300) -> dict[str, Any]:
    """cucu's response time over time (checks in which SIAT answered), with failed checks marked
    by red (SIAT no responde) or gray (sin conexión con cucu) ticks along the bottom.

    ``frame`` is a :func:`cucu.views.conectividad.latency_frame` (so a page may cache it): raw checks when
    ``bucket`` is None, else means per bucket (see :func:`cucu.views.conectividad.auto_bucket`)."""
    clock = wall_clock(frame[LatencyColumn.TIME])
    when = clock.dt.strftime("%Y-%m-%dT%H:%M:%SZ")  # the La Paz wall clock, read on a UTC scale
    shown = clock.dt.strftime("%d/%m %H:%M:%S" if bucket is None else "%d/%m %H:%M")
    every = "" if bucket is None else f" · cada {fmt_every(bucket)}"
    rows = [
        {
            LatencyField.TIME: t,
            LatencyField.SHOWN_TIME: f"{label}{every}",
            LatencyField.LATENCY: None if pd.isna(ms) else round(float(ms), 1),
            LatencyField.MAX: None if pd.isna(top) else round(float(top)),
            LatencyField.CHECKS: int(n),
            **{state.label: int(frame[column].iloc[i]) for state, column in FAILED_COLUMNS.items()},
        }
        for i, (t, label, ms, top, n) in enumerate(
            zip(when, shown, frame[LatencyColumn.LATENCY], frame[LatencyColumn.MAX], frame[LatencyColumn.CHECKS], strict=True)
        )
    ]
    x = {
        "field": LatencyField.TIME,
        "type": "temporal",
        "scale": {"type": "utc"},
        "title": None,
        # A day or less: hours; a longer window: days. On a UTC scale the format is read as UTC too.
        "axis": {
            "format": "%H:%M" if bucket is None or bucket <= timedelta(minutes=2) else "%d/%m",
            "labelOverlap": True,
            "grid": False,
        },
    }
    line_tooltip = [
        {"field": LatencyField.SHOWN_TIME, "type": "nominal"},
        {"field": LatencyField.LATENCY, "type": "quantitative", "title": "ms", "format": ",.0f"},
    ]
    if bucket is not None:
        line_tooltip = [
            {"field": LatencyField.SHOWN_TIME, "type": "nominal"},
            {"field": LatencyField.LATENCY, "type": "quantitative", "title": "media (ms)", "format": ",.0f"},
            {"field": LatencyField.MAX, "type": "quantitative", "title": "máx. (ms)"},
            {"field": LatencyField.CHECKS, "type": "quantitative"},
        ]
    layers: list[dict[str, Any]] = [
        {
            # An outage is a gap in the line (Vega-Lite 6 breaks the path at the missing values instead of
            # joining across); points: a lone answer between two failures has no line to draw.
            "mark": {
                "type": "line",
                "color": LINE_COLOR,
                "strokeWidth": 1.5,
                "invalid": None,
                "point": {"size": 10, "color": LINE_COLOR},
            },
            "encoding": {
                "x": x,
                "y": {"field": LatencyField.LATENCY, "type": "quantitative", "title": "ms", "scale": {"zero": True}},
                "tooltip": line_tooltip,
            },
        }
    ]
    for state, column in FAILED_COLUMNS.items():
        if not frame[column].gt(0).any():
            continue
        layers.append(
            {
                "transform": [{"filter": f"datum['{state.label}'] > 0"}],
                "mark": {"type": "tick", "color": state.chart_color, "thickness": 3, "size": 12},
                "encoding": {
                    "x": x,
                    "y": {"datum": 0, "type": "quantitative"},
                    "tooltip": [
                        {"field": LatencyField.SHOWN_TIME, "type": "nominal"},
                        {"field": state.label, "type": "quantitative", "title": f"{state.label} (comprobaciones)"},
                    ],
                },
            }
        )
    return {"$schema": SCHEMA, "data": {"values": rows}, "height": height, "layer": layers, "config": BASE_CONFIG}


# ---- helpers ---------------------------------------------------------------------------


def _wrap(text: str, width: int = 60) -> str:
    """A long error cut to four lines of ``width``: a tooltip must fit a tablet's screen."""
    return " ".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)[:4])
