"""cucu.views.shared_reads: one build per version, slow rebuilds in the background, derived values matching."""

from __future__ import annotations

import threading
import time

from cucu.views import shared_reads
from cucu.views.shared_reads import SharedReads
from tests.support.waiting import wait_until


def test_a_fast_value_is_rebuilt_at_once_when_its_version_moves():
    reads = SharedReads()
    assert reads.behind("x", 1, lambda: "a").value == "a"
    assert reads.behind("x", 1, lambda: "never built").value == "a"
    assert reads.behind("x", 2, lambda: "b") == (2, "b")
    assert reads.builds == 2


def test_a_slow_value_is_served_stale_while_the_new_version_builds(monkeypatch):
    monkeypatch.setattr(shared_reads, "SYNC_BELOW_S", 0.0)  # every build counts as slow
    reads = SharedReads()
    reads.behind("x", 1, lambda: "a")
    release = threading.Event()

    def slow() -> str:
        release.wait(10)
        return "b"

    started = time.perf_counter()
    assert reads.behind("x", 2, slow) == (1, "a")  # the viewer does not wait for the rebuild
    assert reads.behind("x", 2, slow) == (1, "a")  # and a second look starts no second build
    assert time.perf_counter() - started < 1
    release.set()
    wait_until(lambda: reads.behind("x", 2, slow).version == 2, what="the background rebuild")
    assert reads.builds == 2


def test_a_failed_rebuild_keeps_serving_the_last_value(monkeypatch):
    monkeypatch.setattr(shared_reads, "SYNC_BELOW_S", 0.0)
    reads = SharedReads()
    reads.behind("x", 1, lambda: "a")

    def broken() -> str:
        raise RuntimeError("database gone")

    assert reads.behind("x", 2, broken).value == "a"
    wait_until(lambda: not reads._building, what="the failed rebuild")
    assert reads.behind("x", 3, lambda: "c").value == "a"  # tried again, in the background
    wait_until(lambda: reads.behind("x", 3, lambda: "c").value == "c", what="the next rebuild")


def test_derived_values_match_their_source_version():
    reads = SharedReads()
    source = reads.behind("frame", 1, lambda: [1, 2])
    assert reads.now("figure", source.version, lambda: sum(source.value)).value == 3
    newer = reads.behind("frame", 2, lambda: [1, 2, 3])
    assert reads.now("figure", newer.version, lambda: sum(newer.value)).value == 6


def test_many_viewers_at_a_cold_start_build_once():
    reads = SharedReads()
    gate = threading.Event()

    def build() -> str:
        gate.wait(5)
        return "a"

    threads = [threading.Thread(target=reads.behind, args=("x", 1, build)) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert reads.builds == 1


def test_least_recently_used_values_are_dropped():
    reads = SharedReads(max_entries=2)
    for name in ("a", "b", "c"):
        reads.behind(name, 1, str.upper.__get__(name))
    assert reads.behind("c", 1, lambda: "kept").value == "C"
    assert reads.behind("a", 1, lambda: "rebuilt").value == "rebuilt"


def test_soon_builds_a_first_value_in_the_background_and_says_how_long_it_has_run():
    reads = SharedReads()
    release = threading.Event()
    assert reads.soon("informe", 1, lambda: release.wait(5) and "hecho") is None  # started, not waited for
    assert reads.soon("informe", 1, lambda: "otro") is None  # one build at a time
    seconds, failed = reads.building_for("informe")
    assert seconds >= 0 and failed is None
    release.set()
    deadline = time.monotonic() + 5
    while (found := reads.soon("informe", 1, lambda: "otro")) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert found is not None and found.value == "hecho" and reads.builds == 1

    def broken() -> str:
        raise RuntimeError("x")

    assert reads.soon("roto", 1, broken) is None
    deadline = time.monotonic() + 5
    while reads.building_for("roto")[1] is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reads.building_for("roto")[1] == "RuntimeError"  # the page says it failed; the next look tries again
