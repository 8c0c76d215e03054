"""The suite's one way to wait: for a condition, never for a fixed time; and a process served until ready."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx

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


def _status_ok(response: httpx.Response) -> bool:
    return response.status_code == 200


def wait_until_ok(
    url: str,
    proc: subprocess.Popen[Any],
    what: str,
    timeout_s: float = 60,
    ok: Callable[[httpx.Response], bool] = _status_ok,
) -> None:
    """Until ``url`` answers as ``ok`` says. ``RuntimeError`` (not a test failure: the environment's)
    when the process exits first or nothing answers in time."""

    def answered() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early")
        try:
            return ok(httpx.get(url, timeout=1))
        except httpx.HTTPError:
            return False

    try:
        wait_until(answered, timeout_s, what=what, poll_s=0.2)
    except AssertionError:
        raise RuntimeError(f"{what} did not answer in time") from None


@contextmanager
def served(cmd: Sequence[str], ready_url: str, what: str, timeout_s: float = 30, **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """Run ``cmd`` until ``ready_url`` answers 200, hand the process over, stop it afterwards."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    proc = subprocess.Popen(list(cmd), **popen)
    try:
        wait_until_ok(ready_url, proc, what, timeout_s=timeout_s)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
