"""AppTest: Estado — rollup, the SIAT-down alert, KPIs, branch tiles (its "Eventos por cerrar": test_page_facturas)."""

from __future__ import annotations

import re
from datetime import timedelta

from cucu.api.models import Cufd
from cucu.store import CufdFetch
from cucu.views.queue import QUEUE_LISTED, empty_text
from tests.support.apptest import SUPERVISOR_OFF, header_siat, page_word, run_app, texts


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
    # The Facturas link has no filter; the region tiles' links name a region (tests/apptest/test_region_filter.py).
    links = [link for link in at.get("page_link") if link.proto.query_string and "region=" not in link.proto.query_string]
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


# ---- one state for SIAT on the whole screen (issue 23, rule 2) ----------------------------


def test_recovering_siat_is_intermittent_in_the_header_the_word_and_the_box(sim, seeded_runtime, app_secrets):
    """Seen: "SIAT: Intermitente · 5 de las últimas 6 comprobaciones fallaron" above a green "SIAT
    responde", with "SIAT en línea" in the header."""
    sim.update_faults({"siat_down": True})
    for _ in range(5):
        seeded_runtime.collector.check_once()
    sim.update_faults({"siat_down": False})
    seeded_runtime.collector.check_once()
    at = run_app(app_secrets)
    assert page_word(at) == "Intermitente"
    assert header_siat(at).startswith(":orange-badge[") and "SIAT: Intermitente" in header_siat(at)
    assert not [s.value for s in at.success if "SIAT responde" in s.value]  # no green box under an orange word
    assert any("5 de las últimas 6" in w.value and "vuelve a Operativo" in w.value for w in at.warning)


def test_intermittent_clears_on_the_third_answer_everywhere(sim, seeded_runtime, app_secrets):
    sim.update_faults({"siat_down": True})
    for _ in range(5):
        seeded_runtime.collector.check_once()
    sim.update_faults({"siat_down": False})
    for _ in range(3):
        seeded_runtime.collector.check_once()
    at = run_app(app_secrets)
    assert page_word(at) == "Operativo" and "SIAT: Operativo" in header_siat(at)


def test_siat_down_is_caido_in_the_header_too(sim, seeded_runtime, app_secrets):
    sim.update_faults({"siat_down": True})
    for _ in range(3):
        seeded_runtime.collector.check_once()
    at = run_app(app_secrets)
    assert page_word(at) == "Caído" and header_siat(at).startswith(":red-badge[") and "SIAT: Caído" in header_siat(at)


def test_a_check_cucu_did_not_answer_beside_intermittent_is_in_its_colour(sim, seeded_runtime, app_secrets):
    sim.update_faults({"error_rate": 1.0})
    seeded_runtime.collector.check_once()
    at = run_app(app_secrets)
    assert page_word(at) == "Intermitente" and "SIAT: Intermitente" in header_siat(at)
    assert not at.error  # a red box under an orange word was a second state
    assert any("cucu respondió con un error" in w.value for w in at.warning)


def test_check_now_shows_the_persons_check_without_a_second_state(sim, seeded_runtime, app_secrets):
    """Seen: after "Comprobar ahora" the page and the header said different things. The person's check
    is shown beside the one state; it counts for no rule (issue 22), so it changes the state nowhere."""
    at = run_app(app_secrets)
    sim.update_faults({"siat_down": True})
    at.button(key="estado_refresh").click().run()
    assert not at.exception
    assert page_word(at) == "Operativo" and "SIAT: Operativo" in header_siat(at)
    assert "Comprobación pedida a las" in texts(at) and "SIAT no responde" in texts(at)
    badge = next(m for m in at.markdown if "SIAT: Operativo" in m.value and "-badge[" in m.value)
    assert "Comprobación pedida a las" in badge.proto.help  # the badge's help says it too
    # Seen: the green box and "SIAT respondió en la última comprobación" over "Última comprobación: … · SIAT no
    # responde" (the person's). The box and its line say the state's checks; the person's check is its own note.
    assert [s.value for s in at.success] and not at.warning and not at.error
    # about SIAT, never about every POS: the demo has POS whose CUFD stops them, listed in the queue
    assert at.success[0].value.startswith("**SIAT responde.** Los puntos de venta con CUFD vigente pueden facturar")
    (line,) = [c.value for c in at.caption if c.value.startswith("Última comprobación")]
    assert line.startswith("Última comprobación periódica:") and "no responde" not in line
    (note,) = [c.value for c in at.caption if c.value.startswith("Comprobación pedida a las")]
    assert "SIAT no responde" in note or "siat no responde" in note.lower()


