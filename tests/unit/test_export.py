"""CSV exports: Excel on a Spanish Windows, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import sys
import tomllib
import unicodedata
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cucu.views.export import as_text, excel_csv, excel_csv_file, rows_left_note

HOSTILE = ['=HYPERLINK("http://x","clic")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "Corte de internet"]


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_text_that_starts_like_a_formula_is_written_as_text():
    frame = pd.DataFrame({"Descripción": HOSTILE, "Horas": [-1.5, 2.0, 0.0, 1.0, 3.0, 4.0, 5.0]})
    out = rows(excel_csv(frame))
    assert out[0] == ["Descripción", "Horas"]
    described = [r[0] for r in out[1:]]
    assert described[:6] == ["'" + h for h in HOSTILE[:6]] and described[6] == "Corte de internet"
    assert out[1][1] == "-1,5"  # a negative number stays a number


def test_string_dtype_columns_and_missing_values_too():
    frame = pd.DataFrame({"Sucursal": pd.array(["=1+1", None, "Sucre"], dtype="string")})
    assert [r[0] for r in rows(excel_csv(frame))[1:]] == ["'=1+1", "", "Sucre"]


def test_no_workbook_cell_is_a_formula_whatever_the_columns_dtype():
    """The dossier's, the report's and Alertas' workbooks: openpyxl writes a string starting with "=" as a formula.
    Seen with pandas 3, whose text columns are "str", not object: the notes went out as formulas."""
    from openpyxl import load_workbook

    from cucu.views.export import workbook

    frame = pd.DataFrame({"Nota": HOSTILE, "Sucursal": pd.array(["=1+1", None, "a", "b", "c", "d", "e"], dtype="string")})
    sheet = load_workbook(io.BytesIO(workbook([("Notas", frame)])))["Notas"]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None]
    assert cells and not [c.value for c in cells if c.data_type == "f"]
    assert sheet["A2"].value == "'" + HOSTILE[0] and sheet["B2"].value == "'=1+1"


def test_a_file_written_chunk_by_chunk_is_the_csv_of_all_its_rows():
    times = pd.Series(pd.to_datetime(["2026-11-24 12:00:00", None, "2026-11-24 13:30:00"], utc=True))
    whole = pd.DataFrame({"Fecha": times, "Descripción": [HOSTILE[0], None, "Sucre"], "Horas": [1.5, -2.0, 0.0]})
    chunks = [whole.iloc[:1], whole.iloc[1:2], whole.iloc[2:]]
    written = excel_csv_file(iter(chunks), time_columns=("Fecha",)).getvalue()
    assert written == excel_csv(whole, time_columns=("Fecha",))
    assert rows(written)[1] == ["2026-11-24 08:00:00", "'" + HOSTILE[0], "1,5"]  # La Paz time; the formula as text
    assert excel_csv_file(iter(())).getvalue() == "\ufeff".encode()


# Seen passing the guard (issue 22): full-width signs, a formula behind a space or a newline; and their kin.
HIDDEN = [
    '＝HYPERLINK("http://x")',
    "＋1+1",
    "－2+3",
    "＠SUM(A1)",
    " =1+1",
    "\n=1+1",
    "\r\n+1",
    "\x0b-1",
    "\u00a0=1",  # no-break space
    "\u3000＝1",  # ideographic space, then a full-width sign
    "\u200b=1",  # zero-width space (a format character, not whitespace)
    "\ufeff@A1",  # a BOM
    "﹦1",  # small equals sign
    "⁺1",  # superscript plus
    "=\u0338 1",  # "=" and a combining overlay: NFKC composes "≠", a spreadsheet still sees "="
]


def test_formulas_hidden_behind_width_or_whitespace_are_written_as_text():
    out = rows(excel_csv(pd.DataFrame({"Descripción": HIDDEN})))
    assert [r[0] for r in out[1:]] == ["'" + h for h in HIDDEN]


def test_ordinary_text_is_left_as_it_is():
    plain = ["Corte de internet", "Caja 1", " Sucre", "¿=?", "≠1", "Ñandú", "", "1-2", "'=1"]
    assert [r[0] if r else "" for r in rows(excel_csv(pd.DataFrame({"Texto": plain})))[1:]] == plain


def _significant(text: str) -> str:
    """What a spreadsheet looks at first: leading whitespace and control/format characters skipped."""
    return text.lstrip("".join(c for c in text if c.isspace() or unicodedata.category(c).startswith("C")))


SIGNS = "=+-@"
# Every character whose NFKC form starts with a formula sign (＝, ﹢, ⁺, ...), found by looking, not listed.
SIGN_LIKE = [c for c in map(chr, range(sys.maxunicode + 1)) if unicodedata.normalize("NFKC", c)[:1] in SIGNS]
BLANKS = [c for c in map(chr, range(0x3100)) if c.isspace() or unicodedata.category(c) in ("Cc", "Cf")] + ["\ufeff"]


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(),
        st.tuples(st.lists(st.sampled_from(BLANKS), max_size=4), st.sampled_from(SIGN_LIKE), st.text(max_size=8)).map(
            lambda parts: "".join(parts[0]) + parts[1] + parts[2]
        ),
    )
)
def test_no_exported_cell_can_be_read_as_a_formula(text):
    """Any text whose NFKC form, past leading whitespace and control characters, starts with = + - @
    (or which starts with a tab or CR, as OWASP lists) is exported behind an apostrophe, otherwise intact."""
    risky = text.startswith(("\t", "\r")) or _significant(unicodedata.normalize("NFKC", text))[:1] in tuple(SIGNS)
    data_row = excel_csv(pd.DataFrame({"Texto": [text]}, dtype=object)).decode("utf-8-sig").split("\r\n", 1)[1]
    if risky:
        assert data_row.startswith(("'", "\"'"))  # the cell's first character, quoted or not
        assert as_text(text) == "'" + text
    else:
        assert as_text(text) in (text, "'" + text)


def test_the_grids_own_csv_download_is_turned_off():
    """Streamlit's grid toolbar offers "Download as CSV", which skips the guard: only the pages' CSVs exist."""
    from streamlit import config

    assert "client.disableDataExport" in config.get_config_options()  # the option's name in this Streamlit
    client = tomllib.loads((Path(__file__).parents[2] / ".streamlit" / "config.toml").read_text())["client"]
    assert client["disableDataExport"] is True


def test_the_rows_a_pdf_leaves_out_are_counted_in_spanish():
    assert rows_left_note(1, "informe.xlsx") == "Y 1 fila más: está en informe.xlsx."
    assert rows_left_note(8_500, "informe.xlsx") == "Y 8 500 filas más: están en informe.xlsx."
