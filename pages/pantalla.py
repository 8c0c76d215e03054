"""Pantalla: the wall display. Large type read from three metres, no controls: SIAT in one word, what must be
done now (counted), and the regions by urgency (or, without regions, the branches needing attention). It
refreshes itself; the watchdog greys it and says so when the server is lost, and reloads it once it is back.
``?rotar=1`` opens each affected region in turn below the tiles."""

from __future__ import annotations

import streamlit as st

from cucu.formatting import fmt_count, fmt_hour, md_text, plural
from cucu.invoicing import INVOICE_JOB
from cucu.organization.regions import branches_by_region
from cucu.views.estado import BranchTile, Overview, RegionTile
from cucu.views.facturas import invoice_reading
from cucu.views.queue import merged, person_part
from cucu.vocabulary import Outcome, QueueKind
from ui import resources, shell

page = shell.page_context()
runtime, settings, inventory = page.runtime, page.settings, page.inventory
ROTATE_PARAM = "rotar"
ROTATE_S = 20  # each affected region's turn below the tiles
WALL_TILES = 9  # three rows of three: readable from across a room

# The wall's own look: no top bar, no session line (a wall has nobody to sign out), large type everywhere; and
# a mark that has the watchdog load the page afresh after a lost connection (ui/watchdog.js).
st.html(
    """<div hidden data-cucu-recargar></div><style>
header[data-testid="stHeader"], .st-key-shell_top { display: none; }
.st-key-pantalla { font-size: 1.5rem; }
.st-key-pantalla p, .st-key-pantalla li { font-size: 1.5rem; line-height: 1.35; }
.st-key-pantalla h1 { font-size: 4rem; }
.st-key-pantalla h2 { font-size: 2.4rem; }
.st-key-pantalla [data-testid="stMetricValue"], .st-key-pantalla [data-testid="stMetricValue"] * { font-size: 3.5rem; }
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; }
.st-key-pantalla [data-testid="stMetricLabel"] p { font-size: 1.2rem; }
.st-key-pantalla [data-testid="stCaptionContainer"] p { font-size: 1.2rem; }
</style>""",
    width="content",
)


def tiles(ov: Overview) -> None:
    regions = ov.regions_by_attention() if len(ov.regions) > 1 else []
    shown: list[tuple[str, RegionTile | BranchTile]] = (
        [(f"**{md_text(r.region)}** · {plural(r.branches, 'sucursal', 'sucursales')}", r) for r in regions]
        if regions
        else [(f"**{md_text(t.name)}**", t) for t in ov.needing_attention(WALL_TILES)]
    )
    if not shown:
        st.success("Ninguna sucursal requiere atención.", icon=":material/check_circle:")
        return
    for start in range(0, min(len(shown), WALL_TILES), 3):
        for col, (title, tile) in zip(st.columns(3), shown[start : start + 3], strict=False):
            with col.container(border=True):
                st.markdown(title)
                st.markdown(tile.headline)
    if len(shown) > WALL_TILES:
        st.caption(f"Y {fmt_count(len(shown) - WALL_TILES)} más: vea Estado.")


def rotating_region(ov: Overview, now_s: float) -> None:
    """Below the tiles, one affected region's branches needing attention, each region in turn."""
    affected = [r for r in ov.regions_by_attention() if r.needs_attention]
    if len(ov.regions) < 2 or not affected:
        return
    region = affected[int(now_s // ROTATE_S) % len(affected)]
    ids = frozenset(branches_by_region(inventory)[region.region])
    st.header(md_text(region.region), anchor=False)
    for tile in ov.needing_attention(6, ids):
        st.markdown(f"**{md_text(tile.name)}** · {tile.headline}")


@shell.live(resources.LIVE_REFRESH_S)
def wall() -> None:
    now = runtime.store.now()
    rollup = shell.siat(lambda: resources.siat_state(runtime))
    ov = resources.current_frames(runtime).value.overview
    incidents = runtime.store.open_incidents()
    queue = merged(
        resources.current_queue(runtime).value,
        person_part(incidents, runtime.store.open_attempts(Outcome.VERIFYING), settings.alerts, now),
    )
    with st.container(key="pantalla"):
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.title(f"SIAT: :{rollup.color}[{rollup.word}]", anchor=False)
        right.header(fmt_hour(now), anchor=False)
        right.caption("hora de La Paz · datos del servidor")
        c1, c2, c3, c4 = st.columns(4)
        known = ov.pos_known
        c1.metric("POS en contingencia", fmt_count(ov.pos_in_contingency) if known else "—")
        c2.metric("Sucursales afectadas", fmt_count(ov.branches_affected) if known else "—")
        c3.metric("Qué hacer ahora", fmt_count(queue.total) if known else "—")
        unowned = sum(1 for i in incidents if i.acknowledged_by is None)
        # none open is not "0" until the rules were decided (the header's rule, cucu.views.alertas.alerts_known)
        header = resources.open_alerts(runtime)
        c4.metric("Alertas sin atender", fmt_count(unowned) if unowned or (header.known and not header.partial) else "—")
        if known < ov.pos_total:
            st.caption(f"De {fmt_count(known)} de {fmt_count(ov.pos_total)} puntos de venta con datos.")
        present = [kind for kind in QueueKind if queue.counts[kind]]
        if present:
            # the invoices' kinds count what was read: partial until the walk's first full pass, as on Estado
            stored = bool(resources.current_invoices(runtime).value.picture.invoices)
            reading = invoice_reading(runtime.store.job_run(INVOICE_JOB), stored)
            note = [f"facturas: {reading}"] if reading else []
            st.markdown(" · ".join([*(k.counted(queue.counts[k]) for k in present), *note]))
        tiles(ov)
        if st.query_params.get(ROTATE_PARAM):
            rotating_region(ov, now.timestamp())


wall()
