"""plotly figure builders, one module per page topic; no Streamlit here."""
