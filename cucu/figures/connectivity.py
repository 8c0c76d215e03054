"""Figures of the Conectividad page: the heartbeat bar and the latency chart.

Light on purpose (they render on tablets): SVG traces, few points (long windows arrive
bucketed), no legend or mode bar clutter. Times are drawn as La Paz wall-clock times (plotly
has no time zones, so aware values are converted and made naive). Hover texts are built here
in Spanish, so no plotly locale is needed. The page passes ``config``.
"""

from __future__ import annotations

import textwrap
from datetime import timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from cucu.formatting import fmt_datetime, fmt_every, plotly_text
from cucu.lapaz import wall_clock
from cucu.vocabulary import CheckState

LINE_COLOR = "#0F5A9C"  # the theme's primary colour
HEARTBEAT_SLOTS = 90
FONT = {"family": "sans-serif", "size": 12}
# What both charts share: they sit on the page's own background, in its font, hovers aligned left.
BASE_LAYOUT = {"plot_bgcolor": "rgba(0,0,0,0)", "paper_bgcolor": "rgba(0,0,0,0)", "font": FONT, "hoverlabel": {"align": "left"}}


def heartbeat_figure(frame: pd.DataFrame, *, slots: int = HEARTBEAT_SLOTS, height: int = 90) -> go.Figure:
    """Uptime Kuma's heartbeat bar: one equal bar per check (a ``heartbeat_frame``), newest at
    the right; green SIAT answered, red SIAT does not answer, gray cucu could not be asked.
    With fewer checks than ``slots`` the bar is right-aligned, like a bar that fills up."""
    frame = frame.tail(slots).reset_index(drop=True)
    offset = slots - len(frame)
    fig = go.Figure()
    for state in CheckState:
        part = frame[frame["Estado"] == state]
        if part.empty:
            continue
        fig.add_bar(
            name=state.label,
            x=[offset + i for i in part.index],
            y=[1] * len(part),
            width=[0.75] * len(part),  # explicit: in overlay mode plotly sizes each trace's bars by its own spacing
            marker={"color": state.chart_color, "line": {"width": 0}, "cornerradius": 3},
            customdata=[
                [_hover_heartbeat(*row)]
                for row in zip(part["Hora"], part["Estado"], part["Latencia (ms)"], part["Error"], strict=True)
            ],
            hovertemplate="%{customdata[0]}<extra></extra>",
            showlegend=False,
        )
    fig.update_layout(
        **BASE_LAYOUT,
        height=height,
        margin={"l": 0, "r": 0, "t": 4, "b": 4},
        barmode="overlay",
        xaxis={"range": [-0.5, slots - 0.5], "visible": False, "fixedrange": True},
        yaxis={"range": [0, 1], "visible": False, "fixedrange": True},
        dragmode=False,
    )
    return fig


def latency_figure(frame: pd.DataFrame, *, bucket: timedelta | None = None, height: int = 300) -> go.Figure:
    """cucu's response time over time (checks in which SIAT answered), with failed checks marked
    by red (SIAT no responde) or gray (sin conexión con cucu) ticks along the bottom.

    ``frame`` is a :func:`cucu.uptime.latency_frame` (so a page may cache it): raw checks when
    ``bucket`` is None, else means per bucket (see :func:`cucu.uptime.auto_bucket`)."""
    x = wall_clock(frame["Hora"])
    if bucket is None:
        when = "%{x|%d/%m %H:%M:%S}"
        line_hover = when + "<br>%{y:.0f} ms<extra></extra>"
        customdata = None
    else:
        when = "%{x|%d/%m %H:%M} · cada " + fmt_every(bucket)
        line_hover = (
            when + "<br>media %{y:.0f} ms · máx. %{customdata[0]:.0f} ms<br>%{customdata[1]} comprobaciones<extra></extra>"
        )
        customdata = list(zip(frame["Máxima (ms)"].round(0), frame["Comprobaciones"], strict=True))
    fig = go.Figure()
    fig.add_scatter(
        name="Latencia",
        x=x,
        y=frame["Latencia (ms)"].round(1),
        mode="lines+markers",  # markers: a lone answer between two failures has no line to draw
        line={"color": LINE_COLOR, "width": 1.5},
        marker={"color": LINE_COLOR, "size": 3},
        connectgaps=False,  # an outage is a gap
        customdata=customdata,
        hovertemplate=line_hover,
        showlegend=False,
    )
    for state in (CheckState.SIAT_DOWN, CheckState.CUCU_UNREACHABLE):
        column, color = state.label, state.chart_color  # latency_frame counts each kind in a column named by its label
        failed = frame[column] > 0
        if not failed.any():
            continue
        if bucket is None:
            hover, customdata = f"{when}<br>{column}<extra></extra>", None
        else:
            hover = f"{when}<br>{column}: %{{customdata[0]}} de %{{customdata[1]}} comprobaciones<extra></extra>"
            customdata = list(zip(frame.loc[failed, column], frame.loc[failed, "Comprobaciones"], strict=True))
        fig.add_scatter(
            name=column,
            x=x[failed],
            y=[0] * int(failed.sum()),
            mode="markers",
            marker={"color": color, "symbol": "line-ns", "size": 12, "line": {"width": 3, "color": color}},
            customdata=customdata,
            hovertemplate=hover,
            showlegend=False,
        )
    fig.update_layout(
        **BASE_LAYOUT,
        height=height,
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        hovermode="closest",
        uirevision="latency",  # a live refresh keeps the reader's zoom
        xaxis={"tickformat": "%H:%M\n%d/%m", "showgrid": False, "fixedrange": False, "title": None},
        yaxis={"title": {"text": "ms"}, "rangemode": "tozero", "gridcolor": "rgba(128,128,128,0.2)", "fixedrange": True},
    )
    return fig


# ---- helpers ---------------------------------------------------------------------------


def _hover_heartbeat(when: Any, state: str, latency: Any, error: Any) -> str:
    parts = [f"<b>{CheckState(state).label}</b>", fmt_datetime(pd.Timestamp(when).to_pydatetime(), seconds=True)]
    if pd.notna(latency):
        parts.append(f"{latency:.0f} ms")
    if isinstance(error, str) and error:
        parts.append(_wrap(error))
    return "<br>".join(parts)


def _wrap(text: str, width: int = 60) -> str:
    """Hover labels do not wrap on their own; a long error would run off a tablet's screen."""
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    return "<br>".join(plotly_text(line) for line in lines[:4])
