"""Fixtures of the browser tests."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_offline import demo_behind_a_network_path


@pytest.fixture(scope="module")
def behind_a_network():
    """The demo app behind a network path the test can cut, one per test module."""
    with demo_behind_a_network_path() as path:
        yield path
