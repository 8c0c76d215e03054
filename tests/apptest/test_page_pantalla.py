"""AppTest: Pantalla, the wall display — SIAT in one word, Estado's figures, the queue's counts as Estado's, the
regions by urgency, no controls of its own, each affected region in turn with ``?rotar=1``."""

from __future__ import annotations

import re
from datetime import datetime

from cucu.lapaz import LA_PAZ
from cucu.store.base import StoreBase
from tests.support.apptest import SUPERVISOR_OFF, run_app

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
    assert all("alerta" in link.proto.label.lower() for link in wall.get("page_link"))  # the header's, hidden


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
    assert shown["Alertas sin atender"] == "—"  # no alert round yet: none open is not known to be none
    assert not any(":green[" in m.value for m in wall.markdown)


def counted(text: str) -> dict[str, int]:
    """Each kind's count in "2 puntos de venta no pueden facturar · 1 evento abierto hace mucho": label -> count."""
    parts = (re.match(r"([\d ]*\d) (\D.*)$", part.strip()) for part in text.split(" · "))
    return {m.group(2): int(m.group(1).replace(" ", "")) for m in parts if m}


def test_the_queues_counts_are_estados(sim, seeded_runtime, app_secrets):
    """The demo's expired, inactive and expiring CUFDs, its event open for over a day, its rejected invoices: the
    wall's "Qué hacer ahora" is the count of Estado's queue, and each kind's count is Estado's."""
    seeded_runtime.collector.cufd_once()
    seeded_runtime.collector.invoices_once()
    estado = run_app(app_secrets, access=SUPERVISOR_OFF)
    caption = next(c.value for c in estado.caption if re.match(r"[\d ]+ puntos? de venta no pueden? facturar · ", c.value))
    on_estado = counted(caption.split(". Primero")[0])
    assert on_estado["evento abierto hace mucho"] == 1 and len(on_estado) >= 3
    assert any(label.endswith("no pueden facturar") or label.endswith("no puede facturar") for label in on_estado)
    wall = run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF)
    line = next(m.value for m in wall.markdown if re.match(r"[\d ]+ puntos? de venta no pueden? facturar · ", m.value))
    on_wall = counted(line)
    assert on_wall == on_estado
    total = {m.label: m.value for m in wall.metric}["Qué hacer ahora"]
    assert int(total.replace(" ", "")) == sum(on_estado.values()) > 0


def test_rotating_shows_each_affected_region_in_its_turn(sim, seeded_runtime, app_secrets, monkeypatch):
    """The server's clock held at the middle of one turn, then moved a turn (20 s) at a time: each affected region
    opens once, most affected first, then the first again."""
    from tests.support.scoped import seed_every_region

    seed_every_region(sim, seeded_runtime, "La Paz")  # events in every region: four affected
    start = (int(seeded_runtime.store.now().timestamp()) // 20) * 20 + 10  # the middle of a turn
    turn = [0]
    monkeypatch.setattr(StoreBase, "now", lambda self: datetime.fromtimestamp(start + 20 * turn[0], LA_PAZ))
    wall = run_app(app_secrets, page=PAGE, query={"rotar": "1"})
    affected = [m.value.split("**")[1] for m in wall.markdown if m.value.startswith("**") and "sucursal" in m.value]
    assert len(affected) == 4
    opened = []
    for n in range(len(affected) + 1):
        turn[0] = n
        wall.run()
        assert not wall.exception
        [header] = [h.value for h in wall.header if ":" not in h.value]
        opened.append(header)
    assert sorted(opened[:-1]) == sorted(affected) and opened[-1] == opened[0]  # each once, then again
    first = affected.index(opened[0])
    assert opened[:-1] == affected[first:] + affected[:first]  # in the tiles' order, most affected first


def test_the_invoice_counts_say_they_are_partial_until_the_first_full_pass(sim, seeded_runtime, app_secrets):
    from cucu.invoicing import INVOICE_JOB

    """Seen on the wall: "6 facturas rechazadas" while the first pass over the invoices was under way (13 in the
    end), where Estado said "lectura parcial". The wall says it too, and stops once the pass is complete."""
    seeded_runtime.collector.cufd_once()  # something to list: the demo's expired and inactive CUFDs

    def counts_line(at) -> str:
        return next(m.value for m in at.markdown if re.match(r"[\d ]+ puntos? de venta no pueden? facturar", m.value))

    assert counts_line(run_app(app_secrets, page=PAGE)).endswith(" · facturas: sin datos todavía")
    seeded_runtime.store.record_job(INVOICE_JOB, seeded_runtime.store.now(), None)  # a round, no full pass yet
    assert counts_line(run_app(app_secrets, page=PAGE)).endswith(" · facturas: lectura parcial")
    while not seeded_runtime.collector.invoices_once().pass_done:
        pass
    assert "facturas:" not in counts_line(run_app(app_secrets, page=PAGE))
