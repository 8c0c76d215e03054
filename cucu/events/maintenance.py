"""Maintenance windows: SIAT's announced maintenance, a branch closed for inventory. A supervisor schedules one
(when, where, why, which alerts wait); while it runs, the alert rules it silences open nothing in its scope
and send no reminder (a recovery still closes what is open). Every page names the current and upcoming
ones. Scheduling and cancelling are audited (Bitácora)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from cucu.api.models import Inventory
from cucu.events.actions import ActionError, Actor, can_act, refuse_outside_scope
from cucu.formatting import fmt_count, fmt_datetime, md_text
from cucu.lapaz import LA_PAZ
from cucu.store import Attempt, MaintenanceWindow, Store, StoredCufd
from cucu.vocabulary import ActionKind, AlertRule, Outcome

REASON_MAX = 300
LONGEST = timedelta(days=7)  # a longer window is more likely a typo than a plan: silenced alerts for a week
UPCOMING = timedelta(hours=24)  # how far ahead every page names a window
# What a window silences unless the supervisor chooses: what SIAT's maintenance would raise.
SILENCED_BY_DEFAULT = (AlertRule.SIAT_DOWN,)
# Company-wide rules: a window silences them only when it covers the whole company.
BRANCH_SCOPED = (AlertRule.LONG_OPEN, AlertRule.WINDOW_CLOSING)


def period(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """A period picked as a day and two times of day in La Paz; an end at or before the start is the next day's."""
    return (
        datetime.combine(day, start, tzinfo=LA_PAZ),
        datetime.combine(day + timedelta(days=1) if end <= start else day, end, tzinfo=LA_PAZ),
    )


def _attempt(actor: Actor, action: ActionKind, now: datetime, message: str) -> Attempt:
    return Attempt(
        requested_at=now, actor=actor.id, actor_name=actor.name, role=actor.role, action=action, branch_id="", pos_id="",
        outcome=Outcome.OK, message=message,
    )  # fmt: skip


def scope_text(window: MaintenanceWindow, inventory: Inventory) -> str:
    """ "toda la empresa", or the branches by name (an id no longer in the inventory as it is)."""
    if not window.branch_ids:
        return "toda la empresa"
    names = []
    for branch_id in window.branch_ids:
        try:
            names.append(inventory.branch(branch_id).name)
        except KeyError:
            names.append(branch_id)
    if window.hidden_branches:  # read by a scoped person: the others' names stay on the server
        other = "1 sucursal" if window.hidden_branches == 1 else f"{window.hidden_branches} sucursales"
        names.append(f"{other} fuera de su alcance")
    return ", ".join(names)


def window_text(window: MaintenanceWindow, inventory: Inventory) -> str:
    """One line: when, where, why (plain text: the reason is a person's)."""
    return (
        f"{fmt_datetime(window.starts_at)} – {fmt_datetime(window.ends_at)} · {scope_text(window, inventory)} · {window.reason}"
    )


def schedule(
    store: Store,
    actor: Actor,
    inventory: Inventory,
    *,
    starts_at: datetime,
    ends_at: datetime,
    branch_ids: Sequence[str],
    silenced: Sequence[AlertRule],
    reason: str | None,
    now: datetime,
) -> int:
    """Schedule a window; raises ``ActionError`` (in Spanish) for anyone but a supervisor, an end not after
    its start, an end already past, a window longer than ``LONGEST``, an unknown branch or no reason."""
    if not can_act(actor):
        raise ActionError("Solo un supervisor puede programar un mantenimiento.")
    # a scoped supervisor schedules for their branches only, never for the whole company
    refuse_outside_scope(store, actor, inventory, ActionKind.SCHEDULE_MAINTENANCE, branch_ids or [""], now)
    text = _reason(reason)
    if ends_at <= starts_at:
        raise ActionError("El fin del mantenimiento debe ser posterior a su inicio.")
    if ends_at <= now:
        raise ActionError("Ese mantenimiento ya terminó: elija un fin posterior a ahora.")
    if ends_at - starts_at > LONGEST:
        raise ActionError("Un mantenimiento dura a lo sumo 7 días.")
    known = {b.id for b in inventory.branches}
    unknown = sorted(set(branch_ids) - known)
    if unknown:
        raise ActionError(f"Sucursales que no están en el inventario: {', '.join(unknown)}.")
    window = MaintenanceWindow(0, starts_at, ends_at, tuple(branch_ids), tuple(silenced), text, "", now)
    return store.maintenance_add(
        starts_at=starts_at,
        ends_at=ends_at,
        branch_ids=branch_ids,
        silenced=[r.value for r in silenced],
        reason=text,
        attempt=_attempt(actor, ActionKind.SCHEDULE_MAINTENANCE, now, window_text(window, inventory)),
    )


