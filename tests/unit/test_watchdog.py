"""The watchdog's HTML: the mark of the run's data and the health URL under the deployment's base path."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from ui.watchdog import watchdog_html


def config_of(html: str) -> dict:
    return json.loads(re.search(r"const CONFIG = (\{.*?\});", html).group(1))  # type: ignore[union-attr]


def test_marks_the_time_of_the_runs_data_in_la_paz_and_each_run_apart():
    at = datetime(2026, 3, 2, 18, 3, 12, tzinfo=UTC)
    first, second = watchdog_html(at, 10), watchdog_html(at, 10)
    assert 'data-cucu-datos="14:03:12"' in first  # La Paz is UTC-4
    runs = [re.search(r'data-cucu-corrida="(\w+)"', h).group(1) for h in (first, second)]  # type: ignore[union-attr]
    assert runs[0] != runs[1]  # a new run is fresh data even within the same second


def test_asks_health_under_the_base_path():
    at = datetime(2026, 3, 2, tzinfo=UTC)
    assert config_of(watchdog_html(at, 10))["health"] == "/_stcore/health"
    assert config_of(watchdog_html(at, 10, "contingencia"))["health"] == "/contingencia/_stcore/health"
    assert config_of(watchdog_html(at, 10, "/a/b/"))["health"] == "/a/b/_stcore/health"


def test_polls_within_the_ten_seconds_and_waits_two_live_periods_before_reloading():
    config = config_of(watchdog_html(datetime(2026, 3, 2, tzinfo=UTC), 10))
    assert config["pollMs"] + config["timeoutMs"] < 10_000
    assert config["reloadConnectedAfterPolls"] * config["pollMs"] > 2 * 10_000
