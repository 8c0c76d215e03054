"""Estado: SIAT in one word, the alert that decides contingency, KPIs and one tile per branch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from cucu.alerts import ALERT_PARAM
from cucu.connectivity.checks import diagnose
from cucu.events.actions import ActionError, siat_outage_description
from cucu.events.policy import set_paused
from cucu.formatting import fmt_age, fmt_count, fmt_datetime, fmt_duration, fmt_hour, fmt_time, md_text, plural
from cucu.inventory import branch_labels
from cucu.invoicing import INVOICE_JOB, unclosed_events, walk_progress
from cucu.organization.regions import branches_by_region
from cucu.store import Incident
from cucu.views.alertas import owner_text
from cucu.views.estado import BRANCH_COLUMNS, BranchColumn, EstadoFrames, Overview, branches_frame
from cucu.views.facturas import NOTHING_READ, invoice_reading
from cucu.views.links import REGION_PARAM
from cucu.views.pos import PosColumn
from cucu.views.queue import (
    QUEUE_COLUMNS,
    QUEUE_LISTED,
    Queue,
    QueueColumn,
    empty_text,
    merged,
    person_part,
    queue_frame,
    queue_lines,
)
from cucu.views.shared_reads import Shared
from cucu.vocabulary import Motive, Outcome, PolicyMode, PolicyState, PosState, QueueKind, SiatStatus, Tone
from ui import actions, identity, resources, shell, widgets

page = shell.page_context()
runtime, settings, inventory = page.runtime, page.settings, page.inventory
labels = branch_labels(inventory)  # once per run: filters and links carry these
ATTENTION_TILES = 6  # a tablet's screenful; every branch is in the table below

st.title("Estado")
actions.confirmation_and_results(runtime)


def siat_panel(now: datetime) -> None:
    """SIAT's word and its box, from the one state the header shows too (``shell.siat``)."""
    rollup = shell.siat(lambda: resources.siat_state(runtime))
    st.markdown(f"## SIAT: :{rollup.color}[{rollup.word}]")
    # The box and the line under it say the checks the state counts. A check a person asked for changes no state:
    # it is its own note (``asked_note``), not "the last check" beside a box that says the opposite.
    latest = rollup.latest
    # With no check the state counts (Sin datos), the one asked for (the very first view asks cucu once) is all
    # there is to explain what to fix: a refused key, an unreachable address.
    explained = latest or rollup.asked
    diagnosis = diagnose(explained, settings) if explained is not None else None
    down_since = rollup.down_since
    if rollup.status is SiatStatus.DOWN and down_since is not None:
        siat_motive = f"el motivo {Motive.SIAT_FAILURE.value} ({Motive.SIAT_FAILURE.label})"
        st.error(
            f"**SIAT no responde desde las {fmt_hour(down_since)}** ({fmt_age(down_since, now)}). "
            f"Si la falla continúa, los puntos de venta deben declarar contingencia con {siat_motive} "
            "para seguir facturando fuera de línea.",
            icon=":material/crisis_alert:",
        )
        if page.can_act:  # viewers see no action control
            suggest_contingency(down_since)
    elif diagnosis is not None:  # cucu gave no answer: what to fix is on our side
        if rollup.status is not SiatStatus.CUCU_SILENT:
            st.caption(rollup.detail)
        # Red only when nothing is known of SIAT; beside "Intermitente" it is one of its failures, in its colour.
        box = st.error if rollup.status in (SiatStatus.CUCU_SILENT, SiatStatus.NO_DATA) else st.warning
        box(
            f"**{diagnosis.title}**\n\n{md_text(diagnosis.explanation)}\n\n**Cómo corregirlo:** {diagnosis.fix}",
            icon=":material/cloud_off:",
        )
    elif rollup.status is SiatStatus.OPERATIONAL:
        st.caption(rollup.detail)
        # about SIAT: a POS whose CUFD stops it is in the queue above and in "Pueden facturar" below
        st.success(
            "**SIAT responde.** Los puntos de venta con CUFD vigente pueden facturar en línea.", icon=":material/check_circle:"
        )
    elif rollup.status is SiatStatus.INTERMITTENT:
        st.warning(f"**SIAT falla a ratos.** {rollup.detail}", icon=":material/warning:")
    else:  # Sin datos, or cucu silent with nothing to diagnose
        st.info(rollup.detail, icon=f":material/{rollup.icon}:")
    if rollup.asked_note:
        st.caption(rollup.asked_note)
    with st.container(horizontal=True, vertical_alignment="center"):
        if latest is not None:
            latency = f" · respuesta en {latest.latency_ms:.0f} ms" if latest.latency_ms is not None else ""
            st.caption(
                f"Última comprobación periódica: {fmt_datetime(latest.checked_at, seconds=True)} (hora de La Paz) · "
                f"{latest.label}{latency}."
            )
        # The whole app reruns, not only this live part: the header shows the same state as the page.
        if st.button("Comprobar ahora", icon=":material/refresh:", key="estado_refresh", help="Consulta a cucu en este momento"):
            resources.connectivity(runtime, fresh=True)
            st.rerun(scope="app")


