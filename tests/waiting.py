"""The suite's one way to wait: for a condition, never for a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout_s: float = 5.0, *, what: str = "the condition", poll_s: float = 0.02) -> T:
    """Return ``condition()``'s first truthy value; fail the test if none comes within ``timeout_s``.

    ``timeout_s`` is a ceiling for a broken run, not a measurement: a healthy run returns as soon as
    the condition holds.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(poll_s)
