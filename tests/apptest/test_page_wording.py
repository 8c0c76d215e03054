"""AppTest for issue 23's tablet rules: colour means one thing, a mass action says what it touches, and
Iniciar evento starts clean (the words themselves: tests/unit/test_wording.py)."""

from __future__ import annotations

import re

from cucu.vocabulary import Tone
from tests.support.apptest import SUPERVISOR_OFF, run_app, texts

START_ROUTE = "POST /api/v1/events/start"


def calls(sim, route):
    return sim.stats()["by_route"].get(route, 0)


def active(sim):
    return {e["posId"] for e in sim.events() if not e["finalizado"]}


def metric_colors(at):
    return {m.label: (m.proto.color, m.proto.icon) for m in at.metric}


# ---- colour means one thing ---------------------------------------------------------------------


def test_contingency_is_never_red_and_siat_down_is(sim, seeded_runtime, app_secrets):
    assert active(sim)  # the demo's seed keeps some POS in contingency
    at = run_app(app_secrets)
    markdown = [m.value for m in at.markdown]
    tiles = [m for m in markdown if "en contingencia" in m]
    assert tiles and all(m.startswith(":orange[") and "🟠" in m for m in tiles)
    assert not any(":red[" in m or "🔴" in m for m in tiles)
    colors = metric_colors(at)
    assert colors["POS en contingencia"][1] == "🟠" and colors["Sucursales afectadas"][1] == "🟠"
    # A figure that asks nothing has no colour: the demo's POS can all invoice.
    assert colors["Pueden facturar"][1] == "" and colors["Facturas rechazadas"][1] in ("", "🔴")
    assert "SIAT: :green[Operativo]" in texts(at)
    at.switch_page("pages/eventos.py").run()
    states = at.dataframe[-1].value["Estado"]
    in_contingency = states[states.str.contains("En contingencia")]
    assert len(in_contingency) and in_contingency.str.startswith("🟠").all() and not states.str.contains("🔴").any()

    sim.update_faults({"siat_down": True})
    for _ in range(3):
        seeded_runtime.collector.check_once()
    at = run_app(app_secrets)
    assert "SIAT: :red[Caído]" in texts(at) and any("SIAT no responde desde" in e.value for e in at.error)
    assert all(":red[" not in m.value for m in at.markdown if "en contingencia" in m.value)


RED = 0  # Streamlit's MetricProto.RED: a metric's note in red


def test_pueden_facturar_is_red_when_some_pos_cannot_invoice(sim, invoicing_runtime, app_secrets):
    """An expired or inactive CUFD stops a POS invoicing, online or offline: the figure needs a person now."""
    cufds = invoicing_runtime.store.cufds()
    now = invoicing_runtime.collector.clock()
    cannot = [p for p, c in cufds.items() if c.cufd is None or not c.cufd.valid_at(now)]
    assert cannot  # the seed's expired and inactive CUFDs
    at = run_app(app_secrets)
    kpi = next(m for m in at.metric if m.label == "Pueden facturar")
    assert kpi.value == str(len(sim.inventory.all_pos) - len(cannot))
    assert (kpi.proto.color, kpi.proto.icon) == (RED, "🔴")


def test_a_deadline_still_ahead_is_never_drawn_in_the_red_of_what_cannot_invoice(sim, invoicing_runtime, app_secrets):
    """ "vence en …" is watched (amber, or no colour), never red: red is what stops invoicing now, as
    "Pueden facturar" and an expired CUFD are. Estado's KPIs and queue, and Eventos activos' CUFD column."""
    at = run_app(app_secrets, access=SUPERVISOR_OFF)
    can_invoice = next(m for m in at.metric if m.label == "Pueden facturar")
    assert (can_invoice.proto.color, can_invoice.proto.icon) == (RED, "🔴")
    ahead = [m for m in at.metric if m.proto.delta.startswith("vence en")]
    assert all(m.proto.color != RED and m.proto.icon != "🔴" for m in ahead), [m.label for m in ahead]
    expiring = next(m for m in at.metric if m.label.startswith("CUFD por vencer"))
    assert int(expiring.value) > 0 and expiring.proto.icon == Tone.MANAGED.icon  # CUFDs whose deadline is near
    lines = [line for m in at.markdown for line in m.value.splitlines()] + [c.value for c in at.caption]
    said = [line for line in lines if "vence en" in line]
    assert said  # the nearest deadline of the events to close (and the queue's, when one is near)
    assert not [line for line in said if re.search(r":red\[[^\]]*vence en|🔴[^·]*vence en", line)], said
    assert any(":red[venció hace" in line for line in lines)  # a deadline passed is red: a person acts now

    at.switch_page("pages/eventos.py").run()
    cufd = max((d.value for d in at.dataframe), key=len)["CUFD"]
    ahead_cells = cufd[cufd.str.contains("vence en")]
    assert len(ahead_cells) and not ahead_cells.str.startswith(Tone.PROBLEM.icon).any()
    assert ahead_cells.str.startswith(Tone.MANAGED.icon).any()  # within the CUFD alert's hours: amber
    assert cufd[cufd.str.contains("vencido|inactivo")].str.startswith(Tone.PROBLEM.icon).all()


