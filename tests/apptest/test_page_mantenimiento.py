"""AppTest: Mantenimiento — a supervisor schedules a window and every page names it; a viewer only reads."""

from __future__ import annotations

from datetime import timedelta

from cucu.events.actions import Actor
from cucu.events.maintenance import schedule
from cucu.vocabulary import ActionKind, AlertRule, Role
from tests.support.apptest import SUPERVISOR_OFF, run_app, texts

PAGE = "pages/mantenimiento.py"


def open_page(app_secrets, access=SUPERVISOR_OFF):
    return run_app(app_secrets, page=PAGE, access=access)


def test_a_supervisor_schedules_a_window_and_cancels_it(app_secrets, seeded_runtime):
    at = open_page(app_secrets)
    assert "No hay mantenimientos programados ni recientes." in texts(at)
    # Tomorrow, whatever the hour the suite runs at (today's 22:00-23:00 is past after 23:00).
    at.date_input(key="mantenimiento_dia").set_value(seeded_runtime.store.now().date() + timedelta(days=1))
    at.text_input(key="mantenimiento_motivo").input("Mantenimiento de SIAT anunciado")
    next(b for b in at.button if b.label == "Programar").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Mantenimiento programado:" in texts(at)
    (window,) = seeded_runtime.store.maintenance_windows(ending_after=seeded_runtime.store.now())
    assert window.reason == "Mantenimiento de SIAT anunciado" and window.branch_ids == ()
    assert [e.action for e in seeded_runtime.store.audit_entries()] == [ActionKind.SCHEDULE_MAINTENANCE]
    at.button(key=f"mantenimiento_cancelar_{window.id}").click().run()
    assert "Mantenimiento cancelado." in texts(at) and "Cancelado el" in texts(at)


def test_a_window_without_a_reason_is_refused_in_spanish(app_secrets, seeded_runtime):
    at = open_page(app_secrets)
    next(b for b in at.button if b.label == "Programar").click().run()
    assert not at.exception and "Escriba el motivo" in texts(at)
    assert not seeded_runtime.store.maintenance_windows(ending_after=seeded_runtime.store.now())


def test_every_page_names_a_running_window(app_secrets, seeded_runtime):
    from app import PAGE_FILES

    now = seeded_runtime.store.now()
    schedule(
        seeded_runtime.store, Actor("ana", "Ana", Role.SUPERVISOR), seeded_runtime.inventory,
        starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1), branch_ids=[], silenced=[],
        reason="Mantenimiento de SIAT *anunciado*", now=now,
    )  # fmt: skip
    at = open_page(app_secrets)
    for file, *_ in PAGE_FILES:
        at.switch_page(file).run()
        assert not at.exception, (file, [e.value for e in at.exception])
        notice = [a.value for a in at.info if "Mantenimiento en curso" in a.value]
        assert notice and "toda la empresa" in notice[0], file
        assert "\\*anunciado\\*" in notice[0]  # a person's words: never Markdown


def test_a_viewer_reads_the_windows_but_cannot_schedule(app_secrets, seeded_runtime):
    at = open_page(app_secrets, access={"mode": "off"})
    assert "Programar o cancelar un mantenimiento es para supervisores." in texts(at)
    assert not [b for b in at.button if b.label == "Programar"]


