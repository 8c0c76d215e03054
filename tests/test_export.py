"""CSV exports: Excel on a Spanish Windows, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pandas as pd

from cucu.export import excel_csv, excel_csv_file

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


def test_a_file_written_chunk_by_chunk_is_the_csv_of_all_its_rows():
    times = pd.Series(pd.to_datetime(["2026-11-24 12:00:00", None, "2026-11-24 13:30:00"], utc=True))
    whole = pd.DataFrame({"Fecha": times, "Descripción": [HOSTILE[0], None, "Sucre"], "Horas": [1.5, -2.0, 0.0]})
    chunks = [whole.iloc[:1], whole.iloc[1:2], whole.iloc[2:]]
    written = excel_csv_file(iter(chunks), time_columns=("Fecha",)).getvalue()
    assert written == excel_csv(whole, time_columns=("Fecha",))
    assert rows(written)[1] == ["2026-11-24 08:00:00", "'" + HOSTILE[0], "1,5"]  # La Paz time; the formula as text
    assert excel_csv_file(iter(())).getvalue() == "\ufeff".encode()
