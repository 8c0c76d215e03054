"""The start/end flow every page shares: a pending action in session state, one confirmation
dialog that lists exactly which POS are touched, and the results POS by POS.

The dialog is driven from session state (not from the button that asked for it), so a
rerun, a fragment refresh or AppTest can open, confirm and cancel it; the pending action
is removed before the calls are made, so a second click or a rerun cannot send it twice.
It says what it touches in one line whatever the size (see ``cucu.views.confirmation``); above one
branch the confirm button waits for the person to acknowledge how many branches it reaches.
A form that asked for the action names its widgets' defaults: once the action is done or
cancelled, they are put back, so its text is never carried into the next action.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

import pandas as pd
import streamlit as st

from cucu.events.actions import ActionError, ActionResult, EndTarget, refreshed
from cucu.formatting import fmt_time, md_text, plural
from cucu.lapaz import la_paz_series, now_la_paz
from cucu.runtime import Runtime
from cucu.views.confirmation import Reach, ReachColumn
from cucu.views.pos import PosColumn, cufd_texts
from cucu.vocabulary import ActionKind, Motive, Outcome
from ui import identity, resources, shell, widgets

PENDING = "accion_pendiente"
RESULTS = "accion_resultados"
TABLES_VERSION = "tablas_version"  # part of selectable tables' keys: a new value clears their ticks
ACKNOWLEDGE = "accion_entiendo"  # the "Entiendo que afecta a N sucursales" tick of a mass action


@dataclass(frozen=True)
class PendingAction:
    kind: ActionKind
    pos_ids: tuple[str, ...] = ()
    motive: int | None = None
    description: str | None = None
    targets: tuple[EndTarget, ...] = ()
    form: tuple[tuple[str, object], ...] = ()  # widget keys of the asking form, and their defaults


@dataclass(frozen=True)
class Finished:
    """The results of the last confirmed action, shown until the supervisor closes them."""

    kind: ActionKind
    results: tuple[ActionResult, ...]
    finished_at: datetime = field(default_factory=now_la_paz)


def request_start(
    runtime: Runtime,
    pos_ids: Iterable[str],
    motive: object,
    description: str | None,
    form: Mapping[str, object] | None = None,
) -> str | None:
    """Queue a start for confirmation. Returns a Spanish problem instead, when there is one (the form keeps
    what was typed). ``form``: the asking form's widget keys and defaults, restored once done or cancelled."""
    pos_ids = tuple(pos_ids)
    try:
        code, text, _plan = runtime.actions.check_start(pos_ids, motive, description)
    except ActionError as exc:
        return md_text(exc)  # shown in an alert; it may quote what a URL or a person typed
    st.session_state[PENDING] = PendingAction(ActionKind.START, pos_ids, code, text, form=tuple((form or {}).items()))
    return None


def request_end(runtime: Runtime, pos_ids: Iterable[str]) -> str | None:
    """Queue the end of the active event of each POS for confirmation."""
    try:
        targets = runtime.actions.check_end(pos_ids)
    except ActionError as exc:
        return md_text(exc)
    st.session_state[PENDING] = PendingAction(ActionKind.END, targets=tuple(targets))
    return None


def request_renew_cufd(runtime: Runtime, pos_ids: Iterable[str]) -> str | None:
    """Queue a CUFD renewal of each POS for confirmation."""
    pos_ids = tuple(dict.fromkeys(pos_ids))
    if not pos_ids:
        return "Elija al menos un punto de venta."
    for pos_id in pos_ids:
        try:
            runtime.inventory.pos(pos_id)
        except KeyError:
            return md_text(f"El punto de venta {pos_id} no está en el inventario.")
    st.session_state[PENDING] = PendingAction(ActionKind.RENEW_CUFD, pos_ids)
    return None


def tables_version() -> int:
    return st.session_state.get(TABLES_VERSION, 0)


def confirmation_and_results(runtime: Runtime) -> None:
    """Call once per page, outside fragments: opens the pending dialog and shows the last results."""
    pending = st.session_state.get(PENDING)
    if isinstance(pending, PendingAction):
        _confirm_dialog(runtime, pending)
    show_results(runtime)


