"""cucu.workers: heavy builds in a worker process, out of the web server's interpreter."""

from __future__ import annotations

import os
import signal

import pytest

from cucu.workers import Workers


def _pid() -> int:
    return os.getpid()


def _refuse(text: str) -> None:
    raise ValueError(text)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # killed (out of memory, by hand) in the middle of a build


def test_builds_run_in_kept_worker_processes_and_their_failure_reaches_the_caller():
    from cucu.workers import PROCESSES

    workers = Workers()
    try:
        workers.start()
        pids = {workers.run(_pid) for _ in range(6)}
        assert os.getpid() not in pids and len(pids) <= PROCESSES  # other processes, kept between builds
        with pytest.raises(ValueError, match="sin datos"):
            workers.run(_refuse, "sin datos")
        pids |= {workers.run(_pid) for _ in range(6)}
        assert len(pids) <= PROCESSES  # a build that raised does not cost its process
    finally:
        workers.close()


def test_a_worker_that_died_is_replaced_at_the_next_build():
    from concurrent.futures.process import BrokenProcessPool

    workers = Workers()
    try:
        first = {workers.run(_pid) for _ in range(4)}
        with pytest.raises(BrokenProcessPool):
            workers.run(_die)
        assert workers.run(_pid) not in {*first, os.getpid()}
    finally:
        workers.close()
    with pytest.raises(RuntimeError):
        workers.run(_pid)  # closed with its runtime
