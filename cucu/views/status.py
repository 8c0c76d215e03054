"""What the company's own monitoring reads (issue 26): SIAT's state, the POS counts per region, the open
incidents and the collector's freshness, as JSON and as OpenMetrics gauges.

Read from the store with the functions the pages use (``siat_rollup`` over the rule's checks, ``pos_frame``
and ``overview``), so a figure here is the figure on Estado; never a call to cucu. Unknown is ``null`` in the
JSON and an absent sample in OpenMetrics, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cucu.api.models import Inventory
from cucu.collector import LEASE
from cucu.connectivity.rules import checks_for_rules, siat_rollup
from cucu.settings import Settings
from cucu.store import Store
from cucu.views.estado import Overview, overview
from cucu.views.pos import pos_frame
from cucu.vocabulary import SiatStatus

OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@dataclass(frozen=True)
class Status:
    now: datetime
    siat: SiatStatus
    siat_since: datetime | None  # while Caído: its first failed check
    last_check_at: datetime | None
    ov: Overview
    open_incidents: int
    unowned_incidents: int
    incidents: list[dict[str, Any]]
    polling: bool  # someone holds the collector's lease now
    last_renewal: datetime | None


def read_status(store: Store, inventory: Inventory, settings: Settings) -> Status:
    now = store.now()
    checks = checks_for_rules(store.recent_checks, store.checks_before, 20)
    rollup = siat_rollup(checks, now, check_interval_s=settings.check_interval_s)
    frame = pos_frame(
        inventory,
        store.pos_statuses(),
        now,
        settings.long_open_hours,
        store.cufds(),
        timedelta(hours=settings.cufd_expiring_hours),
    )
    incidents = store.open_incidents()
    lease = store.lease(LEASE)
    return Status(
        now=now,
        siat=rollup.status,
        siat_since=rollup.down_since,
        last_check_at=rollup.latest.checked_at if rollup.latest is not None else None,
        ov=overview(frame, inventory, now),
        open_incidents=len(incidents),
        unowned_incidents=sum(1 for i in incidents if i.acknowledged_by is None),
        incidents=[
            {
                "key": i.key,
                "rule": str(i.rule),
                "title": i.title,
                "opened_at": _iso(i.opened_at),
                "acknowledged_by": i.acknowledged_by,
            }
            for i in incidents
        ],
        polling=lease is not None and lease.live(store.db_now()),
        last_renewal=lease.renewed_at if lease is not None else None,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _known(count: int, known: int) -> int | None:
    """A count that speaks only for the POS read: ``None`` when none was."""
    return count if known else None


def status_json(status: Status) -> dict[str, Any]:
    ov = status.ov
    return {
        "generated_at": _iso(status.now),
        "siat": {
            "state": status.siat.value,
            "label": status.siat.label,
            "down_since": _iso(status.siat_since),
            "last_check_at": _iso(status.last_check_at),
        },
        "pos": {
            "total": ov.pos_total,
            "known": ov.pos_known,
            "in_contingency": _known(ov.pos_in_contingency, ov.pos_known),
            "not_answering": _known(ov.pos_stale, ov.pos_known),
            "can_invoice": _known(ov.pos_can_invoice, ov.pos_cufd_read),
            "oldest_read_at": _iso(ov.fetched_at),
        },
        "regions": [
            {
                "region": r.region,
                "branches": r.branches,
                "pos": r.total,
                "known": r.known,
                "in_contingency": _known(r.in_contingency, r.known),
                "not_answering": _known(r.stale, r.known),
                "branches_in_contingency": _known(r.branches_in_contingency, r.known),
            }
            for r in ov.regions
        ],
        "incidents": {"open": status.open_incidents, "unowned": status.unowned_incidents, "list": status.incidents},
        "collector": {"polling": status.polling, "last_renewal": _iso(status.last_renewal)},
    }


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _gauge(name: str, help_text: str, samples: Sequence[tuple[dict[str, str], float | None]]) -> list[str]:
    lines = [f"# TYPE {name} gauge", f"# HELP {name} {help_text}"]
    for labels, value in samples:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue  # unknown: no sample, never 0
        shown = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        number = str(int(value)) if float(value).is_integer() else repr(float(value))  # a timestamp keeps its digits
        lines.append(f"{name}{{{shown}}} {number}" if shown else f"{name} {number}")
    return lines


def _timestamp(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def status_openmetrics(status: Status) -> str:
    """The same figures as gauges (``contingencia_…``), in the OpenMetrics text format."""
    ov = status.ov
    regions = ov.regions
    lines = [
        *_gauge(
            "contingencia_siat_state",
            "SIAT state as the dashboard shows it (1 for the current one).",
            [({"state": s.value}, float(s is status.siat)) for s in SiatStatus],
        ),
        *_gauge("contingencia_siat_down_since_seconds", "While SIAT is down: its first failed check (Unix time).",
                [({}, _timestamp(status.siat_since))]),
        *_gauge("contingencia_siat_last_check_seconds", "The latest check the rule counted (Unix time).",
                [({}, _timestamp(status.last_check_at))]),
        *_gauge("contingencia_pos", "Points of sale in the inventory.", [({}, ov.pos_total)]),
        *_gauge("contingencia_pos_known", "Points of sale whose state cucu told.", [({}, ov.pos_known)]),
        *_gauge("contingencia_pos_in_contingency", "Points of sale in contingency (of those known).",
                [({}, _known(ov.pos_in_contingency, ov.pos_known))]),
        *_gauge("contingencia_pos_not_answering", "Points of sale whose last call failed.",
                [({}, _known(ov.pos_stale, ov.pos_known))]),
        *_gauge("contingencia_pos_oldest_read_seconds", "The oldest read among the points of sale (Unix time).",
                [({}, _timestamp(ov.fetched_at))]),
        *_gauge("contingencia_region_pos", "Points of sale of a region.", [({"region": r.region}, r.total) for r in regions]),
        *_gauge("contingencia_region_pos_known", "Points of sale of a region whose state cucu told.",
                [({"region": r.region}, r.known) for r in regions]),
        *_gauge("contingencia_region_pos_in_contingency", "Points of sale of a region in contingency.",
                [({"region": r.region}, _known(r.in_contingency, r.known)) for r in regions]),
        *_gauge("contingencia_incidents_open", "Open alert incidents.", [({}, status.open_incidents)]),
        *_gauge("contingencia_incidents_unowned", "Open alert incidents nobody acknowledged.", [({}, status.unowned_incidents)]),
        *_gauge("contingencia_collector_polling", "1 while a collector holds the lease.", [({}, float(status.polling))]),
        *_gauge("contingencia_collector_last_renewal_seconds", "When the collector's lease was last renewed (Unix time).",
                [({}, _timestamp(status.last_renewal))]),
    ]  # fmt: skip
    return "\n".join([*lines, "# EOF", ""])