def _reset_form(pending: object) -> None:
    """Put the asking form back to its defaults. Runs before the form's widgets are drawn (in a callback, or
    before the rerun that draws them), which is when Streamlit lets a widget's value be set."""
    if isinstance(pending, PendingAction):
        for key, default in pending.form:
            st.session_state[key] = default
    st.session_state.pop(ACKNOWLEDGE, None)


def _cancel() -> None:
    _reset_form(st.session_state.pop(PENDING, None))


@st.dialog("Confirme la acción", width="large", on_dismiss=_cancel)
def _confirm_dialog(runtime: Runtime, pending: PendingAction) -> None:
    reach: Reach | None = None
    try:
        if pending.kind == ActionKind.START:
            reach = _describe_start(runtime, pending)
        elif pending.kind == ActionKind.RENEW_CUFD:
            reach = _describe_renewal(runtime, pending)
        else:
            reach = _describe_end(runtime, pending)
    except Exception:
        shell.show_unexpected_error("la confirmación")
        reach = None
    acknowledged = True
    if reach is not None and reach.count and reach.needs_acknowledgement:
        acknowledged = st.checkbox(reach.acknowledgement, key=ACKNOWLEDGE)
    confirm_col, cancel_col = st.columns(2)
    if (
        reach is not None
        and reach.count
        and confirm_col.button(
            reach.button,
            type="primary",
            icon=":material/check:",
            key="accion_confirmar",
            width="stretch",
            disabled=not acknowledged,
            help=None if acknowledged else "Marque antes que entiende a cuántas sucursales afecta.",
        )
        and acknowledged  # a disabled button cannot be clicked in a browser; a crafted rerun is refused too
    ):
        if st.session_state.pop(PENDING, None) is None:  # already sent by a previous click
            st.rerun()
        _reset_form(pending)
        # The dialog's own reruns do not pass through app.py's guard: failures are caught here.
        with st.spinner("Enviando a cucu…"):
            try:
                actor = identity.actor_now(runtime.settings)  # and the service checks the role again, now
                if pending.kind == ActionKind.START:
                    results = runtime.actions.start(actor, pending.pos_ids, pending.motive, pending.description)
                elif pending.kind == ActionKind.RENEW_CUFD:
                    results = runtime.actions.renew_cufd(actor, pending.pos_ids)
                else:
                    results = runtime.actions.end(actor, pending.targets)
            except ActionError as exc:
                st.error(md_text(exc), icon=":material/error:")
                return
            except Exception:
                shell.show_unexpected_error("la acción confirmada")
                st.info(
                    "Lo que alcanzó a enviarse está en la Bitácora; revise Eventos activos antes de repetir.",
                    icon=":material/info:",
                )
                return
        st.session_state[RESULTS] = Finished(ActionKind(pending.kind), tuple(results))
        st.session_state[TABLES_VERSION] = st.session_state.get(TABLES_VERSION, 0) + 1
        resources.note_own_write()
        st.rerun()
    if cancel_col.button("Cancelar", icon=":material/close:", key="accion_cancelar", width="stretch"):
        _cancel()
        st.rerun()


def _show_reach(reach: Reach, detail: pd.DataFrame) -> None:
    """The one line; above one branch, the breakdown by branch and motive first, then the POS themselves."""
    st.markdown(reach.headline)
    if reach.count <= 1:
        return
    if reach.needs_acknowledgement:
        table = reach.breakdown()
        st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 250), placeholder=widgets.NO_VALUE)
        st.caption(f"Los {plural(reach.count, 'punto de venta', 'puntos de venta')}, uno por uno:")
    st.dataframe(
        detail,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(detail), 250 if reach.needs_acknowledgement else 300),
        column_config=REACH_COLUMN_CONFIG,
        placeholder=widgets.NO_VALUE,
    )


# An event's start and how long it has been open, as values: they sort by value and read in Spanish.
REACH_COLUMN_CONFIG = {
    ReachColumn.SINCE: widgets.la_paz_column("DD/MM/YYYY HH:mm", help="Hora de La Paz", width=widgets.DATE_TIME_PX),
    ReachColumn.OPEN_FOR: widgets.elapsed_column(width=widgets.ELAPSED_PX),
}


