"""AppTest: Informe mensual (issue 26, part 4) — the month's figures per region and branch after an outage in the
simulator, both downloads, a month with no checks kept said unknown, and a scoped person's report of their
branches only."""

from __future__ import annotations

import time

import pytest

from cucu.access import Identity
from cucu.reports import compliance
from tests.support.apptest import SUPERVISOR_OFF, run_app, texts
from tests.support.scoped import seed_every_region

PAGE = "pages/informe.py"
BUILDING = "en segundo plano"


def built(at):
    """Rerun until the report built in the background is shown (a fragment polls for it in a browser)."""
    for _ in range(100):
        if BUILDING not in texts(at):
            return at
        time.sleep(0.05)
        at.run()
    raise AssertionError("el informe no se armó")


def test_the_first_build_of_a_period_runs_in_the_background_and_says_so(sim, seeded_runtime, app_secrets, monkeypatch):
    import threading

    release = threading.Event()
    real = compliance.compliance_report

    def slow(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr("cucu.reports.compliance.compliance_report", slow)
    # Here in the test's process (a local function does not reach the worker process): the page's part is tested.
    monkeypatch.setattr("ui.resources.apart", lambda runtime, read, *a, **k: read(runtime.store, runtime.inventory, *a, **k))
    at = run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF)
    assert BUILDING in texts(at) and not at.metric  # the page answers at once, the report is on its way
    release.set()
    assert {m.label for m in built(at).metric} >= {"Eventos", "Disponibilidad de SIAT"}


def test_this_months_report_after_an_outage(sim, seeded_runtime, app_secrets):
    seed_every_region(sim, seeded_runtime, "La Paz")
    at = run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF)
    built(at.selectbox(key="informe_mes").select_index(0).run())  # this month, until today: the outage is in it
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Eventos"] != "0" and metrics["Disponibilidad de SIAT"] not in ("—", "100 %")
    regions = next(d.value for d in at.dataframe if "Región" in d.value.columns and "Sucursales" in d.value.columns)
    assert {"La Paz", "Santa Cruz"} <= set(regions["Región"])
    branches = next(d.value for d in at.dataframe if "Sucursal" in d.value.columns and "Ciudad" in d.value.columns)
    hours = list(branches["Horas en contingencia (POS·h)"])
    assert hours == sorted(hours, reverse=True)  # the most trouble first
    assert {b.proto.label for b in at.get("download_button")} == {"Descargar el informe (Excel)", "Descargar el informe (PDF)"}


def test_a_month_whose_checks_are_gone_says_so(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF)
    built(at.selectbox(key="informe_mes").select_index(12).run())  # a year ago
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Disponibilidad de SIAT"] == "—"
    assert "las comprobaciones se guardan 35 días" in texts(at)
    # nor is any of its history read from cucu (beyond the backfill's days): its events are unknown, not 0
    assert metrics["Eventos"] == "—" and metrics["Horas en contingencia (POS·h)"] == "—"
    [note] = [w.value for w in at.warning if "no se conocen todavía" in w.value]
    assert "no se completan solos (CUCU_BACKFILL_DAYS)" in note


@pytest.mark.parametrize("user", ["luis"])
def test_a_scoped_supervisors_report_covers_their_region(sim, seeded_runtime, app_secrets, monkeypatch, user):
    seed_every_region(sim, seeded_runtime, "La Paz")
    monkeypatch.setattr("ui.identity.signed_in_identity", lambda access: Identity(user))
    access = {"mode": "proxy", "users": {"luis": {"role": "supervisor", "regions": ["La Paz"]}}}
    at = run_app(app_secrets, page=PAGE, access=access)
    built(at.selectbox(key="informe_mes").select_index(0).run())
    regions = next(d.value for d in at.dataframe if "Región" in d.value.columns and "Sucursales" in d.value.columns)
    assert list(regions["Región"]) == ["La Paz"]
