"""Common pieces of the tabular Excel exports: columns, a formatted sheet, CSV, safe text.

Large sheets are written with XlsxWriter in ``constant_memory`` mode: rows go to disk as they are
written, so memory stays flat whatever the row count. Every text cell is written with
``write_string`` and the workbook never turns strings into formulas, so a value such as
``=HYPERLINK(...)`` from a community title stays text (formula-injection guard). CSV has no cell
types, so there such values get a leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

# Characters with which a spreadsheet may start a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "default_date_format": "dd.mm.yyyy",
}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TEXT, INT, FLOAT, DATE = "text", "int", "float", "date"
NUMBER_FORMATS = {INT: "#,##0", DATE: "dd.mm.yyyy"}


@dataclass(frozen=True)
class Column:
    """One column: header, kind of value (text, int, float, date), width and decimals."""

    header: str
    kind: str = TEXT
    width: float = 14
    decimals: int = 2


@dataclass(frozen=True)
class Sheet:
    """A formatted table: title lines above it, then a frozen header, rows and an autofilter."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    title_lines: Sequence[str] = ()
    notes: Sequence[str] = ()
    # Total rows: bold, after the data and outside the autofilter (sorting keeps them last).
    totals: Sequence[Sequence[Any]] = ()


def guard_text(value: str) -> str:
    """CSV only: prefix a value that a spreadsheet would read as a formula with an apostrophe."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _cell_writers(ws: Worksheet, book: xlsxwriter.Workbook, columns: Sequence[Column],
                  bold: bool = False) -> list[Callable[[int, int, Any], Any]]:
    """One writer per column, chosen once, so the row loop does no type dispatch.

    A number column takes text too: the reason a figure is missing («не сдан»).
    """
    writers = []
    extra = {"bold": True} if bold else {}
    text_format = book.add_format(extra) if bold else None
    for column in columns:
        if column.kind == TEXT:
            writers.append(lambda r, c, v, _w=ws.write_string, _f=text_format:
                           _w(r, c, str(v), _f))
            continue
        if column.kind == DATE:
            fmt = book.add_format({"num_format": NUMBER_FORMATS[DATE], **extra})
            writers.append(
                lambda r, c, v, _w=ws.write_datetime, _f=fmt: _w(r, c, _as_date(v), _f))
            continue
        number = NUMBER_FORMATS[INT] if column.kind == INT else (
            "#,##0." + "0" * column.decimals if column.decimals else "#,##0")
        fmt = book.add_format({"num_format": number, **extra})
        writers.append(lambda r, c, v, _n=ws.write_number, _s=ws.write_string, _f=fmt,
                       _t=text_format: _s(r, c, v, _t) if isinstance(v, str) else _n(r, c, v, _f))
    return writers


def safe_sheet_name(book: xlsxwriter.Workbook, name: str) -> str:
    """A sheet name Excel accepts: no ``[]:*?/\\``, no edge apostrophes, 31 characters, unique.

    Sheet names come from territory and institution names, which people type.
    """
    clean = re.sub(r"[\[\]:*?/\\]", " ", name).strip().strip("'").strip() or "Лист"
    candidate, number = clean[:31].rstrip(" '"), 2
    taken = {taken.lower() for taken in book.sheetnames}
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate, number = clean[: 31 - len(suffix)] + suffix, number + 1
    return candidate


def write_sheet(book: xlsxwriter.Workbook, sheet: Sheet) -> int:
    """Write one formatted sheet; return how many data rows it holds."""
    ws = book.add_worksheet(safe_sheet_name(book, sheet.name))
    bold = book.add_format({"bold": True})
    header = book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                              "bg_color": "#EEF2F7", "border": 1})
    for index, line in enumerate(sheet.title_lines):
        ws.write_string(index, 0, line, bold if index == 0 else None)
    top = len(sheet.title_lines) + (1 if sheet.title_lines else 0)
    for col, column in enumerate(sheet.columns):
        ws.set_column(col, col, column.width)
        ws.write_string(top, col, column.header, header)
    ws.freeze_panes(top + 1, 0)
    writers = _cell_writers(ws, book, sheet.columns)
    pairs = list(enumerate(writers))
    row_index = top
    for row_index, values in enumerate(sheet.rows, start=top + 1):
        for col, writer in pairs:
            value = values[col]
            if value is not None and value != "":
                writer(row_index, col, value)
    count = row_index - top
    ws.autofilter(top, 0, max(row_index, top), len(sheet.columns) - 1)
    bold_writers = list(enumerate(_cell_writers(ws, book, sheet.columns, bold=True)))
    last = row_index
    for last, values in enumerate(sheet.totals, start=row_index + 1):
        for col, writer in bold_writers:
            if values[col] is not None and values[col] != "":
                writer(last, col, values[col])
    for offset, note in enumerate(sheet.notes, start=last + 2):
        ws.write_string(offset, 0, note)
    return count


def write_workbook(output: str | IO[bytes], sheets: Iterable[Sheet]) -> None:
    """Write the sheets into ``output`` (a path or a binary file object)."""
    book = xlsxwriter.Workbook(output, WORKBOOK_OPTIONS)
    for sheet in sheets:
        write_sheet(book, sheet)
    book.close()


def workbook_bytes(sheets: Iterable[Sheet]) -> bytes:
    """The workbook in memory: for small exports and tests."""
    with tempfile.TemporaryFile() as handle:
        write_workbook(handle, sheets)
        handle.seek(0)
        return handle.read()


def workbook_file(sheets: Iterable[Sheet]) -> IO[bytes]:
    """The workbook in a temporary file, rewound: stream it out and it disappears on close."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it after streaming
    try:
        write_workbook(handle, sheets)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


def csv_lines(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV (semicolon-separated, as Russian Excel expects) line by line, for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow([c.header for c in columns])
    yield "\ufeff" + flush()
    for values in rows:
        writer.writerow([_csv_value(v) for v in values])
        yield flush()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return guard_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()  # the same text whichever database produced the date
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")
    return value
