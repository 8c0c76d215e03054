"""AppTest: every page with a branch filter filters by region too, from the URL (issue 26)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cucu.access import Identity
from cucu.events.maintenance import schedule
from tests.support.apptest import SUPERVISOR_OFF, run_app, texts
from tests.support.scoped import ANA, seed_every_region


def regions(sim) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for b in sim.inventory.branches:
        found.setdefault(b.region, set()).add(b.name)
    return found


def test_a_region_in_the_url_shows_its_branches_alone(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets)
    at.query_params["region"] = "La Paz"
    at.switch_page("pages/eventos.py").run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert set(table["Sucursal"]) == regions(sim)["La Paz"] and len(regions(sim)["La Paz"]) == 2
    branch = at.multiselect(key="sucursal")
    assert set(branch.options) == regions(sim)["La Paz"]  # the region's branches to choose


def test_a_branch_outside_the_chosen_region_is_not_shown(sim, seeded_runtime, app_secrets):
    santa_cruz = next(b for b in sim.inventory.branches if b.region == "Santa Cruz")
    at = run_app(app_secrets)
    at.query_params["region"] = "La Paz"
    at.query_params["sucursal"] = santa_cruz.name
    at.switch_page("pages/eventos.py").run()
    assert not at.exception
    assert santa_cruz.name not in set(at.dataframe[-1].value["Sucursal"])


@pytest.mark.parametrize(
    "page", ["eventos", "historial", "facturas", "caidas", "bitacora", "informe", "alertas", "mantenimiento"]
)
def test_every_page_with_a_branch_filter_offers_regions_from_the_url(sim, seeded_runtime, app_secrets, page):
    at = run_app(app_secrets)
    at.query_params["region"] = "Santa Cruz"
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    region = at.multiselect(key="region")
    assert region.value == ["Santa Cruz"]
    assert region.options == ["La Paz", "Cochabamba", "Santa Cruz", "Chuquisaca"]  # departments in their order
    assert set(at.multiselect(key="sucursal").options) == regions(sim)["Santa Cruz"]


def test_alertas_lists_the_regions_incidents_and_siats_whatever_the_filter(sim, seeded_runtime, app_secrets, monkeypatch):
    """A branch alert in every region, SIAT's, and a resolved one in La Paz and in Santa Cruz: with Santa Cruz in the
    URL the open list, the resolved list, the alert to handle and the download hold Santa Cruz's and SIAT's only."""
    seed_every_region(sim, seeded_runtime, "La Paz")
    store, now = seeded_runtime.store, seeded_runtime.store.now()
    resolved_in = {region: next(b for b in sim.inventory.branches if b.region == region) for region in ("La Paz", "Santa Cruz")}
    for branch in resolved_in.values():
        found = store.incident_open(
            key=f"resuelta:{branch.id}", rule="contingencia_prolongada", branch_id=branch.id, opened_at=now, now=now,
            title=f"Resuelta en {branch.name}", body="", messages=[],
        )  # fmt: skip
        assert found is not None and store.incident_close(
            found, now=now, title=f"Resuelta en {branch.name}", body="", messages=[]
        )
    downloaded: list[str] = []

    def workbook(listed, notes) -> bytes:  # what the Excel download would hold
        downloaded.extend(i.title for i in listed)
        return b""

    monkeypatch.setattr("cucu.views.alertas.alerts_xlsx", workbook)
    monkeypatch.setattr("ui.widgets.workbook_downloads", lambda what, stem, xlsx, pdf, **kwargs: xlsx())
    at = run_app(app_secrets, page="pages/alertas.py", access=SUPERVISOR_OFF, query={"region": "Santa Cruz"})
    santa_cruz = regions(sim)["Santa Cruz"]
    others = {b.name for b in sim.inventory.branches} - santa_cruz
    open_titles = set(next(d.value for d in at.dataframe if "Atendida por" in d.value.columns)["Asunto"])
    assert "SIAT no responde" in open_titles  # SIAT's belongs to no branch: kept
    assert {t for t in open_titles if t.startswith("Contingencia prolongada")} == {
        f"Contingencia prolongada en {name}" for name in santa_cruz
    }
    resolved = set(next(d.value for d in at.dataframe if "Resuelta" in d.value.columns)["Asunto"])
    assert {t for t in resolved if t.startswith("Resuelta en")} == {f"Resuelta en {resolved_in['Santa Cruz'].name}"}
    to_handle = " ".join(at.selectbox(key="alertas_atender").options)
    assert "SIAT no responde" in to_handle and not [n for n in others if f" en {n} " in f"{to_handle} "]
    assert "SIAT no responde" in downloaded and not [t for t in downloaded if any(t.endswith(f" en {n}") for n in others)]
    assert any(t.endswith(f" en {n}") for t in downloaded for n in santa_cruz)
    assert "se muestran con cualquier filtro" in texts(at)
    at.multiselect(key="region").set_value([]).run()  # every region again
    open_titles = set(next(d.value for d in at.dataframe if "Atendida por" in d.value.columns)["Asunto"])
    assert {f"Contingencia prolongada en {b.name}" for b in sim.inventory.branches} <= open_titles


def test_mantenimiento_lists_the_windows_touching_the_region_and_the_companys(sim, seeded_runtime, app_secrets):
    seed_every_region(sim, seeded_runtime, "La Paz")  # a window of each branch, and one listing every branch
    store, now = seeded_runtime.store, seeded_runtime.store.now()
    schedule(
        store, ANA, seeded_runtime.inventory, starts_at=now + timedelta(hours=5), ends_at=now + timedelta(hours=6),
        branch_ids=[], silenced=[], reason="Mantenimiento de SIAT anunciado", now=now,
    )  # fmt: skip
    at = run_app(app_secrets, page="pages/mantenimiento.py", access=SUPERVISOR_OFF, query={"region": "La Paz"})
    shown = "\n".join(t.value for t in at.text)
    for b in sim.inventory.branches:
        assert (f"Inventario de {b.name}" in shown) is (b.region == "La Paz"), b.name
    assert "Inventario anual" in shown and "Mantenimiento de SIAT anunciado" in shown  # every branch's, the company's
    assert "se muestran con cualquier filtro" in texts(at)
    first, second = sorted(regions(sim)["La Paz"])  # a branch of it: its windows, not its neighbour's
    at.multiselect(key="sucursal").set_value([next(b.id for b in sim.inventory.branches if b.name == first)]).run()
    shown = "\n".join(t.value for t in at.text)
    assert f"Inventario de {first}" in shown and f"Inventario de {second}" not in shown and "Inventario anual" in shown


def test_iniciar_evento_takes_the_region_to_start_from_the_url(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, page="pages/iniciar.py", access=SUPERVISOR_OFF, query={"region": "Santa Cruz"})
    assert at.button_group(key="iniciar_alcance").value == "Toda una región"
    assert at.selectbox(key="iniciar_region").value == "Santa Cruz"
    pos = sum(len(b.pos) for b in sim.inventory.branches if b.region == "Santa Cruz")
    count = len(regions(sim)["Santa Cruz"])
    assert f"Se incluyen todos los puntos de venta ({pos}) de las sucursales de Santa Cruz ({count})." in texts(at)
    at.selectbox(key="iniciar_region").set_value("La Paz").run()
    assert at.query_params["region"] in ("La Paz", ["La Paz"])  # a link to it opens the same region
    at.button_group(key="iniciar_alcance").set_value("Toda una sucursal").run()
    assert "region" not in at.query_params  # no region chosen: the link names none
    at.switch_page("pages/eventos.py").run()  # the other pages' region filter is not disturbed
    assert not at.exception and at.multiselect(key="region").value == []


@pytest.mark.parametrize("page", ["alertas", "mantenimiento", "iniciar"])
def test_a_scoped_person_is_offered_their_regions_only(sim, seeded_runtime, app_secrets, monkeypatch, page):
    monkeypatch.setattr("ui.identity.signed_in_identity", lambda access: Identity("rosa"))
    access = {"mode": "proxy", "users": {"rosa": {"role": "supervisor", "regions": ["La Paz", "Santa Cruz"]}}}
    at = run_app(app_secrets, page=f"pages/{page}.py", access=access)
    assert not at.exception
    if page == "iniciar":
        at.button_group(key="iniciar_alcance").set_value("Toda una región").run()
        assert at.selectbox(key="iniciar_region").options == ["La Paz", "Santa Cruz"]
        return
    assert at.multiselect(key="region").options == ["La Paz", "Santa Cruz"]
    mine = regions(sim)["La Paz"] | regions(sim)["Santa Cruz"]
    assert set(at.multiselect(key="sucursal").options) == mine


def region_tiles(at) -> list[str]:
    """The region tiles' headlines, in the order shown."""
    return [m.value for m in at.markdown if m.value.startswith("**") and " · " in m.value and "sucursal" in m.value]


