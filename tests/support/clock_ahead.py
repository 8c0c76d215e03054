"""The run a year ahead (``bash tests/clock-ahead.sh 365 ...``, README "Tests"): what a child process
needs to read the same shifted clock as the test that starts it."""

from __future__ import annotations

import os

CLOCK_VARS = ("LD_PRELOAD", "CLOCK_AHEAD_DAYS")


def inherited_clock() -> dict[str, str]:
    """For a child started with an environment of its own: without these it would read today's clock
    while the test and the database it shares read the shifted one."""
    return {name: os.environ[name] for name in CLOCK_VARS if name in os.environ}
