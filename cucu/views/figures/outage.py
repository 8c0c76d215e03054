"""The outage dossier's chart: its timeline as marks on a few lanes (connection, alerts, events, invoices), in
the style of Grafana's annotations, over the outage's span. A Vega-Lite spec (Streamlit's own charts); times as
the La Paz wall clock on a UTC scale, as Conectividad's charts; hover texts in Spanish, plain text."""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd

from cucu.connectivity.outages import LANE_ORDER, Dossier
from cucu.formatting import fmt_datetime
from cucu.lapaz import wall_clock
from cucu.views.figures import BASE_CONFIG, SCHEMA
from cucu.vocabulary import Tone


def _utc_text(values: list[Any]) -> list[str]:
    return list(wall_clock(pd.Series(pd.to_datetime(values, utc=True))).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))


def outage_chart(dossier: Dossier, *, height: int = 210) -> dict[str, Any]:
    """One mark per timeline entry on its lane, coloured by what it asks (``Tone``), over a band for the outage."""
    entries = dossier.timeline
    times = _utc_text([t.at for t in entries])
    rows = [
        {
            "t": when,
            "Carril": entry.lane,
            "Hora": fmt_datetime(entry.at, seconds=True),
            "Qué": entry.what,
            "Detalle": textwrap.shorten(entry.detail, 160, placeholder="…"),
            "color": entry.tone.chart_color if entry.tone is not Tone.NONE else Tone.UNKNOWN.chart_color,
        }
        for entry, when in zip(entries, times, strict=True)
    ]
    start, end = _utc_text([dossier.outage.started_at, dossier.until])
    x = {
        "field": "t",
        "type": "temporal",
        "scale": {"type": "utc"},
        "title": None,
        "axis": {"format": "%d/%m %H:%M", "labelOverlap": True},
    }
    return {
        "$schema": SCHEMA,
        "height": height,
        "layer": [
            {  # the outage's span
                "data": {"values": [{"desde": start, "hasta": end}]},
                "mark": {"type": "rect", "color": Tone.PROBLEM.chart_color, "opacity": 0.08},
                "encoding": {
                    "x": {"field": "desde", "type": "temporal", "scale": {"type": "utc"}},
                    "x2": {"field": "hasta"},
                },
            },
            {
                "data": {"values": rows},
                "mark": {"type": "point", "filled": True, "size": 140, "opacity": 0.9},
                "encoding": {
                    "x": x,
                    "y": {"field": "Carril", "type": "nominal", "sort": list(LANE_ORDER), "title": None},
                    "color": {"field": "color", "type": "nominal", "scale": None, "legend": None},
                    "tooltip": [{"field": f, "type": "nominal"} for f in ("Hora", "Qué", "Detalle")],
                },
            },
        ],
        "config": BASE_CONFIG,
    }