def policy_panel() -> None:
    """The automatic policy's state, when it is configured, and the supervisors' pause switch."""
    status = resources.current_policy(runtime)
    if status is None:
        return
    dry = " (simulación)" if status.mode is PolicyMode.DRY_RUN else ""
    with st.container(horizontal=True, vertical_alignment="center", key="estado_politica"):
        st.badge(f"Política automática: {status.state.label}{dry}", color=status.state.color, icon=":material/smart_toy:")
        st.caption(md_text(status.sentence))
        if page.can_act and page.company_wide:  # the policy acts for the whole company
            # Halted after refusals: resuming (audited) counts the refusals afresh.
            paused = status.state in (PolicyState.PAUSED, PolicyState.HALTED)
            st.button(
                "Reanudar" if paused else "Pausar",
                icon=":material/play_arrow:" if paused else ":material/pause:",
                key="estado_politica_pausa",
                on_click=toggle_policy,
                args=(not paused,),
            )
    problem = st.session_state.pop("estado_politica_error", None)
    if problem:
        st.warning(problem, icon=":material/block:")


def toggle_policy(pause: bool) -> None:
    try:
        set_paused(runtime.store, identity.actor_now(settings), pause, runtime.store.now())
    except ActionError as exc:  # the role is read afresh: a revoked supervisor is refused here
        st.session_state["estado_politica_error"] = str(exc)


def suggest_contingency(since: datetime) -> None:
    """Offer motive 2 on every POS without an active event, through the same confirmation (which reads the POS
    afresh). Counted from the shared POS frame: re-reading 10 000 POS states per run of every tablet was what
    made Estado slow during a chain's outage."""
    shared = resources.current_frames(runtime)
    free = resources.derived(
        runtime,
        shared,
        "estado_sin_evento",
        lambda: list(shared.value.pos.loc[shared.value.pos[PosColumn.EVENT_ID].isna(), PosColumn.POS_ID]),
    )
    if not free:
        st.caption("Todos los puntos de venta ya tienen un evento activo.")
        return
    if st.button(
        f"Iniciar contingencia por {Motive.SIAT_FAILURE.label} en {plural(len(free), 'punto de venta', 'puntos de venta')}",
        type="primary",
        icon=":material/add_alert:",
        key="estado_sugerido",
    ):
        problem = actions.request_start(runtime, free, Motive.SIAT_FAILURE, siat_outage_description(since))
        if problem:
            st.warning(problem)
        else:
            st.rerun(scope="app")  # the confirmation opens at the top of the page, outside this live part


def count_of(
    column: DeltaGenerator,
    label: str,
    count: int,
    total: int,
    help: str | None = None,
    *,
    known: int | None = None,
    tone: Tone = Tone.NONE,
) -> None:
    """A KPI "how many of how many". The total goes under the figure: "2 500 de 10 000" does not fit a
    quarter of a tablet's width. Until all ``total`` are ``known``, the figure counts only the known ones
    and says so; with none known it is "—", never a 0 that reads as "none", and takes no colour."""
    if known is not None and known < total:
        value, note = (fmt_count(count), f"de {fmt_count(known)} con datos") if known else ("—", "sin datos todavía")
    else:
        value, note = fmt_count(count), f"de {fmt_count(total)}"
    widgets.kpi(column, label, value, [note], help=help, tone=tone if value != "—" else Tone.NONE)