def test_check_now_reruns_the_whole_app():
    """A click inside Estado's live part reruns only that part unless it asks for the app: the header
    would keep its state for up to 10 s (AppTest always reruns everything, so this reads the page)."""
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "pages" / "estado.py").read_text(encoding="utf-8")
    button = source[source.index('"Comprobar ahora"') :]
    assert 'st.rerun(scope="app")' in button[: button.index("\n\n")]


# ---- unknown is not green and not zero (issue 23, rule 1) ---------------------------------


def tile_lines(at) -> list[str]:
    words = ("Sin contingencia", "Sin datos", "en contingencia")
    return [m.value for m in at.markdown if any(w in m.value for w in words) and "SIAT" not in m.value]


def polled_by_the_service(db: str) -> None:
    """A live collector lease of another process: someone polls, so a first sweep is "en curso"."""
    from cucu.store import Store

    Store(db).acquire_lease("collector", "servicio:1", None, timedelta(minutes=2))


def test_before_the_first_sweep_figures_are_unknown_not_zero_and_tiles_are_not_green(sim, app_secrets):
    """Seen at chain size after a restart: "POS en contingencia 0 de 10 000", "POS que pueden facturar 0 de
    10 000" and every tile "🟢 Sin contingencia · 10 POS · 10 sin datos" until the first sweep ended."""
    polled_by_the_service(app_secrets["db"])
    at = run_app(app_secrets)  # nothing swept, no CUFD read
    m = metrics(at)
    deltas = {metric.label: metric.proto.delta for metric in at.metric}
    total = len(sim.inventory.all_pos)
    for label in ("POS en contingencia", "Sucursales afectadas", "Pueden facturar", "CUFD por vencer (2 h)"):
        assert (m[label], deltas[label]) == ("—", "sin datos todavía"), label
    body = texts(at)
    assert f"Primer barrido en curso: 0 de {total} puntos de venta consultados" in body
    assert f"CUFD leídos: 0 de {total}" in body
    lines = tile_lines(at)
    assert lines and all(line.startswith(":gray[⚪ Sin datos]") for line in lines), lines
    assert ":green[" not in "\n".join(lines)


def test_a_partly_read_chain_counts_only_what_it_read_and_says_so(sim, seeded_runtime, app_secrets):
    from cucu.store.schema import pos_status

    everyone = sim.inventory.all_pos
    active_all = {e["posId"] for e in sim.events() if not e["finalizado"]}
    branch = next(b for b in sim.inventory.branches if len(b.pos) > 1 and not any(p.id in active_all for p in b.pos))
    unread = [p.id for p in branch.pos[1:]]
    with seeded_runtime.store.engine.begin() as conn:  # as if the first sweep had not reached these yet
        conn.execute(pos_status.delete().where(pos_status.c.pos_id.in_(unread)))
    polled_by_the_service(app_secrets["db"])
    at = run_app(app_secrets)
    m = metrics(at)
    deltas = {metric.label: metric.proto.delta for metric in at.metric}
    known = len(everyone) - len(unread)
    assert (m["POS en contingencia"], deltas["POS en contingencia"]) == (str(len(active_all)), f"de {known} con datos")
    assert f"Primer barrido en curso: {known} de {len(everyone)} puntos de venta consultados" in texts(at)
    assert f":gray[Sin contingencia en 1 de {len(branch.pos)} POS]" in tile_lines(at)
    assert f"⚪ {len(unread)} sin datos" in texts(at)  # how many of the branch are unread


def test_the_first_sweep_is_said_once_above_the_figures_it_qualifies(sim, app_secrets):
    """Seen: "Primer barrido en curso: 0 de 10 000 …" above the KPIs and, below them, "Todavía no hay datos
    de los puntos de venta: el colector los está consultando": one message, from one function, above."""
    polled_by_the_service(app_secrets["db"])
    at = run_app(app_secrets)
    body = texts(at)
    assert body.count("Primer barrido en curso") == 1 and "Todavía no hay datos" not in body
    note = next(i for i in at.info if "Primer barrido" in i.value)
    assert f"0 de {len(sim.inventory.all_pos)} puntos de venta consultados" in note.value
    page = [e for e in at.main if e is note or e is at.metric[0]]  # document order
    assert page == [note, at.metric[0]]  # above the KPIs whose "de N con datos" it explains


def test_with_nobody_polling_the_first_sweep_is_not_said_in_progress(sim, app_secrets):
    """The collector is off and no other process polls: the sweep is stopped, not "en curso"."""
    body = texts(run_app(app_secrets))
    assert "El colector de este proceso está apagado" in body
    assert f"Primer barrido detenido: 0 de {len(sim.inventory.all_pos)}" in body and "en curso" not in body