MARK_BACK = timedelta(days=31)  # how far back a past period may be marked: Conectividad's longest availability


def mark_past(
    store: Store, actor: Actor, inventory: Inventory, *, starts_at: datetime, ends_at: datetime, reason: str | None,
    now: datetime,
) -> int:  # fmt: skip
    """A past period of the whole company marked as maintenance after the fact (an outage SIAT announced
    late): Conectividad's availability leaves it out and shows it apart. Audited; silences nothing (it is
    over). Raises ``ActionError`` for anyone but a supervisor, no reason, a period not wholly past, longer
    than ``LONGEST`` or older than ``MARK_BACK``."""
    if not can_act(actor):
        raise ActionError("Solo un supervisor puede marcar un período como mantenimiento.")
    refuse_outside_scope(store, actor, inventory, ActionKind.MARK_MAINTENANCE, [""], now)  # the whole company's
    text = _reason(reason)
    if ends_at <= starts_at:
        raise ActionError("El fin del período debe ser posterior a su inicio.")
    if ends_at > now:
        raise ActionError("Solo se marca un período ya pasado; para uno por venir, programe un mantenimiento.")
    if ends_at - starts_at > LONGEST:
        raise ActionError("Un mantenimiento dura a lo sumo 7 días.")
    if starts_at < now - MARK_BACK:
        raise ActionError("Solo se marcan períodos de los últimos 31 días.")
    window = MaintenanceWindow(0, starts_at, ends_at, (), (), text, "", now)
    return store.maintenance_add(
        starts_at=starts_at, ends_at=ends_at, branch_ids=[], silenced=[], reason=text,
        attempt=_attempt(actor, ActionKind.MARK_MAINTENANCE, now, window_text(window, inventory)),
    )  # fmt: skip


def company_periods(windows: Iterable[MaintenanceWindow]) -> list[tuple[datetime, datetime]]:
    """The periods the whole company was in maintenance (a window cancelled while it ran, until then):
    what SIAT's availability leaves out."""
    periods = []
    for w in windows:
        if w.branch_ids:
            continue
        end = w.ends_at if w.cancelled_at is None else min(w.ends_at, w.cancelled_at)
        if end > w.starts_at:
            periods.append((w.starts_at, end))
    return periods


def _reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise ActionError("Escriba el motivo del mantenimiento (por ejemplo, «Mantenimiento de SIAT anunciado»).")
    if len(text) > REASON_MAX:
        raise ActionError(f"El motivo es demasiado largo: {len(text)} caracteres; el máximo es {REASON_MAX}.")
    return text


def cancel(store: Store, actor: Actor, inventory: Inventory, window_id: int, now: datetime) -> None:
    """Cancel a window (before or while it runs); raises ``ActionError``."""
    if not can_act(actor):
        raise ActionError("Solo un supervisor puede cancelar un mantenimiento.")
    window = store.maintenance_window(window_id)
    if window is None or window.cancelled_at is not None:
        raise ActionError("Ese mantenimiento no existe o ya fue cancelado.")
    refuse_outside_scope(store, actor, inventory, ActionKind.CANCEL_MAINTENANCE, window.branch_ids or [""], now)
    if window.ends_at <= now:
        raise ActionError("Ese mantenimiento ya terminó.")
    attempt = _attempt(actor, ActionKind.CANCEL_MAINTENANCE, now, window_text(window, inventory))
    if not store.maintenance_cancel(window_id, attempt):
        raise ActionError("Ese mantenimiento ya fue cancelado.")


def touching(windows: Iterable[MaintenanceWindow], branch_ids: Sequence[str]) -> list[MaintenanceWindow]:
    """The windows covering at least one of the branches chosen in the page's filter (none chosen: every one), and
    always the company's (no branch named: it covers every branch)."""
    if not branch_ids:
        return list(windows)
    chosen = set(branch_ids)
    return [w for w in windows if not w.branch_ids or chosen.intersection(w.branch_ids)]