# ---- a mass action says what it touches ---------------------------------------------------------


def test_a_company_wide_start_is_broken_down_and_acknowledged_before_anything_is_sent(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF)
    at.button_group(key="iniciar_alcance").set_value("Todas las sucursales").run()
    at.radio(key="iniciar_motivo").set_value(1)
    at.text_area(key="iniciar_descripcion").input("Corte general del proveedor")
    at.button(key="iniciar_revisar").click().run()
    assert not at.exception
    free = [p for p in sim.inventory.all_pos if p.id not in active(sim)]
    branches = {p.branch_id for p in free}
    assert len(branches) > 1
    assert f"en **{len(free)} puntos de venta** de **{len(branches)} sucursales**." in texts(at)
    breakdown = next(d.value for d in at.dataframe if "Puntos de venta" in d.value.columns)
    assert list(breakdown.columns) == ["Sucursal", "Puntos de venta", "Motivo"]
    assert breakdown["Puntos de venta"].sum() == len(free) and len(breakdown) == len(branches)
    assert set(breakdown["Motivo"]) == {"1 · Corte de internet"}
    assert f"Los {len(free)} puntos de venta, uno por uno:" in texts(at)
    tick = at.checkbox(key="accion_entiendo")
    assert tick.label == f"Entiendo que afecta a {len(branches)} sucursales" and not tick.value
    confirm = at.button(key="accion_confirmar")
    assert confirm.disabled and confirm.label == f"Iniciar contingencia en {len(free)} puntos de venta"
    at.run()
    assert calls(sim, START_ROUTE) == 0 and at.button(key="accion_confirmar").disabled
    at.checkbox(key="accion_entiendo").check().run()
    assert not at.button(key="accion_confirmar").disabled
    at.button(key="accion_confirmar").click().run()
    assert calls(sim, START_ROUTE) == len(free)
    total, busy = len(sim.inventory.all_pos), len(sim.inventory.all_pos) - len(free)
    assert f"**{len(free)} de {total} iniciados** · {busy} {'omitido' if busy == 1 else 'omitidos'}" in texts(at)


def test_ending_one_pos_has_the_same_one_line_and_no_acknowledgement(sim, seeded_runtime, app_secrets):
    branch = next(b for b in sim.inventory.branches if not any(p.id in active(sim) for p in b.pos))
    pos = branch.pos[0]
    sim.start_event({"posId": pos.id, "branchId": branch.id, "codigoMotivo": 1, "descripcion": "Corte de fibra"})
    seeded_runtime.collector.sweep_once()
    at = run_app(app_secrets, access=SUPERVISOR_OFF)
    at.query_params["sucursal"] = branch.name
    at.switch_page("pages/eventos.py").run()
    at.button(key="finalizar_todos").click().run()
    assert f"Se finalizará el evento activo de **{branch.name} · {pos.name}**." in texts(at)
    assert not at.checkbox and at.button(key="accion_confirmar").label == "Finalizar 1 evento"


# ---- forms start clean --------------------------------------------------------------------------


def form_values(at):
    return {
        "alcance": at.button_group(key="iniciar_alcance").value,
        "motivo": at.radio(key="iniciar_motivo").value,
        "descripcion": at.text_area(key="iniciar_descripcion").value,
    }


CLEAN = {"alcance": "Un punto de venta", "motivo": None, "descripcion": ""}


def test_nothing_is_preselected_and_a_cancelled_start_leaves_nothing_behind(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF)
    assert at.selectbox(key="iniciar_sucursal").value is None and at.selectbox(key="iniciar_pos").value is None
    assert form_values(at) == CLEAN
    at.button(key="iniciar_revisar").click().run()  # nothing chosen: refused, nothing queued
    assert "accion_confirmar" not in [b.key for b in at.button] and at.error
    at.button_group(key="iniciar_alcance").set_value("Todas las sucursales").run()
    at.radio(key="iniciar_motivo").set_value(1)
    at.text_area(key="iniciar_descripcion").input("Corte general del proveedor")
    at.button(key="iniciar_revisar").click().run()
    at.button(key="accion_cancelar").click().run()
    assert not at.exception and "accion_confirmar" not in [b.key for b in at.button]
    assert form_values(at) == CLEAN and at.selectbox(key="iniciar_sucursal").value is None
    assert calls(sim, START_ROUTE) == 0


def test_after_a_start_the_form_is_clean(sim, seeded_runtime, app_secrets):
    pos = next(p for p in sim.inventory.all_pos if p.id not in active(sim))
    at = run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF)
    at.selectbox(key="iniciar_sucursal").set_value(pos.branch_id).run()
    at.selectbox(key="iniciar_pos").set_value(pos.id).run()
    at.radio(key="iniciar_motivo").set_value(2)
    at.text_area(key="iniciar_descripcion").input("SIAT no responde desde las 09:10")
    at.button(key="iniciar_revisar").click().run()
    at.button(key="accion_confirmar").click().run()
    assert "**1 de 1 iniciado**" in texts(at) and pos.id in active(sim)
    assert form_values(at) == CLEAN
    assert at.selectbox(key="iniciar_sucursal").value is None and at.selectbox(key="iniciar_pos").value is None
