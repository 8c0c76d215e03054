"""Frames and KPIs for Estado and Eventos activos."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from cucu.api.models import Event, format_api_datetime
from cucu.inventory import DEMO_INVENTORY_PATH, load_inventory
from cucu.lapaz import LA_PAZ
from cucu.simulator.seed import synthetic_inventory
from cucu.store import PosStatus
from cucu.views.estado import overview
from cucu.views.eventos import filter_pos_frame, pos_table, urgent_first
from cucu.views.facturas import cufd_urgent_first
from cucu.views.pos import cufd_texts, pos_frame
from cucu.vocabulary import CufdHealth, PosState

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=LA_PAZ)
INV = load_inventory(DEMO_INVENTORY_PATH)
B1, B2 = INV.branches[0], INV.branches[1]


def event(pos, start, end=None, motive=2, eid=None):
    return Event.from_api(
        {
            "id": eid or f"ev-{pos.id[:8]}-{start.isoformat()}",
            "posId": pos.id,
            "codigoMotivo": motive,
            "fechaInicio": format_api_datetime(start),
            "fechaFin": format_api_datetime(end) if end else None,
            "finalizado": end is not None,
            "cufdEvento": "CUFD1",
            "codigoEventoSiat": 77,
            "descripcion": "prueba",
        }
    )


def status(pos, ev=None, *, known=True, error=None):
    return PosStatus(
        pos.id, pos.branch_id, NOW - timedelta(seconds=30), NOW - timedelta(seconds=30) if known else None, ev, error
    )


def statuses():
    p1, p2, p3 = B1.pos[:3]
    q1 = B2.pos[0]
    return {
        p1.id: status(p1, event(p1, NOW - timedelta(hours=30))),  # long open
        p2.id: status(p2, event(p2, NOW - timedelta(minutes=20), motive=1), error="cucu no respondió a tiempo."),  # stale
        p3.id: status(p3),
        q1.id: status(q1, known=False, error="x"),
    }


def test_pos_frame_rows_and_states():
    frame = pos_frame(INV, statuses(), NOW)
    assert len(frame) == len(INV.all_pos) and list(frame["pos_id"]) == [p.id for p in INV.all_pos]
    by_pos = frame.set_index("pos_id")
    p1, p2, p3 = B1.pos[:3]
    assert by_pos.loc[p1.id, "Estado"] == PosState.CONTINGENCY and by_pos.loc[p1.id, "Abierto hace mucho"]
    assert by_pos.loc[p1.id, "Horas abierto"] == 30.0
    assert by_pos.loc[p1.id, "Motivo"] == "Falla SIAT" and by_pos.loc[p1.id, "Código SIAT"] == "77"
    assert by_pos.loc[p2.id, "Estado"] == PosState.CONTINGENCY and by_pos.loc[p2.id, "Desactualizado"]
    assert not by_pos.loc[p2.id, "Abierto hace mucho"]
    assert by_pos.loc[p3.id, "Estado"] == PosState.NORMAL
    assert by_pos.loc[B2.pos[0].id, "Estado"] == PosState.UNKNOWN  # never answered
    assert by_pos.loc[B2.pos[1].id, "Estado"] == PosState.UNKNOWN  # never asked


def test_pos_table_keeps_times_and_durations_typed():
    """As text, "Transcurrido" sorted "44 min" above "1 d 19 h" and "Inicio" as DD/MM/YYYY."""
    frame = pos_frame(INV, statuses(), NOW)
    table = pos_table(frame, 24.0, NOW + timedelta(minutes=5)).set_index(frame["pos_id"])
    p1, _, p3 = B1.pos[:3]
    assert str(table["Inicio"].dt.tz) == "America/La_Paz" and str(table["Consultado"].dt.tz) == "America/La_Paz"
    assert table.loc[p1.id, "Inicio"] == NOW - timedelta(hours=30)
    assert table.loc[p1.id, "Transcurrido"] == timedelta(hours=30, minutes=5)  # at the table's now: it ages
    assert pd.isna(table.loc[p3.id, "Transcurrido"]) and pd.isna(table.loc[p3.id, "Inicio"])  # the grid's placeholder
    assert table.loc[p3.id, "Motivo"] == "—"


def test_urgent_first_puts_the_longest_contingency_on_top():
    p1, p2, p3 = B1.pos[:3]
    q2 = B2.pos[1]
    given = statuses() | {q2.id: status(q2, event(q2, NOW - timedelta(hours=40)))}
    frame = pos_frame(INV, given, NOW)
    order = list(urgent_first(frame)["pos_id"])
    assert order[:3] == [q2.id, p1.id, p2.id]  # in contingency, longest open first, across branches
    assert order[-1] == p3.id  # the one normal POS last; unknown ones between, in inventory order
    unknown = [p.id for p in INV.all_pos if p.id not in (p1.id, p2.id, p3.id, q2.id)]
    assert order[3:-1] == unknown


def test_urgent_first_orders_by_the_start_not_by_rounded_hours():
    """Seen at chain size: 05:57, 05:55, 05:56 down the grid; hours rounded to 0,01 h (36 s) tied and the
    tie kept inventory order."""
    p1, p2 = B1.pos[:2]
    later_start = NOW - timedelta(hours=5, minutes=55, seconds=50)
    earlier_start = NOW - timedelta(hours=5, minutes=56, seconds=5)  # same 5,93 h once rounded
    given = statuses() | {
        p1.id: status(p1, event(p1, later_start)),
        p2.id: status(p2, event(p2, earlier_start)),
    }
    order = list(urgent_first(pos_frame(INV, given, NOW))["pos_id"])
    assert order[:2] == [p2.id, p1.id]


def test_cufd_list_opens_on_those_that_cannot_invoice():
    EXPIRING, EXPIRED, UNKNOWN, MISSING, INACTIVE = (
        CufdHealth.EXPIRING, CufdHealth.EXPIRED, CufdHealth.UNKNOWN, CufdHealth.MISSING, CufdHealth.INACTIVE,
    )  # fmt: skip
    rows = pd.DataFrame(
        {
            "pos_id": ["later", "expired", "soon", "unread", "missing", "inactive"],
            "CUFD": [str(h) for h in (EXPIRING, EXPIRED, EXPIRING, UNKNOWN, MISSING, INACTIVE)],
            "CUFD vence": [NOW + timedelta(hours=2), NOW - timedelta(hours=1), NOW + timedelta(minutes=5), None, None, NOW],
        }
    )
    assert list(cufd_urgent_first(rows)["pos_id"]) == ["missing", "expired", "inactive", "unread", "soon", "later"]


def test_long_open_threshold_is_a_setting():
    frame = pos_frame(INV, statuses(), NOW, long_open_hours=0.25)
    assert frame["Abierto hace mucho"].sum() == 2


def test_filters():
    frame = pos_frame(INV, statuses(), NOW)
    assert set(filter_pos_frame(frame, branch_ids=[B2.id])["branch_id"]) == {B2.id}
    assert len(filter_pos_frame(frame, states=[PosState.CONTINGENCY])) == 2
    assert list(filter_pos_frame(frame, motives=[1])["Punto de venta"]) == [B1.pos[1].name]
    assert len(filter_pos_frame(frame)) == len(frame)
    assert len(filter_pos_frame(frame, branch_ids=[B1.id], states=[PosState.NORMAL])) == 1  # the others were never asked


def searched(frame, search, **filters):
    return [
        f"{row.Sucursal} · {row['Punto de venta']}" for _, row in filter_pos_frame(frame, search=search, **filters).iterrows()
    ]


def test_search_ignores_case_and_accents_in_branch_pos_city_motive_and_description():
    frame = pos_frame(INV, statuses(), NOW)
    frame.loc[frame["pos_id"] == B1.pos[0].id, "Descripción"] = "Corte eléctrico en el DEPÓSITO"
    cochabamba = [f"Sucursal Cochabamba · Caja {n}" for n in range(1, 5)]
    assert searched(frame, "cochabamba") == searched(frame, "  COCHABAMBA ") == cochabamba  # the branch's name
    assert searched(frame, "SIERRA") == [f"Sucursal Santa Cruz · Caja {n}" for n in range(1, 6)]  # only its city says it
    assert searched(frame, "electrico deposito") == searched(frame, "Eléctrico") == ["Casa Matriz · Caja 1"]
    assert searched(frame, "internet") == ["Casa Matriz · Caja 2"]  # the motive's text
    assert searched(frame, "cochabamba caja 3") == ["Sucursal Cochabamba · Caja 3"]  # every word, in any column
    assert searched(frame, "cochabamba", states=[PosState.NORMAL]) == []  # with the other filters, not instead
    assert len(filter_pos_frame(frame, search="")) == len(filter_pos_frame(frame, search="  ")) == len(frame)


def test_search_number_goes_with_the_word_before_it():
    frame = pos_frame(synthetic_inventory(12, 13), {}, NOW)
    assert searched(frame, "caja 3") == [f"Sucursal {b:03d} · Caja 3" for b in range(1, 13)]  # not Caja 13
    assert searched(frame, "sucursal 3 caja 13") == searched(frame, "Caja 13 sucursal 003") == ["Sucursal 003 · Caja 13"]
    assert searched(frame, "cobija sucursal 1") == []  # Sucursal 010 is in Cobija; 1 is not 10
    assert len(searched(frame, "3")) == 13 + 11  # a number alone: anywhere, still whole


def test_search_text_is_never_a_pattern():
    frame = pos_frame(INV, statuses(), NOW)
    for hostile in ["(.*", "[", "\\", ".*", "caja |", "\x00\ufeff", "9" * 5000, "<b>Casa</b>", "ñ" * 100]:
        assert searched(frame, hostile) == [], hostile
    assert searched(frame, "Caja 1.") == []  # the dot is a dot


def test_overview_kpis_and_tiles():
    frame = pos_frame(INV, statuses(), NOW)
    ov = overview(frame, INV, NOW)
    assert (ov.pos_total, ov.pos_in_contingency, ov.branches_affected, ov.branches_total) == (
        len(INV.all_pos),
        2,
        1,
        len(INV.branches),
    )
    assert ov.longest_open is not None and ov.longest_open["Punto de venta"] == B1.pos[0].name
    assert ov.pos_stale == 2 and ov.pos_unknown == len(INV.all_pos) - 3
    tile = ov.tiles[0]
    assert (tile.name, tile.total, tile.in_contingency, tile.long_open, tile.stale) == (B1.name, len(B1.pos), 2, 1, 1)
    assert ov.tiles[1].in_contingency == 0 and ov.tiles[1].unknown == len(B2.pos)
    assert ov.fetched_at == NOW - timedelta(seconds=30)


def test_no_open_event_means_no_longest():
    frame = pos_frame(INV, {}, NOW)
    assert overview(frame, INV, NOW).longest_open is None


def test_eventos_counts_are_of_the_pos_read_and_unknown_before_any():
    from cucu.views.eventos import shown_counts

    frame = pos_frame(INV, statuses(), NOW)  # two POS in contingency (one long open); B2's POS without data
    read = int((frame["Estado"] != PosState.UNKNOWN).sum())
    assert 0 < read < len(frame)
    line = shown_counts(frame, len(frame), 1, 24)
    assert line == (
        f"{len(frame)} de {len(frame)} puntos de venta · **2 en contingencia** de {read} con datos · 1 abierto hace más de 24 h"
    )
    read_ones = frame[frame["pos_id"].isin([p.id for p in B1.pos[:3]])]
    assert (read_ones["Estado"] != PosState.UNKNOWN).all()  # all read: no "con datos"
    assert shown_counts(read_ones, len(frame), 1, 24).endswith("· **2 en contingencia** · 1 abierto hace más de 24 h")
    nothing = pos_frame(INV, {}, NOW)  # before the first sweep: no 0 that reads as "none"
    assert shown_counts(nothing, len(nothing), 0, 24) == (
        f"{len(nothing)} de {len(nothing)} puntos de venta · **en contingencia: —** (sin datos todavía)"
    )


def test_the_long_open_filter_keeps_the_events_open_too_long_alone_or_beside_a_state():
    from cucu.views.eventos import LONG_OPEN

    frame = pos_frame(INV, statuses(), NOW)  # B1's first POS open 30 h; its second in contingency 20 min
    p1, p2 = B1.pos[0].id, B1.pos[1].id
    assert list(filter_pos_frame(frame, states=[LONG_OPEN])["pos_id"]) == [p1]
    both = filter_pos_frame(frame, states=[LONG_OPEN, PosState.CONTINGENCY.value])
    assert set(both["pos_id"]) == {p1, p2}
    assert filter_pos_frame(frame, branch_ids=[B2.id], states=[LONG_OPEN]).empty


def test_each_cufd_says_its_health_and_how_long_until_or_since_it_expires():
    rows = pd.DataFrame(
        {
            "CUFD": ["Vigente", "Vence pronto", "Vencido", "Vencido", "Inactivo", "Sin CUFD", "Sin leer"],
            "CUFD vence": [
                NOW + timedelta(hours=5, minutes=10, seconds=30),
                NOW + timedelta(seconds=40),
                NOW - timedelta(days=2, hours=3),
                None,  # expired, but the deadline was never read
                NOW + timedelta(hours=1),  # inactive whatever its deadline says
                None,
                None,
            ],
        },
        index=[7, 3, 9, 1, 4, 0, 2],
    )
    assert cufd_texts(rows, NOW).to_dict() == {
        7: "🟢 vence en 5 h 10 min",
        3: "🟠 vence en 40 s",
        9: "🔴 vencido hace 2 d 3 h",
        1: "🔴 vencido",
        4: "🔴 inactivo",
        0: "🔴 sin cufd",
        2: "⚪ sin leer",
    }


def test_the_time_left_to_a_deadline_is_to_the_minute_and_only_where_pending():
    from cucu.views.facturas import time_left

    deadlines = pd.Series(
        [NOW + timedelta(hours=47, minutes=44, seconds=47, microseconds=154_701), NOW - timedelta(seconds=30), NOW, None],
        dtype="datetime64[ns, America/La_Paz]",
    )
    left = time_left(deadlines, NOW, pd.Series([True, True, False, True]))
    assert left.iloc[0] == timedelta(hours=47, minutes=44) and left.iloc[1] == timedelta(minutes=-1)
    assert pd.isna(left.iloc[2]) and pd.isna(left.iloc[3])


def test_facturas_frames_hold_no_clock_and_queda_is_worked_out_at_the_viewers_time():
    """The shared invoice frames are rebuilt only when invoices or events move (not every minute, 0.9 s at a
    chain): "Queda" is added where shown, at the viewer's time, wherever "Plazo" is known."""
    from cucu.views.facturas import CloseColumn, InvoiceColumn, closes_time_left, invoices_time_left
    from cucu.vocabulary import EventClosing, InvoiceState

    deadline = pd.Series([NOW + timedelta(hours=5)] * 3, dtype="datetime64[ns, America/La_Paz]")
    invoices = pd.DataFrame(
        {
            InvoiceColumn.STATE: [InvoiceState.CONTINGENCY.value, InvoiceState.REJECTED.value, InvoiceState.PENDING.value],
            InvoiceColumn.DEADLINE: deadline.where(pd.Series([True, True, False])),  # the third's event is still open
        }
    )
    shown = invoices_time_left(invoices, NOW + timedelta(hours=1, seconds=20))
    assert list(shown[InvoiceColumn.LEFT].iloc[:2]) == [timedelta(hours=3, minutes=59)] * 2
    assert pd.isna(shown[InvoiceColumn.LEFT].iloc[2])  # no deadline, no time left
    later = invoices_time_left(invoices, NOW + timedelta(hours=6))
    assert list(later[InvoiceColumn.LEFT].iloc[:2]) == [timedelta(hours=-1)] * 2  # past: negative
    assert InvoiceColumn.LEFT not in invoices.columns  # the shared frame is left as it was
    closings = [EventClosing.TO_SEND.value, EventClosing.REJECTED.value, EventClosing.CLOSED.value]
    closes = pd.DataFrame({CloseColumn.CLOSING: closings, CloseColumn.DEADLINE: deadline})
    left = closes_time_left(closes, NOW)[CloseColumn.LEFT]
    assert list(left.iloc[:2]) == [timedelta(hours=5)] * 2 and pd.isna(left.iloc[2])  # nothing left to do once closed


