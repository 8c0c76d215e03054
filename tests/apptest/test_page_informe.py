"""AppTest: Informe mensual (issue 26, part 4) — the month's figures per region and branch after an outage in the
simulator, both downloads, a month with no checks kept said unknown, a scoped person's report of their
branches only, a region chosen in the URL, and grids whose times, durations and counts are typed."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pandas as pd
import pytest

from cucu.access import Identity
from cucu.reports import compliance
from tests.support.apptest import SUPERVISOR_OFF, run_app, texts
from tests.support.scoped import seed_every_region

PAGE = "pages/informe.py"
BUILDING = "en segundo plano"
TEXT = {
    "Indicador",
    "Valor",
    "Región",
    "Sucursal",
    "Ciudad",
    "Qué",
    "Estado",
    "Motivo",
    "Origen",
    "Código SIAT",
    "Qué significa y qué hacer",
}


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


def configs(frame) -> dict[str, dict]:
    return json.loads(frame.proto.columns) if frame.proto.columns else {}


def column_type(frame, column) -> tuple[str | None, str | None]:
    """The grid column's type and format, as its column_config says."""
    config = configs(frame).get(f"{column}") or {}
    kind = config.get("type_config", {})
    return kind.get("type"), kind.get("format")


def test_the_grids_times_durations_and_counts_are_typed(sim, seeded_runtime, app_secrets):
    """No duration as text (it sorted as text), no time without La Paz's format, no grey "None": every time is a La
    Paz datetime, every duration a timedelta shown as an elapsed clock, every count a whole number."""
    seed_every_region(sim, seeded_runtime, "La Paz")
    at = run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF)
    built(at.selectbox(key="informe_mes").select_index(0).run())
    assert not at.exception
    assert all(d.proto.placeholder == "—" for d in at.dataframe)
    assert all(len(d.value) for d in at.dataframe)  # an empty grid would read "empty": a sentence instead
    outages = next(d for d in at.dataframe if "Desde" in d.value.columns)
    table = outages.value
    assert len(table) >= 1 and table.loc[0, "Qué"] == "SIAT no responde"
    assert isinstance(table["Desde"].dtype, pd.DatetimeTZDtype) and isinstance(table["Hasta"].dtype, pd.DatetimeTZDtype)
    assert pd.api.types.is_timedelta64_dtype(table["Duración"]) and (table["Duración"] > timedelta(0)).all()
    for column in ("Desde", "Hasta"):
        config = configs(outages)[column]["type_config"]
        assert (config["type"], config["format"], config["timezone"]) == ("datetime", "DD/MM/YYYY HH:mm", "America/La_Paz")
    assert column_type(outages, "Duración") == ("number", "compact")  # ui.widgets.elapsed_column
    assert column_type(outages, "Eventos") == ("number", "%d")
    branches = next(d for d in at.dataframe if "Ciudad" in d.value.columns)
    hours = branches.value["Horas en contingencia (POS·h)"]
    assert pd.api.types.is_timedelta64_dtype(hours) and hours.max() > timedelta(0)
    assert list(hours) == sorted(hours, reverse=True)  # sorted by value, the most trouble first
    assert pd.api.types.is_timedelta64_dtype(branches.value["Min. a iniciar (mediana)"])
    assert column_type(branches, "Horas en contingencia (POS·h)") == ("number", "compact")
    assert column_type(branches, "Min. a iniciar (mediana)") == ("number", "compact")
    assert column_type(branches, "Validadas a tiempo (%)") == ("number", "%d %%")  # no decimal point
    assert column_type(branches, "Eventos") == ("number", "%d")
    motives = next(d for d in at.dataframe if "Origen" in d.value.columns)
    assert column_type(motives, "Eventos") == ("number", "%d")


def test_a_region_in_the_url_narrows_the_report_to_its_branches(sim, seeded_runtime, app_secrets):
    seed_every_region(sim, seeded_runtime, "La Paz")
    at = run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF, query={"region": "Santa Cruz"})
    built(at.selectbox(key="informe_mes").select_index(0).run())
    assert not at.exception
    santa_cruz = {b.name for b in sim.inventory.branches if b.region == "Santa Cruz"}
    regions = next(d.value for d in at.dataframe if "Región" in d.value.columns and "Sucursales" in d.value.columns)
    assert list(regions["Región"]) == ["Santa Cruz"]
    branches = next(d.value for d in at.dataframe if "Ciudad" in d.value.columns)
    assert set(branches["Sucursal"]) == santa_cruz
    assert f"Sucursales ({len(santa_cruz)}), las de más problemas primero" in [h.value for h in at.subheader]
    motives = next(d.value for d in at.dataframe if "Origen" in d.value.columns)
    assert set(motives["Región"]) == {"Santa Cruz"}
    summary = dict(next(d.value for d in at.dataframe if "Indicador" in d.value.columns).values)
    pos = sum(len(b.pos) for b in sim.inventory.branches if b.region == "Santa Cruz")
    assert summary["Sucursales · POS"] == f"{len(santa_cruz)} · {pos}"
    at.multiselect(key="region").set_value([]).run()  # every region again
    assert len(next(d.value for d in at.dataframe if "Ciudad" in d.value.columns)) == len(sim.inventory.branches)


def test_a_scoped_person_chooses_among_their_regions_only(sim, seeded_runtime, app_secrets, monkeypatch):
    monkeypatch.setattr("ui.identity.signed_in_identity", lambda access: Identity("rosa"))
    access = {"mode": "proxy", "users": {"rosa": {"role": "viewer", "regions": ["La Paz", "Santa Cruz"]}}}
    at = run_app(app_secrets, page=PAGE, access=access)
    assert not at.exception
    assert at.multiselect(key="region").options == ["La Paz", "Santa Cruz"]
    mine = {b.name for b in sim.inventory.branches if b.region in ("La Paz", "Santa Cruz")}
    assert set(at.multiselect(key="sucursal").options) == mine


def test_a_month_not_read_shows_no_empty_grid_and_no_python_word(sim, seeded_runtime, app_secrets):
    """Last month in the simulator: no event of it read, no invoice (they are read 72 h back). No grid without rows
    (it reads "empty") but a sentence saying unknown; every count column numeric, an unknown one NaN shown as the
    placeholder (an object column of None read "None")."""
    seed_every_region(sim, seeded_runtime, "La Paz")
    at = built(run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF))  # the last whole month first
    assert not at.exception
    assert all(len(d.value) for d in at.dataframe)
    said = texts(at)
    assert "— (las facturas de este período no se leyeron)" in said
    assert "— (los eventos de este período no se conocen todavía)" in said
    regions = next(d for d in at.dataframe if "Sucursales" in d.value.columns).value
    for column in ("Eventos", "Fuera del tablero", "Facturas fuera de línea", "Validadas a tiempo (%)", "Rechazadas"):
        assert pd.api.types.is_float_dtype(regions[column]) and regions[column].isna().all(), column
    assert not any(pd.api.types.is_object_dtype(t) for d in at.dataframe for c, t in d.value.dtypes.items() if c not in TEXT)
