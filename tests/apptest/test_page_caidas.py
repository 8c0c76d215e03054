"""AppTest: Caídas (issue 25, part 5) — a SIAT outage in the simulator is listed with its state, and its dossier
follows it on one timeline (first failed check, declared, events started by whom, SIAT back, events ended), with
its summary and the evidence as a workbook."""

from __future__ import annotations

import io

import pandas as pd

from cucu.connectivity.outages import read_outage_list, read_outages
from cucu.events.actions import Actor
from cucu.vocabulary import Motive, OutageKind, Role
from tests.support.apptest import SUPERVISOR_OFF, run_app, texts

PAGE = "pages/caidas.py"
ANA = Actor("ana@empresa.bo", "Ana Quispe", Role.SUPERVISOR)


def siat_outage(sim, runtime) -> list[str]:
    """SIAT down for four checks, Ana starts motive 2 on three POS, SIAT back, she ends them."""
    sim.update_faults({"siat_down": True})
    for _ in range(4):
        runtime.collector.check_once()
    runtime.collector.sweep_once()
    free = [p.id for p in runtime.actions.plan_siat_outage().to_start][:3]
    runtime.actions.start(ANA, free, Motive.SIAT_FAILURE, "SIAT no responde desde la mañana")
    sim.update_faults({"siat_down": False})
    runtime.collector.check_once()
    runtime.collector.sweep_once()
    runtime.actions.end(ANA, runtime.actions.end_targets(free))
    runtime.collector.sweep_once()
    return free


def test_a_siat_outage_is_listed_and_its_dossier_follows_it(sim, seeded_runtime, app_secrets):
    started = siat_outage(sim, seeded_runtime)
    now = seeded_runtime.store.now()
    (outage,) = [o for o in read_outages(seeded_runtime.store, now.replace(hour=0, minute=0), now) if o.kind is OutageKind.SIAT]
    at = run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF)
    assert not at.exception
    listing = next(d for d in at.dataframe if "Expediente" in d.value.columns).value
    siat = listing[listing["Qué"] == "SIAT no responde"]
    assert len(siat) == 1 and siat["Expediente"].iloc[0] == f"caidas?caida={outage.key}#Ver"

    at.query_params["caida"] = outage.key
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    body = texts(at)
    assert "Caída: SIAT no responde" in body
    timeline = next(d for d in at.dataframe if "Cuándo" in d.value.columns).value
    said = list(timeline["Qué"])
    for what in (
        "Primera comprobación fallida",
        "SIAT declarado caído",
        "Eventos iniciados",
        "SIAT volvió",
        "Eventos finalizados",
    ):
        assert any(what in s for s in said), (what, said)
    assert timeline["Cuándo"].is_monotonic_increasing
    assert any("por Ana Quispe" in d for d in timeline["Detalle"])  # who started them
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Puntos de venta"] == str(len(started))
    events = next(d for d in at.dataframe if "Iniciado por" in d.value.columns).value
    assert set(events["Iniciado por"]) == {"Ana Quispe"}
    download = next(b for b in at.get("download_button") if b.proto.label.startswith("Descargar el expediente"))
    assert download is not None
    # The failed checks' grid is drawn once its expander is opened, each of cucu's answers.
    assert not [d for d in at.dataframe if "Respuesta de cucu" in d.value.columns]
    at.session_state["caida_ver_comprobaciones"] = True
    at.run()
    checks = next(d for d in at.dataframe if "Respuesta de cucu" in d.value.columns).value
    assert len(checks) == 4 and set(checks["Respuesta de cucu"]) == {"SIAT no responde"}