def test_a_rejected_invoice_is_red_in_the_grids_and_its_filter_value_keeps_no_icon():
    """ "Rechazada" was drawn plain in Facturas' grid and the outage dossier's; SIAT's rejections are red elsewhere."""
    from cucu.views.facturas import invoice_state_text
    from cucu.vocabulary import InvoiceState

    assert invoice_state_text(InvoiceState.REJECTED) == "🔴 Rechazada"
    assert invoice_state_text(InvoiceState.CONTINGENCY) == "🟠 Por enviar (fuera de línea)"  # as "Por enviar" of a closing
    assert invoice_state_text(InvoiceState.PENDING) == "🟠 Pendiente"
    assert invoice_state_text(InvoiceState.VALIDATED) == "🟢 Validada"
    assert invoice_state_text(InvoiceState.CANCELLED) == "Anulada"
    assert invoice_state_text("ON_HOLD") == "⚪ ON_HOLD"  # a state this version does not know: grey, never green
    assert InvoiceState.REJECTED.label == "Rechazada"  # what ?estado_factura= carries


def cufd(pos, until=None, *, active=True, none=False):
    from cucu.api.models import Cufd
    from cucu.store import StoredCufd

    return StoredCufd(pos.id, pos.branch_id, NOW, NOW, None if none else Cufd("X" * 20, None, until, active), None)


