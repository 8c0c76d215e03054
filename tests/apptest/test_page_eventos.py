"""AppTest: Eventos activos — every POS in one table, filters from the URL, long-open and stale marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from cucu.views.eventos import LONG_OPEN
from tests.support.apptest import SUPERVISOR_OFF, run_app, texts

PAGE = "pages/eventos.py"


def shown_rows(at):
    """The table of every POS shown (one, or none when nothing matches): the page's last table."""
    return [at.dataframe[-1].value] if at.dataframe else []


def active_pos(sim):
    return {e["posId"] for e in sim.events() if not e["finalizado"]}


def test_every_pos_in_one_table_urgent_first(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, page=PAGE)
    frames = shown_rows(at)
    assert len(frames) == 1  # one table, whatever the number of branches: the grid scrolls
    table = frames[0]
    inventory_order = [(b.name, p.name) for b in sim.inventory.branches for p in b.pos]
    rows = list(zip(table["Sucursal"], table["Punto de venta"], strict=True))
    assert sorted(rows) == sorted(inventory_order)
    # What needs a person first: every POS in contingency, the longest open on top; the normal ones after,
    # in inventory order (the old order interleaved them by branch).
    in_contingency = table["Estado"].str.contains("En contingencia")
    active = len(active_pos(sim))
    assert in_contingency.sum() == active and in_contingency[:active].all()
    elapsed = table["Transcurrido"][:active]
    assert list(elapsed) == sorted(elapsed, reverse=True)
    assert list(table["Inicio"][:active]) == sorted(table["Inicio"][:active])
    assert rows[active:] == [r for r in inventory_order if r in set(rows[active:])]
    assert f"{active} en contingencia" in texts(at)
    assert "datos consultados hace" in texts(at)


def test_times_and_durations_are_typed_so_they_sort_by_value(sim, seeded_runtime, app_secrets):
    """ "Transcurrido" as text sorted "44 min" > "4 h 54 min" > "1 d 19 h"; "Inicio" as DD/MM/YYYY text."""
    at = run_app(app_secrets, page=PAGE)
    table = shown_rows(at)[0]
    assert pd.api.types.is_datetime64_any_dtype(table["Inicio"])
    assert pd.api.types.is_datetime64_any_dtype(table["Consultado"])
    assert pd.api.types.is_timedelta64_dtype(table["Transcurrido"])
    normal = ~table["Estado"].str.contains("En contingencia")
    assert table.loc[normal, "Transcurrido"].isna().all()  # empty, shown as the placeholder: not "None"
    assert at.dataframe[-1].proto.placeholder == "—"


def long_open_rows(table):
    return [row for row in table["Estado"] if "⏰" in row]


def test_long_open_events_stand_out_and_can_be_shown_alone(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF)
    assert len(at.dataframe) == 1  # named in the warning, first in the one table: not a second copy of its rows
    table = shown_rows(at)[0]
    marked = long_open_rows(table)
    assert len(marked) >= 1  # the seed has at least one event open for more than 24 h
    assert list(table["Estado"][: len(marked)]) == marked  # first in the table
    assert f"{len(marked)} {'evento abierto' if len(marked) == 1 else 'eventos abiertos'} hace más de 24 h" in texts(at)
    at.button(key="ver_abiertos_hace_mucho").click().run()
    assert not at.exception
    assert at.button_group(key="estado").value == [LONG_OPEN]
    assert at.query_params["estado"] == "Abierto más de 24 h"  # what the link carries: the option as shown
    only = shown_rows(at)[0]
    assert long_open_rows(only) == list(only["Estado"]) and len(only) == len(marked)
    assert not any(b.key == "ver_abiertos_hace_mucho" for b in at.button)  # already shown alone
    # shown alone, they can be ticked and ended as in any filtered view (the old summary table could not)
    assert at.dataframe[-1].proto.selection_mode


def test_long_open_threshold_is_a_setting(sim, seeded_runtime, app_secrets):
    at = run_app({**app_secrets, "long_open_hours": 0.1}, page=PAGE)
    table = shown_rows(at)[0]
    assert len(long_open_rows(table)) == len(active_pos(sim))
    at = run_app({**app_secrets, "long_open_hours": 0.1})
    at.query_params["estado"] = "Abierto más de 0.1 h"  # a shared link
    at.switch_page(PAGE).run()
    only = shown_rows(at)[0]
    assert len(only) == len(active_pos(sim))
    elapsed = list(only["Transcurrido"])
    assert elapsed == sorted(elapsed, reverse=True)  # longest first


def test_filters_come_from_the_url(sim, seeded_runtime, app_secrets):
    branch = sim.inventory.branches[0]
    at = run_app(app_secrets)
    at.query_params["sucursal"] = branch.name
    at.query_params["estado"] = "En contingencia"
    at.switch_page(PAGE).run()
    assert not at.exception
    frames = shown_rows(at)
    expected = len(active_pos(sim) & {p.id for p in branch.pos})
    assert len(frames) == (1 if expected else 0)
    assert sum(len(f) for f in frames) == expected


