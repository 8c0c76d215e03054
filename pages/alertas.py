"""Alertas: what the dashboard told people outside it, the incidents still open, and a test message."""

from __future__ import annotations

import httpx
import pandas as pd
import streamlit as st

from cucu.alerts import ALERT_PARAM, NOTE_MAX, QUIET_CHOICES, acknowledge, add_note
from cucu.events.actions import ActionError
from cucu.formatting import fmt_count, fmt_datetime, md_text, plural
from cucu.lapaz import to_la_paz
from cucu.store import Incident
from cucu.views.alertas import (
    IncidentColumn,
    OutboxColumn,
    alerts_pdf,
    alerts_xlsx,
    in_branches,
    incidents_frame,
    outbox_frame,
    owner_text,
    quiet_choice,
    quiet_text,
    timeline,
)
from cucu.vocabulary import Delivery, Mode
from ui import identity, resources, shell, widgets

page = shell.page_context()
runtime, settings, inventory = page.runtime, page.settings, page.inventory
alerts = settings.alerts
HISTORY_ROWS = 200  # the newest messages; the outbox keeps every one
RECENT_INCIDENTS = 50
STORY_ROWS = 500  # an incident's messages read for its story (a reminder a channel an hour for days)

st.title("Alertas")
st.caption(
    "Avisos por correo, Telegram, Slack, Teams o webhooks cuando SIAT cae, una sucursal sigue en contingencia "
    "demasiado tiempo, vence el plazo de facturas sin validar, nadie consulta cucu o una acción no se confirma. Horas de La Paz."
)

if not alerts.channels:
    st.info(
        "No hay canales configurados: las alertas quedan registradas aquí, pero no se envían. Pídale a quien "
        "administra el tablero que configure los canales de avisos (correo, Telegram, Teams…).",
        icon=":material/notifications_off:",
    )
else:
    with st.expander(f"Canales ({fmt_count(len(alerts.channels))})"):
        for channel in alerts.channels:
            tags = f" · etiquetas: {', '.join(sorted(channel.tags))}" if channel.tags else " · todas las alertas"
            st.text(f"{channel.label}{tags}")  # plain text: the operator's URL, masked, never Markdown
    if (
        page.can_act
        and page.company_wide
        and st.button("Enviar mensaje de prueba a todos los canales", icon=":material/send:", key="alertas_prueba")
    ):
        queued = runtime.alerter.queue_test(page.decision.name or page.decision.user)
        st.success(
            f"Mensaje de prueba en cola para {plural(queued, 'canal', 'canales')}: su entrega aparece abajo.",
            icon=":material/schedule_send:",
        )

# Region and branch, in the URL as on every page: the incidents below (open, resolved, to handle, downloaded).
branch_ids = widgets.branch_filter(inventory)
if branch_ids:
    st.caption(
        "Las alertas de SIAT y las de toda la empresa no son de una sucursal: se muestran con cualquier filtro.",
        help="Los mensajes enviados se listan todos: un mensaje de prueba no es de ninguna sucursal.",
    )

DONE = "alertas_hecho"  # what the last "Lo atiendo" or note did, shown once after the rerun that shows it


def linked_incident() -> Incident | None:
    """The incident a message's link names (``?alerta=<key>``): the open one of that key, else its latest."""
    wanted = st.query_params.get(ALERT_PARAM)
    if not wanted:
        return None
    found = runtime.store.incidents_by_key(wanted)
    if not found:
        st.warning("El enlace no corresponde a ninguna alerta de este tablero.", icon=":material/link_off:")
        return None
    return found[0]


