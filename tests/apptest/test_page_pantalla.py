"""AppTest: Pantalla, the wall display — SIAT in one word, Estado's figures, the regions by urgency, no
controls of its own, each affected region in turn with ``?rotar=1``."""

from __future__ import annotations

from tests.support.apptest import run_app

PAGE = "pages/pantalla.py"


def test_the_wall_says_siat_estados_figures_and_the_regions_most_affected_first(sim, seeded_runtime, app_secrets):
    estado = run_app(app_secrets)
    wall = run_app(app_secrets, page=PAGE)
    assert [t.value for t in wall.title] == ["SIAT: :green[Operativo]"]
    shown = {m.label: m.value for m in wall.metric}
    on_estado = {m.label: m.value for m in estado.metric}
    for label in ("POS en contingencia", "Sucursales afectadas"):
        assert shown[label] == on_estado[label], label
    active = {e["posId"] for e in sim.events() if not e["finalizado"]}
    per_region: dict[str, int] = {}
    for b in sim.inventory.branches:
        per_region[b.region] = per_region.get(b.region, 0) + sum(p.id in active for p in b.pos)
    heads = [m.value.split("**")[1] for m in wall.markdown if m.value.startswith("**") and "sucursal" in m.value]
    assert sorted(heads) == sorted(per_region)
    assert [per_region[r] for r in heads] == sorted(per_region.values(), reverse=True)
    # No control: nothing to press or type on a wall (the session menu above is hidden by the page's CSS).
    controls = ("button", "text_input", "multiselect", "selectbox", "toggle", "checkbox", "date_input", "radio")
    assert {kind: len(getattr(wall, kind)) for kind in controls} == dict.fromkeys(controls, 0)
    assert all("alerta" in link.proto.label for link in wall.get("page_link"))  # the header's, hidden


def test_rotating_opens_each_affected_region_in_turn(sim, seeded_runtime, app_secrets):
    wall = run_app(app_secrets, page=PAGE, query={"rotar": "1"})
    active = {e["posId"] for e in sim.events() if not e["finalizado"]}
    affected = {b.region for b in sim.inventory.branches if any(p.id in active for p in b.pos)}
    opened = [h.value for h in wall.header if ":" not in h.value]
    assert len(opened) == 1 and opened[0] in affected


def test_before_any_read_the_wall_says_unknown_never_zero(sim, app_secrets):
    wall = run_app(app_secrets, page=PAGE)
    shown = {m.label: m.value for m in wall.metric}
    assert shown["POS en contingencia"] == "—" and shown["Sucursales afectadas"] == "—" and shown["Qué hacer ahora"] == "—"
    assert not any(":green[" in m.value for m in wall.markdown)
