"""AppTest: Caídas (issue 25, part 5) — a SIAT outage in the simulator is listed with its state, and its dossier
follows it on one timeline (first failed check, declared, events started by whom, SIAT back, events ended), with
its summary and the evidence as a workbook."""

from __future__ import annotations

import io
from datetime import timedelta

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
    # Time in contingency written as every duration on the page ("1 d 19 h", "12 s"), never as hours "37,5".
    from cucu.connectivity.outages import read_dossier
    from cucu.formatting import fmt_duration

    spent = read_dossier(seeded_runtime.store, seeded_runtime.inventory, outage, now).contingency_time
    assert metrics["Tiempo en contingencia"] == fmt_duration(spent)  # seconds here: the simulator's events are short
    assert outage.ended_at is not None and metrics["Duración"] == fmt_duration(outage.ended_at - outage.started_at)
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


def two_siat_outages_and_a_branchs(runtime):
    """SIAT down three days ago and five hours ago (three "down" checks each, then an answer), and a branch's
    internet 20 h ago (motive 1 at two of its POS five minutes apart), all before the store's clock: no test
    depends on today's date. Returns the three outages' keys, newest first, and the branch."""
    from dataclasses import replace

    from cucu.connectivity.outages import outage_key
    from cucu.store import ConnectivityCheck, DayEvents
    from tests.unit.test_frames import event

    store, inventory = runtime.store, runtime.inventory
    now = store.now().replace(second=0, microsecond=0)
    old, recent, internet = now - timedelta(days=3), now - timedelta(hours=5), now - timedelta(hours=20)
    for start, back in ((old, timedelta(minutes=10)), (recent, timedelta(minutes=30))):
        store.add_checks(
            [*(ConnectivityCheck(start + timedelta(minutes=m), False, 50.0) for m in range(3)),
             ConnectivityCheck(start + back, True, 50.0)]
        )  # fmt: skip
    branch = inventory.branches[2]
    events = [
        replace(event(pos, internet + timedelta(minutes=5 * n), internet + timedelta(hours=1), motive=1, eid=f"int-{n}"),
                branch_id=branch.id)
        for n, pos in enumerate(branch.pos[:2])
    ]  # fmt: skip
    store.put_days([DayEvents(e.pos_id, branch.id, internet.date(), now, False, (e,)) for e in events])
    keys = [
        outage_key(OutageKind.SIAT, recent),
        outage_key(OutageKind.BRANCH_INTERNET, internet, branch.id),
        outage_key(OutageKind.SIAT, old),
    ]
    return keys, branch


def listed(at) -> pd.DataFrame:
    return next(d for d in at.dataframe if "Expediente" in d.value.columns).value


