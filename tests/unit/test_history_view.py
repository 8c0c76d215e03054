"""Historial's frames (events, filters, summary, CSV) and its timeline figure, without Streamlit."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from cucu.api.models import Branch, Event, Inventory, PointOfSale
from cucu.lapaz import LA_PAZ
from cucu.periods import default_range, range_problem
from cucu.store import DayEvents
from cucu.views.figures.timeline import (
    CONTINUES_MARKER_NAME,
    MOTIVE_COLORS,
    OPEN_MARKER_NAME,
    OPEN_PATTERN,
    daily_events_chart,
    figure_height,
    timeline_figure,
)
from cucu.views.historial import (
    BRANCH_TOTAL,
    GRAND_TOTAL,
    HOUR_COLUMNS,
    ID_COLUMNS,
    SHOWN_COLUMNS,
    as_durations,
    events_frame,
    filter_events,
    lanes,
    summary_frame,
    to_csv_bytes,
    total_hours_text,
)

B1, B2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
P11, P12 = "11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002"
P21, P22 = "22222222-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"

INVENTORY = Inventory(
    branches=(
        Branch(B1, "Casa Matriz", (PointOfSale(P11, "Caja 1", B1), PointOfSale(P12, "Caja 2", B1))),
        Branch(B2, "Sucursal Sucre", (PointOfSale(P21, "Caja 1", B2), PointOfSale(P22, "Caja 2", B2))),
    )
)
DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=LA_PAZ)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LA_PAZ)


def event(event_id, pos, start, end=None, motive=1, text="Sin internet", api_motive=None):
    return Event(
        id=event_id,
        pos_id=pos,
        codigo_motivo=motive,
        descripcion_motivo=api_motive,
        fecha_inicio=start,
        fecha_fin=end,
        cufd_evento=f"CUFD-{event_id}",
        codigo_evento_siat="1234567" if end else None,
        finalizado=end is not None,
        created_at=start,
        descripcion=text,
    )


def day_of(pos, branch, *events, fetched_at=NOW, complete=False, day=DAY):
    return DayEvents(pos, branch, day, fetched_at, complete, tuple(events))


@pytest.fixture
def days():
    return [
        day_of(P11, B1, event("e1", P11, at(8), at(9, 30), motive=1), event("e2", P11, at(13), None, motive=2)),
        day_of(P12, B1, event("e3", P12, at(10), at(10, 45), motive=4, text="Corte de energía")),
        day_of(P21, B2, event("e4", P21, at(7), at(8), motive=2, api_motive="Falla del SIAT (API)")),
        day_of(P22, B2),
    ]


# ---- events_frame -----------------------------------------------------------------------


def test_events_frame_columns_order_and_names(days):
    frame = events_frame(days, INVENTORY, NOW)
    assert list(frame.columns) == SHOWN_COLUMNS + ID_COLUMNS
    assert list(frame["ID evento"]) == ["e4", "e1", "e3", "e2"]  # by start
    first = frame.iloc[0]
    assert first["Sucursal"] == "Sucursal Sucre" and first["Punto de venta"] == "Caja 1"
    assert first["Motivo"] == "Falla del SIAT (API)"  # the API's own text wins
    assert frame.set_index("ID evento").loc["e3", "Motivo"] == "Otro"  # else our label
    assert first["branch_id"] == B2 and first["pos_id"] == P21
    assert str(frame["Inicio"].dt.tz) == "America/La_Paz"


def test_active_event_runs_to_now(days):
    frame = events_frame(days, INVENTORY, NOW).set_index("ID evento")
    assert frame.loc["e2", "Estado"] == "Activo"
    assert pd.isna(frame.loc["e2", "Fin"])
    assert frame.loc["e2", "Duración (h)"] == pytest.approx(2.0)  # 13:00 -> now 15:00
    assert frame.loc["e1", "Estado"] == "Finalizado"
    assert frame.loc["e1", "Duración (h)"] == pytest.approx(1.5)
    assert frame.loc["e1", "Fin"] == pd.Timestamp(at(9, 30))


def test_events_are_deduplicated_keeping_the_latest_copy():
    older = day_of(P11, B1, event("e1", P11, at(8), None), fetched_at=at(9))
    newer = day_of(P11, B1, event("e1", P11, at(8), at(10)), fetched_at=at(11))
    frame = events_frame([newer, older], INVENTORY, NOW)
    assert len(frame) == 1
    assert frame.iloc[0]["Estado"] == "Finalizado" and frame.iloc[0]["Duración (h)"] == pytest.approx(2.0)


def test_empty_frame_has_the_columns():
    frame = events_frame([day_of(P11, B1)], INVENTORY, NOW)
    assert frame.empty and list(frame.columns) == SHOWN_COLUMNS + ID_COLUMNS
    assert summary_frame(frame).empty
    assert to_csv_bytes(frame).decode("utf-8-sig").strip() == ";".join(SHOWN_COLUMNS)


# ---- filters -------------------------------------------------------------------------------


def test_filters(days):
    frame = events_frame(days, INVENTORY, NOW)
    assert len(filter_events(frame)) == 4
    assert set(filter_events(frame, branch_ids=[B1])["ID evento"]) == {"e1", "e2", "e3"}
    assert set(filter_events(frame, pos_ids=[P12, P21])["ID evento"]) == {"e3", "e4"}
    assert set(filter_events(frame, motives=[2])["ID evento"]) == {"e2", "e4"}
    assert set(filter_events(frame, branch_ids=[B1], motives=[2])["ID evento"]) == {"e2"}
    assert filter_events(frame, branch_ids=[B2], pos_ids=[P11]).empty


# ---- summary -------------------------------------------------------------------------------


def test_summary_per_branch_and_motive_with_totals(days):
    summary = summary_frame(events_frame(days, INVENTORY, NOW))
    assert list(summary.columns) == ["Sucursal", "Motivo", "Eventos", "Horas"]
    rows = [tuple(r) for r in summary.itertuples(index=False)]
    assert rows == [
        ("Casa Matriz", "Corte de internet", 1, 1.5),
        ("Casa Matriz", "Falla SIAT", 1, 2.0),
        ("Casa Matriz", "Otro", 1, 0.8),  # 45 min, one decimal
        ("Casa Matriz", BRANCH_TOTAL, 3, 4.2),  # summed before rounding: 4.25 -> 4.2
        ("Sucursal Sucre", "Falla del SIAT (API)", 1, 1.0),
        ("Sucursal Sucre", BRANCH_TOTAL, 1, 1.0),
        (GRAND_TOTAL, "", 4, 5.2),
    ]


# ---- CSV -----------------------------------------------------------------------------------


def test_csv_has_bom_shown_columns_and_la_paz_times(days):
    frame = events_frame(days, INVENTORY, NOW)
    data = to_csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), sep=";", decimal=",", dtype=str, keep_default_na=False)
    assert list(back.columns) == SHOWN_COLUMNS
    assert "branch_id" not in text and P11 not in text
    row = back.set_index("ID evento").loc["e1"]
    assert row["Inicio"] == "2026-11-20 08:00:00" and row["Fin"] == "2026-11-20 09:30:00"
    assert row["Duración (h)"] == "1,5"
    assert back.set_index("ID evento").loc["e2", "Fin"] == ""  # still active
    assert "Corte de energía" in text  # accents survive
    assert len(back) == 4


def test_csv_converts_other_zones_to_la_paz():
    frame = events_frame([day_of(P11, B1, event("x", P11, at(12), at(13)))], INVENTORY, NOW)
    frame["Inicio"] = frame["Inicio"].dt.tz_convert("UTC")  # 16:00 UTC
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert "2026-11-20 12:00:00" in text and "16:00:00" not in text


# ---- date range ----------------------------------------------------------------------------


def refusal(start: date, end: date, today: date) -> str:
    """``range_problem``'s sentence for a range it must refuse."""
    problem = range_problem(start, end, today)
    assert problem is not None
    return problem


