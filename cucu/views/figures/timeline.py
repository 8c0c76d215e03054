"""Historial: a state timeline (as in Grafana) of contingency events, one lane per POS.

Bars are ``go.Bar(orientation="h")`` with ``base`` = start and ``x`` = duration in ms on a
date axis (what ``px.timeline`` does), one trace per motive so the legend names each motive
once and its colour never changes. Times are drawn as naive La Paz wall-clock times: the
axis *is* La Paz time, whatever the browser's zone. An active event runs to ``now``, hatched,
with a ▶ marker at its open end. Bars are cut at the range's edges; an event that began before
the range gets a ◀ at its start edge, one that runs past it a ▶ at its end edge, each with a hover
text that says when it began or ended ("sigue abierto" for an open one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from cucu.api.models import motive_label
from cucu.formatting import fmt_datetime, fmt_duration, plotly_text
from cucu.lapaz import to_la_paz, wall_clock_text
from cucu.periods import day_bounds
from cucu.views.figures import NO_ENGLISH_ARIA, SCHEMA
from cucu.views.historial import EventColumn, Lane, lane_label
from cucu.vocabulary import EventState, Motive

# Fixed colour per cucu motive code (Okabe-Ito, readable by colour-blind supervisors). Every bar is
# contingency, the managed state: no red among them (red means SIAT down or a rejection, see Tone).
MOTIVE_COLORS: dict[int, str] = {
    Motive.INTERNET_OUTAGE: "#E69F00",
    Motive.SIAT_FAILURE: "#0072B2",
    Motive.VIRUS: "#CC79A7",
    Motive.OTHER: "#6B7280",
}
UNKNOWN_COLOR = "#B8860B"
OPEN_PATTERN = "/"  # hatching of a bar whose event is still open
OPEN_MARKER_NAME = "En curso (hasta ahora)"
CONTINUES_MARKER_NAME = "Sigue fuera del período"  # ◀ / ▶ at an edge of the range where an event is cut
BAND_COLOR = "rgba(15, 90, 156, 0.06)"  # every other branch's lanes
NOW_COLOR = "#374151"  # a neutral mark: "now" is not an alarm

MAX_LANES = 60  # beyond this a per-POS timeline is no longer readable: events per day instead
LANE_PX = 30
TOP_PX = 80  # legend, then the "ahora" label's row
NOW_ROW_PX = 25
BASE_PX = 160
MIN_HEIGHT_PX = 220


def _as_datetime(value: date | datetime, *, end: bool) -> datetime:
    """An aware moment as it is; a day as its La Paz midnight (``end``: the one that closes it)."""
    if isinstance(value, datetime):
        return to_la_paz(value)
    return day_bounds(value, value)[1 if end else 0]


def figure_height(lane_count: int) -> int:
    return max(MIN_HEIGHT_PX, BASE_PX + LANE_PX * lane_count)


def timeline_figure(
    frame: pd.DataFrame,
    now: datetime,
    start: date | datetime,
    end: date | datetime,
    *,
    lanes: Sequence[Lane] | None = None,
) -> go.Figure:
    """The state timeline of ``frame`` (an ``events_frame``) between ``start`` and ``end``.

    ``start``/``end`` may be days (then the range is ``start`` 00:00 to the end of ``end``)
    or aware datetimes. ``lanes`` are ``(pos_id, label)`` in display order, top first (see
    :func:`cucu.views.historial.lanes`), so POS without events still get their lane; without
    it the lanes are the POS present in ``frame``, by branch then POS name.
    """
    x_start = _as_datetime(start, end=False)
    x_end = _as_datetime(end, end=True)

    lanes = list(lanes or ())
    known = {lane.pos_id for lane in lanes}
    # POS of ``frame`` without a lane (no ``lanes`` given, or a POS no longer in the
    # inventory) get one after the others, by branch then POS name.
    present = frame[[EventColumn.POS_ID, EventColumn.BRANCH_ID, EventColumn.BRANCH, EventColumn.POS]]
    present = present.drop_duplicates(EventColumn.POS_ID).sort_values([EventColumn.BRANCH, EventColumn.POS], kind="stable")
    for pos_id, branch_id, branch, pos in present.itertuples(index=False, name=None):
        if pos_id not in known:
            lanes.append(Lane(pos_id, lane_label(branch, pos), branch_id))
            known.add(pos_id)
    # Lane labels are inventory names and become the y axis' tick labels, which plotly reads as HTML.
    lane_of = {lane.pos_id: plotly_text(lane.label) for lane in lanes}
    labels = [lane_of[lane.pos_id] for lane in lanes]

    fig = go.Figure()
    now_text = wall_clock_text(now)

    # An invisible point per lane: plotly only draws categories that some trace uses.
    fig.add_trace(
        go.Scatter(
            x=[wall_clock_text(x_start)] * len(labels),
            y=labels,
            mode="markers",
            marker={"opacity": 0, "size": 1},
            hoverinfo="skip",
            showlegend=False,
            name="carriles",
        )
    )

    open_x: list[str] = []
    open_y: list[str] = []
    before_y: list[str] = []  # lanes whose event began before the range, with the hover text saying when
    before_text: list[str] = []
    after_y: list[str] = []  # lanes whose event runs past the range (ended later, or still open)
    after_text: list[str] = []
    if not frame.empty:
        work = frame[frame[EventColumn.START].notna()].copy()
        work["_code"] = work[EventColumn.MOTIVE_CODE].fillna(0).astype("int64")
        # Finished events first: the legend shows a motive's first bar, plain rather than hatched.
        work = work.sort_values(EventColumn.STATE, key=lambda s: s == EventState.ACTIVE, kind="stable")
        for code, group in work.groupby("_code", sort=True):
            code = int(code)
            active = (group[EventColumn.STATE] == EventState.ACTIVE).tolist()
            # Drawn within the range: an event that began before it or runs past it is cut at its edge
            # and marked there (``_continues``).
            real_starts = [to_la_paz(v.to_pydatetime()) for v in group[EventColumn.START]]
            real_ends = [
                to_la_paz(now) if is_open or pd.isna(fin) else to_la_paz(fin.to_pydatetime())
                for is_open, fin in zip(active, group[EventColumn.END], strict=True)
            ]
            starts = [wall_clock_text(max(v, x_start)) for v in real_starts]
            ends = [wall_clock_text(min(v, x_end)) for v in real_ends]
            for lane, begun, finish, is_open in zip(group[EventColumn.POS_ID], real_starts, real_ends, active, strict=True):
                if begun < x_start:
                    before_y.append(lane_of[lane])
                    before_text.append(f"Empezó el {begun:%d/%m %H:%M}, antes del período")
                if finish > x_end:
                    after_y.append(lane_of[lane])
                    after_text.append("Sigue abierto" if is_open else f"Terminó el {finish:%d/%m %H:%M}, después del período")
            widths = [
                max(0.0, (pd.Timestamp(e) - pd.Timestamp(s)).total_seconds() * 1000) for s, e in zip(starts, ends, strict=True)
            ]
            y = [lane_of[p] for p in group[EventColumn.POS_ID]]
            custom = [
                [
                    plotly_text(r[EventColumn.BRANCH]),
                    plotly_text(r[EventColumn.POS]),
                    plotly_text(r[EventColumn.MOTIVE]),
                    plotly_text(r[EventColumn.DESCRIPTION] or "—"),
                    fmt_datetime(r[EventColumn.START].to_pydatetime()),
                    "en curso"
                    if is_open
                    else fmt_datetime(None if pd.isna(r[EventColumn.END]) else r[EventColumn.END].to_pydatetime()),
                    fmt_duration(timedelta(hours=float(r[EventColumn.HOURS]))) if pd.notna(r[EventColumn.HOURS]) else "—",
                ]
                for (_, r), is_open in zip(group.iterrows(), active, strict=True)
            ]
            color = MOTIVE_COLORS.get(code, UNKNOWN_COLOR)
            fig.add_trace(
                go.Bar(
                    name=_legend_name(code, group[EventColumn.MOTIVE]),
                    orientation="h",
                    base=starts,
                    x=widths,
                    y=y,
                    customdata=custom,
                    marker={
                        "color": color,
                        "line": {
                            "color": [("#111827" if o else color) for o in active],
                            "width": [1.5 if o else 0.5 for o in active],
                        },
                        "pattern": {
                            "shape": [OPEN_PATTERN if o else "" for o in active],
                            "fillmode": "overlay",
                            "fgcolor": "rgba(255,255,255,0.8)",
                            "solidity": 0.4,
                        },
                    },
                    hovertemplate=(
                        "<b>%{customdata[0]} · %{customdata[1]}</b><br>"
                        "Motivo: %{customdata[2]}<br>"
                        "Descripción: %{customdata[3]}<br>"
                        "Inicio: %{customdata[4]}<br>"
                        "Fin: %{customdata[5]}<br>"
                        "Duración: %{customdata[6]}<extra></extra>"
                    ),
                    legendrank=code,
                )
            )
            # An open event's ▶ at now, when now is within the range (past it, the "continues" mark says so).
            shown = [o and now <= x_end for o in active]
            open_x += [now_text for o in shown if o]
            open_y += [lane for lane, o in zip(y, shown, strict=True) if o]

    if open_x:
        fig.add_trace(
            go.Scatter(
                name=OPEN_MARKER_NAME,
                x=open_x,
                y=open_y,
                mode="markers",
                marker={"symbol": "triangle-right", "size": 11, "color": "#111827"},
                hoverinfo="skip",
                legendrank=100,
            )
        )

    for edge, lanes_at, texts, symbol in (
        (x_start, before_y, before_text, "triangle-left"),
        (x_end, after_y, after_text, "triangle-right"),
    ):
        if lanes_at:
            fig.add_trace(
                go.Scatter(
                    name=CONTINUES_MARKER_NAME,
                    x=[wall_clock_text(edge)] * len(lanes_at),
                    y=lanes_at,
                    mode="markers",
                    marker={"symbol": symbol, "size": 12, "color": "#111827", "line": {"color": "white", "width": 1}},
                    text=texts,
                    hovertemplate="%{text}<extra></extra>",
                    cliponaxis=False,  # a mark at the axis' edge stays whole
                    legendgroup=CONTINUES_MARKER_NAME,
                    showlegend=symbol == "triangle-left" or not before_y,  # one legend entry for both edges
                    legendrank=101,
                )
            )

    _branch_bands(fig, lanes)
    now_shown = x_start <= now <= x_end
    if now_shown:
        fig.add_shape(
            type="line",
            xref="x",
            yref="paper",
            x0=now_text,
            x1=now_text,
            y0=0,
            y1=1,
            line={"color": NOW_COLOR, "width": 1.5, "dash": "dot"},
        )
        fig.add_annotation(
            x=now_text,
            y=1,
            xref="x",
            yref="paper",
            text="ahora",
            showarrow=False,
            yanchor="bottom",
            font={"color": NOW_COLOR, "size": 11},
        )

    span = x_end - x_start
    fig.update_layout(
        barmode="overlay",
        bargap=0.25,
        height=figure_height(len(labels)) - (0 if now_shown else NOW_ROW_PX),
        margin={"l": 10, "r": 10, "t": TOP_PX - (0 if now_shown else NOW_ROW_PX), "b": 40},
        # The legend sits at the very top; the "ahora" label gets the row between it and the lanes.
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1,
            "yanchor": "top",
            "xanchor": "left",
            "x": 0,
            "title": {"text": ""},
        },
        hoverlabel={"align": "left"},
        dragmode=False,
        separators=",.",
    )
    fig.update_xaxes(
        type="date",
        range=[wall_clock_text(x_start), wall_clock_text(x_end)],
        title={"text": "Hora de La Paz"},
        tickformatstops=[
            {"dtickrange": [None, 86_400_000 - 1], "value": "%H:%M<br>%d/%m"},
            {"dtickrange": [86_400_000, None], "value": "%d/%m"},
        ],
        showgrid=True,
        fixedrange=True,
        hoverformat="%d/%m/%Y %H:%M",
        dtick=_dtick(span),
    )
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=labels,
        autorange="reversed",
        range=None,
        fixedrange=True,
        automargin=True,
        title={"text": ""},
    )
    return fig


class DailyField:
    """The fields of ``daily_events_chart``'s rows, one per day and motive (a tooltip names a field by them)."""

    DAY = "Día"  # the axis' "dd/mm"
    DATE = "Fecha"  # the tooltip's "dd/mm/yyyy"
    MOTIVE = "Motivo"
    CODE = "Código"  # the motive's, for the stacking order
    EVENTS = "Eventos"