def test_estado_rolls_up_by_region_the_most_affected_first(sim, seeded_runtime, app_secrets):
    active = {e["posId"] for e in sim.events() if not e["finalizado"]}
    in_contingency: dict[str, int] = {}
    for b in sim.inventory.branches:
        in_contingency[b.region] = in_contingency.get(b.region, 0) + sum(p.id in active for p in b.pos)
    at = run_app(app_secrets)
    assert not at.exception
    shown = [h.split("**")[1] for h in region_tiles(at)]
    assert sorted(shown) == sorted(in_contingency)
    assert [in_contingency[r] for r in shown] == sorted(in_contingency.values(), reverse=True)
    body = "\n".join(m.value for m in at.markdown)
    for region, count in in_contingency.items():
        if count:
            total = sum(len(b.pos) for b in sim.inventory.branches if b.region == region)
            assert f"{count} de {total}** en contingencia" in body  # the region's POS, summed from its branches
    la_paz = next(b for b in at.button if b.key == "abrir_region_0")  # the first department
    la_paz.click().run()
    assert at.query_params["region"] in ("La Paz", ["La Paz"])
    assert "Sucursales de La Paz (2)" in [h.value for h in at.subheader]
    next(b for b in at.button if b.label == "Ver todas las regiones").click().run()
    assert "region" not in at.query_params
    assert f"Todas las sucursales ({len(sim.inventory.branches)})" in [h.value for h in at.subheader]


