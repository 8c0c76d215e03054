"""AppTest: starting and ending events from the pages — form, confirmation dialog, results, Bitácora."""

from __future__ import annotations

import pytest

from cucu.access import Identity
from tests.support.apptest import SUPERVISOR_OFF, run_app, texts

START_ROUTE = "POST /api/v1/events/start"
END_ROUTE = "POST /api/v1/events/end"


def calls(sim, route):
    return sim.stats()["by_route"].get(route, 0)


def active(sim):
    return {e["posId"]: e["id"] for e in sim.events() if not e["finalizado"]}


def fill_start(at, *, scope=None, branch=None, pos=None, motive=2, description="SIAT no responde desde las 09:10", sim=None):
    """Fill Iniciar evento; nothing is preselected, so one POS is picked when none is given (``sim``: the first free one)."""
    if scope:
        at.button_group(key="iniciar_alcance").set_value(scope).run()
    if sim is not None and branch is None and pos is None:
        pos = free_pos(sim)
        branch = sim.inventory.branch(pos.branch_id)
    if branch:
        at.selectbox(key="iniciar_sucursal").set_value(branch.id).run()
    if pos:
        at.selectbox(key="iniciar_pos").set_value(pos.id).run()
    if motive is not None:
        at.radio(key="iniciar_motivo").set_value(motive)
    at.text_area(key="iniciar_descripcion").input(description)
    at.button(key="iniciar_revisar").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def free_pos(sim):
    return next(p for p in sim.inventory.all_pos if p.id not in active(sim))


def test_start_one_pos_confirm_and_see_results(sim, seeded_runtime, app_secrets, monkeypatch):
    monkeypatch.setattr("ui.identity.signed_in_identity", lambda access: Identity("ana@empresa.bo", "Ana"))
    access = {"mode": "proxy", "users": {"ana@empresa.bo": "supervisor"}}
    pos = free_pos(sim)
    branch = sim.inventory.branch(pos.branch_id)
    at = fill_start(run_app(app_secrets, page="pages/iniciar.py", access=access), branch=branch, pos=pos)
    body = texts(at)
    assert f"Se iniciará un evento de contingencia en **{branch.name} · {pos.name}**." in body
    assert calls(sim, START_ROUTE) == 0  # nothing sent before the confirmation
    at.button(key="accion_confirmar").click().run()
    assert not at.exception
    assert "**1 de 1 iniciado**" in texts(at)
    assert calls(sim, START_ROUTE) == 1 and pos.id in active(sim)
    result = at.dataframe[-1].value
    assert result.iloc[0]["Punto de venta"] == pos.name and result.iloc[0]["ID evento"] == active(sim)[pos.id]
    entry = seeded_runtime.store.audit_entries()[0]
    assert (entry.actor, entry.role, entry.action, entry.outcome, entry.motive) == (
        "ana@empresa.bo",
        "supervisor",
        "iniciar",
        "ok",
        2,
    )
    at.run()  # a rerun after the confirmation sends nothing again
    assert calls(sim, START_ROUTE) == 1


@pytest.mark.parametrize(
    ("motive", "description", "message"),
    [(None, "corte", "Elija el motivo"), (1, "   ", "Escriba una descripción")],
    ids=["no-motive", "blank-description"],
)
def test_form_refusals_are_explained_and_not_sent(sim, seeded_runtime, app_secrets, motive, description, message):
    at = fill_start(
        run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF), motive=motive, description=description, sim=sim
    )
    assert message in at.error[0].value
    assert "accion_confirmar" not in [b.key for b in at.button]
    assert calls(sim, START_ROUTE) == 0


def test_cancel_sends_nothing(sim, seeded_runtime, app_secrets):
    at = fill_start(run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF), sim=sim)
    at.button(key="accion_cancelar").click().run()
    assert not at.exception and "accion_confirmar" not in [b.key for b in at.button]
    at.run()
    assert calls(sim, START_ROUTE) == 0 and seeded_runtime.store.audit_entries() == []


