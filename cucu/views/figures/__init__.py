"""Chart builders (plotly and Vega-Lite specs), one module per page topic; no Streamlit here."""

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# Vega writes an English ARIA label on each axis and legend ("X-axis for a utc scale with values from ...");
# the marks keep their own labels, which are the tooltip's Spanish fields.
# Numbers as a supervisor reads them (cucu.formatting): "7 000", "37,5", with a format that groups (",d", ",.1f").
SPANISH_NUMBERS = {"number": {"decimal": ",", "thousands": " ", "grouping": [3], "currency": ["", ""]}}
NO_ENGLISH_ARIA = {"axis": {"aria": False}, "legend": {"aria": False}, "locale": SPANISH_NUMBERS}
# What the dashboard's Vega-Lite charts share: the page's own background and font, no frame around the plot.
BASE_CONFIG = {"view": {"stroke": None}, "background": None, "font": "sans-serif", **NO_ENGLISH_ARIA}
