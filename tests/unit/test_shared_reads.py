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


def test_a_periods_report_is_built_again_at_most_every_ten_minutes_whatever_was_written(monkeypatch):
    """Informe mensual (``ui.resources.at_most_every``): a chain's month costs seconds of the server's CPU; built
    again at every look after a write (the collector writes every minute), it slowed every other page."""
    from types import SimpleNamespace

    from ui import resources

    clock = [1_200_000.0]  # a multiple of 600: the start of a ten-minute span
    monkeypatch.setattr(resources.time, "time", lambda: clock[0])
    runtime = SimpleNamespace(shared=SharedReads())
    built: list[float] = []

    def build() -> float:
        built.append(clock[0])
        return clock[0]

    def look():
        return resources.at_most_every(runtime, "informe", 600, build)  # type: ignore[arg-type]

    assert look() is None  # the first build runs in the background: the page says so
    wait_until(lambda: look() is not None, what="the first build")
    clock[0] += 599  # writes meanwhile change nothing
    assert look().value == 1_200_000.0 and built == [1_200_000.0]
    clock[0] += 1  # ten minutes on: the last one is served while the next builds
    assert look().value in (1_200_000.0, 1_200_600.0)
    wait_until(lambda: look().value == 1_200_600.0, what="the rebuild after ten minutes")
    assert built == [1_200_000.0, 1_200_600.0]
