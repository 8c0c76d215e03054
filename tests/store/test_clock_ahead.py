"""No test depends on today's date: the run a year ahead (``tests/clock-ahead.sh``) moves every
process's wall clock and nothing else, and the tests where fixed dates, the database's clock and other
processes meet pass under it. The whole suite a year ahead is by hand (README, "Tests")."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "clock-ahead.sh"
YEAR = timedelta(days=365)

PROBE = """
import json, sqlite3, threading, time
from datetime import UTC, datetime
from tests.support.postgres import postgres_cluster
import sqlalchemy as sa

mono, wall = time.monotonic(), datetime.now(UTC)
waited = time.monotonic()
threading.Event().wait(0.2)  # a lock's timed wait: libfaketime 0.9.10 made it last the whole shift
time.sleep(0.05)
waited = time.monotonic() - waited
sqlite_now = sqlite3.connect(":memory:").execute("SELECT strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')").fetchone()[0]
with postgres_cluster() as url:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pg_now = conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()
    engine.dispose()
print(json.dumps({"wall": wall.isoformat(), "mono": mono, "waited": waited, "sqlite": sqlite_now, "pg": pg_now.isoformat()}))
"""

# Where fixed dates, the database's clock and other processes meet: the outbox's give-up age (the
# case that broke on 2026-12-04), a collector service sharing a SQLite database with the test,
# the verification window on the database's clock, and the day cache's "today".
DATE_SENSITIVE = [
    "tests/store/test_alerts.py::test_a_failing_channel_is_retried_with_backoff_and_the_error_is_redacted",
    "tests/store/test_collector_service.py::test_service_polls_leads_follows_the_inventory_and_stops_on_sigterm",
    "tests/store/test_actions.py::test_unverifiable_start_stays_in_verification_then_is_given_up",
    "tests/store/test_history.py",
]


def ahead(days: int, *command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), str(days), *command], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_every_process_reads_the_wall_clock_a_year_ahead_and_waits_stay_real():
    before, mono_before = datetime.now(UTC), time.monotonic()
    run = ahead(365, sys.executable, "-c", PROBE, timeout=120)
    after, mono_after = datetime.now(UTC), time.monotonic()
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    for clock in ("wall", "sqlite", "pg"):  # Python's, SQLite's inside it, a PostgreSQL server's
        moment = datetime.fromisoformat(seen[clock])
        assert before + YEAR - timedelta(seconds=1) <= moment <= after + YEAR + timedelta(seconds=1), (clock, moment)
    assert mono_before <= seen["mono"] <= mono_after  # the monotonic clock is not moved
    assert 0.2 <= seen["waited"] < 5


def test_the_date_sensitive_tests_pass_a_year_ahead(tmp_path):
    run = ahead(
        365,
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-n",
        "0",  # in this process: the suite around it already uses every core
        "--basetemp",
        str(tmp_path / "ahead"),
        # SQLite's clock moves with the process (the probe above shows PostgreSQL's does too): no
        # second cluster to start inside the suite's budget.
        "-k",
        "not postgresql",
        *DATE_SENSITIVE,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-5000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout
