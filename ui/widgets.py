"""Widgets shared by several pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, BinaryIO, Literal, Protocol, TypeVar, cast

import pandas as pd
import streamlit as st

from cucu.api.models import Inventory
from cucu.formatting import fmt_datetime, plural
from cucu.inventory import branch_labels
from cucu.lapaz import LA_PAZ_NAME
from cucu.organization.regions import branches_by_region
from cucu.periods import MAX_RANGE_DAYS, Preset, default_range, earliest_day
from cucu.runtime import Runtime
from cucu.views.eventos import CANNOT_INVOICE, LONG_OPEN
from cucu.views.links import BRANCH_PARAM, MOTIVE_PARAM, PAGE_PARAM, REGION_PARAM, SEARCH_PARAM, STATE_PARAM, page_link
from cucu.views.pos import PosColumn, unknown_note
from cucu.vocabulary import Motive, PosState, Tone


class Labelled(Protocol):
    @property
    def label(self) -> str: ...


L = TypeVar("L", bound=Labelled)

# Above this many rows a grid gets its rows from the server as it scrolls (``st.dataframe(lazy=True)``):
# a chain's 10 000-row table is not sent whole to every tablet on every refresh. Such a grid has no
# search box, no row selection and no Styler; the pages' filters and CSV buttons stand in for them.
LAZY_ROWS = 1_000

SEARCH_MAX_CHARS = 100  # longer than any name it looks for (cucu.inventory.MAX_NAME_LENGTH is one column)
# What a grid shows in a cell without a value (``st.dataframe(placeholder=...)``): Streamlit's default is
# a grey "None". Typed columns keep their empty cells empty (NaT, <NA>), so they still sort by value.
NO_VALUE = "—"


def page_urls(page: str, branch_ids: Iterable[str], labels: Mapping[str, str]) -> list[str]:
    """Relative links that open ``page`` filtered to each branch (for a table's link column)."""
    return [page_link(page, {BRANCH_PARAM: labels[branch_id]}) for branch_id in branch_ids]


def branch_filter(inventory: Inventory, *, label: str = "Sucursal", on_change: Callable[[], None] | None = None) -> list[str]:
    """The branches to show (empty: all), chosen by region and by branch, both kept in the URL. A region alone
    gives its branches; the branch list offers only the chosen regions' branches. An inventory without regions
    shows no region filter."""
    labels = branch_labels(inventory)
    regions = branches_by_region(inventory)
    chosen_branches: list[str] = []
    with st.container(horizontal=True, gap="small"):
        if len(regions) > 1:
            region_names = st.multiselect(
                "Región",
                options=list(regions),
                key=REGION_PARAM,
                bind="query-params",
                placeholder="Todas",
                on_change=on_change,
                width=REGION_FILTER_PX,
            )
        else:
            region_names = []
        in_regions = [b for name in region_names for b in regions[name]]
        chosen_branches = st.multiselect(
            label,
            options=in_regions or list(labels),
            format_func=labels.__getitem__,
            key=BRANCH_PARAM,
            bind="query-params",
            placeholder="Todas",
            on_change=on_change,
        )
    return chosen_branches or in_regions


REGION_FILTER_PX = 200  # "Santa Cruz", "Chuquisaca" and a second one chosen


def first_page() -> None:
    """A filter changed: its table opens at its first page (page 30 of other rows means nothing)."""
    st.session_state[PAGE_PARAM] = 1


def period_input(
    container: Any,
    today: date,
    *,
    key: str,
    bind: Literal["query-params"] | None = None,
    on_change: Callable[[], None] | None = None,
) -> object:
    """The "Período" range picker with Spanish shortcuts under it; returns the picker's value (see
    ``cucu.periods.picked_range``). ``today`` is La Paz's, not the browser's.

    The calendar starts ``EARLIEST_DAYS`` back, which keeps Streamlit's English "Date range" presets away
    (four of them were longer than the 62-day maximum); the pills set the picker's value instead.
    """
    picked = container.date_input(
        "Período",
        value=default_range(today),
        min_value=earliest_day(today),
        max_value=today,
        format="DD/MM/YYYY",
        key=key,
        bind=bind,
        on_change=on_change,
        help=f"Primer y último día, ambos incluidos (hasta {MAX_RANGE_DAYS} días).",
    )
    container.pills(
        "Atajos del período",
        list(Preset),
        format_func=lambda preset: Preset(preset).label,
        key=f"{key}_atajo",
        on_change=_apply_preset,
        args=(key, today, on_change),
        label_visibility="collapsed",
        wrap=True,  # in a column they would scroll sideways, "Mes anterior" cut at the tablet's edge
    )
    return picked


def _apply_preset(key: str, today: date, on_change: Callable[[], None] | None) -> None:
    preset = st.session_state.get(f"{key}_atajo")
    if preset is None:  # the pill was clicked off
        return
    st.session_state[key] = Preset(preset).range(today)
    st.session_state[f"{key}_atajo"] = None  # a shortcut is an action, not a state that outlives a calendar pick
    if on_change is not None:
        on_change()


def closed_set_filter(
    container: Any, label: str, kind: Iterable[L], *, key: str, placeholder: str, on_change: Callable[[], None] | None = None
) -> list[L]:
    """A multiselect over every member of ``kind``, a closed set of ``cucu.vocabulary``, each shown by its Spanish
    label (a value given as its raw text, as the URL or a test gives it, is read as the member)."""
    members = list(kind)
    member_of = cast("Callable[[Any], L]", type(members[0]))  # a StrEnum: its class reads a raw value
    return container.multiselect(
        label, members, format_func=lambda value: member_of(value).label, key=key, placeholder=placeholder, on_change=on_change
    )


def motive_filter() -> list[int]:
    return st.multiselect(
        "Motivo",
        options=[m.value for m in Motive],
        format_func=lambda code: Motive(code).label,  # the label is what the URL carries
        key=MOTIVE_PARAM,
        bind="query-params",
        placeholder="Todos",
    )


def pos_filters(inventory: Inventory, long_open_hours: float) -> tuple[str, list[str], list[str], list[int]]:
    """Search, branch, state and motive filters; each one's value is kept in the URL. The states include the
    events open longer than ``long_open_hours`` (``cucu.views.eventos.LONG_OPEN``) and the POS that cannot invoice
    (``CANNOT_INVOICE``: their CUFD)."""
    search = st.text_input(
        "Buscar",
        max_chars=SEARCH_MAX_CHARS,
        key=SEARCH_PARAM,
        icon=":material/search:",
        # Applied as typing pauses: Streamlit's hint otherwise, "Press Enter to apply", is English; and so is
        # the clear button of type="search" ("Clear entry"). Half a second: a chain's page reruns in ~0.1 s.
        live="500ms",
        placeholder="Sucursal, caja, ciudad o descripción",
        help="Sin distinguir mayúsculas ni tildes. Cada palabra debe aparecer; un número va con la palabra anterior: "
        '"caja 3" es la Caja 3, no la 13.',
        bind="query-params",
    )
    col_branch, col_motive = st.columns([3, 2])
    with col_branch:
        branches = branch_filter(inventory)
    with col_motive:
        motives = motive_filter()
    states = st.pills(
        "Estado",
        # The URL carries each option as shown: a state's label, "No puede facturar", "Abierto más de 24 h".
        options=[*(s.value for s in PosState), CANNOT_INVOICE, LONG_OPEN],
        format_func=lambda value: f"Abierto más de {long_open_hours:g} h" if value == LONG_OPEN else value,
        selection_mode="multi",
        key=STATE_PARAM,
        bind="query-params",
    )
    return search or "", branches, states or [], motives


def collector_notices(runtime: Runtime, frame: pd.DataFrame) -> None:
    """Say so when what is shown may be old or incomplete."""
    stale = int(frame[PosColumn.STALE].sum())
    polling = runtime.collector.polling()
    if not polling.active:
        since = f" desde el {fmt_datetime(polling.last_renewal)} (hora de La Paz)" if polling.last_renewal else ""
        if not runtime.settings.collector:
            st.info(
                f"El colector de este proceso está apagado (CUCU_COLLECTOR=off) y ningún otro consulta cucu{since}: "
                "se muestra lo último guardado en la base local.",
                icon=":material/pause_circle:",
            )
        else:
            st.warning(
                f"Ningún colector consulta cucu{since}: los datos no se actualizan. Reinicie el tablero.",
                icon=":material/sync_problem:",
            )
    if stale:
        st.warning(
            f"{plural(stale, 'punto de venta no respondió', 'puntos de venta no respondieron')} en la última consulta: "
            "se muestra su último estado conocido (marcado con ⚠).",
            icon=":material/sync_problem:",
        )
    # One sentence for what is not known yet (the first sweep's progress), the same on every page.
    note = unknown_note(frame, polling=polling.active)
    if note:
        st.info(note, icon=":material/hourglass_top:")


def csv_download(
    data: bytes | Callable[[], bytes | BinaryIO],
    file_name: str,
    key: str,
    help: str = "Las columnas de la tabla, separadas por punto y coma, para Excel.",
) -> None:
    """The pages' one CSV button: no rerun on click. ``data`` may be a callable, built only when the
    button is clicked (a chain's week is 15 000 rows: a third of a second on every run otherwise), and may
    then return a file written as its rows were read (``cucu.views.export.excel_csv_file``)."""
    st.download_button(
        "Descargar CSV",
        data=data,
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        width="stretch",
        key=key,
        help=help,
    )


# A KPI's note (st.metric's delta) is one line that Streamlit ends with "…" past its column: a quarter of a
# tablet upright holds about this many characters.
KPI_NOTE_CHARS = 28


def kpi(
    column: Any,
    label: str,
    value: str,
    notes: Sequence[str | None] = (),
    *,
    tone: Tone = Tone.NONE,
    help: str | None = None,
) -> None:
    """A KPI whose notes are never cut, coloured by what it asks of a person (``cucu.vocabulary.Tone``).

    The first note, if short, sits under the figure; the others go in a caption, which wraps. Amber or red,
    with the tone's icon, only when it needs action; every other figure stays grey, so the coloured ones
    stand out."""
    shown = [n for n in notes if n]
    note = shown[0] if shown and len(shown[0]) <= KPI_NOTE_CHARS else None
    column.metric(
        label,
        value,
        delta=note,
        delta_color=tone.color if tone.asks_action else "off",
        delta_arrow="off",
        icon=tone.icon if tone.asks_action else None,
        help=help,
    )
    rest = shown[1:] if note else shown
    if rest:
        column.caption(" · ".join(rest))


def la_paz_column(format: str, **kwargs: Any) -> Any:
    """A table column of aware times shown in La Paz time, whatever the browser's zone."""
    return st.column_config.DatetimeColumn(format=format, timezone=LA_PAZ_NAME, **kwargs)


def elapsed_column(**kwargs: Any) -> Any:
    """A column of durations (timedelta) as an elapsed-time clock, "43:54:00" (hours not wrapped at 24):
    it sorts by value, and reads the same in any browser language; Streamlit's humanized durations
    ("2 hours") follow the browser's and are English on most tablets."""
    kwargs.setdefault("help", "Horas:minutos:segundos")
    return st.column_config.NumberColumn(format="compact", **kwargs)


# ---- grids laid out for a tablet ------------------------------------------------------------------------
# The narrowest screen a supervisor uses is a tablet upright, 820 px: a grid there is 786 px wide, 32 px of
# it the tick column when rows can be marked. Every grid names the columns it shows by default, in the order
# that matters, each with a width in pixels, and they add up to no more than that: none is cut or falls off
# the screen, whatever branch or description is shown; on a wider screen the unpinned ones grow to fill it.
# The frame's other columns (raw CUFDs and ids, lower-value detail) stay out of the default view: the grid's
# column menu shows them, and the CSV has them.
TABLET_GRID_PX = 786
TICK_COLUMN_PX = 32
BOXED_GRID_PX = TABLET_GRID_PX - 32  # a grid inside st.container(border=True): the box's padding (measured: 754 px)
# Widths shared by several grids (Source Sans 14 px, plus the cell's 8 px padding each side).
BRANCH_PX = 150  # "Sucursal Cochabamba"
POS_PX = 70  # "Caja 10", under the header "POS"
DAY_TIME_PX = 95  # "04/12 04:40"
DATE_TIME_PX = 125  # "04/12/2026 04:40"
DATE_TIME_SECONDS_PX = 145  # "04/12/2026 04:40:42"
ELAPSED_PX = 95  # "143:54:00", under the header "Transcurrido"


def pos_columns(branch: str = PosColumn.BRANCH, pos: str = PosColumn.POS, *, pinned: bool = True) -> dict[str, Any]:
    """Which branch and POS: a grid's first two columns, pinned (they stay while it scrolls sideways). ``branch``
    and ``pos`` name them in the grid's frame (a pos_frame's by default)."""
    return {
        branch: st.column_config.TextColumn(pinned=pinned, width=BRANCH_PX),
        pos: st.column_config.TextColumn("POS", pinned=pinned, width=POS_PX, help="Punto de venta"),
    }


def default_width(column_order: Iterable[str], column_config: Mapping[str, Any], *, ticks: bool = False) -> int:
    """The width in pixels of a grid's default view; ValueError names a shown column without a pixel width."""
    widths = {name: (column_config.get(name) or {}).get("width") for name in column_order}
    unsized = [name for name, width in widths.items() if not isinstance(width, int)]
    if unsized:
        raise ValueError(f"columnas sin ancho en píxeles: {unsized}")
    return sum(int(w) for w in widths.values() if w) + (TICK_COLUMN_PX if ticks else 0)


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_downloads(
    what: str, stem: str, xlsx: Callable[[], bytes], pdf: Callable[[], bytes], *, key: str, xlsx_help: str, pdf_help: str
) -> None:
    """ "Descargar <what> (Excel)" and "(PDF)" side by side, each built on its click (a chain's PDF takes seconds),
    with no rerun of the page: the outage dossier's and the monthly report's."""
    downloads = st.columns(2)
    downloads[0].download_button(
        f"Descargar {what} (Excel)", data=xlsx, file_name=f"{stem}.xlsx", mime=XLSX_MIME, icon=":material/download:",
        on_click="ignore", width="stretch", key=f"{key}_xlsx", help=xlsx_help,
    )  # fmt: skip
    downloads[1].download_button(
        f"Descargar {what} (PDF)", data=pdf, file_name=f"{stem}.pdf", mime="application/pdf",
        icon=":material/picture_as_pdf:", on_click="ignore", width="stretch", key=f"{key}_pdf", help=pdf_help,
    )  # fmt: skip