def test_range_rules():
    today = date(2026, 11, 20)
    assert default_range(today) == (date(2026, 11, 14), today)
    assert range_problem(*default_range(today), today) is None
    assert "anterior" in refusal(today, today - timedelta(days=1), today)
    assert "futuros" in refusal(today, today + timedelta(days=1), today)
    assert range_problem(today - timedelta(days=61), today, today) is None  # 62 days
    assert "63 días" in refusal(today - timedelta(days=62), today, today)


# ---- timeline ------------------------------------------------------------------------------


def bars(fig):
    return [t for t in fig.data if t.type == "bar"]


def test_timeline_one_bar_per_event_coloured_by_motive(days):
    frame = events_frame(days, INVENTORY, NOW)
    fig = timeline_figure(frame, NOW, DAY, DAY, lanes=lanes(INVENTORY))
    traces = bars(fig)
    assert sum(len(t.y) for t in traces) == len(frame) == 4
    by_name = {t.name: t for t in traces}
    # One legend entry per motive code, named with the API's text where it sent one.
    assert set(by_name) == {"Corte de internet", "Falla del SIAT (API)", "Otro"}
    # Fixed colour per motive code, whatever the data.
    assert by_name["Corte de internet"].marker.color == MOTIVE_COLORS[1]
    assert by_name["Otro"].marker.color == MOTIVE_COLORS[4]
    siat = next(t for t in traces if t.marker.color == MOTIVE_COLORS[2])
    assert len(siat.y) == 2  # e2 and e4 share motive 2, one trace, one colour
    only_corte = timeline_figure(filter_events(frame, motives=[1]), NOW, DAY, DAY)
    assert [t.marker.color for t in bars(only_corte)] == [MOTIVE_COLORS[1]]


