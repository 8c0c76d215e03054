"""The URL parameters every page binds its filters to, and links that open a page filtered: one page's row opens
another page on just that branch, POS, alert or tab (Estado's tables and queue, the alert messages)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

BRANCH_PARAM, STATE_PARAM, MOTIVE_PARAM = "sucursal", "estado", "motivo"
REGION_PARAM = "region"  # a region by its label (cucu.organization.regions.region_label)
SEARCH_PARAM = "buscar"  # Eventos activos' text search (cucu.views.eventos.search_mask)
PAGE_PARAM = "pagina"  # a paged table's page number (Bitácora)
VIEW_PARAM = "vista"  # Facturas' tab, by its label
INVOICE_STATE_PARAM = "estado_factura"  # Facturas' invoice states, by their labels
FACTURAS_VIEWS = ("Por enviar y rechazadas", "CUFD", "Cierre de eventos")  # Facturas' tabs: the label is what the URL carries


def page_link(page: str, params: Mapping[str, str], action: str | None = None) -> str:
    """A relative link to ``page`` with ``params``; ``action`` (one word, no accent) rides as the fragment, for
    a link column that shows each row's own verb (``display_text`` reads it back)."""
    link = f"{page}?{urlencode(params)}" if params else page
    return f"{link}#{action}" if action else link