def handling_section() -> None:
    """Who handles each alert, its story (messages, escalations, notes), and for a supervisor "Lo atiendo" and
    notes (the message's link opens it here; acting takes the usual sign-in and a click). Open alerts first,
    then the recently resolved ones, which take notes (what happened, what was done)."""
    if done := st.session_state.pop(DONE, None):
        st.success(done, icon=":material/check_circle:")
    linked = linked_incident()
    choices = {i.id: i for i in in_branches(runtime.store.open_incidents(), branch_ids)}
    recent = runtime.store.recent_incidents(RECENT_INCIDENTS, chosen=branch_ids)
    choices.update((i.id, i) for i in recent if i.closed_at is not None)
    if linked is not None:
        choices.setdefault(linked.id, linked)
    if not choices:
        return
    st.subheader("Atender una alerta")
    ids = list(choices)
    chosen = st.selectbox(
        "Alerta",
        ids,
        index=ids.index(linked.id) if linked is not None else 0,
        format_func=lambda i: f"{choices[i].title} · {owner_text(choices[i]) if choices[i].closed_at is None else 'resuelta'}",
        placeholder="Elija una alerta",
        key="alertas_atender",
    )
    if chosen is None:
        return
    incident = choices[chosen]
    if incident.closed_at is None and st.query_params.get(ALERT_PARAM) != incident.key:
        st.query_params[ALERT_PARAM] = incident.key  # the address names it: shared, it opens the same alert
    now = runtime.store.now()
    if incident.closed_at is not None:
        st.info(
            f"Esta alerta ya se resolvió el {fmt_datetime(incident.closed_at)}: no hay nada que atender; "
            "se le pueden agregar notas.",
            icon=":material/check_circle:",
        )
    elif incident.acknowledged_by is None:
        st.warning("Nadie la atiende todavía.", icon=":material/person_alert:")
    else:
        quiet = quiet_text(incident, now)
        st.markdown(
            f":material/person: Atendida por **{md_text(incident.acknowledged_by)}** desde "
            f"{fmt_datetime(incident.acknowledged_at)}" + (f" · {quiet}" if quiet else "")
        )
    story = timeline(
        incident, runtime.store.outbox_entries(STORY_ROWS, incident_id=incident.id), runtime.store.incident_notes(incident.id)
    )
    with st.container(border=True):
        for line in story:
            st.text(line)  # people's words and cucu's: text, never Markdown
    if not page.can_act:
        st.caption("Atender una alerta o escribir notas es para supervisores.")
        return
    if incident.branch_id is None and not page.company_wide:
        st.caption("Las alertas de toda la empresa las atiende un supervisor de toda la empresa.")
        return
    resolved = incident.closed_at is not None
    with st.form("alertas_nota", clear_on_submit=True, border=False):
        note = st.text_area(
            "Nota", max_chars=NOTE_MAX, placeholder="Qué hace usted con esta alerta (obligatoria)", key="alertas_nota_texto"
        )
        quiet_for = st.selectbox(
            "Sin recordatorios durante", QUIET_CHOICES, format_func=quiet_choice, placeholder="Elija cuánto tiempo",
            key="alertas_silencio", disabled=resolved,
            help="Los recordatorios de esta alerta se retoman después, y no se escala mientras alguien la atiende; "
            "se cierra sola cuando se resuelve.",
        )  # fmt: skip
        left, right = st.columns(2)
        take = left.form_submit_button(
            "Lo atiendo", icon=":material/front_hand:", type="primary", width="stretch", disabled=resolved
        )
        write = right.form_submit_button("Agregar nota", icon=":material/edit_note:", width="stretch")
    if not (take or write):
        return
    actor = identity.actor_now(settings)  # the role is read afresh: a revoked supervisor is refused here
    try:
        if take:
            acknowledge(runtime.store, actor, incident.id, note, quiet_for, runtime.store.now(), runtime.inventory)
            st.session_state[DONE] = f"Usted atiende «{incident.title}»: sin recordatorios durante {quiet_choice(quiet_for)}."
        else:
            add_note(runtime.store, actor, incident.id, note, runtime.store.now(), runtime.inventory)
            st.session_state[DONE] = "Nota agregada."
    except ActionError as exc:
        st.warning(str(exc), icon=":material/block:")
        return
    resources.note_own_write()  # the header's count shows it at once, not within a few seconds
    st.rerun()


handling_section()


def downloads() -> None:
    """The alerts the page lists (open, then the recently resolved), with who handles each, since when and every
    note: the notes are exported with their alert. Read through the person's store: a scoped person's only; cut to
    the region and branches chosen, as the lists."""
    listed = in_branches(runtime.store.open_incidents(), branch_ids)
    listed += [i for i in runtime.store.recent_incidents(RECENT_INCIDENTS, chosen=branch_ids) if i.closed_at is not None]
    if not listed:
        return
    now = runtime.store.now()
    widgets.workbook_downloads(
        "las alertas",
        f"alertas_{to_la_paz(now):%Y-%m-%d_%H%M}",
        lambda: alerts_xlsx(listed, runtime.store.incident_notes),  # built on click
        lambda: alerts_pdf(listed, runtime.store.incident_notes, now),
        key="alertas_descarga",
        xlsx_help="Las alertas abiertas y las resueltas recientemente, quién las atiende y desde cuándo, y sus notas "
        "(autor, hora de La Paz, texto), una hoja cada una.",
        pdf_help="Lo mismo para imprimir, en español, horas de La Paz.",
    )


downloads()

if settings.mode is Mode.DEMO and runtime.simulator is not None and page.can_act:
    with st.expander("Simulador (DEMO): provocar una falla"):
        try:  # a chain's simulator is a process of its own, reached over HTTP
            siat_down = runtime.simulator.faults.siat_down
            down = st.toggle(
                "SIAT no responde",
                value=siat_down,
                key="alertas_demo_siat",
                help="El simulador de cucu responde que SIAT no está disponible: tras tres comprobaciones, la alerta.",
            )
            if down != siat_down:
                runtime.simulator.update_faults({"siat_down": down})
        except httpx.HTTPError:
            st.warning(
                "El simulador de cucu no responde: no se pueden provocar fallas ahora. Revise el registro del tablero.",
                icon=":material/cloud_off:",
            )


