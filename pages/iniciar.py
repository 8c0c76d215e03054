"""Iniciar evento: one POS, several, a whole branch, a whole region or every branch; confirmed, then reported POS
by POS.

Nothing is chosen for the person (no branch, no POS, no motive), and once an action is done or cancelled
the form starts clean: a cancelled company-wide start's text is not carried into the next one."""

from __future__ import annotations

import streamlit as st

from cucu.events.actions import MAX_DESCRIPTION
from cucu.formatting import fmt_count, md_text
from cucu.inventory import branch_labels
from cucu.organization.regions import branches_by_region
from cucu.views.links import REGION_PARAM
from cucu.vocabulary import Motive
from ui import actions, shell

page = shell.page_context()
runtime, inventory = page.runtime, page.inventory

st.title("Iniciar evento")
st.caption(
    "Declara un evento significativo para que los puntos de venta facturen fuera de línea. "
    "Los que ya tienen un evento activo se muestran y se omiten: SIAT admite uno por punto de venta."
)
actions.confirmation_and_results(runtime)

ONE, SEVERAL, BRANCH, ALL = "Un punto de venta", "Varios puntos de venta", "Toda una sucursal", "Todas las sucursales"
REGION = "Toda una región"  # a regional provider's outage: every POS of the region's branches
# Each widget's key and the value it starts from: restored by ui.actions once the action is done or cancelled.
FORM: dict[str, object] = {
    "iniciar_alcance": ONE,
    "iniciar_sucursal": None,
    "iniciar_region": None,
    "iniciar_pos": None,
    "iniciar_varios": [],
    "iniciar_motivo": None,
    "iniciar_descripcion": "",
}
regions = branches_by_region(inventory)
# The region is in the URL as every page's filter writes it (?region=La+Paz): a link naming one opens on it. Synced
# by hand, not bind=: the key "region" is the other pages' multiselect, and this form's reset would leave them a None.
if len(regions) > 1 and "iniciar_region" not in st.session_state and st.query_params.get(REGION_PARAM) in regions:
    st.session_state["iniciar_alcance"] = REGION
    st.session_state["iniciar_region"] = st.query_params.get(REGION_PARAM)
st.session_state.setdefault("iniciar_alcance", ONE)  # not default=: a value set by the reset would then warn
scopes = [ONE, SEVERAL, BRANCH, *([REGION] if len(regions) > 1 else []), ALL]
scope = st.segmented_control("Alcance", scopes, key="iniciar_alcance", width="stretch") or ONE

labels = branch_labels(inventory)
pos_ids: list[str] = []
region: str | None = None
if scope == REGION:
    region = st.selectbox("Región", list(regions), index=None, placeholder="Elija una región", key="iniciar_region")
    if region is not None:
        st.query_params[REGION_PARAM] = region  # shared, the link opens the same region
        pos_ids = [p.id for branch_id in regions[region] for p in inventory.branch(branch_id).pos]
        st.info(
            f"Se incluyen todos los puntos de venta ({fmt_count(len(pos_ids))}) de las sucursales de "
            f"{md_text(region)} ({fmt_count(len(regions[region]))}).",
            icon=":material/public:",
        )
elif scope == ALL:
    pos_ids = [p.id for p in inventory.all_pos]
    st.info(
        f"Se incluyen todos los puntos de venta ({fmt_count(len(pos_ids))}) de todas las sucursales "
        f"({fmt_count(len(inventory.branches))}).",
        icon=":material/select_all:",
    )
else:
    branch_id = st.selectbox(
        "Sucursal",
        list(labels),
        format_func=labels.__getitem__,
        index=None,
        placeholder="Elija una sucursal",
        key="iniciar_sucursal",
    )
    names = {p.id: p.name for p in inventory.branch(branch_id).pos} if branch_id else {}
    if scope == ONE:
        chosen = st.selectbox(
            "Punto de venta",
            list(names),
            format_func=names.__getitem__,
            index=None,
            placeholder="Elija un punto de venta" if names else "Elija primero la sucursal",
            disabled=not names,
            key="iniciar_pos",
        )
        pos_ids = [chosen] if chosen else []
    elif scope == SEVERAL:
        pos_ids = st.multiselect(
            "Puntos de venta",
            list(names),
            format_func=names.__getitem__,
            key="iniciar_varios",
            placeholder="Elija uno o más" if names else "Elija primero la sucursal",
            disabled=not names,
        )
    elif branch_id:
        pos_ids = list(names)
        st.info(
            f"Se incluyen todos los puntos de venta de {md_text(inventory.branch(branch_id).name)} ({fmt_count(len(pos_ids))}).",
            icon=":material/store:",
        )

if region is None and REGION_PARAM in st.query_params:
    del st.query_params[REGION_PARAM]  # no region chosen (another scope, or the form reset): the link names none

motive = st.radio(
    "Motivo",
    [m.value for m in Motive],
    format_func=lambda code: f"{code} · {Motive(code).label}",
    index=None,
    horizontal=True,
    key="iniciar_motivo",
)
description = st.text_area(
    "Descripción",
    max_chars=MAX_DESCRIPTION,
    placeholder="Qué pasó y dónde, p. ej. «Corte de fibra del proveedor en la zona Sur desde las 09:10».",
    key="iniciar_descripcion",
)
if st.button("Revisar y confirmar", type="primary", icon=":material/fact_check:", key="iniciar_revisar"):
    problem = actions.request_start(runtime, pos_ids, motive, description, form=FORM)
    if problem:
        st.error(problem, icon=":material/error:")
    else:
        st.rerun()  # the confirmation dialog opens at the top of the page
