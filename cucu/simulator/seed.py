"""The simulator's seed: events that tell a story over the inventory, and generated inventories.

Deterministic for a given ``random.Random``: the demo and the tests see the same data every run.
"""

from __future__ import annotations

import base64
import math
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cucu.api.models import Branch, Inventory, PointOfSale, format_api_datetime
from cucu.organization.regions import department_of_city
from cucu.vocabulary import Motive


@dataclass
class SimEvent:
    id: str
    pos_id: str
    branch_id: str
    codigo_motivo: int
    descripcion: str
    fecha_inicio: datetime
    fecha_fin: datetime | None
    cufd_evento: str
    codigo_evento_siat: int | None
    created_at: datetime

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "posId": self.pos_id,
            "branchId": self.branch_id,
            "codigoMotivo": self.codigo_motivo,
            "descripcionMotivo": Motive(self.codigo_motivo).label,
            "descripcion": self.descripcion,
            "fechaInicio": format_api_datetime(self.fecha_inicio),
            "fechaFin": format_api_datetime(self.fecha_fin) if self.fecha_fin else None,
            "cufdEvento": self.cufd_evento,
            "codigoEventoSiat": self.codigo_evento_siat,
            "finalizado": self.fecha_fin is not None,
            "createdAt": format_api_datetime(self.created_at),
        }


# Seed texts, as a cashier would type them.
_DESCRIPTIONS: dict[int, tuple[str, ...]] = {
    1: (
        "Sin conexión a internet en la sucursal",
        "Corte del proveedor de internet (fibra)",
        "Router sin señal, se llamó al proveedor",
        "Caída del enlace de datos",
    ),
    2: (
        "SIAT no responde a verificarComunicacion",
        "Servicio web de Impuestos fuera de línea",
        "Tiempo de espera agotado al enviar facturas a SIAT",
        "Impuestos Nacionales en mantenimiento",
    ),
    3: (
        "Equipo de caja infectado, en revisión por soporte",
        "El antivirus bloqueó el sistema de facturación",
    ),
    4: (
        "Corte de energía eléctrica",
        "Cambio de equipo de caja",
        "Venta en feria fuera de la sucursal",
    ),
}
# "Falla SIAT" (2) is not drawn: those events are the ones started during SIAT's seeded outages.
_MOTIVE_WEIGHTS = ((1, 45), (3, 7), (4, 13))  # internet outages dominate
_SIAT_SHARE = (0.25, 0.6)  # of the POS that open a "Falla SIAT" event during one SIAT outage
_SIAT_ACTIVE_SHARE = 0.35  # of the events open now that began in the latest SIAT outage
_GAP = timedelta(minutes=5)  # minimum pause between two events of one POS in the seed


def random_cufd(rng: random.Random) -> str:
    """An opaque, CUFD-looking code: uppercase base32 then hex, 48 characters."""
    # From two draws of random bits, not 46 choices: a chain's seed makes 60 000 of them.
    return "BQ" + base64.b32encode(rng.getrandbits(152).to_bytes(19, "big")).decode()[:30] + f"{rng.getrandbits(64):016X}"


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _seed_duration(rng: random.Random) -> timedelta:
    # Log-uniform between 10 min and 8 h: most events are short, a few last a shift.
    return timedelta(minutes=10 * 48 ** rng.random())


# --------------------------------------------------------------------------- inventory


_SYNTHETIC_NS = uuid.UUID("5f1d0c2e-8a4b-4c37-9d6e-2b7a1c0e9f11")
_CITIES = ("La Paz", "El Alto", "Cochabamba", "Santa Cruz", "Oruro", "Potosí", "Sucre", "Tarija", "Trinidad", "Cobija")


def synthetic_inventory(branches: int, pos_per_branch: int) -> Inventory:
    """A large inventory for load tests; UUIDs are derived from the indices, so stable."""
    if branches < 1 or pos_per_branch < 1:
        raise ValueError("Se necesita al menos una sucursal y un punto de venta por sucursal.")
    result = []
    for b in range(1, branches + 1):
        branch_id = str(uuid.uuid5(_SYNTHETIC_NS, f"branch-{b}"))
        pos = tuple(
            PointOfSale(id=str(uuid.uuid5(_SYNTHETIC_NS, f"branch-{b}/pos-{p}")), name=f"Caja {p}", branch_id=branch_id)
            for p in range(1, pos_per_branch + 1)
        )
        city = _CITIES[(b - 1) % len(_CITIES)]
        result.append(Branch(id=branch_id, name=f"Sucursal {b:03d}", pos=pos, city=city, region=department_of_city(city)))
    return Inventory(branches=tuple(result))