def test_estado_opens_a_region_its_tiles_and_table_only(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets)
    at.query_params["region"] = "Santa Cruz"
    at.switch_page("pages/estado.py").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Sucursal" in d.value.columns and "Ciudad" in d.value.columns)
    assert set(table["Sucursal"]) == regions(sim)["Santa Cruz"]
    headers = [h.value for h in at.subheader]
    assert f"Sucursales de Santa Cruz ({len(regions(sim)['Santa Cruz'])})" in headers
    tiles = [link.proto.query_string for link in at.get("page_link") if link.proto.label == "Historial"]
    names = {b.name.replace(" ", "+") for b in sim.inventory.branches if b.region == "Santa Cruz"}
    assert tiles and all(q.split("=", 1)[1] in names for q in tiles)  # only its branches' tiles


def test_a_chain_with_regions_shows_a_regions_table_of_branches_once_it_is_opened(sim, seeded_runtime, app_secrets, monkeypatch):
    """Above ``ALL_BRANCHES_UP_TO`` branches, Estado rolls up by region: no table of every branch until a region's
    tile opens its own (here the demo's branches count as a chain's)."""
    import cucu.views.estado

    monkeypatch.setattr(cucu.views.estado, "ALL_BRANCHES_UP_TO", len(sim.inventory.branches) - 1)
    at = run_app(app_secrets)
    assert not at.exception
    headers = [h.value for h in at.subheader]
    assert f"Sucursales ({len(sim.inventory.branches)})" in headers
    assert not any(h.startswith("Todas las sucursales") for h in headers)
    assert not [d for d in at.dataframe if "Ciudad" in d.value.columns]  # no table of branches
    assert any("abra una región arriba" in c.value for c in at.caption)
    next(b for b in at.button if b.key == "abrir_region_0").click().run()  # La Paz, the first department
    table = next(d.value for d in at.dataframe if "Ciudad" in d.value.columns)
    assert set(table["Sucursal"]) == regions(sim)["La Paz"]
    monkeypatch.setattr(cucu.views.estado, "ALL_BRANCHES_UP_TO", len(sim.inventory.branches))
    next(b for b in at.button if b.label == "Ver todas las regiones").click().run()
    assert f"Todas las sucursales ({len(sim.inventory.branches)})" in [h.value for h in at.subheader]
