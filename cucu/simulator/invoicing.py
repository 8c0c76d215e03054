"""The simulator's CUFDs and invoices, seeded to tell a story (its own random generator, so the events'
seed stays as it was).

CUFDs expire at different times: most within the next day, some within two hours, one already
expired, one inactive. Invoices: ordinary ones, validated; during each recent event, offline ones
(``CONTINGENCY``). An ended event's offline invoices move along a few minutes after its end: most
to ``VALIDATED`` (908), a few to ``REJECTED`` with a SIAT code; an open event's stay ``CONTINGENCY``.
The state is worked out when asked, from the event's end, so ending an event moves its invoices.

Invoices keep arriving at ``invoices_per_day`` across the company (by default 24 a POS a day, at most
10 000), spread over the POS; one issued at a POS in contingency is an offline one of its event. The
last 72 h are seeded at the same rate, so a chain's list is as long as a real one's.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cucu.api.models import format_api_datetime
from cucu.lapaz import to_la_paz
from cucu.simulator.seed import random_cufd, random_uuid
from cucu.vocabulary import InvoiceState

CUFD_VALIDITY = timedelta(hours=24)
RECENT = timedelta(hours=72)  # events whose offline invoices are seeded
SETTLE_AFTER = (timedelta(minutes=1), timedelta(minutes=6))  # after an event ends, its invoices move along
REJECTIONS = ((902, "Rechazada: el NIT del cliente no es válido."), (1040, "Fecha de emisión fuera del rango del evento."))
DEFAULT_PER_POS_PER_DAY = 24
MAX_DEFAULT_PER_DAY = 10_000
MAX_CATCH_UP = 200_000  # invoices issued in one go after a long idle (a clock jumped): the rest are skipped
CLIENTS = ("Comercial Andina SRL", "Ferretería El Progreso", "Farmacia Illimani", "Juan Pérez", "Distribuidora Oruro")


@dataclass
class SimInvoice:
    id: str
    number: int
    cuf: str
    pos_id: str
    client: str
    amount: float
    emitted: datetime
    event_id: str | None  # issued offline during this event, else an ordinary (validated) one
    settles_after: timedelta
    rejection: tuple[int, str] | None

    def state(self, event_end: datetime | None, now: datetime) -> InvoiceState:
        if self.event_id is None:
            return InvoiceState.VALIDATED
        if event_end is None or now < event_end + self.settles_after:
            return InvoiceState.CONTINGENCY
        return InvoiceState.REJECTED if self.rejection else InvoiceState.VALIDATED

    def siat(self, state: InvoiceState) -> tuple[int, str]:
        if state is InvoiceState.REJECTED and self.rejection:
            return self.rejection
        if state is InvoiceState.VALIDATED:
            return 908, "Validada"
        return 901, "Pendiente de envío: emitida fuera de línea"


class SimInvoicing:
    """CUFDs per POS and the company's invoices; the simulator holds its lock around every call."""

    def __init__(
        self,
        seed: int,
        pos_ids: Sequence[str],
        events: Sequence[Any],
        now: datetime,
        *,
        invoices_per_day: int | None = None,
    ) -> None:
        self.rng = random.Random(f"invoicing:{seed}")
        self.pos_ids = list(pos_ids)
        self.per_day = (
            invoices_per_day
            if invoices_per_day is not None
            else min(MAX_DEFAULT_PER_DAY, DEFAULT_PER_POS_PER_DAY * len(self.pos_ids))
        )
        self.cufds: dict[str, dict[str, Any]] = {}
        for n, pos_id in enumerate(self.pos_ids):
            if n == 1:
                until, active = now - timedelta(hours=3), True  # expired this morning
            elif n == 2:
                until, active = now + timedelta(hours=12), False  # revoked
            elif n % 5 == 3:
                until, active = now + timedelta(minutes=self.rng.randint(20, 110)), True  # expires within 2 h
            else:
                until, active = now + timedelta(hours=self.rng.randint(3, 23)), True
            self.cufds[pos_id] = self._code(until, active)
        self.invoices: list[SimInvoice] = []  # newest first
        self.by_id: dict[str, SimInvoice] = {}
        self.number = 1000
        self._spans: dict[str, list[tuple[datetime, datetime | None, str]]] = {}  # POS -> (start, end, event id)
        told = []
        for event in sorted(events, key=lambda e: e.fecha_inicio):
            self.note_event(event)
            if now - (event.fecha_fin or now) > RECENT:
                continue
            end = event.fecha_fin or now
            span = max(1, int((end - event.fecha_inicio).total_seconds()))
            for _ in range(self.rng.randint(1, 3)):  # every recent event has offline invoices to tell of
                told.append(
                    self._invoice(event.pos_id, event.fecha_inicio + timedelta(seconds=self.rng.randrange(span)), event.id)
                )
        self._insert(told)
        self.issued_until = now - RECENT
        self.issue_until(now)

    def note_event(self, event: Any) -> None:
        """An event started or ended: invoices issued at its POS while it is open are offline ones."""
        spans = self._spans.setdefault(event.pos_id, [])
        spans[:] = [s for s in spans if s[2] != event.id]
        spans.append((event.fecha_inicio, event.fecha_fin, event.id))

    def issue_until(self, now: datetime) -> None:
        """The invoices the company issued since the last call, at ``per_day`` spread over its POS."""
        if self.per_day <= 0 or not self.pos_ids or now <= self.issued_until:
            return
        gap = timedelta(days=1) / self.per_day
        due = min(MAX_CATCH_UP, int((now - self.issued_until) / gap))
        if due <= 0:
            return
        start = max(self.issued_until, now - gap * due)
        fresh = []
        for n in range(1, due + 1):
            when = start + gap * n
            pos_id = self.rng.choice(self.pos_ids)
            fresh.append(self._invoice(pos_id, when, self._event_at(pos_id, when)))
        self.issued_until = start + gap * due
        self._insert(fresh)

    def _event_at(self, pos_id: str, when: datetime) -> str | None:
        for start, end, event_id in self._spans.get(pos_id, ()):
            if start <= when and (end is None or when < end):
                return event_id
        return None

    def _insert(self, fresh: list[SimInvoice]) -> None:
        for invoice in fresh:
            self.by_id[invoice.id] = invoice
        self.invoices.extend(fresh)
        self.invoices.sort(key=lambda i: i.emitted, reverse=True)

    def _code(self, until: datetime, active: bool) -> dict[str, Any]:
        return {
            "cufd": random_cufd(self.rng),
            "codigoControl": f"{self.rng.getrandbits(60):015X}",  # one draw, not 15: a chain seeds 10 000
            "vigencia": format_api_datetime(until),
            "activo": active,
        }

    def _invoice(self, pos_id: str, emitted: datetime, event_id: str | None) -> SimInvoice:
        rejected = event_id is not None and self.rng.random() < 0.08
        self.number += 1
        return SimInvoice(
            id=random_uuid(self.rng),
            number=self.number,
            cuf=f"{self.rng.getrandbits(160):040X}",  # a CUF-like code; cheap, as a chain seeds 50 000
            pos_id=pos_id,
            client=self.rng.choice(CLIENTS),
            amount=round(self.rng.uniform(5, 2500), 2),
            emitted=emitted.replace(microsecond=0),
            event_id=event_id,
            settles_after=timedelta(seconds=self.rng.randint(*(int(s.total_seconds()) for s in SETTLE_AFTER))),
            rejection=self.rng.choice(REJECTIONS) if rejected else None,
        )

    def renew(self, pos_id: str, now: datetime) -> dict[str, Any]:
        fresh = self._code(now + CUFD_VALIDITY, True)
        self.cufds[pos_id] = fresh
        return {k: v for k, v in fresh.items() if k != "activo"}  # what the documented answer carries

    def page(self, page: int, size: int, event_end: Callable[[str | None], datetime | None], now: datetime) -> dict[str, Any]:
        total = len(self.invoices)
        pages = -(-total // size) if total else 0
        chosen = self.invoices[page * size : (page + 1) * size]
        return {
            "content": [self._item(i, i.state(event_end(i.event_id), now)) for i in chosen],
            "page": page,
            "size": size,
            "totalElements": total,
            "totalPages": pages,
            "first": page == 0,
            "last": page >= pages - 1,
        }

    def status(self, invoice: SimInvoice, event_end: datetime | None, now: datetime) -> dict[str, Any]:
        state = invoice.state(event_end, now)
        code, description = invoice.siat(state)
        return {
            "id": invoice.id,
            "invoiceNumber": invoice.number,
            "cuf": invoice.cuf,
            "state": state.value,
            "siatCode": code,
            "siatDescription": description,
            "emissionType": "NORMAL" if invoice.event_id is None else "CONTINGENCIA",
            "lastChecked": format_api_datetime(now),
        }

    @staticmethod
    def _item(invoice: SimInvoice, state: InvoiceState) -> dict[str, Any]:
        return {
            "id": invoice.id,
            "invoiceNumber": invoice.number,
            "cuf": invoice.cuf,
            "state": state.value,
            "clientBusinessName": invoice.client,
            "amountTotal": invoice.amount,
            "emissionDate": format_api_datetime(to_la_paz(invoice.emitted)),
            "pointOfSaleId": invoice.pos_id,  # the create call's field; cucu's list may or may not carry it
        }
