"""Can every POS invoice, and what is still to be sent: CUFD reads, the invoice walk, and what they mean.

- :mod:`cucu.invoicing.cufd`: each POS's active CUFD, read on its own interval, and its health.
- :mod:`cucu.invoicing.walk`: the walk through cucu's invoice list and the status follow-ups.
- :mod:`cucu.invoicing.picture`: invoices attributed to their POS and event, deadlines, backlog, event closing.

Every name is importable from ``cucu.invoicing``, so call sites need not know which room holds it.
"""

from cucu.invoicing.cufd import CUFD_RETRY, cufd_due, cufd_health, cufd_round, read_cufd
from cucu.invoicing.picture import (
    UNCLOSED,
    AttributedInvoice,
    Backlog,
    EventClose,
    EventSpan,
    InvoicePicture,
    attribute,
    backlog,
    event_closes,
    event_spans,
    invoice_picture,
    unclosed_events,
)
from cucu.invoicing.walk import (
    FUTURE_SLACK,
    INVOICE_JOB,
    MAX_LEFT_OUT,
    OPEN_STATES,
    REJECTED_STATUS_EVERY,
    STATUS_EVERY,
    UNSETTLED,
    InvoiceRound,
    InvoiceWalk,
    follow_statuses,
    invoice_round,
    left_out_sentences,
    walk_progress,
)

__all__ = [
    "CUFD_RETRY",
    "FUTURE_SLACK",
    "INVOICE_JOB",
    "MAX_LEFT_OUT",
    "OPEN_STATES",
    "REJECTED_STATUS_EVERY",
    "STATUS_EVERY",
    "UNCLOSED",
    "UNSETTLED",
    "AttributedInvoice",
    "Backlog",
    "EventClose",
    "EventSpan",
    "InvoicePicture",
    "InvoiceRound",
    "InvoiceWalk",
    "attribute",
    "backlog",
    "cufd_due",
    "cufd_health",
    "cufd_round",
    "event_closes",
    "event_spans",
    "follow_statuses",
    "invoice_picture",
    "invoice_round",
    "left_out_sentences",
    "read_cufd",
    "unclosed_events",
    "walk_progress",
]
