"""The words and colours a supervisor reads: real Spanish plurals, counts with their thousands apart,
one meaning per colour, and what a confirmation says an action touches (issue 23)."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pandas as pd
import pytest

from cucu.formatting import plural
from cucu.views.confirmation import Reach
from cucu.vocabulary import ActionKind, CheckState, CufdHealth, Outcome, PolicyState, PosState, SiatStatus, Tone

ROOT = Path(__file__).resolve().parents[2]
# "evento(s)", "abierto(s)", "sucursal(es)", "acción(es)": a bracketed plural a person would read.
BRACKETED_PLURAL = re.compile(r"\w\((?:s|es)\)")


def test_plural_has_real_forms_and_thousands_apart():
    assert plural(1, "evento abierto", "eventos abiertos") == "1 evento abierto"
    assert plural(0, "evento abierto", "eventos abiertos") == "0 eventos abiertos"
    assert plural(2_500, "evento abierto", "eventos abiertos") == "2 500 eventos abiertos"
    assert plural(10_000, "sucursal", "sucursales") == "10 000 sucursales"


def test_outcomes_are_counted_in_spanish():
    assert Outcome.SKIPPED.counted(1) == "1 omitido" and Outcome.SKIPPED.counted(4) == "4 omitidos"
    assert Outcome.ERROR.counted(2_500) == "2 500 con error"
    assert all(o.counted(1) and o.counted(2) for o in Outcome)


def test_what_an_action_did_is_counted_agreeing_with_how_many_it_was_asked_for():
    assert ActionKind.START.done_of(1, 1) == "1 de 1 iniciado"
    assert ActionKind.START.done_of(0, 1) == "0 de 1 iniciado"
    assert ActionKind.END.done_of(3, 4) == "3 de 4 finalizados"
    assert ActionKind.RENEW_CUFD.done_of(1_500, 2_000) == "1 500 de 2 000 renovados"
    assert ActionKind.ACKNOWLEDGE.done_of(1, 1) == "1 de 1 atendida"


def string_texts(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module (f-strings included), with its line; comments left out."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if token.type == tokenize.STRING or token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            found.append((token.start[0], token.string))
    return found


def test_no_bracketed_plural_in_any_text():
    """Not "1 evento(s) abierto(s)": every count goes through ``plural`` (messages, captions, alerts and logs)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text.strip()[:80]}"
        for folder in ("cucu", "pages", "ui")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, text in string_texts(path)
        if BRACKETED_PLURAL.search(text)
    ]
    offenders += [f"app.py:{line}" for line, text in string_texts(ROOT / "app.py") if BRACKETED_PLURAL.search(text)]
    assert offenders == []


# ---- one meaning per colour -------------------------------------------------------------------


def test_tone_mapping_is_one_table():
    assert [t.color for t in Tone] == ["green", "orange", "red", "gray", "gray"]
    assert [t.icon for t in Tone] == ["🟢", "🟠", "🔴", "⚪", ""]
    assert {t for t in Tone if t.asks_action} == {Tone.MANAGED, Tone.PROBLEM}
    assert Tone.PROBLEM.if_any(0) is Tone.NONE and Tone.PROBLEM.if_any(3) is Tone.PROBLEM
    assert len({t.chart_color for t in Tone}) == len(Tone)


def test_contingency_is_amber_and_what_stops_invoicing_is_red():
    assert PosState.CONTINGENCY.tone is Tone.MANAGED and PosState.CONTINGENCY.icon == "🟠"
    assert PosState.NORMAL.tone is Tone.OK and PosState.UNKNOWN.tone is Tone.UNKNOWN
    assert (SiatStatus.DOWN.color, CheckState.SIAT_DOWN.color) == ("red", "red")
    assert CheckState.SIAT_DOWN.chart_color == Tone.PROBLEM.chart_color
    assert {h for h in CufdHealth if h.tone is Tone.PROBLEM} == {CufdHealth.EXPIRED, CufdHealth.INACTIVE, CufdHealth.MISSING}
    assert PolicyState.ACTING.color == "orange"  # it starts contingency: the managed state
    assert SiatStatus.NO_DATA.color == "gray" and CheckState.CUCU_UNREACHABLE.color == "gray"  # unknown is never green