def daily_events_chart(frame: pd.DataFrame, start: date, end: date, now: datetime | None = None) -> dict[str, Any]:
    """Events in contingency on each day of ``start``..``end`` (an event counts on every day it
    overlaps, also one that began before the range), stacked by motive (colours as in the timeline):
    the overview when there are too many POS for one lane each. An open event runs to ``now`` (without
    it, to the range's end).

    A Vega-Lite spec (Streamlit's own charts), not plotly: a fresh tab draws it in a fraction of what
    plotly.js needs to start, and this is the first thing a chain's Historial shows. Motives are named
    by our labels, never by text from cucu.
    """
    days = pd.date_range(start, end, freq="D")
    work = frame[frame[EventColumn.START].notna()]
    until = _as_datetime(end, end=True) if now is None else min(to_la_paz(now), _as_datetime(end, end=True))
    first = work[EventColumn.START].dt.tz_localize(None).dt.normalize()
    ends = (
        work[EventColumn.END].where(work[EventColumn.STATE] != EventState.ACTIVE).fillna(pd.Timestamp(until)).dt.tz_localize(None)
    )
    # The day of the last instant the event was open (an end at midnight does not count that day).
    last = (ends - pd.Timedelta(microseconds=1)).where(ends > work[EventColumn.START].dt.tz_localize(None), ends).dt.normalize()
    first, last = first.clip(lower=days[0]), last.clip(upper=days[-1])
    spans = ((last - first).dt.days + 1).clip(lower=0).to_numpy()
    offsets = np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans)  # 0, 1, … within each event
    touched = (first.repeat(spans) + pd.to_timedelta(offsets, unit="D")).to_numpy()
    code = work[EventColumn.MOTIVE_CODE].fillna(0).astype("int64").repeat(spans).to_numpy()
    counts = pd.crosstab(touched, code).reindex(days, fill_value=0) if len(touched) else pd.DataFrame(index=days)
    codes = sorted(int(c) for c in counts.columns)
    names = {c: motive_label(c or None) for c in codes}
    rows = [
        {
            DailyField.DAY: d.strftime("%d/%m"),
            DailyField.DATE: d.strftime("%d/%m/%Y"),
            DailyField.MOTIVE: names[c],
            DailyField.CODE: c,
            DailyField.EVENTS: int(counts.at[d, c]),
        }
        for d in days
        for c in codes
    ]
    return {
        "$schema": SCHEMA,
        "config": NO_ENGLISH_ARIA,
        "data": {"values": rows},
        "mark": {"type": "bar"},
        "height": 320,
        "encoding": {
            "x": {
                "field": DailyField.DAY,
                "type": "ordinal",
                "sort": [d.strftime("%d/%m") for d in days],
                "title": None,
                "axis": {"labelAngle": 0},
            },
            "y": {
                "field": DailyField.EVENTS,
                "type": "quantitative",
                "stack": "zero",
                "title": "Eventos en curso",
                "axis": {"format": ",d"},  # "7 000" (the config's locale)
            },
            "color": {
                "field": DailyField.MOTIVE,
                "type": "nominal",
                "scale": {"domain": [names[c] for c in codes], "range": [MOTIVE_COLORS.get(c, UNKNOWN_COLOR) for c in codes]},
                "legend": {"orient": "top", "title": None},
            },
            "order": {"field": DailyField.CODE, "type": "quantitative"},
            "tooltip": [
                {"field": DailyField.DATE, "type": "nominal"},
                {"field": DailyField.MOTIVE, "type": "nominal"},
                {"field": DailyField.EVENTS, "type": "quantitative", "format": ",d"},
            ],
        },
    }