def announces_siat_down(window: MaintenanceWindow) -> bool:
    """SIAT's announced maintenance: a scheduled window over the whole company that holds "SIAT no responde" (the
    one that silences that alert). What ``[policy].maintenance = "start"`` starts motive 2 for at its start; a
    branch's window (closed for inventory) never declares SIAT down."""
    return not window.branch_ids and not window.marked_after and str(AlertRule.SIAT_DOWN) in window.silenced


def silences(windows: Iterable[MaintenanceWindow], rule: AlertRule | str, branch_id: str | None, now: datetime) -> bool:
    """Does a window running ``now`` silence ``rule`` for ``branch_id`` (None: the company)? A company-wide
    rule, or a branch rule's summary for the company, only by a window over the whole company."""
    for window in windows:
        if not window.covers(now) or str(rule) not in window.silenced:
            continue
        if not window.branch_ids or (branch_id is not None and branch_id in window.branch_ids):
            return True
    return False


def current_and_upcoming(
    windows: Iterable[MaintenanceWindow], now: datetime
) -> tuple[list[MaintenanceWindow], list[MaintenanceWindow]]:
    """The windows running ``now``, and those starting within ``UPCOMING``: what every page names."""
    running = [w for w in windows if w.covers(now)]
    soon = [w for w in windows if w.cancelled_at is None and now < w.starts_at <= now + UPCOMING]
    return running, soon


def cufds_to_renew(window: MaintenanceWindow, cufds: Mapping[str, StoredCufd], inventory: Inventory) -> tuple[list[str], int]:
    """Pre-flight: the POS of the window's scope whose CUFD, as last read, is not valid through the window's
    end (it expires before, is inactive or missing): offline invoices need a valid CUFD from before the
    outage, so they are renewed first. And how many POS of the scope have no CUFD read yet (not known)."""
    branches = [b for b in inventory.branches if not window.branch_ids or b.id in window.branch_ids]
    to_renew, unread = [], 0
    for pos in (p for b in branches for p in b.pos):
        stored = cufds.get(pos.id)
        if stored is None or stored.ok_at is None:
            unread += 1
            continue
        cufd = stored.cufd
        if cufd is None or not cufd.activo or cufd.vigencia is None or cufd.vigencia < window.ends_at:
            to_renew.append(pos.id)
    return to_renew, unread


PREFLIGHT_LISTED = 10  # the POS to renew listed before a window; a chain's hundreds are counted after them


@dataclass(frozen=True)
class ToRenew:
    """A POS whose CUFD does not last through a window, as the pre-flight lists it."""

    branch: str
    pos: str
    expires_at: datetime | None  # its CUFD's vigencia as last read (None: cucu has none, or it is not dated)
    state: str  # "vence el 06/12/2026 22:30", "venció el …", "inactivo, vence el …", "sin CUFD", "sin vigencia"


def renewal_list(to_renew: Iterable[str], cufds: Mapping[str, StoredCufd], inventory: Inventory, now: datetime) -> list[ToRenew]:
    """The POS of ``cufds_to_renew`` with their branch and their CUFD's expiry (La Paz), soonest first: those that
    cannot invoice at all (no CUFD, inactive, undated) first, then by expiry."""
    keyed = []
    never = datetime.min.replace(tzinfo=LA_PAZ)
    for pos_id in to_renew:
        pos = inventory.pos(pos_id)
        stored = cufds.get(pos_id)
        cufd = stored.cufd if stored is not None else None
        expires = cufd.vigencia if cufd is not None else None
        if cufd is None:
            state = "sin CUFD"
        elif expires is None:
            state = "sin vigencia"
        else:
            verb = "vence" if expires > now else "venció"
            state = f"{verb if cufd.activo else 'inactivo, ' + verb} el {fmt_datetime(expires)}"
        usable = cufd is not None and cufd.activo and expires is not None
        row = ToRenew(inventory.branch(pos.branch_id).name, pos.name, expires, state)
        keyed.append(((usable, expires or never, row.branch, row.pos), row))
    return [row for _, row in sorted(keyed, key=lambda pair: pair[0])]


def renewal_text(rows: Sequence[ToRenew], listed: int = PREFLIGHT_LISTED) -> str:
    """The first ``listed`` as a Markdown list ("- **Sucursal Norte** · Caja 1 · vence el 06/12/2026 22:30",
    names escaped), then "… y M más"."""
    lines = [f"- **{md_text(r.branch)}** · {md_text(r.pos)} · {r.state}" for r in rows[:listed]]
    if (more := len(rows) - listed) > 0:
        lines.append(f"- … y {fmt_count(more)} más")
    return "\n".join(lines)