def kpis(ov: Overview, now: datetime) -> None:
    c1, c2, c3, c4 = st.columns(4)
    in_contingency = Tone.MANAGED.if_any(ov.pos_in_contingency)  # managed, expected: amber, never red
    count_of(
        c1,
        "POS en contingencia",
        ov.pos_in_contingency,
        ov.pos_total,
        help="Puntos de venta con un evento activo",
        known=ov.pos_known,
        tone=in_contingency,
    )
    count_of(c2, "Sucursales afectadas", ov.branches_affected, ov.branches_total, known=ov.branches_known, tone=in_contingency)
    if ov.longest_open is not None:
        row = ov.longest_open
        hours = float(row[PosColumn.HOURS_OPEN])
        widgets.kpi(
            c3,
            "Evento abierto más largo",
            fmt_duration(timedelta(hours=hours)),
            [f"{row[PosColumn.BRANCH]} · {row[PosColumn.POS]}"],
            tone=Tone.MANAGED if hours >= settings.long_open_hours else Tone.NONE,
        )
    else:
        c3.metric(
            "Evento abierto más largo",
            "—",
            delta=None if ov.pos_known else "sin datos todavía",
            delta_color="off",
            delta_arrow="off",
        )
    unclosed_kpi(c4, now)


def unclosed_kpi(column: DeltaGenerator, now: datetime) -> None:
    """Ended events whose offline invoices are not all validated, counted as Facturas › Cierre de eventos
    counts them ("Por enviar" and "Con rechazos"). Whether an event is registered with SIAT is not known here."""
    shared = resources.current_invoices(runtime)
    since = now - timedelta(hours=settings.invoice_window_hours)
    unclosed = resources.derived(
        runtime, shared, "estado_unclosed", lambda: unclosed_events(shared.value.picture.invoices, since)
    )
    late = sum(1 for c in unclosed if c.deadline is not None and c.deadline <= now)
    nearest = next((c.deadline for c in unclosed if c.deadline is not None and c.deadline > now), None)
    # It counts from the invoices read: what is not read yet is unknown, and a first pass is partial.
    reading = invoice_reading(runtime.store.job_run(INVOICE_JOB), bool(shared.value.picture.invoices))
    notes = [reading, f"{fmt_count(late)} con el plazo vencido" if late else None]  # the more urgent note first
    notes.append(f"vence en {fmt_duration(nearest - now)}" if nearest is not None else None)
    never_read = reading == NOTHING_READ
    widgets.kpi(
        column,
        "Eventos por cerrar",
        "—" if never_read else fmt_count(len(unclosed)),
        notes,
        tone=Tone.NONE if never_read else Tone.PROBLEM if late else Tone.MANAGED.if_any(len(unclosed)),
        help=(
            f"Eventos finalizados en las últimas {settings.invoice_window_hours:g} h con facturas fuera de línea por enviar "
            "o rechazadas; el plazo es el más cercano (SIAT las acepta hasta 48 h después del fin del evento). "
            "Detalle en Facturas › Cierre de eventos."
        ),
    )