def _describe_start(runtime: Runtime, pending: PendingAction) -> Reach:
    plan = runtime.actions.plan_start(pending.pos_ids)
    inventory = runtime.inventory
    assert pending.motive is not None  # request_start always sets it; a crafted session lands in the caller's guard
    motive = Motive(pending.motive)
    st.markdown(f"**Motivo:** {motive.value} · {motive.label}  \n**Descripción:** {md_text(pending.description)}")
    place = [ReachColumn.BRANCH, ReachColumn.POS]
    rows = pd.DataFrame(
        [{ReachColumn.BRANCH: inventory.branch(p.branch_id).name, ReachColumn.POS: p.name} for p in plan.to_start],
        columns=place,
    ).assign(**{ReachColumn.MOTIVE: f"{motive.value} · {motive.label}"})
    reach = Reach(ActionKind.START, rows)
    if plan.to_start:
        _show_reach(reach, rows[place])
    else:
        st.warning(
            "Ninguno de los puntos de venta elegidos puede iniciar: todos tienen ya un evento activo.", icon=":material/block:"
        )
    if plan.skipped:
        n = len(plan.skipped)
        skipped = plural(n, "punto de venta que ya está en contingencia", "puntos de venta que ya están en contingencia")
        st.markdown(f"{'Se omite' if n == 1 else 'Se omiten'} **{skipped}** (un evento activo por punto de venta):")
        busy = pd.DataFrame(
            [
                {
                    ReachColumn.BRANCH: inventory.branch(p.branch_id).name,
                    ReachColumn.POS: p.name,
                    ReachColumn.MOTIVE: e.motive_text,
                }
                for p, e in plan.skipped
            ]
        ).assign(**{ReachColumn.SINCE: la_paz_series([e.fecha_inicio for _p, e in plan.skipped])})
        st.dataframe(
            busy,
            hide_index=True,
            width="stretch",
            height=min(38 + 35 * len(plan.skipped), 200),
            column_config=REACH_COLUMN_CONFIG,
            placeholder=widgets.NO_VALUE,
        )
    return reach


def _describe_renewal(runtime: Runtime, pending: PendingAction) -> Reach:
    frame = resources.current_frames(runtime).value.pos
    # One selection of the POS frame (every POS of the inventory has its row): "renew all" may be 2 000 rows.
    chosen = frame[frame[PosColumn.POS_ID].isin(pending.pos_ids)]
    rows = pd.DataFrame(
        {
            ReachColumn.BRANCH: chosen[PosColumn.BRANCH],
            ReachColumn.POS: chosen[PosColumn.POS],
            ReachColumn.CUFD: cufd_texts(chosen, now_la_paz()),
        }
    )
    reach = Reach(ActionKind.RENEW_CUFD, rows.reset_index(drop=True))
    _show_reach(reach, rows)
    st.caption("Cada pedido se envía una sola vez y queda en la Bitácora.")
    return reach


def _describe_end(runtime: Runtime, pending: PendingAction) -> Reach:
    inventory = runtime.inventory
    statuses = runtime.store.pos_statuses()
    now = now_la_paz()
    rows, starts = [], []
    for target in pending.targets:
        event = statuses[target.pos.id].event if target.pos.id in statuses else None
        rows.append(
            {
                ReachColumn.BRANCH: inventory.branch(target.pos.branch_id).name,
                ReachColumn.POS: target.pos.name,
                ReachColumn.MOTIVE: event.motive_text if event else None,
            }
        )
        starts.append(event.fecha_inicio if event else None)
    frame = pd.DataFrame(rows, columns=[ReachColumn.BRANCH, ReachColumn.POS, ReachColumn.MOTIVE])
    frame[ReachColumn.SINCE] = la_paz_series(starts)  # NaT where the event is not known: the grid's placeholder
    frame[ReachColumn.OPEN_FOR] = (pd.Timestamp(now) - frame[ReachColumn.SINCE]).dt.floor("min")
    reach = Reach(ActionKind.END, frame)
    _show_reach(reach, frame)
    st.caption("Después, cucu registra cada evento ante SIAT (plazo: 48 h desde el cierre).")
    return reach


class ResultColumn:
    """An action's results (``results_frame``), one row per POS."""

    BRANCH = "Sucursal"
    POS = "Punto de venta"
    OUTCOME = "Resultado"
    DETAIL = "Detalle"  # cucu's answer
    EVENT_ID = "ID evento"
    EVENT_CUFD = "CUFD evento"