def test_timeline_lanes_grouped_by_branch_including_empty_ones(days):
    frame = events_frame(days, INVENTORY, NOW)
    fig = timeline_figure(frame, NOW, DAY, DAY, lanes=lanes(INVENTORY))
    expected = ["Casa Matriz · Caja 1", "Casa Matriz · Caja 2", "Sucursal Sucre · Caja 1", "Sucursal Sucre · Caja 2"]
    assert list(fig.layout.yaxis.categoryarray) == expected
    assert fig.layout.yaxis.autorange == "reversed"  # first lane on top
    lane_points = next(t for t in fig.data if t.type == "scatter" and t.name == "carriles")
    assert list(lane_points.y) == expected  # the empty lane (Sucre · Caja 2) is drawn too
    assert fig.layout.height == figure_height(4)
    assert figure_height(40) > figure_height(4)
    # Without lanes: only POS with events, by branch then POS.
    bare = timeline_figure(frame, NOW, DAY, DAY)
    assert list(bare.layout.yaxis.categoryarray) == expected[:3]


def test_timeline_active_bar_ends_at_now_and_is_marked(days):
    frame = events_frame(days, INVENTORY, NOW)
    fig = timeline_figure(frame, NOW, DAY, DAY, lanes=lanes(INVENTORY))
    siat = next(t for t in bars(fig) if t.marker.color == MOTIVE_COLORS[2])
    index = list(siat.y).index("Casa Matriz · Caja 1")  # e2, active since 13:00
    start = pd.Timestamp(siat.base[index])
    assert start == pd.Timestamp("2026-11-20 13:00:00")
    assert start + pd.Timedelta(milliseconds=siat.x[index]) == pd.Timestamp("2026-11-20 15:00:00")  # now
    assert siat.marker.pattern.shape[index] == OPEN_PATTERN
    assert siat.marker.pattern.shape[1 - index] == ""
    assert siat.customdata[index][5] == "en curso"
    ended = next(t for t in bars(fig) if t.name == "Corte de internet")
    assert pd.Timestamp(ended.base[0]) + pd.Timedelta(milliseconds=ended.x[0]) == pd.Timestamp("2026-11-20 09:30:00")
    marker = next(t for t in fig.data if t.name == OPEN_MARKER_NAME)
    assert list(marker.y) == ["Casa Matriz · Caja 1"] and list(marker.x) == ["2026-11-20 15:00:00"]


def test_timeline_x_axis_is_the_chosen_range_in_la_paz(days):
    frame = events_frame(days, INVENTORY, NOW)
    fig = timeline_figure(frame, NOW, date(2026, 11, 18), DAY)
    assert list(fig.layout.xaxis.range) == ["2026-11-18 00:00:00", "2026-11-21 00:00:00"]
    assert fig.layout.xaxis.title.text == "Hora de La Paz"
    hover = bars(fig)[0].hovertemplate
    assert "Motivo" in hover and "Inicio" in hover and "Duración" in hover


def test_timeline_without_events_still_draws_the_lanes():
    frame = events_frame([day_of(P11, B1)], INVENTORY, NOW)
    fig = timeline_figure(frame, NOW, DAY, DAY, lanes=lanes(INVENTORY, [P11, P21]))
    assert bars(fig) == []
    assert list(fig.layout.yaxis.categoryarray) == ["Casa Matriz · Caja 1", "Sucursal Sucre · Caja 1"]