def invoicing_kpis(ov: Overview, now: datetime) -> None:
    """Can every POS invoice, and what is still to be sent (the Facturas page has the detail)."""
    picture = resources.current_invoices(runtime).value.picture
    todo = picture.backlog
    if ov.pos_cufd_unread:
        st.caption(
            f"CUFD leídos: {fmt_count(ov.pos_cufd_read)} de {fmt_count(ov.pos_total)} puntos de venta. "
            "Las cifras de CUFD cuentan solo los leídos."
        )
    c1, c2, c3, c4 = st.columns(4)
    unread = f" · {fmt_count(ov.pos_cufd_unread)} sin leer" if ov.pos_cufd_unread else ""
    count_of(
        c1,
        "Pueden facturar",
        ov.pos_can_invoice,
        ov.pos_total,
        help=f"Puntos de venta con un CUFD vigente y activo: sin él un punto de venta no puede facturar, ni en línea ni fuera de línea.{unread}",
        known=ov.pos_cufd_read,
        tone=Tone.PROBLEM.if_any(ov.pos_total - ov.pos_can_invoice - ov.pos_cufd_unread),  # an expired CUFD stops invoicing
    )
    cufd_partial = ov.pos_cufd_unread > 0
    widgets.kpi(
        c2,
        f"CUFD por vencer ({settings.cufd_expiring_hours:g} h)",
        fmt_count(ov.pos_cufd_expiring) if ov.pos_cufd_read else "—",
        [(f"de {fmt_count(ov.pos_cufd_read)} leídos" if ov.pos_cufd_read else "sin datos todavía") if cufd_partial else None],
        tone=Tone.MANAGED.if_any(ov.pos_cufd_expiring),
        help="Vigentes que vencen dentro del plazo configurado (CUCU_CUFD_EXPIRING_HOURS): conviene renovarlos.",
    )
    run = runtime.store.job_run(INVOICE_JOB)
    reading = invoice_reading(run, bool(picture.invoices))
    never_read = reading == NOTHING_READ
    notes: list[str | None] = [reading, None, None]  # partial first, then the deadline, then the oldest one's age
    left = todo.time_left(now)
    if left is not None:
        notes[1] = f"quedan {fmt_duration(left)}" if left > timedelta(0) else f"plazo vencido hace {fmt_duration(-left)}"
    if todo.oldest is not None and todo.oldest.invoice.emission_date is not None:
        notes[2] = f"la más antigua hace {fmt_duration(now - todo.oldest.invoice.emission_date)}"
    widgets.kpi(
        c3,
        "Facturas por enviar",
        "—" if never_read else fmt_count(todo.count),
        notes,
        tone=Tone.NONE
        if never_read
        else Tone.PROBLEM
        if left is not None and left <= timedelta(0)
        else Tone.MANAGED.if_any(todo.count),
        help="Emitidas fuera de línea y todavía en CONTINGENCY. SIAT las acepta hasta 48 h después del fin de su evento.",
    )
    widgets.kpi(
        c4,
        "Facturas rechazadas",
        "—" if never_read else fmt_count(todo.rejected),
        [reading],
        tone=Tone.NONE if never_read else Tone.PROBLEM.if_any(todo.rejected),
        help="Rechazadas por SIAT: vea el código en Facturas.",
    )
    progress = walk_progress(run, settings.invoice_window_hours)
    if progress:
        st.caption(progress)
    if run is not None and run.error is not None:
        st.warning(
            f"La última lectura de facturas falló ({md_text(run.error)}); se muestra lo leído "
            f"{fmt_age(run.ok_at, now) if run.ok_at else 'nunca'}.",
            icon=":material/sync_problem:",
        )
    st.page_link(shell.linked("pages/facturas.py"), label="Ver facturas por enviar y rechazadas", icon=":material/receipt_long:")


def chosen_regions(ov: Overview) -> list[str]:
    """The regions the URL names (``?region=``, as the other pages' filter writes it) that the inventory has."""
    known = {r.region for r in ov.regions}
    return [r for r in st.query_params.get_all(REGION_PARAM) if r in known]


def open_region(region: str | None) -> None:
    """Estado opened on one region's branches (``None``: on all), in the URL as the filters keep theirs."""
    if region is None:
        del st.query_params[REGION_PARAM]
    else:
        st.query_params[REGION_PARAM] = region


