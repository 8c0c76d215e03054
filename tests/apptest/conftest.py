"""AppTest page tests: every one builds its own runtime on clean Streamlit caches."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_streamlit_caches(streamlit_caches):
    """``streamlit_caches`` around every test here (st.cache_resource is process-wide)."""