def seed_motive(rng: random.Random) -> int:
    """A motive for an event that did not start in a SIAT outage: anything but "Falla SIAT"."""
    return rng.choices([m for m, _ in _MOTIVE_WEIGHTS], weights=[w for _, w in _MOTIVE_WEIGHTS])[0]


def seed_description(rng: random.Random, motive: int) -> str:
    return rng.choice(_DESCRIPTIONS[motive])


def plan_siat_outages(rng: random.Random, now: datetime, history_days: int) -> list[tuple[datetime, datetime]]:
    """SIAT's story over the history, oldest first: ``(start, end)`` of each outage, all ended.

    About one outage every three days, of 10 minutes to 4 hours, and a last one of 40 minutes to
    2 hours that ended 30 to 90 minutes ago: SIAT is up now, and some POS are still in the
    contingency it caused. The collector's check history and the "Falla SIAT" events follow it.
    """
    if history_days <= 0:
        return []
    last_end = now - timedelta(minutes=rng.uniform(30, 90))
    last = (last_end - timedelta(minutes=rng.uniform(40, 120)), last_end)
    origin = now - timedelta(days=history_days)
    room_end = last[0] - timedelta(hours=6)
    slots = max(1, history_days // 3)
    slot = (room_end - origin) / slots
    outages = []
    for i in range(slots):
        duration = timedelta(minutes=10 * 24 ** rng.random())  # log-uniform: most are short
        span = (slot - duration).total_seconds()
        start = origin + slot * i + timedelta(seconds=rng.uniform(0, max(0.0, span)))
        outages.append((start, start + duration))
    outages.append(last)
    return [(a.replace(microsecond=0), b.replace(microsecond=0)) for a, b in outages]


def siat_story(seed: int, now: datetime, history_days: int) -> list[tuple[datetime, datetime]]:
    """The simulator's SIAT outages for ``seed`` (:func:`plan_siat_outages`, from their own generator): a
    chain demo's web process writes the check history from them while its simulator process seeds the events."""
    return plan_siat_outages(random.Random(f"siat:{seed}"), now, history_days)


def check_history(
    outages: list[tuple[datetime, datetime]],
    seed: int,
    now: datetime,
    history_days: int,
    interval: timedelta = timedelta(minutes=5),
) -> list[tuple[datetime, bool, float]]:
    """What a collector would have recorded over the seeded history, ``(when, siat_ok, latency_ms)``: down
    exactly during ``outages`` (sorted by start). Deterministic for a seed."""
    rng = random.Random(f"connectivity:{seed}")
    when = now - timedelta(days=history_days)
    times = []
    while when < now:
        times.append(when)
        when += interval
    history = []
    # One walk over the outages sorted by start.
    latest_end, index = now - timedelta(days=history_days), 0
    # The last check is "now": a page drawn before the collector's first check finds a fresh one.
    for when in [*times, now]:
        while index < len(outages) and outages[index][0] <= when:
            latest_end = max(latest_end, outages[index][1])
            index += 1
        history.append((when, when >= latest_end, round(max(20.0, rng.gauss(120, 35)), 1)))
    return history


def story_checks(seed: int, now: datetime, history_days: int) -> list[tuple[datetime, bool, float]]:
    """The check history of :func:`siat_story`: what ``Simulator(seed=seed, seed_time=now)`` seeds its events
    from and would give as ``connectivity_history()`` at ``now``."""
    return check_history(siat_story(seed, now, history_days), seed, now, history_days)


def plan_seed(
    rng: random.Random,
    pos_list: list[PointOfSale],
    now: datetime,
    history_days: int,
    active_share: float,
    siat_outages: list[tuple[datetime, datetime]] | None = None,
) -> list[tuple[PointOfSale, datetime, datetime | None, bool]]:
    """When each seeded event starts and ends (``None``: still open), and whether it is a "Falla
    SIAT" event (it began during one of ``siat_outages``), in no particular order.

    About ``active_share`` of the POS are in contingency now (the first one for more than a day,
    some since the last SIAT outage), a share of the POS opened an event during each SIAT outage
    and closed it a little after SIAT came back, a few events ended within the last 48 h, and
    each POS has 0–3 other events a week.
    """
    outages = siat_outages or []
    # Busy intervals per POS; an open event counts as busy until the end of time.
    busy: dict[str, list[tuple[datetime, datetime]]] = {p.id: [] for p in pos_list}
    forever = now + timedelta(days=3650)
    planned: list[tuple[PointOfSale, datetime, datetime | None, bool]] = []

    def free(pos: PointOfSale, start: datetime, end: datetime) -> bool:
        return all(end + _GAP <= s or e + _GAP <= start for s, e in busy[pos.id])

    def place(pos: PointOfSale, start: datetime, end: datetime | None, siat: bool = False) -> None:
        busy[pos.id].append((start, end or forever))
        planned.append((pos, start, end, siat))

    def siat_start(outage: tuple[datetime, datetime]) -> datetime:
        # Cashiers notice within minutes that SIAT does not answer: the start is early in the outage.
        a, b = outage
        return (a + timedelta(seconds=rng.uniform(0, min(1800.0, (b - a).total_seconds() - 1)))).replace(microsecond=0)

    # 1) About a quarter of the POS are in contingency now; the first one for more than a day.
    n_active = 0
    if pos_list and active_share > 0:
        n_active = min(len(pos_list), max(1, round(len(pos_list) * active_share)))
    for i, pos in enumerate(rng.sample(pos_list, n_active)):
        if i == 0:
            start = now - timedelta(hours=rng.uniform(26, 60))
        elif outages and rng.random() < _SIAT_ACTIVE_SHARE:
            place(pos, siat_start(outages[-1]), None, True)
            continue
        else:
            start = now - timedelta(minutes=rng.uniform(5, 6 * 60))
        place(pos, start.replace(microsecond=0), None)

    # 2) During each SIAT outage a share of the POS switched to contingency, and closed it after SIAT came back.
    for outage in outages:
        share = rng.uniform(*_SIAT_SHARE)
        first = True  # the first cashier to notice started at once: every down check is inside an event
        for pos in rng.sample(pos_list, max(1, round(len(pos_list) * share))):
            start = outage[0] if first else siat_start(outage)
            end = max(outage[1] + timedelta(minutes=rng.uniform(2, 50)), start + timedelta(minutes=10))
            end = min(end, now - timedelta(minutes=1)).replace(microsecond=0)
            if end - start >= timedelta(minutes=10) and free(pos, start, end):
                place(pos, start, end, True)
                first = False

    if history_days > 0:
        # 3) A few events ended within the last 48 h: the ones a supervisor must get registered.
        n_recent = max(2, len(pos_list) // 6)
        recent = 0
        for pos in rng.sample(pos_list, len(pos_list)):
            if recent >= n_recent:
                break
            for _ in range(10):
                end = now - timedelta(minutes=rng.uniform(20, 47 * 60))
                start = end - _seed_duration(rng)
                if free(pos, start, end):
                    place(pos, start.replace(microsecond=0), end.replace(microsecond=0))
                    recent += 1
                    break

        # 4) Past history: per POS and week, 0-3 events placed where they fit.
        origin = now - timedelta(days=history_days)
        for pos in pos_list:
            for week in range(math.ceil(history_days / 7)):
                w_start = origin + timedelta(days=7 * week)
                w_end = min(w_start + timedelta(days=7), now - _GAP)
                count = rng.choices((0, 1, 2, 3), weights=(2, 4, 3, 1))[0]
                for _ in range(count):
                    for _ in range(10):
                        duration = _seed_duration(rng)
                        span = (w_end - duration - w_start).total_seconds()
                        if span <= 0:
                            continue
                        start = w_start + timedelta(seconds=rng.uniform(0, span))
                        end = start + duration
                        if free(pos, start, end):
                            place(pos, start.replace(microsecond=0), end.replace(microsecond=0))
                            break
    return planned