def region_tiles(ov: Overview) -> frozenset[str] | None:
    """A chain by regions first: one tile per region, the most affected first, each opening its branches here.
    Returns the branch ids of the regions opened (``None``: the whole company)."""
    if len(ov.regions) < 2:  # an inventory without regions, or all in one
        return None
    chosen = chosen_regions(ov)
    st.subheader("Regiones")
    per_row = 3
    regions = ov.regions_by_attention()
    for start in range(0, len(regions), per_row):
        for col, tile in zip(st.columns(per_row), regions[start : start + per_row], strict=False):
            opened = tile.region in chosen
            with col.container(border=True, key=f"region_{ov.regions.index(tile)}"):
                mark = " · abierta" if opened else ""
                st.markdown(f"**{md_text(tile.region)}** · {plural(tile.branches, 'sucursal', 'sucursales')}{mark}")
                st.markdown(tile.headline)
                notes = tile.notes(settings.long_open_hours)
                if notes:
                    st.caption(" · ".join(notes))
                # One row holding both (a container, not two columns: a tile is redrawn at every refresh of every
                # open Estado, and each block is one more message per refresh).
                links = st.container(horizontal=True, gap="small", vertical_alignment="center")
                region = {REGION_PARAM: tile.region}
                # A button, not a link to this page: such a link is drawn as the current page's, highlighted.
                links.button(
                    "Sucursales", icon=":material/store:", type="tertiary", key=f"abrir_region_{ov.regions.index(tile)}",
                    on_click=open_region, args=(tile.region,),
                )  # fmt: skip
                in_contingency = {widgets.STATE_PARAM: PosState.CONTINGENCY.value} if tile.in_contingency else {}
                links.page_link(
                    shell.linked("pages/eventos.py"),
                    label="Eventos",
                    icon=":material/emergency:",
                    query_params=region | in_contingency,
                )
    if not chosen:
        return None
    st.button("Ver todas las regiones", icon=":material/public:", type="tertiary", on_click=open_region, args=(None,))
    groups = branches_by_region(inventory)
    return frozenset(b for region in chosen for b in groups[region])


def attention_tiles(ov: Overview, branch_ids: frozenset[str] | None) -> None:
    """The few branches to look at first (of the regions opened, if any), with links to their events and history."""
    where = f" en {' y '.join(chosen_regions(ov))}" if branch_ids is not None else ""
    st.subheader(f"Sucursales que requieren atención{where}")
    tiles = ov.needing_attention(ATTENTION_TILES, branch_ids)
    if not tiles:
        st.success(
            f"Ninguna sucursal{where} requiere atención: sin contingencia y con datos al día.", icon=":material/check_circle:"
        )
        return
    per_row = 3
    for start in range(0, len(tiles), per_row):
        for col, tile in zip(st.columns(per_row), tiles[start : start + per_row], strict=False):
            with col.container(border=True, key=f"tile_{tile.branch_id}"):
                city = f" · {md_text(tile.city)}" if tile.city else ""
                st.markdown(f"**{md_text(tile.name)}**{city}")
                st.markdown(tile.headline)
                notes = tile.notes(settings.long_open_hours)
                if notes:
                    st.caption(" · ".join(notes))
                links = st.container(horizontal=True, gap="small", vertical_alignment="center")  # as the region tiles' row
                filtered = {widgets.BRANCH_PARAM: labels[tile.branch_id]}
                # Its POS in contingency, what the tile is about; a tile only stale or without data opens them all.
                in_contingency = {widgets.STATE_PARAM: PosState.CONTINGENCY.value} if tile.in_contingency else {}
                links.page_link(
                    shell.linked("pages/eventos.py"),
                    label="Eventos",
                    icon=":material/emergency:",
                    query_params=filtered | in_contingency,
                )
                links.page_link(
                    shell.linked("pages/historial.py"), label="Historial", icon=":material/timeline:", query_params=filtered
                )
    affected = sum(1 for t in ov.tiles if t.needs_attention and (branch_ids is None or t.branch_id in branch_ids))
    if affected > len(tiles):
        where_rest = "abra su región arriba" if ov.by_region_first(branch_ids is not None) else "vea la tabla de abajo"
        st.caption(f"Y {plural(affected - len(tiles), 'sucursal', 'sucursales')} más con avisos: {where_rest}.")


# The branches table's links, beside branches_frame's columns.
EVENTS_LINK, HISTORY_LINK = "Eventos", "Historial"


