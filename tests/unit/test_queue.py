"""Estado's one queue of what to do now (issue 25, part 4): every kind found, ordered by time left, counted,
linked to where it is done; empty says so, unknown is never "nothing to do"."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from cucu.api.models import Cufd
from cucu.inventory import branch_labels
from cucu.invoicing import attribute, backlog, event_spans
from cucu.invoicing.codes import explain_siat_code
from cucu.invoicing.picture import InvoicePicture
from cucu.settings import AlertSettings, EscalationStep
from cucu.store import AuditEntry, Incident, StoredCufd, StoredInvoice
from cucu.views.pos import pos_frame
from cucu.views.queue import QueueColumn, empty_text, merged, person_part, pos_part, queue_frame
from cucu.vocabulary import ActionKind, AlertRule, CufdHealth, InvoiceState, Outcome, QueueKind
from tests.unit.test_frames import B1, B2, INV, NOW, event, status

WINDOW = timedelta(hours=72)
LABELS = branch_labels(INV)


def cufd(pos, until, active=True):
    return StoredCufd(pos.id, pos.branch_id, NOW, NOW, Cufd("X" * 20, None, until, active), None)


def invoice(n, pos, emitted, state, code=None, said=None):
    return StoredInvoice(f"f{n}", str(n), None, pos.id, state, None, None, emitted, NOW, NOW, code, said)


def world():
    """B1: an expired CUFD, an inactive one, a POS cucu has no CUFD for, one expiring in 1 h, a 30-h event; B2: an ended event with two
    invoices to send (deadline in 40 h), a rejected one, and an open event whose invoices all reached SIAT."""
    p1, p2, p3, p4, p5 = B1.pos[:5]
    q1, q2 = B2.pos[:2]
    ended = event(q1, NOW - timedelta(hours=10), NOW - timedelta(hours=8), eid="ev-q1")
    statuses = {
        p1.id: status(p1, event(p1, NOW - timedelta(hours=30), eid="ev-p1")),
        p2.id: status(p2),
        p3.id: status(p3),
        p4.id: status(p4),
        p5.id: status(p5),
        q1.id: status(q1),
        q2.id: status(q2, event(q2, NOW - timedelta(hours=3), motive=1, eid="ev-q2")),
    }
    cufds = {
        p2.id: cufd(p2, NOW - timedelta(hours=2)),
        p3.id: cufd(p3, NOW + timedelta(hours=20), active=False),
        p4.id: cufd(p4, NOW + timedelta(hours=1)),
        p5.id: StoredCufd(p5.id, p5.branch_id, NOW, NOW, None, None),  # read, and cucu has none: CufdHealth.MISSING
    }
    frame = pos_frame(INV, statuses, NOW, 24.0, cufds, timedelta(hours=2))
    invoices = [
        invoice(1, q1, NOW - timedelta(hours=9), InvoiceState.CONTINGENCY),
        invoice(2, q1, NOW - timedelta(hours=9), InvoiceState.CONTINGENCY),
        invoice(3, q1, NOW - timedelta(hours=9, minutes=30), InvoiceState.REJECTED, 1040, "Fecha fuera del rango"),
    ]
    spans = event_spans(statuses, [])
    from cucu.invoicing.picture import _note  # the ended event, as the days the backfill stores would give it

    found = {s.event_id: s for s in spans}
    _note(found, ended, q1.id, q1.branch_id)
    attributed = attribute(invoices, INV, found.values())
    picture = InvoicePicture(attributed, backlog(attributed), [])
    # All of q2's invoices since its event began reached SIAT (validated): it can be ended.
    states = [(q2.id.upper(), NOW - timedelta(hours=2), "VALIDATED"), (q2.id, NOW - timedelta(hours=1), "VALIDATED")]
    states += [(q1.id, NOW - timedelta(hours=9), "CONTINGENCY")]  # q1 has no open event: not counted
    return frame, picture, states


def part():
    frame, picture, states = world()
    return pos_part(frame, picture, states, INV, LABELS, NOW, long_open_hours=24.0, invoice_window=WINDOW)


def test_every_kind_is_found_once_where_it_is():
    items = part().items
    found = {(i.kind, i.pos_id) for i in items}
    p1, p2, p3, p4, p5 = B1.pos[:5]
    q1, q2 = B2.pos[:2]
    assert found == {
        (QueueKind.LONG_OPEN, p1.id),
        (QueueKind.CANNOT_INVOICE, p2.id),
        (QueueKind.CANNOT_INVOICE, p3.id),
        (QueueKind.CANNOT_INVOICE, p5.id),
        (QueueKind.CUFD_EXPIRING, p4.id),
        (QueueKind.INVOICES_DUE, q1.id),
        (QueueKind.REJECTED, q1.id),
        (QueueKind.READY_TO_END, q2.id),
    }
    missing = next(i for i in items if i.pos_id == p5.id)
    assert (missing.at, missing.deadline, missing.detail) == (
        NOW,
        False,
        f"CUFD: {CufdHealth.MISSING.value}",
    )  # cannot invoice now


def test_ordered_by_time_left_overdue_and_waiting_first():
    items = part().items
    assert items == sorted(items)
    kinds = [i.kind for i in items]
    # The CUFD expired 2 h ago and the inactive one (now) come before the CUFD expiring in 1 h, which comes before
    # the invoices due in 40 h.
    assert kinds.index(QueueKind.CANNOT_INVOICE) < kinds.index(QueueKind.CUFD_EXPIRING) < kinds.index(QueueKind.INVOICES_DUE)
    due = next(i for i in items if i.kind is QueueKind.INVOICES_DUE)
    assert due.deadline and due.at == NOW - timedelta(hours=8) + timedelta(hours=48) and "2 facturas" in due.detail


def test_a_rejected_invoice_says_what_sias_code_means():
    rejected = next(i for i in part().items if i.kind is QueueKind.REJECTED)
    assert "1040" in rejected.detail and "rango del evento" in rejected.detail and "«Fecha fuera del rango»" in rejected.detail
    assert explain_siat_code(123, None).endswith("reintente el envío.")
    assert explain_siat_code(7777, "Algo nuevo") == "7777: Algo nuevo"  # a code the table lacks: SIAT's words
    assert explain_siat_code(None, None) == "SIAT no indicó un código."


def test_each_row_links_to_where_it_is_done_with_its_verb():
    links = {i.kind: i.link for i in part().items}
    assert links[QueueKind.CANNOT_INVOICE].startswith("facturas?vista=CUFD&sucursal=") and links[
        QueueKind.CANNOT_INVOICE
    ].endswith("#Renovar")
    assert links[QueueKind.INVOICES_DUE].startswith("facturas?vista=Cierre+de+eventos") and links[
        QueueKind.INVOICES_DUE
    ].endswith("#Revisar")
    assert "estado_factura=Rechazada" in links[QueueKind.REJECTED]
    assert links[QueueKind.READY_TO_END].startswith("eventos?sucursal=") and "buscar=" in links[QueueKind.READY_TO_END]
    assert links[QueueKind.READY_TO_END].endswith("#Finalizar")


def test_an_open_event_with_an_invoice_still_to_send_is_not_ready_to_end():
    frame, picture, states = world()
    q2 = B2.pos[1]
    states.append((q2.id, NOW - timedelta(minutes=30), "CONTINGENCY"))
    found = pos_part(frame, picture, states, INV, LABELS, NOW, long_open_hours=24.0, invoice_window=WINDOW)
    assert QueueKind.READY_TO_END not in found.counts
    before = [(q2.id, NOW - timedelta(hours=4), "VALIDATED")]  # issued before its event began: not its
    found = pos_part(frame, picture, before, INV, LABELS, NOW, long_open_hours=24.0, invoice_window=WINDOW)
    assert QueueKind.READY_TO_END not in found.counts


def incident(n, *, acknowledged_by=None, opened=NOW - timedelta(minutes=30), rule=AlertRule.SIAT_DOWN):
    return Incident(n, f"k{n}", rule, None, opened, opened, 0, None, f"Alerta {n}", "", acknowledged_by, None, None, opened)


def verifying(n, at):
    return AuditEntry(
        id=n, requested_at=at, completed_at=None, actor="ana", actor_name="Ana", role=None, action=ActionKind.START,
        branch_id=B1.id, pos_id=B1.pos[0].id, motive=2, description=None, event_id=None, outcome=Outcome.VERIFYING,
        message=None,
    )  # fmt: skip


def test_unacknowledged_alerts_by_their_next_escalation_and_verifications_since_they_wait():
    escalating = AlertSettings(escalation=(EscalationStep(timedelta(minutes=45), frozenset({"jefes"})),))
    people = person_part(
        [incident(1), incident(2, acknowledged_by="Ana"), incident(3, opened=NOW - timedelta(minutes=5))],
        [verifying(9, NOW - timedelta(minutes=3))],
        escalating,
        NOW,
    )
    assert [(i.kind, i.at) for i in people.items] == [
        (QueueKind.VERIFYING, NOW - timedelta(minutes=3)),
        (QueueKind.UNACKNOWLEDGED, NOW + timedelta(minutes=15)),  # escalates 45 min after its message
        (QueueKind.UNACKNOWLEDGED, NOW + timedelta(minutes=40)),
    ]
    assert people.items[1].link == "alertas?alerta=k1#Atender" and people.items[1].deadline
    plain = person_part([incident(1)], [], AlertSettings(), NOW)  # no escalation: waits since it opened
    assert plain.items[0].at == NOW - timedelta(minutes=30) and not plain.items[0].deadline


def test_merged_shows_the_top_and_counts_everything():
    people = person_part([incident(1)], [verifying(9, NOW - timedelta(minutes=3))], AlertSettings(), NOW)
    queue = merged(part(), people, shown=3)
    assert len(queue.top) == 3 and queue.total == 10 and queue.top == sorted(queue.top)
    assert queue.counts[QueueKind.CANNOT_INVOICE] == 3 and queue.counts[QueueKind.UNACKNOWLEDGED] == 1
    assert queue.counts_text().startswith("3 puntos de venta no pueden facturar · 1 CUFD por vencer · ")
    frame = queue_frame(queue, INV, NOW)
    assert str(frame[QueueColumn.LEFT].dtype).startswith("timedelta") and str(frame[QueueColumn.AT].dt.tz) == "America/La_Paz"
    assert list(frame[QueueColumn.KIND])[:2] == [QueueKind.LONG_OPEN.label, QueueKind.CANNOT_INVOICE.label]
    assert pd.isna(frame[QueueColumn.LEFT].iloc[0])  # open 30 h, waiting for 6 h: no deadline, no "Queda"
    assert frame[QueueColumn.LEFT].iloc[1] == -timedelta(hours=2)  # the CUFD expired 2 h ago: negative


def test_an_empty_queue_says_nothing_to_do_only_when_something_is_known():
    assert merged().total == 0
    assert empty_text(True).startswith("Nada por hacer ahora")
    assert "Sin datos" in empty_text(False) and "Nada" not in empty_text(False)


def test_a_rejected_invoice_whose_status_is_not_read_yet_says_so():
    """Seen at a chain's start: "SIAT no indicó un código." for an invoice whose status nobody had asked yet."""
    frame, _, states = world()
    q1 = B2.pos[0]
    unread = invoice(9, q1, NOW - timedelta(hours=1), InvoiceState.REJECTED)
    unread = StoredInvoice(unread.id, "9", None, q1.id, InvoiceState.REJECTED, None, None, NOW - timedelta(hours=1), NOW)
    attributed = attribute([unread], INV, [])
    picture = InvoicePicture(attributed, backlog(attributed), [])
    found = pos_part(frame, picture, states, INV, LABELS, NOW, long_open_hours=24.0, invoice_window=WINDOW)
    (rejected,) = [i for i in found.items if i.kind is QueueKind.REJECTED]
    assert rejected.detail == "Nº 9: Sin leer todavía"


