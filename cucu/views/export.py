"""CSV downloads that open right in Excel on a Spanish (Bolivian) Windows."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Collection, Iterable

import pandas as pd

from cucu.formatting import fmt_duration, fmt_number, plural
from cucu.lapaz import la_paz_series

CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# A text cell starting with one of these is a formula to Excel and LibreOffice (CSV injection):
# a leading apostrophe makes them show it as text. Numbers are left alone (a negative is a number).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_SIGNS = ("=", "+", "-", "@")


def as_text(value: object) -> object:
    """``value`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    return f"'{value}" if isinstance(value, str) and looks_like_formula(value) else value


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula, whatever hides its first sign.

    Seen passing a plain ``startswith``: full-width ``＝＋－＠`` (NFKC makes them ASCII), and a
    formula behind a space or a newline (spreadsheets skip them). Both the text as written and its
    NFKC form are read after skipping leading whitespace, control and format characters (U+200B,
    a BOM): ``=`` followed by U+0338 composes to ``≠`` under NFKC, yet a spreadsheet still sees ``=``.
    """
    first = text[:1]
    if first.isascii() and first.isprintable() and not first.isspace():  # nearly every cell: no normalising
        return first in _FORMULA_SIGNS
    if text.startswith(FORMULA_START):
        return True
    normalised = unicodedata.normalize("NFKC", text)
    return _significant(text).startswith(_FORMULA_SIGNS) or _significant(normalised).startswith(_FORMULA_SIGNS)


def _significant(text: str) -> str:
    """``text`` from its first character that is not whitespace, a control or a format character."""
    for index, char in enumerate(text):
        if not (char.isspace() or unicodedata.category(char)[0] in "CZ"):
            return text[index:]
    return ""


def excel_csv(frame: pd.DataFrame, *, time_columns: Collection[str] = (), sep: str = ";", decimal: str = ",") -> bytes:
    """The frame's columns as they are; UTF-8 with BOM; aware times as La Paz ``YYYY-MM-DD HH:MM:SS``.

    Semicolon and decimal comma by default: on a Spanish Windows, Excel opens a comma-separated
    file in a single column. Text that a spreadsheet would run as a formula (a description typed
    in cucu, a name in the inventory) is written as text (see ``looks_like_formula``).
    """
    return BOM + _csv_text(frame, time_columns=time_columns, sep=sep, decimal=decimal, header=True).encode("utf-8")


def excel_csv_file(
    frames: Iterable[pd.DataFrame], *, time_columns: Collection[str] = (), sep: str = ";", decimal: str = ","
) -> io.BytesIO:
    """``excel_csv`` of the frames one after another (one header, the first frame's), each written as it comes.

    For a file of any length: the caller reads its rows in chunks, so only one chunk is ever a frame
    (Bitácora's log may be a million rows). An empty iterable gives an empty file.
    """
    out = io.BytesIO()
    out.write(BOM)
    header = True
    for frame in frames:
        out.write(_csv_text(frame, time_columns=time_columns, sep=sep, decimal=decimal, header=header).encode("utf-8"))
        header = False
    out.seek(0)
    return out


BOM = "\ufeff".encode()  # Excel reads the file as UTF-8 only with it


def _csv_text(frame: pd.DataFrame, *, time_columns: Collection[str], sep: str, decimal: str, header: bool) -> str:
    out = frame.copy()
    for column in out.columns:
        if column not in time_columns and (out[column].dtype == object or pd.api.types.is_string_dtype(out[column])):
            out[column] = out[column].map(as_text)
    for column in time_columns:
        times = la_paz_series(out[column])
        out[column] = times.dt.strftime(CSV_TIME_FORMAT).astype(object).where(out[column].notna(), "")
    text: str = out.to_csv(index=False, header=header, sep=sep, decimal=decimal, lineterminator="\r\n")
    return text


# ---- the outage dossier as a workbook ------------------------------------------------------------------


def xlsx_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame a workbook can hold as a person would read it: times in La Paz without their zone (Excel has none;
    the sheet's headers say "hora de La Paz"), durations as hours, and text that a spreadsheet would run as a
    formula made text (openpyxl writes a string starting with "=" as a formula)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = la_paz_series(values).dt.tz_localize(None)
        elif pd.api.types.is_timedelta64_dtype(values):
            out[column] = (values.dt.total_seconds() / 3600).round(2)
        elif values.dtype == object or pd.api.types.is_string_dtype(values):  # pandas 3: text is "str", not object
            out[column] = values.map(as_text)
    return out


def workbook(sheets: Iterable[tuple[str, pd.DataFrame]]) -> bytes:
    """An .xlsx of ``sheets`` (name, frame), each column as wide as its longest value (up to 60 characters)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets:
            ready = xlsx_ready(frame)
            ready.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for n, column in enumerate(ready.columns):
                longest = max([len(str(column)), *(len(str(v)) for v in ready[column].head(500))])
                sheet.column_dimensions[sheet.cell(row=1, column=n + 1).column_letter].width = min(60, longest + 2)
    return buffer.getvalue()


# ---- sheets as a printable PDF (the outage dossier, the monthly report) ----------------------------------

PDF_ROWS = 1_000  # rows of each table printed; the workbook holds every one
_PDF_SWAPS = str.maketrans({"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "⁦": "", "⁩": ""})


def rows_left_note(left: int, workbook_name: str) -> str:
    """Under a table cut at ``PDF_ROWS``: "Y 1 fila más: está en …", "Y 8 500 filas más: están en …"."""
    return f"Y {plural(left, 'fila más: está', 'filas más: están')} en {workbook_name}."


def pdf_text(value: object) -> str:
    """Text the PDF's built-in fonts draw (Latin-1: every Spanish letter, «», ·): dashes and quotes made plain,
    icons and any other character left out, so no cell prints a blank box; numbers with a decimal comma."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return "—".translate(_PDF_SWAPS)
    if isinstance(value, pd.Timestamp):
        return str(value.strftime("%d/%m/%Y %H:%M:%S"))
    if isinstance(value, pd.Timedelta):
        return fmt_duration(value.to_pytimedelta())
    if isinstance(value, float):  # a whole one as written (a code, a count in a column with unknowns), a part with a comma
        return str(int(value)) if value.is_integer() else fmt_number(value, 1 if round(value, 1) == value else 2)
    text = str(value).translate(_PDF_SWAPS)
    return text.encode("latin-1", "ignore").decode("latin-1").strip()


def sheets_pdf(title: str, sheets: Iterable[tuple[str, pd.DataFrame]], *, footer: str, workbook_name: str) -> bytes:
    """``sheets`` printable, in Spanish: a title, then each sheet as a table (its first ``PDF_ROWS`` rows; the
    workbook, ``workbook_name``, holds the rest); ``footer`` and the page number on every page."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-10)
            self.set_font("Helvetica", size=7)
            self.cell(0, 5, pdf_text(f"{footer} · página {self.page_no()}"), align="C")

    pdf = Pdf(orientation="landscape", format="A4")
    pdf.set_title(pdf_text(title))
    pdf.set_creator("Contingencia")
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, pdf_text(title), new_x="LMARGIN", new_y="NEXT")
    heading = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    for name, frame in sheets:
        pdf.set_font("Helvetica", "B", 11)
        pdf.ln(3)
        pdf.cell(0, 7, pdf_text(name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=7.5)
        if frame.empty:
            pdf.cell(0, 5, "Nada que mostrar.", new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(headings_style=heading, text_align="LEFT", line_height=4) as table:
            table.row([pdf_text(c) for c in frame.columns])
            for values in frame.head(PDF_ROWS).itertuples(index=False, name=None):
                table.row([pdf_text(v) for v in values])
        if len(frame) > PDF_ROWS:
            pdf.cell(0, 5, pdf_text(rows_left_note(len(frame) - PDF_ROWS, workbook_name)), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
