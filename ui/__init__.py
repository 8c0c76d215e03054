"""Streamlit-side helpers shared by app.py and the pages (resources, shell, widgets).

Logic lives in ``cucu/``; this package only turns it into Streamlit calls.
"""