def test_the_dossier_workbook_holds_the_evidence(sim, seeded_runtime):
    from cucu.connectivity.outages import read_dossier
    from cucu.views.caidas import dossier_xlsx

    siat_outage(sim, seeded_runtime)
    now = seeded_runtime.store.now()
    (outage,) = [o for o in read_outages(seeded_runtime.store, now.replace(hour=0, minute=0), now) if o.kind is OutageKind.SIAT]
    dossier = read_dossier(seeded_runtime.store, seeded_runtime.inventory, outage, now)
    # Its chart: one mark per entry, each on its lane (only "Caída cerrada" on the outage's own).
    from cucu.views.figures.outage import outage_chart

    marks = outage_chart(dossier)["layer"][1]["data"]["values"]
    assert [m["Qué"] for m in marks] == [t.what for t in dossier.timeline]
    assert all(t.lane != "Caída" or t.what == "Caída cerrada" for t in dossier.timeline)
    _, states = read_outage_list(seeded_runtime.store, now.replace(hour=0, minute=0), now)
    assert states[outage.key] is dossier.state  # the list says what the dossier says
    sheets = pd.read_excel(io.BytesIO(dossier_xlsx(dossier, seeded_runtime.inventory)), sheet_name=None)
    assert list(sheets) == ["Resumen", "Línea de tiempo", "Comprobaciones fallidas", "Eventos", "Facturas", "Notas"]
    assert len(sheets["Comprobaciones fallidas"]) == 4  # each of cucu's "SIAT no responde" answers
    assert set(sheets["Comprobaciones fallidas"]["Respuesta de cucu"]) == {"SIAT no responde"}
    assert len(sheets["Eventos"]) == 3 and set(sheets["Eventos"]["Iniciado por"]) == {"Ana Quispe"}
    summary = dict(zip(sheets["Resumen"]["Dato"], sheets["Resumen"]["Valor"], strict=True))
    assert summary["Caída"] == "SIAT no responde" and str(summary["Puntos de venta afectados"]) == "3"


def test_an_unknown_outage_link_says_so_in_spanish(app_secrets, seeded_runtime):
    at = run_app(app_secrets, page=PAGE, query={"caida": "siat-20200101T000000Z"})
    assert not at.exception and "No se encontró esa caída" in texts(at)


def test_without_outages_the_list_says_so(app_secrets, seeded_runtime):
    at = run_app(app_secrets, page=PAGE)
    assert not at.exception
    # The demo's seeded history may hold a branch's internet outage; SIAT's none.
    assert "Ninguna caída en ese período." in texts(at) or not any(
        "SIAT no responde" in set(d.value.get("Qué", [])) for d in at.dataframe
    )


def test_the_dossier_prints_as_a_pdf_in_spanish(sim, seeded_runtime):
    import re
    import zlib

    from cucu.connectivity.outages import read_dossier
    from cucu.views.caidas import dossier_pdf
    from cucu.views.export import pdf_text

    siat_outage(sim, seeded_runtime)
    now = seeded_runtime.store.now()
    (outage,) = [o for o in read_outages(seeded_runtime.store, now.replace(hour=0, minute=0), now) if o.kind is OutageKind.SIAT]
    pdf = dossier_pdf(read_dossier(seeded_runtime.store, seeded_runtime.inventory, outage, now), seeded_runtime.inventory)
    assert pdf.startswith(b"%PDF-")
    pages = b"".join(zlib.decompress(m) for m in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S) if m[:1] == b"x")
    for said in ("Expediente de ca", "Comprobaciones fallidas", "Ana Quispe", "SIAT declarado ca"):
        assert said.encode("latin-1") in pages, said
    assert pdf_text("🟢 Cerrada — 05/12") == "Cerrada - 05/12"  # no glyph the built-in fonts lack
    assert pdf_text("Facturación «Sucre» ·") == "Facturación «Sucre» ·"


def test_a_dossier_reads_the_stored_events_once_and_is_the_outage_found_then_read(sim, seeded_runtime, monkeypatch):
    """``dossier_of`` (Caídas' link, built once a minute while someone looks) reads the checks and a chain's
    10 000 stored events once for finding the outage and for its dossier, and builds what reading them apart does."""
    from cucu.connectivity.outages import dossier_of, read_dossier

    siat_outage(sim, seeded_runtime)
    store, inventory = seeded_runtime.store, seeded_runtime.inventory
    now = store.now()
    (outage,) = [o for o in read_outages(store, now.replace(hour=0, minute=0), now) if o.kind is OutageKind.SIAT]
    apart = read_dossier(store, inventory, outage, now)
    reads = []
    days_with_events = store.days_with_events

    def counted(*args, **kwargs):
        reads.append(args)
        return days_with_events(*args, **kwargs)

    monkeypatch.setattr(store, "days_with_events", counted)
    assert dossier_of(store, inventory, outage.key, now) == apart
    assert len(reads) == 1
    assert dossier_of(store, inventory, "siat-nunca", now) is None
    assert dossier_of(store, inventory, "siat-20000101T000000Z", now) is None
