"""Conectividad: SIAT's state in one word, its availability, the heartbeat bar, latency and outages."""

from __future__ import annotations

from datetime import datetime, timedelta

import streamlit as st

from cucu.connectivity.checks import ConnectivityCheck
from cucu.connectivity.window import CheckHistory
from cucu.events.maintenance import company_periods
from cucu.formatting import fmt_age, fmt_datetime, fmt_duration, fmt_every, fmt_percent, in_sentence
from cucu.store import Store
from cucu.views import conectividad
from cucu.views.conectividad import HeartbeatColumn, OutageColumn
from cucu.views.figures.connectivity import HEARTBEAT_SLOTS, heartbeat_chart, latency_chart
from cucu.vocabulary import CheckState
from ui import resources, shell, widgets

runtime = shell.page_context().runtime
STORE_KEY = f"{runtime.store.url}#{id(runtime.store)}"  # a rebuilt runtime gets a fresh history
DEFAULT_WINDOW = "24h"


@st.cache_resource(show_spinner=False, max_entries=4)
def _history(store_key: str, _store: Store) -> CheckHistory:
    """One in-memory copy of the last 30 days of checks per server process, topped up incrementally."""
    return CheckHistory(_store.checks_since, keep=conectividad.WINDOWS["30d"][1] + timedelta(minutes=10))


@st.cache_data(show_spinner=False, max_entries=12)
def _latency(store_key: str, window: str, first: datetime, latest: datetime, count: int, _checks: list[ConnectivityCheck]):
    """The latency frame of a window, shared by every session until the next check arrives."""
    bucket = conectividad.auto_bucket(latest - first)
    return conectividad.latency_frame(_checks, bucket), bucket


def load_checks(now: datetime) -> list[ConnectivityCheck]:
    return _history(STORE_KEY, runtime.store).refresh(now)


st.title("Conectividad")
st.caption(
    "Disponibilidad de SIAT según las comprobaciones periódicas que el tablero hace a cucu "
    f"(cada {runtime.settings.check_interval_s:.0f} s). Horas de La Paz."
)


@shell.live(resources.LIVE_REFRESH_S)
def summary() -> None:
    now = runtime.store.now()
    checks = load_checks(now)
    if not checks:
        st.info(
            "Todavía no hay comprobaciones de conectividad registradas. El tablero consulta a cucu "
            f"cada {runtime.settings.check_interval_s:.0f} s; esta página se actualiza sola.",
            icon=":material/hourglass_empty:",
        )
        return
    # The one state the header shows too (the checks in the order they were made, as the alerts read them).
    rollup = shell.siat(lambda: resources.siat_state(runtime))
    latest = checks[-1]
    with st.container(border=True, key="rollup"):
        st.markdown(f"## :{rollup.color}[:material/{rollup.icon}: {rollup.word}]", anchors=False)
        st.markdown(f"{rollup.detail} {rollup.asked_note}".strip())
        latency = f" · respuesta en {latest.latency_ms:.0f} ms" if latest.latency_ms is not None else ""
        st.caption(
            f"Última comprobación {fmt_age(latest.checked_at, now)} ({fmt_datetime(latest.checked_at, seconds=True)}){latency}."
        )

    longest = max(length for _label, length in conectividad.WINDOWS.values())
    maintenance = company_periods(runtime.store.maintenance_windows(ending_after=now - longest, cancelled=True))
    values = conectividad.uptime_windows(checks, now, maintenance)
    first = checks[0].checked_at
    with st.container(horizontal=True, key="uptime_metrics"):
        for key, (label, length) in conectividad.WINDOWS.items():
            partial = conectividad.partial_history_note(first, now - length)
            apart = conectividad.maintenance_in(maintenance, now - length, now)
            st.metric(
                f"Disponibilidad {label}",
                fmt_percent(values[key]),
                delta=f"en mantenimiento: {fmt_duration(apart)}" if apart else None,
                delta_color="off",
                delta_arrow="off",
                border=True,
                help="Comprobaciones en que SIAT respondió, entre aquellas en que cucu contestó "
                "(una falla de nuestra conexión con cucu no cuenta contra SIAT), fuera de los mantenimientos de "
                "toda la empresa (página Mantenimiento), que se muestran aparte." + partial,
            )

    st.markdown("**Últimas comprobaciones**")
    frame = conectividad.heartbeat_frame(checks, limit=HEARTBEAT_SLOTS)
    st.vega_lite_chart(spec=heartbeat_chart(frame), width="stretch", key="heartbeat")
    with st.container(horizontal=True, horizontal_alignment="distribute", key="heartbeat_axis"):
        st.caption(fmt_age(frame[HeartbeatColumn.TIME].iloc[0].to_pydatetime(), now), width="content")
        st.caption(" · ".join(f":{s.color}[■] {in_sentence(s.label)}" for s in CheckState), width="content")
        st.caption("ahora", width="content")