HOSTILE = '<a href="http://x">y</a><img src=x onerror=alert(1)><b>'


def test_timeline_shows_names_and_motives_from_outside_as_text_never_as_html():
    inventory = Inventory(branches=(Branch(B1, HOSTILE, (PointOfSale(P11, "<br>Caja & <i>1</i>", B1),)),))
    days = [day_of(P11, B1, event("e1", P11, at(8), at(9), motive=2, text=HOSTILE, api_motive=HOSTILE))]
    frame = events_frame(days, inventory, NOW)
    daily = json.dumps(daily_events_chart(frame, DAY, DAY))
    assert HOSTILE not in daily and "<a" not in daily and "Falla SIAT" in daily  # our labels, never cucu's text
    for fig in (timeline_figure(frame, NOW, DAY, DAY, lanes=lanes(inventory)),):
        text = json.dumps(json.loads(fig.to_json()))  # plotly writes "/" (and may write "<") escaped
        # json.dumps writes "<" as is: any tag from the names would be in the text. Ours are only <b> and <br>
        # in the hover templates, around placeholders.
        for tag in ("<a", "<img", "<i>", "<br>Caja"):
            assert tag not in text
        assert text.count("<b>") == text.count("<b>%{customdata[0]}")
        assert '&lt;a href=\\"http://x\\"&gt;y&lt;/a&gt;' in text  # inert, shown as typed
    timeline = timeline_figure(frame, NOW, DAY, DAY, lanes=lanes(inventory))
    (bar,) = bars(timeline)
    assert bar.name == '&lt;a href="http://x"&gt;y&lt;/a&gt;&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;'
    assert list(timeline.layout.yaxis.categoryarray) == [f"{bar.name} · &lt;br&gt;Caja &amp; &lt;i&gt;1&lt;/i&gt;"]
    assert list(bar.y) == list(timeline.layout.yaxis.categoryarray)  # the bar sits on its (escaped) lane


# ---- events that cross the range's edges ------------------------------------------------------

PREVIOUS = DAY - timedelta(days=1)
RANGE = (at(0), at(0, day=DAY + timedelta(days=1)))  # DAY, La Paz midnight to midnight
LATER = datetime(2026, 11, 22, 15, 0, tzinfo=LA_PAZ)  # two days after DAY: an open event runs past it


@pytest.fixture
def crossing():
    """Casa Matriz · Caja 1 open since the evening before DAY; Caja 2 from DAY 22:00 to the next day 02:00;
    Sucre · Caja 1 an event over before DAY; Sucre · Caja 2 one inside DAY."""
    return [
        day_of(P11, B1, event("open", P11, at(21, 10, PREVIOUS), None, motive=2), day=PREVIOUS),
        day_of(P12, B1, event("late", P12, at(22), at(2, day=DAY + timedelta(days=1)))),
        day_of(P21, B2, event("gone", P21, at(8, day=PREVIOUS), at(9, day=PREVIOUS)), day=PREVIOUS),
        day_of(P22, B2, event("inside", P22, at(10), at(11, 30))),
    ]


def test_an_event_that_began_before_the_range_is_kept_and_counted_within_it(crossing):
    frame = events_frame(crossing, INVENTORY, LATER, RANGE).set_index("ID evento")
    assert sorted(frame.index) == ["inside", "late", "open"]  # "gone" ended before the range
    # Open since the day before and still open: all of DAY in the range, 2 d 17 h 50 min in all.
    assert frame.loc["open", "En el período (h)"] == pytest.approx(24.0)
    assert frame.loc["open", "Duración (h)"] == pytest.approx(2 * 24 + 17 + 50 / 60)
    assert frame.loc["open", "from_before"] and frame.loc["open", "runs_after"]
    assert frame.loc["late", "En el período (h)"] == pytest.approx(2.0)  # 22:00 to midnight of 4 h
    assert not frame.loc["late", "from_before"] and frame.loc["late", "runs_after"]
    assert frame.loc["inside", "En el período (h)"] == frame.loc["inside", "Duración (h)"] == pytest.approx(1.5)
    assert not frame.loc["inside", "from_before"] and not frame.loc["inside", "runs_after"]
    summary = summary_frame(frame.reset_index())
    assert summary.iloc[-1]["Horas"] == pytest.approx(27.5)  # the range's hours, not the events' 73,3
    # Without a range (callers that want whole events) nothing is left out and nothing cut.
    whole = events_frame(crossing, INVENTORY, LATER).set_index("ID evento")
    assert len(whole) == 4 and (whole["En el período (h)"] == whole["Duración (h)"]).all()