def test_whole_branch_lists_and_skips_pos_in_contingency(sim, seeded_runtime, app_secrets):
    branch = next(b for b in sim.inventory.branches if any(p.id in active(sim) for p in b.pos))
    busy = [p for p in branch.pos if p.id in active(sim)]
    at = fill_start(
        run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF), scope="Toda una sucursal", branch=branch
    )
    body = texts(at)
    starting, skipped = len(branch.pos) - len(busy), len(busy)
    assert f"**{starting} puntos de venta** de {branch.name}." in body
    assert (
        f"**{skipped} {'punto de venta que ya está' if skipped == 1 else 'puntos de venta que ya están'} en contingencia**"
        in body
    )
    at.button(key="accion_confirmar").click().run()
    assert f"{len(branch.pos) - len(busy)} de {len(branch.pos)} iniciados" in texts(at)
    assert calls(sim, START_ROUTE) == len(branch.pos) - len(busy)
    assert all(p.id in active(sim) for p in branch.pos)


def test_start_a_whole_region(sim, seeded_runtime, app_secrets):
    """Regions (issue 26): "Toda una región" starts every free POS of the region's branches, and no other."""
    region = [b for b in sim.inventory.branches if b.region == "La Paz"]
    assert len(region) == 2
    pos = [p for b in region for p in b.pos]
    busy = [p for p in pos if p.id in active(sim)]
    at = run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF)
    at.button_group(key="iniciar_alcance").set_value("Toda una región").run()
    at.selectbox(key="iniciar_region").set_value("La Paz").run()
    assert f"Se incluyen todos los puntos de venta ({len(pos)}) de las sucursales de La Paz (2)." in texts(at)
    fill_start(at)
    at.checkbox(key="accion_entiendo").check().run()  # more than one branch: the mass action's tick
    at.button(key="accion_confirmar").click().run()
    assert f"{len(pos) - len(busy)} de {len(pos)} iniciados" in texts(at)
    assert calls(sim, START_ROUTE) == len(pos) - len(busy)
    assert all(p.id in active(sim) for p in pos)
    others = {p.id for b in sim.inventory.branches if b.region != "La Paz" for p in b.pos}
    assert not [e for e in sim.events() if e["posId"] in others and e["descripcion"] == "SIAT no responde desde las 09:10"]


@pytest.mark.parametrize("slow_builds", [False, True], ids=["fast", "slow-builds"])
def test_end_all_of_a_branch_from_eventos_activos(sim, seeded_runtime, app_secrets, monkeypatch, slow_builds):
    """slow-builds: every shared frame counts as slow to build (a chain, a busy machine), so other viewers get the
    last one while the new one builds; the person who ended the events still sees them ended at once."""
    if slow_builds:
        monkeypatch.setattr("cucu.views.shared_reads.SYNC_BELOW_S", 0.0)
    branch = next(b for b in sim.inventory.branches if any(p.id in active(sim) for p in b.pos))
    busy = [p for p in branch.pos if p.id in active(sim)]
    at = run_app(app_secrets, access=SUPERVISOR_OFF)
    at.query_params["sucursal"] = branch.name  # filtered to the branch, as Estado's tile links it
    at.switch_page("pages/eventos.py").run()
    assert f"Finalizar todos los eventos mostrados ({len(busy)})" in [b.label for b in at.button]
    at.button(key="finalizar_todos").click().run()
    assert not at.exception
    assert f"Se finalizará el evento activo de **{len(busy)} puntos de venta** de {branch.name}." in texts(at)
    at.button(key="accion_confirmar").click().run()
    assert f"{len(busy)} de {len(busy)} finalizados" in texts(at)
    assert calls(sim, END_ROUTE) == len(busy) and not any(p.id in active(sim) for p in branch.pos)
    shown = at.dataframe[-1].value  # the table again, with the new state
    assert "Estado" in shown.columns and not shown["Estado"].str.contains("En contingencia").any()
    at.run()
    assert calls(sim, END_ROUTE) == len(busy)


def test_end_everything_shown(sim, seeded_runtime, app_secrets):
    n = len(active(sim))
    at = run_app(app_secrets, page="pages/eventos.py", access=SUPERVISOR_OFF)
    before = {d.key for d in at.dataframe if d.key and d.key.startswith("tabla_")}
    at.button(key="finalizar_todos").click().run()
    at.checkbox(key="accion_entiendo").check().run()  # every branch: the reach is acknowledged first
    at.button(key="accion_confirmar").click().run()
    assert f"{n} de {n} finalizados" in texts(at) and not active(sim)
    after = {d.key for d in at.dataframe if d.key and d.key.startswith("tabla_")}
    assert before and after and not before & after  # new keys: rows ticked before the action are cleared