def test_the_queue_of_what_to_do_comes_first_with_its_counts_and_each_rows_action(sim, seeded_runtime, app_secrets):
    """Issue 25, part 4: the demo's expired and inactive CUFDs, those expiring, the event open for over a day,
    the rejected invoices; soonest first; a supervisor renews the CUFDs in it through the usual confirmation."""
    seeded_runtime.collector.cufd_once()
    seeded_runtime.collector.invoices_once()
    at = run_app(app_secrets, access=SUPERVISOR_OFF)
    assert next(s.value for s in at.subheader) == "Qué hacer ahora"  # the first section
    counts = next(c.value for c in at.caption if re.match(r"[\d ]+ puntos? de venta no pueden? facturar · ", c.value))
    assert " CUFD por vencer · " in counts and "1 evento abierto hace mucho" in counts  # real Spanish, counted
    # The top as a list, each line with what, where, the time left in words and its verb's link ...
    listed = next(m.value for m in at.markdown if m.value.startswith("- **")).splitlines()
    assert len(listed) == QUEUE_LISTED  # the demo's queue is longer
    # the time left in words, or, for a CUFD cucu says is inactive or missing (since when, nobody knows), none
    timed = r" · ((vence en|:red\[venció hace|espera hace) .*|CUFD:[^·]+) · \[\w+\]\([a-z]+\?.+#\w+\)$"
    assert all(re.search(timed, line) for line in listed), listed
    assert not any("espera hace 0 s" in line for line in listed)
    assert not [d for d in at.dataframe if "Qué" in d.value.columns]  # ... and no grid until asked for
    at.session_state["estado_cola_tabla"] = True  # "Las 50 más urgentes en una tabla" opened
    at.run()
    grid = next(d for d in at.dataframe if "Qué" in d.value.columns)
    table = grid.value
    assert list(table["Qué"][: len(listed)]) == [line[4 : line.index("**", 4)] for line in listed]  # the same order
    assert table["Plazo o desde"].is_monotonic_increasing  # soonest (or longest waiting) first
    assert {"No puede facturar", "CUFD por vencer", "Abierto hace mucho"} <= set(table["Qué"])
    assert table["Acción"].str.contains("#").all()  # each row's verb rides in its link
    renew = next(b for b in at.button if b.key == "estado_cola_renovar")
    renew.click().run()
    assert not at.exception and any("Renovar el CUFD de" in b.label for b in at.button)  # the confirmation


def test_a_viewer_sees_the_queue_without_its_renewal(sim, seeded_runtime, app_secrets):
    seeded_runtime.collector.cufd_once()
    at = run_app(app_secrets)  # no sign-in: a viewer
    assert "Qué hacer ahora" in texts(at) and not any(b.key == "estado_cola_renovar" for b in at.button)


def test_with_everything_known_and_nothing_to_do_the_queue_says_so_plainly(sim, seeded_runtime, app_secrets):
    """Issue 25, part 4: "Empty, it says so plainly". Every POS read, every CUFD read and valid for two days, no
    event open too long (the setting above the demo's oldest), no alert, nothing in verification."""
    now = seeded_runtime.store.now()
    seeded_runtime.store.save_cufds(
        CufdFetch(p.id, p.branch_id, now, Cufd("X" * 20, None, now + timedelta(days=2), True))
        for p in seeded_runtime.inventory.all_pos
    )
    at = run_app({**app_secrets, "long_open_hours": 8_000}, access=SUPERVISOR_OFF)
    assert not at.exception, [e.value for e in at.exception]
    assert next(s.value for s in at.subheader) == "Qué hacer ahora"
    assert [s.value for s in at.success if s.value.startswith("Nada por hacer")] == [empty_text(True)]  # nothing partial
    assert not any(c.value.startswith(("No puede facturar", "Abierto hace mucho")) for c in at.caption)


def test_before_the_first_sweep_the_queue_does_not_say_there_is_nothing_to_do(sim, app_secrets):
    at = run_app(app_secrets)
    assert "Nada por hacer ahora" not in texts(at) and "Sin datos todavía: la lista se arma" in texts(at)


def test_before_the_first_sweep_a_queue_of_invoices_says_the_pos_are_not_read(sim, app_secrets):
    """Seen at a chain's start: the queue listed two rejected invoices as if that were all there was to do."""
    from cucu.runtime import build_runtime
    from cucu.settings import load_settings

    runtime = build_runtime(load_settings(app_secrets, {}), start_collector=False)
    while not runtime.collector.invoices_once().pass_done:  # the invoices read, no POS yet
        pass
    runtime.close()
    at = run_app(app_secrets)
    caption = next(c.value for c in at.caption if re.match(r"[\d ]+ facturas? rechazadas?", c.value))
    assert "Los puntos de venta no se leyeron todavía: faltan sus eventos y sus CUFD." in caption