def test_before_a_window_the_pos_whose_cufd_expires_inside_it_are_offered_for_renewal(app_secrets, seeded_runtime):
    """Pre-flight: the demo's CUFDs are read; a window ending after some of them expire lists those POS, and
    the button opens the same confirmation as Facturas' renewal."""
    from cucu.events.maintenance import PREFLIGHT_LISTED, cufds_to_renew, renewal_list
    from cucu.formatting import fmt_datetime, md_text

    seeded_runtime.collector.cufd_once()
    now = seeded_runtime.store.now()
    window_id = schedule(
        seeded_runtime.store, Actor("ana", "Ana", Role.SUPERVISOR), seeded_runtime.inventory,
        starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3), branch_ids=[], silenced=[],
        reason="SIAT", now=now,
    )  # fmt: skip
    window = seeded_runtime.store.maintenance_window(window_id)
    assert window is not None
    to_renew, unread = cufds_to_renew(window, seeded_runtime.store.cufds(), seeded_runtime.inventory)
    assert to_renew and unread == 0  # the demo has one expired, one inactive and some expiring within 2 h
    at = open_page(app_secrets)
    assert f"{len(to_renew)} punto" in texts(at) and "sin un CUFD vigente hasta el fin del mantenimiento" in texts(at)
    # ... listed: branch, POS and expiry, soonest first, the first ten and how many more
    rows = renewal_list(to_renew, seeded_runtime.store.cufds(), seeded_runtime.inventory, now)
    listed = next(m.value for m in at.markdown if m.value.startswith("- **")).splitlines()
    assert len(listed) == min(len(rows), PREFLIGHT_LISTED) + (len(rows) > PREFLIGHT_LISTED)
    assert listed[0] == f"- **{md_text(rows[0].branch)}** · {md_text(rows[0].pos)} · {rows[0].state}"
    dated = [r.expires_at for r in rows if r.expires_at is not None and r.state.startswith(("vence", "venció"))]
    assert dated and dated == sorted(dated) and any(f" el {fmt_datetime(dated[0])}" in line for line in listed)
    at.button(key=f"mantenimiento_renovar_{window_id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "CUFD nuevo" in texts(at)  # the confirmation says what happens


def test_a_supervisor_marks_a_past_period_and_conectividad_shows_it_apart(app_secrets, seeded_runtime):
    at = open_page(app_secrets)
    yesterday = seeded_runtime.store.now().date() - timedelta(days=1)
    at.date_input(key="pasado_dia").set_value(yesterday)
    at.text_input(key="pasado_motivo").input("SIAT avisó tarde de su mantenimiento")
    next(b for b in at.button if b.label == "Marcar como mantenimiento").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Período marcado como mantenimiento" in texts(at) and "Marcado después" in texts(at)
    assert [e.action for e in seeded_runtime.store.audit_entries()] == [ActionKind.MARK_MAINTENANCE]
    at.switch_page("pages/conectividad.py").run()
    assert not at.exception, [e.value for e in at.exception]
    deltas = {m.label: m.proto.delta for m in at.metric}
    assert deltas["Disponibilidad 7 días"] == "en mantenimiento: 1 h 0 min"


def test_each_window_says_what_the_automatic_policy_does_during_it(app_secrets, seeded_runtime):
    now = seeded_runtime.store.now()
    branch = seeded_runtime.inventory.branches[1].id
    for branches, reason in (([], "SIAT anunció mantenimiento"), ([branch], "Inventario anual")):
        schedule(
            seeded_runtime.store, Actor("ana", "Ana", Role.SUPERVISOR), seeded_runtime.inventory,
            starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2), branch_ids=branches,
            silenced=[AlertRule.SIAT_DOWN], reason=reason, now=now,
        )  # fmt: skip
    at = open_page(app_secrets)
    assert "Política automática" not in texts(at)  # off: nothing to say
    at.secrets["policy"] = {"mode": "on", "maintenance": "start"}
    at.run()
    said = [c.value for c in at.caption if c.value.startswith("Política automática")]
    assert len(said) == 2 and "al empezar, inicia contingencia" in said[0]  # SIAT's, the company's (listed first)
    assert "no inicia ni finaliza nada en su alcance" in said[1]  # a branch's window never declares SIAT down


def test_a_region_stands_for_all_its_branches(app_secrets, seeded_runtime):
    """Regions (issue 26): choosing La Paz schedules the window over its two branches, plus any branch chosen."""
    inventory = seeded_runtime.inventory
    la_paz = [b.id for b in inventory.branches if b.region == "La Paz"]
    sucre = next(b for b in inventory.branches if b.region == "Chuquisaca")
    at = open_page(app_secrets)
    at.date_input(key="mantenimiento_dia").set_value(seeded_runtime.store.now().date() + timedelta(days=1))
    at.multiselect(key="mantenimiento_regiones").select("La Paz")
    at.multiselect(key="mantenimiento_sucursales").select(sucre.id)
    at.text_input(key="mantenimiento_motivo").input("Inventario anual")
    next(b for b in at.button if b.label == "Programar").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (window,) = seeded_runtime.store.maintenance_windows(ending_after=seeded_runtime.store.now())
    assert sorted(window.branch_ids) == sorted([*la_paz, sucre.id]) and len(la_paz) == 2