def incidents_table(frame: pd.DataFrame) -> None:
    """Fits a tablet (ui.widgets.TABLET_GRID_PX): what, since when, who handles it (open ones) or when it was
    resolved, the text; reminders (and who handled a resolved one) in the column menu."""
    when = widgets.la_paz_column("DD/MM/YYYY HH:mm", width=widgets.DATE_TIME_PX)
    resolved = IncidentColumn.CLOSED in frame.columns
    shown = [
        IncidentColumn.RULE,
        IncidentColumn.TITLE,
        IncidentColumn.OPENED,
        IncidentColumn.CLOSED if resolved else IncidentColumn.OWNER,
        IncidentColumn.BODY,
    ]
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        placeholder=widgets.NO_VALUE,
        column_order=shown,
        column_config={
            IncidentColumn.RULE: st.column_config.TextColumn(width=160),
            IncidentColumn.TITLE: st.column_config.TextColumn(width=190),
            IncidentColumn.OWNER: st.column_config.TextColumn(width=150),  # "Ana Quispe desde 05/12 14:05"
            IncidentColumn.BODY: st.column_config.TextColumn(width=150),
            IncidentColumn.OPENED: when,
            IncidentColumn.NOTIFIED: when,
            IncidentColumn.REMINDERS: st.column_config.NumberColumn(width=110),
            IncidentColumn.CLOSED: when,
        },
    )


@shell.live(resources.LIVE_REFRESH_S)
def live_alerts(branch_ids: list[str]) -> None:
    open_now = in_branches(runtime.store.open_incidents(), branch_ids)
    header = resources.open_alerts(runtime)
    known = header.known  # the rules decided lately: else none open is not "none"
    st.subheader(f"Abiertas ({fmt_count(len(open_now)) if known or open_now else widgets.NO_VALUE})")
    if not open_now and not known:
        st.info(
            "**Las alertas no se han evaluado en las últimas rondas.** Lo que está abierto no se sabe todavía: el "
            "proceso que consulta a cucu las evalúa en cada ronda.",
            icon=":material/notifications_off:",
        )
    elif not open_now and header.partial:
        st.info(
            "**Ninguna alerta abierta en lo leído hasta ahora.** Las reglas todavía no vieron todos los puntos de venta "
            "y sus CUFD ni una lectura completa de las facturas: lo que falta puede abrir alertas.",
            icon=":material/hourglass_top:",
        )
    elif not open_now:
        st.success("Ninguna alerta abierta.", icon=":material/check_circle:")
    else:
        incidents_table(incidents_frame(open_now).drop(columns=[IncidentColumn.CLOSED]))

    entries = runtime.store.outbox_entries(HISTORY_ROWS)
    waiting = sum(1 for e in entries if e.delivery is Delivery.WAITING)
    failed = sum(1 for e in entries if e.delivery is Delivery.GAVE_UP)
    st.subheader("Mensajes enviados")
    if not entries:
        st.caption("Todavía no se envió ningún mensaje.")
    else:
        notes = [f"Los {fmt_count(len(entries))} más recientes, un mensaje por canal"]
        if waiting:
            notes.append(f"{fmt_count(waiting)} en cola (se reintentan)")
        if failed:
            notes.append(f"{fmt_count(failed)} no se pudieron entregar")
        st.caption(" · ".join(notes))
        st.dataframe(
            outbox_frame(entries),
            hide_index=True,
            width="stretch",
            placeholder=widgets.NO_VALUE,
            # Fits a tablet (ui.widgets.TABLET_GRID_PX); attempts and delivery time in the column menu.
            column_order=[
                OutboxColumn.CREATED,
                OutboxColumn.KIND,
                OutboxColumn.TITLE,
                OutboxColumn.CHANNEL,
                OutboxColumn.DELIVERY,
                OutboxColumn.LAST_ERROR,
            ],
            column_config={
                OutboxColumn.CREATED: widgets.la_paz_column("DD/MM/YYYY HH:mm:ss", width=widgets.DATE_TIME_SECONDS_PX),
                OutboxColumn.KIND: st.column_config.TextColumn(width=120),
                OutboxColumn.TITLE: st.column_config.TextColumn(width=170),
                OutboxColumn.CHANNEL: st.column_config.TextColumn(width=110),
                OutboxColumn.DELIVERY: st.column_config.TextColumn(width=110),
                OutboxColumn.ATTEMPTS: st.column_config.NumberColumn(width=80),
                OutboxColumn.DELIVERED: widgets.la_paz_column("DD/MM/YYYY HH:mm:ss", width=widgets.DATE_TIME_SECONDS_PX),
                OutboxColumn.LAST_ERROR: st.column_config.TextColumn(width=120),
            },
        )

    recent = [i for i in runtime.store.recent_incidents(RECENT_INCIDENTS, chosen=branch_ids) if i.closed_at is not None]
    if recent:
        with st.expander(f"Resueltas recientemente ({fmt_count(len(recent))})"):
            incidents_table(incidents_frame(recent))


live_alerts(branch_ids)