def all_branches(shared: Shared[EstadoFrames], branch_ids: frozenset[str] | None) -> None:
    """Every branch (of the regions opened, if any; a chain with regions, only once one is opened) in one table:
    sortable by any column, searchable from the table's toolbar."""
    ov = shared.value.overview
    if ov.by_region_first(branch_ids is not None):
        st.subheader(f"Sucursales ({fmt_count(ov.branches_total)})")
        st.caption(
            f"{plural(ov.branches_total, 'sucursal', 'sucursales')} en {plural(len(ov.regions), 'región', 'regiones')}: "
            "abra una región arriba (Sucursales) para ver las suyas en una tabla. Cada punto de venta está en "
            "Eventos activos, con filtros por región y sucursal."
        )
        return

    def build() -> pd.DataFrame:
        table = branches_frame(ov, inventory)
        table[EVENTS_LINK] = widgets.page_urls("eventos", table[BranchColumn.BRANCH_ID], labels)
        table[HISTORY_LINK] = widgets.page_urls("historial", table[BranchColumn.BRANCH_ID], labels)
        return table

    table = resources.derived(runtime, shared, "estado_branches", build)
    if branch_ids is not None:
        table = table[table[BranchColumn.BRANCH_ID].isin(branch_ids)]
        st.subheader(f"Sucursales de {' y '.join(chosen_regions(ov))} ({fmt_count(len(table))})")
    else:
        st.subheader(f"Todas las sucursales ({fmt_count(ov.branches_total)})")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height="auto" if len(table) <= 12 else 460,
        # Fits a tablet (ui.widgets.TABLET_GRID_PX): the region and city are on the tiles and in the column menu.
        column_order=[c for c in BRANCH_COLUMNS if c not in (BranchColumn.REGION, BranchColumn.CITY)]
        + [EVENTS_LINK, HISTORY_LINK],
        column_config={
            BranchColumn.BRANCH: st.column_config.TextColumn(pinned=True, width=widgets.BRANCH_PX),
            BranchColumn.REGION: st.column_config.TextColumn(width=110),
            BranchColumn.CITY: st.column_config.TextColumn(width=150),
            BranchColumn.POS: st.column_config.NumberColumn(width=50),
            BranchColumn.IN_CONTINGENCY: st.column_config.NumberColumn(width=112),
            BranchColumn.LONG_OPEN: st.column_config.NumberColumn(f"Abiertos +{settings.long_open_hours:g} h", width=105),
            BranchColumn.STALE: st.column_config.NumberColumn(width=98),
            BranchColumn.UNKNOWN: st.column_config.NumberColumn(width=72),
            EVENTS_LINK: st.column_config.LinkColumn(display_text="Ver eventos", width=95),
            HISTORY_LINK: st.column_config.LinkColumn(display_text="Ver historial", width=100),
        },
        placeholder=widgets.NO_VALUE,  # a count not known yet (before the first sweep) is "—", not "None"
        key="tabla_sucursales",
    )


def queue_section(shared: Shared[EstadoFrames], incidents: Sequence[Incident], now: datetime) -> None:
    """The one list of what to do now, soonest first: the top of it, the count of each kind, each row's link to
    where it is done; a supervisor renews the CUFDs in it at once."""
    st.subheader("Qué hacer ahora")
    part = resources.current_queue(runtime).value
    verifying = runtime.store.open_attempts(Outcome.VERIFYING)
    queue = merged(part, person_part(incidents, verifying, settings.alerts, now))
    ov = shared.value.overview
    # What the list cannot know yet is said, never left out silently: the POS not read lack their events and CUFDs.
    partial = ""
    if not ov.pos_known:
        partial = " Los puntos de venta no se leyeron todavía: faltan sus eventos y sus CUFD."
    elif ov.pos_known < ov.pos_total:
        partial = f" De los {fmt_count(ov.pos_known)} puntos de venta con datos."
    if ov.pos_known and ov.pos_cufd_unread:
        partial += f" CUFD leídos: {fmt_count(ov.pos_cufd_read)} de {fmt_count(ov.pos_total)}."
    if not queue.total:
        if ov.pos_known:
            st.success(empty_text(True) + partial, icon=":material/task_alt:")
        else:  # unknown is never "nothing to do"
            st.caption(empty_text(False))
        return
    listed = queue.top[:QUEUE_LISTED]
    shown = f" · las {fmt_count(len(listed))} más urgentes abajo" if queue.total > len(listed) else ""
    st.caption(f"{queue.counts_text()}{shown}. Primero lo vencido o lo que espera; luego lo que vence antes.{partial}")
    # The top as one Markdown list: as a grid (the page's first) it was a sixteenth of Estado's load in Chromium,
    # which the benchmark's budget could not spare. The longer top as a grid only when asked for: an expander
    # that reruns on opening runs and sends nothing inside it while closed.
    st.markdown(queue_lines(listed, inventory, now))
    if len(queue.top) > len(listed):
        table = st.expander(
            f"Las {fmt_count(len(queue.top))} más urgentes en una tabla",
            icon=":material/table_rows:",
            key="estado_cola_tabla",
            on_change="rerun",
        )
        if table.open:
            with table:
                queue_table(queue, now)
    renew = sorted({i.pos_id for i in part.items if i.kind in (QueueKind.CANNOT_INVOICE, QueueKind.CUFD_EXPIRING)})
    if (
        renew
        and page.can_act
        and st.button(
            f"Renovar el CUFD de {plural(len(renew), 'punto de venta', 'puntos de venta')}",
            key="estado_cola_renovar",
            icon=":material/autorenew:",
        )
    ):
        problem = actions.request_renew_cufd(runtime, renew)
        if problem:
            st.warning(problem, icon=":material/info:")
        else:
            st.rerun(scope="app")  # the confirmation opens at the top of the page, outside this live part