def keys_in(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    """Which of ``keys`` the list links to, in the list's order."""
    links = list(frame["Expediente"])
    return [k for link in links for k in keys if link == f"caidas?caida={k}#Ver"]


def test_the_list_is_newest_first_and_its_period_and_branch_narrow_it(seeded_runtime, app_secrets):
    from cucu.views.links import BRANCH_PARAM

    keys, branch = two_siat_outages_and_a_branchs(seeded_runtime)
    today = seeded_runtime.store.now().date()
    at = run_app(app_secrets, page=PAGE)
    assert not at.exception, [e.value for e in at.exception]
    frame = listed(at)
    assert keys_in(frame, keys) == keys  # newest first: SIAT 5 h ago, the branch 20 h ago, SIAT 3 days ago
    assert frame["Inicio"].is_monotonic_decreasing
    grid = next(d for d in at.dataframe if "Expediente" in d.value.columns)
    assert "Marcada como mantenimiento" not in grid.proto.column_order  # none marked: the tablet's six columns
    # A period of yesterday and today: the outage of three days ago is not in it.
    at.date_input(key="caidas_fechas").set_value((today - timedelta(days=1), today)).run()
    assert not at.exception
    assert keys_in(listed(at), keys) == keys[:2]
    # Four to two days ago: only that one.
    at.date_input(key="caidas_fechas").set_value((today - timedelta(days=4), today - timedelta(days=2))).run()
    assert keys_in(listed(at), keys) == keys[2:]
    # Back to the last 7 days, another branch: SIAT's outages (they reach every branch), not the branch's internet.
    at.date_input(key="caidas_fechas").set_value((today - timedelta(days=6), today)).run()
    other = next(b for b in seeded_runtime.inventory.branches if b.id != branch.id)
    at.multiselect(key=BRANCH_PARAM).select(other.id).run()
    assert not at.exception
    frame = listed(at)
    assert keys_in(frame, keys) == [keys[0], keys[2]]
    assert set(frame["Sucursal"]) <= {"Toda la empresa", other.name}
    at.multiselect(key=BRANCH_PARAM).unselect(other.id).select(branch.id).run()
    assert keys_in(listed(at), keys) == keys
    assert set(listed(at)["Sucursal"]) <= {"Toda la empresa", branch.name}


def siat_dossier_open(sim, runtime, app_secrets, access=SUPERVISOR_OFF):
    siat_outage(sim, runtime)
    now = runtime.store.now()
    (outage,) = [o for o in read_outages(runtime.store, now.replace(hour=0, minute=0), now) if o.kind is OutageKind.SIAT]
    return outage, run_app(app_secrets, page=PAGE, access=access, query={"caida": outage.key})


def test_a_supervisor_marks_the_outage_as_maintenance_from_its_dossier(sim, seeded_runtime, app_secrets):
    """Issue 25, part 3: a past outage marked as maintenance after the fact, with a reason, audited; its own start
    and end through ``mark_past``; the dossier and the list say so, with the reason."""
    from cucu.vocabulary import ActionKind

    store = seeded_runtime.store
    outage, at = siat_dossier_open(sim, seeded_runtime, app_secrets)
    assert not at.exception, [e.value for e in at.exception]
    assert not [i for i in at.info if "Marcada como mantenimiento" in i.value]
    mark = next(b for b in at.button if b.label == "Marcar como mantenimiento")
    mark.click().run()  # without a reason: refused in Spanish, nothing written
    assert not at.exception and "Escriba el motivo" in texts(at)
    assert not store.maintenance_windows(ending_after=outage.started_at)
    assert not [e for e in store.audit_entries() if e.action == ActionKind.MARK_MAINTENANCE]

    at.text_input(key="caida_motivo").input("SIAT avisó *tarde* de su mantenimiento")
    next(b for b in at.button if b.label == "Marcar como mantenimiento").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (window,) = store.maintenance_windows(ending_after=outage.started_at)
    assert (window.starts_at, window.ends_at, window.branch_ids) == (outage.started_at, outage.ended_at, ())
    assert window.marked_after and window.reason == "SIAT avisó *tarde* de su mantenimiento"
    (audited,) = [e for e in store.audit_entries() if e.action == ActionKind.MARK_MAINTENANCE]
    assert audited.outcome == "ok" and "SIAT avisó *tarde*" in (audited.message or "")
    body = texts(at)
    assert "Caída marcada como mantenimiento." in body
    (said,) = [i.value for i in at.info if "Marcada como mantenimiento" in i.value]
    assert "SIAT avisó \\*tarde\\* de su mantenimiento" in said  # a person's words: never Markdown
    assert not [b for b in at.button if b.label == "Marcar como mantenimiento"]  # marked once

    at.query_params.clear()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    grid = next(d for d in at.dataframe if "Expediente" in d.value.columns)
    assert "Marcada como mantenimiento" in grid.proto.column_order  # shown once an outage listed is marked
    frame = grid.value
    row = frame[frame["Expediente"] == f"caidas?caida={outage.key}#Ver"]
    assert list(row["Marcada como mantenimiento"]) == ["SIAT avisó *tarde* de su mantenimiento"]


def test_a_viewer_sees_the_mark_but_gets_no_control(sim, seeded_runtime, app_secrets):
    from cucu.events.maintenance import mark_past

    outage, at = siat_dossier_open(sim, seeded_runtime, app_secrets, access={"mode": "off"})
    assert not at.exception, [e.value for e in at.exception]
    assert not [b for b in at.button if b.label == "Marcar como mantenimiento"]
    assert not [t for t in at.text_input if t.key == "caida_motivo"]
    assert outage.ended_at is not None
    mark_past(
        seeded_runtime.store, ANA, seeded_runtime.inventory, starts_at=outage.started_at, ends_at=outage.ended_at,
        reason="Mantenimiento anunciado tarde", now=seeded_runtime.store.now(),
    )  # fmt: skip
    at.run()
    assert any("Mantenimiento anunciado tarde" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Marcar como mantenimiento"]