def test_a_deadline_still_ahead_is_amber_and_one_passed_is_red_like_what_cannot_invoice():
    assert CufdHealth.EXPIRING.tone is Tone.MANAGED and CufdHealth.EXPIRED.tone is Tone.PROBLEM
    assert CufdHealth.EXPIRING.tone.color != CufdHealth.EXPIRED.tone.color
    assert CufdHealth.EXPIRING.tone.icon != CufdHealth.EXPIRED.tone.icon


def test_timeline_bars_are_never_red():
    from cucu.views.figures.timeline import MOTIVE_COLORS, NOW_COLOR

    assert Tone.PROBLEM.chart_color not in {*MOTIVE_COLORS.values(), NOW_COLOR}
    assert all(not c.upper().startswith(("#D5", "#B9", "#D9")) for c in MOTIVE_COLORS.values())


# ---- what a confirmation says it touches --------------------------------------------------------


def rows(branches: int, per_branch: int, motive: str | None = "2 · Falla SIAT") -> pd.DataFrame:
    frame = pd.DataFrame(
        [{"Sucursal": f"Sucursal {b}", "Punto de venta": f"Caja {p}"} for b in range(branches) for p in range(per_branch)]
    )
    return frame if motive is None else frame.assign(Motivo=motive)


def test_one_pos_is_named():
    reach = Reach(ActionKind.START, rows(1, 1))
    assert reach.headline == "Se iniciará un evento de contingencia en **Sucursal 0 · Caja 0**."
    assert reach.button == "Iniciar contingencia en 1 punto de venta" and not reach.needs_acknowledgement


def test_one_branch_is_counted_without_acknowledgement():
    reach = Reach(ActionKind.END, rows(1, 12))
    assert reach.headline == "Se finalizará el evento activo de **12 puntos de venta** de Sucursal 0."
    assert reach.button == "Finalizar 12 eventos" and not reach.needs_acknowledgement


def test_a_chain_is_counted_by_branch_and_motive_and_acknowledged():
    frame = rows(250, 10)
    frame.loc[frame.index % 10 == 0, "Motivo"] = "1 · Corte de internet"
    reach = Reach(ActionKind.END, frame)
    assert reach.headline == "Se finalizará el evento activo de **2 500 puntos de venta** de **250 sucursales**."
    assert reach.button == "Finalizar 2 500 eventos"
    assert reach.needs_acknowledgement and reach.acknowledgement == "Entiendo que afecta a 250 sucursales"
    table = reach.breakdown()
    assert list(table.columns) == ["Sucursal", "Puntos de venta", "Motivo"]
    assert len(table) == 500 and table["Puntos de venta"].sum() == 2_500
    assert table.iloc[0].tolist() == ["Sucursal 0", 1, "1 · Corte de internet"]
    assert table.iloc[1].tolist() == ["Sucursal 0", 9, "2 · Falla SIAT"]


@pytest.mark.parametrize("kind", [ActionKind.RENEW_CUFD])
def test_a_renewal_has_no_motive_column(kind):
    reach = Reach(kind, rows(3, 2, motive=None))
    assert list(reach.breakdown().columns) == ["Sucursal", "Puntos de venta"]
    assert reach.button == "Renovar el CUFD de 6 puntos de venta"


def test_outages_are_counted_by_state_in_real_spanish():
    """Caídas' list said "Cerrada: 129": each state counts itself, agreeing with how many."""
    from cucu.vocabulary import OutageState

    assert OutageState.CLOSED.counted(1) == "1 cerrada" and OutageState.CLOSED.counted(1290) == "1 290 cerradas"
    assert OutageState.ONGOING.counted(2) == "2 en curso" and OutageState.SETTLING.counted(1) == "1 por cerrar"