def queue_table(queue: Queue, now: datetime) -> None:
    """The queue's top as a grid: sortable, "Queda" by value, each row's link."""
    st.dataframe(
        queue_frame(queue, inventory, now),
        hide_index=True,
        width="stretch",
        height="auto" if len(queue.top) <= 8 else 330,
        # Fits a tablet (ui.widgets.TABLET_GRID_PX): what, where, the detail, the time left, the action.
        column_order=QUEUE_COLUMNS,
        column_config={
            QueueColumn.KIND: st.column_config.TextColumn(width=150),
            **widgets.pos_columns(QueueColumn.BRANCH, QueueColumn.POS),
            QueueColumn.DETAIL: st.column_config.TextColumn(width=236),
            QueueColumn.LEFT: widgets.elapsed_column(
                help="Hasta su plazo, en horas:minutos:segundos; negativo si ya venció; vacío si ya espera.", width=80
            ),
            QueueColumn.AT: widgets.la_paz_column("DD/MM/YYYY HH:mm", width=widgets.DATE_TIME_PX),
            QueueColumn.LINK: st.column_config.LinkColumn(display_text=r"#(\w+)$", width=80),
        },
        placeholder=widgets.NO_VALUE,
        key="estado_cola",
    )


ALERTS_SHOWN = 5  # Estado names the first open alerts; Alertas lists them all


def alerts_panel(open_now: Sequence[Incident]) -> None:
    """The open alerts and who handles each ("Lo atiendo"), oldest first: a person seeing one unhandled
    opens it in Alertas to take it."""
    if not open_now:
        return
    lines = [
        f"{(Tone.PROBLEM if i.acknowledged_by is None else Tone.MANAGED).icon} **{md_text(i.title)}** · {md_text(owner_text(i))}"
        for i in open_now[:ALERTS_SHOWN]
    ]
    more = len(open_now) - ALERTS_SHOWN
    with st.container(border=True):
        st.markdown("  \n".join(lines) + (f"  \n… y {plural(more, 'alerta más', 'alertas más')}." if more > 0 else ""))
        unowned = next((i for i in open_now if i.acknowledged_by is None), None)
        st.page_link(
            shell.linked("pages/alertas.py"),
            label="Atender en Alertas" if unowned else "Ver en Alertas",
            icon=":material/front_hand:" if unowned else ":material/notifications:",
            query_params={ALERT_PARAM: unowned.key} if unowned else None,
        )


@shell.live(resources.LIVE_REFRESH_S)
def live_overview() -> None:
    now = runtime.store.now()
    shared = resources.current_frames(runtime)  # shared by every tablet, once per data version
    incidents = runtime.store.open_incidents()
    queue_section(shared, incidents, now)
    st.divider()
    siat_panel(now)
    policy_panel()
    alerts_panel(incidents)
    frame, ov = shared.value.pos, shared.value.overview
    st.divider()
    widgets.collector_notices(runtime, frame)  # above the figures it qualifies (the first sweep's progress)
    kpis(ov, now)
    invoicing_kpis(ov, now)
    if ov.fetched_at is not None:
        st.caption(
            f"Puntos de venta consultados {fmt_age(ov.fetched_at, now)} (a las {fmt_time(ov.fetched_at)}, hora de La Paz)."
        )
    opened = region_tiles(ov)
    attention_tiles(ov, opened)
    all_branches(shared, opened)


live_overview()
