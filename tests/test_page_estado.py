"""AppTest: Estado — rollup, the SIAT-down alert, KPIs, branch tiles (its "Eventos por cerrar": test_page_facturas)."""

from __future__ import annotations

import pytest

from tests.apptest_support import run_app, texts

pytestmark = pytest.mark.usefixtures("streamlit_caches")


def metrics(at):
    return {m.label: m.value for m in at.metric}


def test_healthy_overview(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets)
    body = texts(at)
    assert "SIAT: :green[Operativo]" in body and "SIAT responde." in body
    active = sum(1 for e in sim.events() if not e["finalizado"])
    affected = len(
        {p.branch_id for p in sim.inventory.all_pos if any(e["posId"] == p.id and not e["finalizado"] for e in sim.events())}
    )
    m = metrics(at)
    deltas = {metric.label: metric.proto.delta for metric in at.metric}
    assert (m["POS en contingencia"], deltas["POS en contingencia"]) == (str(active), f"de {len(sim.inventory.all_pos)}")
    assert (m["Sucursales afectadas"], deltas["Sucursales afectadas"]) == (str(affected), f"de {len(sim.inventory.branches)}")
    assert m["Evento abierto más largo"].startswith("1 d")  # the seed keeps one event open for more than a day
    assert "Puntos de venta consultados hace" in body


def test_branches_needing_attention_first_and_every_branch_in_one_table(sim, seeded_runtime, app_secrets):
    active = {e["posId"] for e in sim.events() if not e["finalizado"]}
    affected = [b for b in sim.inventory.branches if any(p.id in active for p in b.pos)]
    at = run_app(app_secrets)
    links = [link for link in at.get("page_link") if link.proto.query_string]  # the Facturas link has no filter
    assert len(links) == 2 * len(affected)  # a tile, with Eventos and Historial, per branch needing attention
    targets = {(link.proto.label, link.proto.query_string) for link in links}
    branch = sim.inventory.branches[0]
    # A tile's "Eventos" opens its branch filtered to the POS in contingency, not all its POS.
    in_contingency = "sucursal=" + branch.name.replace(" ", "+") + "&estado=En+contingencia"
    assert branch in affected and ("Eventos", in_contingency) in targets
    table = next(d.value for d in at.dataframe if "Sucursal" in d.value.columns and "Ciudad" in d.value.columns)
    assert len(table) == len(sim.inventory.branches)
    assert set(table["Sucursal"][: len(affected)]) == {b.name for b in affected}  # those first,
    assert list(table["En contingencia"]) == sorted(table["En contingencia"], reverse=True)  # the most affected on top
    first = table.iloc[0]
    assert first["Eventos"] == "eventos?" + "sucursal=" + first["Sucursal"].replace(" ", "+")


def test_siat_down_alert_says_since_when(sim, seeded_runtime, app_secrets):
    sim.update_faults({"siat_down": True})
    for _ in range(3):
        seeded_runtime.collector.check_once()
    first_failure = seeded_runtime.store.recent_checks(3)[0].checked_at
    at = run_app(app_secrets)
    body = texts(at)
    assert "SIAT: :red[Caído]" in body
    assert f"SIAT no responde desde las {first_failure:%H:%M}" in body
    assert "motivo 2 (Falla SIAT)" in body


def test_one_failed_check_is_intermittent_without_alert(sim, seeded_runtime, app_secrets):
    sim.update_faults({"siat_down": True})
    seeded_runtime.collector.check_once()
    sim.update_faults({"siat_down": False})
    seeded_runtime.collector.check_once()
    body = texts(run_app(app_secrets))
    assert "Intermitente" in body and "no responde desde" not in body


def test_check_now_button_adds_a_check(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets)
    before = len(seeded_runtime.store.recent_checks(100))
    sim.update_faults({"siat_down": True})
    at.button(key="estado_refresh").click().run()
    assert not at.exception
    assert len(seeded_runtime.store.recent_checks(100)) == before + 1
    assert "SIAT no responde" in texts(at)


def test_stale_data_is_flagged(sim, seeded_runtime, app_secrets):
    sim.update_faults({"error_rate": 1.0})
    seeded_runtime.collector.sweep_once()
    assert "no respondieron en la última consulta" in texts(run_app(app_secrets))