def test_siat_down_alert_offers_motive_2_on_every_free_pos(sim, seeded_runtime, app_secrets):
    sim.update_faults({"siat_down": True})
    for _ in range(3):
        seeded_runtime.collector.check_once()
    free = [p for p in sim.inventory.all_pos if p.id not in active(sim)]
    at = run_app(app_secrets, access=SUPERVISOR_OFF)
    at.button(key="estado_sugerido").click().run()
    assert not at.exception
    body = texts(at)
    assert "2 · Falla SIAT" in body and f"**{len(free)} puntos de venta**" in body
    at.checkbox(key="accion_entiendo").check().run()
    at.button(key="accion_confirmar").click().run()
    assert f"{len(free)} de {len(free)} iniciados" in texts(at)
    started = [e for e in sim.events() if not e["finalizado"] and e["posId"] in {p.id for p in free}]
    assert len(started) == len(free) and all(e["codigoMotivo"] == 2 for e in started)
    assert all("SIAT no responde desde las" in e["descripcion"] for e in started)


def test_bitacora_lists_filters_and_downloads(sim, seeded_runtime, app_secrets):
    pos = free_pos(sim)
    at = fill_start(
        run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF), branch=sim.inventory.branch(pos.branch_id), pos=pos
    )
    at.button(key="accion_confirmar").click().run()
    ended = len(active(sim))  # the one just started included
    at.switch_page("pages/eventos.py").run()
    at.button(key="finalizar_todos").click().run()
    at.checkbox(key="accion_entiendo").check().run()
    at.button(key="accion_confirmar").click().run()
    at.switch_page("pages/bitacora.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Acción"]).count("Iniciar") == 1 and list(table["Acción"]).count("Finalizar") == ended
    assert len(table) == 1 + ended and set(table["Resultado"]) == {"Hecho"}
    assert set(table.loc[table["Acción"] == "Finalizar", "Descripción"]) == {"—"}  # not "None"
    assert table.iloc[-1]["Acción"] == "Iniciar" and table.iloc[-1]["Punto de venta"] == pos.name  # newest first
    assert table["Usuario"].str.startswith("sesión ").all()
    at.multiselect(key="bitacora_accion").set_value(["iniciar"]).run()
    assert list(at.dataframe[0].value["Acción"]) == ["Iniciar"]
    assert len(at.get("download_button")) == 1


def test_unexpected_failure_in_the_dialog_is_explained_not_shown_as_a_traceback(sim, seeded_runtime, app_secrets, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("cucu.events.actions.Actions.start", broken)
    at = fill_start(run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF), sim=sim)
    at.button(key="accion_confirmar").click().run()
    assert not at.exception
    body = texts(at)
    assert "Ocurrió un error inesperado" in body and "Bitácora" in body and "database is locked" not in body


def test_a_chain_ends_what_is_shown_and_ticks_rows_once_filtered(sim, seeded_runtime, app_secrets, monkeypatch):
    """Above ``LAZY_ROWS`` the table streams its rows (no selection): "finalizar todos los mostrados" stays,
    and a filter down to a branch brings the ticks back."""
    import ui.widgets

    monkeypatch.setattr(ui.widgets, "LAZY_ROWS", 5)  # the demo's 22 POS stand for a chain's 10 000
    at = run_app(app_secrets, page="pages/eventos.py", access=SUPERVISOR_OFF)
    assert not any(d.key and d.key.startswith("tabla_pos_") for d in at.dataframe)  # no row selection
    assert any("Para marcar filas, filtre a 5 puntos de venta o menos" in c.value for c in at.caption)
    assert f"Finalizar todos los eventos mostrados ({len(active(sim))})" in [b.label for b in at.button]
    branch = next(b for b in sim.inventory.branches if len(b.pos) <= 5 and any(p.id in active(sim) for p in b.pos))
    at = run_app(app_secrets, access=SUPERVISOR_OFF)
    at.query_params["sucursal"] = branch.name  # a link filtered to one branch
    at.switch_page("pages/eventos.py").run()
    assert any(d.key and d.key.startswith("tabla_pos_") for d in at.dataframe)  # selectable again
    assert not any("Para marcar filas" in c.value for c in at.caption)