def _legend_name(code: int, texts: pd.Series) -> str:
    """The API's own motive text where it sent one, else our Spanish label (as plotly must show it)."""
    present = [t for t in texts.dropna().tolist() if t]
    return plotly_text(present[0] if present else motive_label(code or None))


def _dtick(span: timedelta) -> float | None:
    """Readable tick spacing (ms): hours for a day, days for a week, weeks for longer."""
    hours = span.total_seconds() / 3600
    if hours <= 26:
        return 2 * 3_600_000
    if hours <= 4 * 24:
        return 12 * 3_600_000
    if hours <= 16 * 24:
        return 86_400_000
    if hours <= 35 * 24:
        return 2 * 86_400_000
    return 7 * 86_400_000


def _branch_bands(fig: go.Figure, lanes: Sequence[Lane]) -> None:
    """Shade every other branch's lanes, so lanes read as grouped by branch."""
    groups: list[tuple[int, int]] = []  # (first index, last index) per run of one branch
    previous = None
    for index, lane in enumerate(lanes):
        branch = lane.branch_id
        if index == 0 or branch != previous:
            groups.append((index, index))
            previous = branch
        else:
            groups[-1] = (groups[-1][0], index)
    for number, (first, last) in enumerate(groups):
        if number % 2:
            fig.add_shape(
                type="rect",
                xref="paper",
                yref="y",
                x0=0,
                x1=1,
                y0=first - 0.5,
                y1=last + 0.5,
                fillcolor=BAND_COLOR,
                line={"width": 0},
                layer="below",
            )