def test_the_listed_top_says_the_time_left_in_words_and_escapes_names_and_details():
    """Estado lists the top as lines (``queue_lines``): overdue in red as "venció hace", due "vence en", what waits
    "espera hace"; each line's link named by its verb; names and cucu's words never form Markdown."""
    from dataclasses import replace

    from cucu.api.models import Inventory
    from cucu.formatting import md_text
    from cucu.views.queue import QueueItem, queue_lines

    p1, p2 = B1.pos[:2]
    hostile = Inventory(branches=(replace(B1, name="**Sucursal** [x](http://malo.example)"), *INV.branches[1:]))
    items = [
        QueueItem(
            NOW - timedelta(hours=3), QueueKind.CANNOT_INVOICE, B1.id, p1.id, True, "CUFD vencido", "facturas?vista=CUFD#Renovar"
        ),
        QueueItem(
            NOW + timedelta(hours=2, minutes=5), QueueKind.CUFD_EXPIRING, B1.id, p2.id, True, ":red[x]", "facturas#Renovar"
        ),
        QueueItem(NOW - timedelta(minutes=20), QueueKind.VERIFYING, B1.id, p2.id, False, "Inicio pedido", "bitacora#Ver"),
        # cucu says the CUFD is inactive, not since when: read now, it never "waits since 0 s"
        QueueItem(NOW, QueueKind.CANNOT_INVOICE, B1.id, p1.id, False, "CUFD: Inactivo", "facturas#Renovar", since_known=False),
    ]
    lines = queue_lines(items, hostile, NOW).splitlines()
    assert lines[3].endswith(f" · {md_text('CUFD: Inactivo')} · [Renovar](facturas#Renovar)") and "espera" not in lines[3]
    assert lines[0].startswith("- **No puede facturar** · ") and lines[0].endswith(
        " · :red[venció hace 3 h 0 min] · [Renovar](facturas?vista=CUFD#Renovar)"
    )
    assert " · vence en 2 h 5 min · [Renovar](facturas#Renovar)" in lines[1]
    assert " · espera hace 20 min · [Ver](bitacora#Ver)" in lines[2]
    assert "**Sucursal**" not in lines[0] and "[x](http" not in lines[0] and ":red[x]" not in lines[1]
