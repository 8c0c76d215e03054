"""The simulator's CUFDs and invoices, seeded to tell a story (its own random generator, so the events'
seed stays as it was).

CUFDs expire at different times: most within the next day, some within two hours, one already
expired, one inactive. Invoices: ordinary ones, validated; during each recent event, offline ones
(``CONTINGENCY``). An ended event's offline invoices move along a few minutes after its end: most
to ``VALIDATED`` (908), a few to ``REJECTED`` with a SIAT code; an open event's stay ``CONTINGENCY``.
The state is worked out when asked, from the event's end, so ending an event moves its invoices.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cucu.lapaz import to_la_paz
from cucu.models import format_api_datetime
from cucu.simulator.seed import random_cufd, random_uuid
from cucu.vocabulary import InvoiceState

CUFD_VALIDITY = timedelta(hours=24)
RECENT = timedelta(hours=72)  # events whose offline invoices are seeded
SETTLE_AFTER = (timedelta(minutes=1), timedelta(minutes=6))  # after an event ends, its invoices move along
REJECTIONS = ((902, "Rechazada: el NIT del cliente no es válido."), (1040, "Fecha de emisión fuera del rango del evento."))
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

    def __init__(self, seed: int, pos_ids: Sequence[str], events: Sequence[Any], now: datetime) -> None:
        self.rng = random.Random(f"invoicing:{seed}")
        self.cufds: dict[str, dict[str, Any]] = {}
        for n, pos_id in enumerate(pos_ids):
            if n == 1:
                until, active = now - timedelta(hours=3), True  # expired this morning
            elif n == 2:
                until, active = now + timedelta(hours=12), False  # revoked
            elif n % 5 == 3:
                until, active = now + timedelta(minutes=self.rng.randint(20, 110)), True  # expires within 2 h
            else:
                until, active = now + timedelta(hours=self.rng.randint(3, 23)), True
            self.cufds[pos_id] = self._code(until, active)
        self.invoices: list[SimInvoice] = []
        number = 1000
        for event in sorted(events, key=lambda e: e.fecha_inicio):
            if now - (event.fecha_fin or now) > RECENT:
                continue
            end = event.fecha_fin or now
            for _ in range(self.rng.randint(1, 3)):
                number += 1
                span = max(1, int((end - event.fecha_inicio).total_seconds()))
                self.invoices.append(
                    self._invoice(
                        number, event.pos_id, event.fecha_inicio + timedelta(seconds=self.rng.randrange(span)), event.id
                    )
                )
        for pos_id in pos_ids[: min(len(pos_ids), 200)]:  # ordinary invoices of the last day
            number += 1
            self.invoices.append(self._invoice(number, pos_id, now - timedelta(minutes=self.rng.randint(5, 1440)), None))
        self.invoices.sort(key=lambda i: i.emitted, reverse=True)
        self.by_id = {i.id: i for i in self.invoices}

    def _code(self, until: datetime, active: bool) -> dict[str, Any]:
        return {
            "cufd": random_cufd(self.rng),
            "codigoControl": "".join(self.rng.choice("0123456789ABCDEF") for _ in range(15)),
            "vigencia": format_api_datetime(until),
            "activo": active,
        }

    def _invoice(self, number: int, pos_id: str, emitted: datetime, event_id: str | None) -> SimInvoice:
        rejected = event_id is not None and self.rng.random() < 0.08
        return SimInvoice(
            id=random_uuid(self.rng),
            number=number,
            cuf=random_cufd(self.rng)[:40],
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