def test_an_event_that_starts_after_the_range_is_left_out(crossing):
    after = [day_of(P11, B1, event("next", P11, at(1, day=DAY + timedelta(days=1))), day=DAY + timedelta(days=1))]
    assert events_frame(crossing + after, INVENTORY, LATER, RANGE)["ID evento"].tolist().count("next") == 0


def test_timeline_cuts_bars_at_the_range_and_marks_where_they_continue(crossing):
    frame = events_frame(crossing, INVENTORY, LATER, RANGE)
    fig = timeline_figure(frame, LATER, DAY, DAY, lanes=lanes(INVENTORY))
    siat = next(t for t in bars(fig) if t.marker.color == MOTIVE_COLORS[2])
    index = list(siat.y).index("Casa Matriz · Caja 1")
    start = pd.Timestamp(siat.base[index])
    assert start == pd.Timestamp("2026-11-20 00:00:00")  # drawn from the range's start, not the day before
    assert start + pd.Timedelta(milliseconds=siat.x[index]) == pd.Timestamp("2026-11-21 00:00:00")
    assert siat.customdata[index][4] == "19/11/2026 21:10"  # the hover keeps the real start
    marks = [t for t in fig.data if t.name == CONTINUES_MARKER_NAME]
    left = next(t for t in marks if t.marker.symbol == "triangle-left")
    right = next(t for t in marks if t.marker.symbol == "triangle-right")
    assert list(left.y) == ["Casa Matriz · Caja 1"] and list(left.x) == ["2026-11-20 00:00:00"]
    assert list(left.text) == ["Empezó el 19/11 21:10, antes del período"]
    assert dict(zip(right.y, right.text, strict=True)) == {
        "Casa Matriz · Caja 1": "Sigue abierto",
        "Casa Matriz · Caja 2": "Terminó el 21/11 02:00, después del período",
    }
    assert set(right.x) == {"2026-11-21 00:00:00"}
    assert [t.showlegend for t in marks].count(True) == 1  # one legend entry for both edges
    # "now" is after the range: no ▶ at now (it would sit off the axis), the edge mark says it is open.
    assert not [t for t in fig.data if t.name == OPEN_MARKER_NAME]


def test_daily_chart_counts_an_event_on_every_day_it_was_open_also_when_it_began_before(crossing):
    later = LATER - timedelta(days=1)  # DAY + 1 at 15:00: "open" is still open, the range is DAY and the next day
    frame = events_frame(crossing, INVENTORY, later, (RANGE[0], RANGE[1] + timedelta(days=1)))
    spec = daily_events_chart(frame, DAY, DAY + timedelta(days=1), later)
    per_day = {(r["Día"], r["Motivo"]): r["Eventos"] for r in spec["data"]["values"]}
    # "open" (Falla SIAT, since the day before) on both days; "late" (Corte, 22:00 to 02:00) on both; "inside" on DAY.
    assert per_day == {
        ("20/11", "Corte de internet"): 2,
        ("21/11", "Corte de internet"): 1,
        ("20/11", "Falla SIAT"): 1,
        ("21/11", "Falla SIAT"): 1,
    }
    assert spec["encoding"]["y"]["title"] == "Eventos en curso"


def test_grids_show_hours_as_durations_that_sort_by_value(crossing):
    frame = events_frame(crossing, INVENTORY, LATER, RANGE)
    shown = as_durations(frame, HOUR_COLUMNS).set_index("ID evento")
    assert shown.loc["open", "Duración (h)"] == pd.Timedelta(days=2, hours=17, minutes=50)
    assert shown.loc["late", "En el período (h)"] == pd.Timedelta(hours=2)
    by_length = shown.sort_values("Duración (h)", ascending=False).index.tolist()
    assert by_length == ["open", "late", "inside"]  # 2 d 17 h before 4 h before 1 h 30 min: by value, not as text
    assert frame["Duración (h)"].dtype == "float64"  # the frame (CSV, sums) keeps hours as numbers


def test_the_total_time_reads_in_hours_at_any_size():
    assert total_hours_text(37_637.2) == "37 637 h 12 min"  # a chain's week, not "1568 d 5 h"
    assert total_hours_text(139.3) == "139 h 18 min"
    assert total_hours_text(0.75) == "45 min"