RESULT_COLUMNS = [
    ResultColumn.BRANCH,
    ResultColumn.POS,
    ResultColumn.OUTCOME,
    ResultColumn.DETAIL,
    ResultColumn.EVENT_ID,
    ResultColumn.EVENT_CUFD,
]


# Fits a tablet inside its bordered box (ui.widgets.BOXED_GRID_PX): which POS, the outcome and cucu's answer; the event's id and CUFD
# are in the grid's column menu (and in Eventos activos and Bitácora).
RESULTS_SHOWN = [ResultColumn.BRANCH, ResultColumn.POS, ResultColumn.OUTCOME, ResultColumn.DETAIL]
RESULTS_COLUMN_CONFIG = {
    ResultColumn.BRANCH: st.column_config.TextColumn(pinned=True, width=widgets.BRANCH_PX),
    ResultColumn.POS: st.column_config.TextColumn(pinned=True, width=110),  # "Caja 10", under "Punto de venta"
    ResultColumn.OUTCOME: st.column_config.TextColumn(width=150),  # "⏳ En verificación"
    ResultColumn.DETAIL: st.column_config.TextColumn(width=330),
    ResultColumn.EVENT_ID: st.column_config.TextColumn(width=290),
    ResultColumn.EVENT_CUFD: st.column_config.TextColumn(width=290),
}


def results_frame(runtime: Runtime, outcome: Finished) -> pd.DataFrame:
    inventory = runtime.inventory
    return pd.DataFrame(
        [
            {
                ResultColumn.BRANCH: inventory.branch(r.pos.branch_id).name,
                ResultColumn.POS: r.pos.name,
                ResultColumn.OUTCOME: f"{r.outcome.icon} {r.label}",
                ResultColumn.DETAIL: r.message,
                ResultColumn.EVENT_ID: r.shown_event_id or None,
                ResultColumn.EVENT_CUFD: (r.event.cufd_evento or None) if r.event else None,
            }
            for r in outcome.results
        ],
        columns=RESULT_COLUMNS,
    )


def show_results(runtime: Runtime) -> None:
    outcome = st.session_state.get(RESULTS)
    if not isinstance(outcome, Finished):
        return
    if any(r.outcome == Outcome.VERIFYING for r in outcome.results):
        _results_while_verifying(runtime)
    else:
        _draw_results(runtime, outcome)


@shell.live(resources.OPEN_REFRESH_S)
def _results_while_verifying(runtime: Runtime) -> None:
    """The results, re-read from the audit log until none is in verification (then a full rerun ends this)."""
    outcome = st.session_state.get(RESULTS)
    if not isinstance(outcome, Finished):  # closed meanwhile
        st.rerun()
        return
    results = refreshed(outcome.results, runtime.store)
    if results != outcome.results:
        outcome = replace(outcome, results=results)
        st.session_state[RESULTS] = outcome
    if not any(r.outcome == Outcome.VERIFYING for r in results):
        st.rerun()  # settled: the whole page shows the new states, and this fragment stops refreshing
    _draw_results(runtime, outcome)


def _draw_results(runtime: Runtime, outcome: Finished) -> None:
    done = sum(1 for r in outcome.results if r.outcome == Outcome.OK)
    counts = Counter(r.outcome for r in outcome.results if r.outcome != Outcome.OK)
    summary = f"**{outcome.kind.done_of(done, len(outcome.results))}**" + "".join(f" · {o.counted(n)}" for o, n in counts.items())
    box = st.success if done == len(outcome.results) else st.warning
    with st.container(border=True, key="resultado_accion"):
        box(f"{summary} (a las {fmt_time(outcome.finished_at)}).", icon=":material/task_alt:")
        st.dataframe(
            results_frame(runtime, outcome),
            hide_index=True,
            width="stretch",
            column_order=RESULTS_SHOWN,
            column_config=RESULTS_COLUMN_CONFIG,
            placeholder=widgets.NO_VALUE,
        )
        if st.button("Cerrar resultado", icon=":material/close:", key="accion_cerrar"):
            st.session_state.pop(RESULTS, None)
            st.rerun()