def test_a_pos_that_cannot_invoice_is_red_never_normal_after_contingency_and_found_by_the_state_filter():
    """Seen on Eventos activos: a POS out of contingency whose CUFD expired read "🟢 Normal" while Estado's queue
    listed it as "No puede facturar"."""
    from cucu.views.eventos import CANNOT_INVOICE

    p1, p2, p3, p4 = B1.pos[:4]
    q2, q3 = B2.pos[1:3]
    given = statuses() | {p4.id: status(p4), q2.id: status(q2), q3.id: status(q3)}
    cufds = {
        p1.id: cufd(p1, NOW - timedelta(hours=1)),  # in contingency (30 h) and expired: amber and first all the same
        p3.id: cufd(p3, NOW - timedelta(hours=3)),  # normal, expired
        p4.id: cufd(p4, NOW + timedelta(hours=9), active=False),  # normal, inactive
        q2.id: cufd(q2, none=True),  # normal, cucu has none
        q3.id: cufd(q3, NOW + timedelta(hours=9)),  # normal, valid
    }
    frame = pos_frame(INV, given, NOW, cufds=cufds)
    state = pos_table(frame, 24.0, NOW).set_index(frame["pos_id"])["Estado"]
    assert state[p3.id] == "🔴 No puede facturar (vencido)"
    assert state[p4.id] == "🔴 No puede facturar (inactivo)"
    assert state[q2.id] == "🔴 No puede facturar (sin CUFD)"
    assert state[q3.id] == "🟢 Normal" and state[p1.id] == "🟠 En contingencia ⏰ +24 h"
    assert state[B2.pos[3].id] == "⚪ Desconocido"  # its CUFD never read: not known to stop it either
    order = list(urgent_first(frame)["pos_id"])
    assert order[:5] == [p1.id, p2.id, p3.id, p4.id, q2.id]  # in contingency, then those that cannot invoice
    assert order[-1] == q3.id  # the one normal POS that can invoice last, the unknown ones between
    assert set(filter_pos_frame(frame, states=[CANNOT_INVOICE])["pos_id"]) == {p1.id, p3.id, p4.id, q2.id}
    both = filter_pos_frame(frame, states=[CANNOT_INVOICE, PosState.NORMAL.value])
    assert set(both["pos_id"]) == {p1.id, p3.id, p4.id, q2.id, q3.id}
