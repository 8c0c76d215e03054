"""AppTest page tests: every one builds its own runtime on clean Streamlit caches."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_streamlit_caches(streamlit_caches):
    """``streamlit_caches`` around every test here (st.cache_resource is process-wide)."""


@pytest.fixture
def invoicing_runtime(seeded_runtime):
    """The seeded runtime after one CUFD round (the demo's seed has one expired and one inactive) and invoice rounds
    until a full pass."""
    seeded_runtime.collector.cufd_once()
    seeded_runtime.collector.backfill_days = 4  # the ended events the invoices of 72 h belong to
    seeded_runtime.collector.backfill_everything()
    while not seeded_runtime.collector.invoices_once().pass_done:
        pass
    return seeded_runtime