def test_search_narrows_the_table_the_count_and_what_ending_all_shown_touches(sim, seeded_runtime, app_secrets, monkeypatch):
    """At chain size the grid has no search of its own (it loads as it scrolls): the page's Buscar box is the
    way to one POS among 10 000, and "finalizar todos los mostrados" ends only what it leaves."""
    import ui.actions
    import ui.widgets

    monkeypatch.setattr(ui.widgets, "LAZY_ROWS", 5)  # the demo's 22 POS stand for a chain's 10 000
    branch = next(b for b in sim.inventory.branches if active_pos(sim) & {p.id for p in b.pos} != active_pos(sim))
    ending = active_pos(sim) & {p.id for p in branch.pos}
    assert ending, "the seed has events in more than one branch"
    search = branch.city.upper()  # "COCHABAMBA" finds "Cochabamba"
    at = run_app(app_secrets, page=PAGE, access=SUPERVISOR_OFF)
    at.text_input(key="buscar").set_value(search).run()
    assert not at.exception
    table = shown_rows(at)[0]
    assert set(table["Sucursal"]) == {branch.name} and len(table) == len(branch.pos)
    assert f"{len(branch.pos)} de {len(sim.inventory.all_pos)} puntos de venta" in texts(at)
    at.button(key="finalizar_todos").click().run()
    assert f"Finalizar todos los eventos mostrados ({len(ending)})" in [b.label for b in at.button]
    pending = at.session_state[ui.actions.PENDING]
    assert {t.pos.id for t in pending.targets} == ending  # not the other branches' events

    at = run_app(app_secrets, access=SUPERVISOR_OFF)
    at.query_params["buscar"] = f"{branch.name.lower()} caja 1"  # a shared link to one POS
    at.switch_page(PAGE).run()
    assert at.text_input(key="buscar").value == f"{branch.name.lower()} caja 1"
    assert [tuple(r) for r in shown_rows(at)[0][["Sucursal", "Punto de venta"]].itertuples(index=False)] == [
        (branch.name, "Caja 1")
    ]


def test_state_filter_widget(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, page=PAGE)
    at.button_group(key="estado").set_value(["Normal"]).run()
    rows = sum(len(f) for f in shown_rows(at))
    assert rows == len(sim.inventory.all_pos) - len(active_pos(sim))


def test_no_match_says_so(sim, seeded_runtime, app_secrets):
    at = run_app(app_secrets, page=PAGE)
    at.multiselect(key="motivo").set_value([3]).run()  # the seed never uses "Virus informático"
    assert not at.dataframe
    assert "Ningún punto de venta coincide" in texts(at)


def test_failed_sweep_shows_last_known_state_marked(sim, seeded_runtime, app_secrets):
    sim.update_faults({"error_rate": 1.0})
    seeded_runtime.collector.sweep_once()
    at = run_app(app_secrets, page=PAGE)
    frames = shown_rows(at)
    assert sum(f["Estado"].str.contains("En contingencia").sum() for f in frames) == len(active_pos(sim))
    assert all(f["Aviso"].str.startswith("⚠ Último dato conocido").all() for f in frames)
    assert "no respondieron en la última consulta" in texts(at)


def test_no_data_yet_is_explained(sim, app_secrets):
    at = run_app(app_secrets, page=PAGE)  # nothing swept: the collector is off in this test
    assert "El colector de este proceso está apagado" in texts(at) and "ningún otro consulta cucu:" in texts(at)
    assert "el colector los está consultando" not in texts(at)  # nobody is: the notice above says so
    assert f"Primer barrido detenido: 0 de {len(sim.inventory.all_pos)} puntos de venta consultados" in texts(at)
    assert all(f["Estado"].str.contains("Desconocido").all() for f in shown_rows(at))


def test_no_data_yet_while_the_collector_service_polls(sim, app_secrets):
    from cucu.store import Store

    Store(app_secrets["db"]).acquire_lease("collector", "servicio:1", None, timedelta(minutes=2))
    body = texts(run_app(app_secrets, page=PAGE))
    # Estado's sentence, from the same function: the first sweep's progress, not a second way to say it.
    assert f"Primer barrido en curso: 0 de {len(sim.inventory.all_pos)} puntos de venta consultados" in body
    assert "Todavía no hay datos" not in body and "consulta cucu" not in body


def test_a_partly_swept_chain_says_the_first_sweeps_progress(sim, seeded_runtime, app_secrets):
    """Seen: nothing said once some POS were read, while the rest showed "Desconocido"."""
    from cucu.store.schema import pos_status

    unread = [p.id for p in sim.inventory.all_pos[1:4]]
    with seeded_runtime.store.engine.begin() as conn:  # as if the first sweep had not reached these yet
        conn.execute(pos_status.delete().where(pos_status.c.pos_id.in_(unread)))
    assert seeded_runtime.store.acquire_lease("collector", "servicio:1", None, timedelta(minutes=2))
    body = texts(run_app(app_secrets, page=PAGE))
    total = len(sim.inventory.all_pos)
    assert body.count("Primer barrido en curso") == 1
    assert f"Primer barrido en curso: {total - len(unread)} de {total} puntos de venta consultados" in body


def test_collector_notice_follows_the_lease_of_other_processes(sim, seeded_runtime, app_secrets):
    # This process does not poll (CUCU_COLLECTOR=off); the collector service holds the lease.
    now = datetime.now(UTC)
    assert seeded_runtime.store.acquire_lease("collector", "servicio:1", now, timedelta(minutes=2))
    assert "consulta cucu" not in texts(run_app(app_secrets, page=PAGE))
    # The service died 10 minutes ago: its lease lapsed, and the page says since when nobody polls.
    seeded_runtime.store.release_lease("collector", "servicio:1")
    assert seeded_runtime.store.acquire_lease("collector", "servicio:1", now - timedelta(minutes=10), timedelta(minutes=2))
    body = texts(run_app(app_secrets, page=PAGE))
    assert "ningún otro consulta cucu desde el " in body and "(hora de La Paz)" in body