summary()

st.subheader("Historial")
window = st.segmented_control(
    "Ventana",
    list(conectividad.WINDOWS),  # shown as is: the URL carries the label (?ventana=7d), so keep it short
    default=DEFAULT_WINDOW,
    required=True,
    key="ventana",
    bind="query-params",
)


@shell.live(resources.LIVE_REFRESH_S)
def history(window: str) -> None:
    label, length = conectividad.WINDOWS[window]
    now = runtime.store.now()
    checks = load_checks(now)
    since = now - length
    in_window = conectividad.checks_in_window(checks, since)
    if not checks:
        return  # the summary above already says there is nothing yet
    if not in_window:
        st.info(f"No hay comprobaciones en los últimos {label}.", icon=":material/hourglass_empty:")
        return

    st.markdown("**Tiempo de respuesta de cucu**")
    first, latest = in_window[0].checked_at, in_window[-1].checked_at
    frame, bucket = _latency(STORE_KEY, window, first, latest, len(in_window), in_window)
    st.vega_lite_chart(spec=latency_chart(frame, bucket=bucket, height=280), width="stretch", key="latency")
    every = "cada comprobación" if bucket is None else f"promedio cada {fmt_every(bucket)}"
    # The colour on the square only: coloured caption text is too pale to read (axe-core's contrast rule).
    marks = ", ".join(f":{s.color}[■] {in_sentence(s.label)}" for s in (CheckState.SIAT_DOWN, CheckState.CUCU_UNREACHABLE))
    st.caption(
        f"Milisegundos, cuando SIAT respondió ({every}). Marcas abajo: {marks}.{conectividad.partial_history_note(first, since)}"
    )

    st.markdown("**Caídas**")
    table = conectividad.outages_since(checks, now, since)
    if table.empty:
        st.success(f"Sin caídas en los últimos {label}.", icon=":material/check_circle:")
        return
    st.caption(conectividad.outages_summary(table, label))
    st.dataframe(
        table,  # times and durations as values: they sort by value
        hide_index=True,
        width="stretch",
        height="auto" if len(table) <= 10 else 390,
        column_order=[OutageColumn.START, OutageColumn.END, OutageColumn.DURATION, OutageColumn.CAUSE, OutageColumn.FAILED],
        placeholder="en curso",  # only "Fin" can be empty: the outage goes on
        column_config={
            OutageColumn.START: widgets.la_paz_column("DD/MM/YYYY HH:mm:ss", width=widgets.DATE_TIME_SECONDS_PX),
            OutageColumn.END: widgets.la_paz_column(
                "DD/MM/YYYY HH:mm:ss",
                help="Primera comprobación exitosa después de la caída; «en curso» mientras sigue.",
                width=widgets.DATE_TIME_SECONDS_PX,
            ),
            OutageColumn.DURATION: widgets.elapsed_column(
                help="Horas:minutos:segundos; una caída en curso cuenta hasta ahora.", width=widgets.ELAPSED_PX
            ),
            OutageColumn.CAUSE: st.column_config.TextColumn(width=200),
            OutageColumn.FAILED: st.column_config.NumberColumn(
                "Fallidas", format="%d", width=80, help="Comprobaciones fallidas seguidas."
            ),
        },
    )


history(window or DEFAULT_WINDOW)
