"""Reading filled-in Table-1 forms back (the layout of ``reports.exports.table1``).

The file is checked as a whole before anything is stored: every problem is collected with the
file, sheet, row and column where it is, in Russian. Hostile files are refused before openpyxl
sees them, by the one archive check every import uses (``portal.lib.xlsx``), here with the
smaller sheets a form has (TABLE1_MAX_*): a form is loaded whole, an object per cell.
"""

import datetime as dt
import io
import re
from dataclasses import dataclass, field

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from metrics.choices import TABLE1_INDICATORS
from portal.lib.months import MONTH_ABBR_RU
from portal.lib.xlsx import XlsxLimits, XlsxRefused, xlsx_check
from reports.exports import table1 as layout
from reports.workflow.validation import FigureError, parse_figure

MAX_SHEETS = 200


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with an uploaded file; ``text`` says where and what, in Russian."""

    file: str
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""

    @property
    def text(self) -> str:
        where = [f"файл «{self.file}»"]
        if self.sheet:
            where.append(f"лист «{self.sheet}»")
        if self.row:
            where.append(f"строка {self.row}")
        if self.column:
            where.append(f"столбец {self.column}")
        return ", ".join(where) + f": {self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "sheet": self.sheet, "row": self.row, "column": self.column,
                "message": self.message, "text": self.text}


@dataclass
class ParsedSheet:
    """One community's year as typed: ``cells[(month, indicator)]`` for non-empty cells."""

    file: str
    sheet: str
    community_id: int
    year: int
    cells: dict[tuple[dt.date, str], int] = field(default_factory=dict)

    def where(self, month: dt.date, indicator: str) -> tuple[int, str]:
        """Excel row (1-based) and column letter of a figure."""
        row = layout.FIRST_INDICATOR_ROW + TABLE1_INDICATORS.index(indicator) + 1
        return row, get_column_letter(layout.FIRST_MONTH_COL + month.month)


class ImportRejected(Exception):
    """The upload is refused as a whole; ``problems`` lists everything found."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__("; ".join(p.text for p in problems))
        self.problems = problems


def _norm(value: object) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip().lower()


def table1_limits() -> XlsxLimits:
    return XlsxLimits.from_settings(max_rows=settings.TABLE1_MAX_ROWS,
                                    max_columns=settings.TABLE1_MAX_COLUMNS,
                                    max_cells=settings.TABLE1_MAX_CELLS)


def check_container(*, name: str, data: bytes) -> list[ImportProblem]:
    """Refuse what is not a form-sized ``.xlsx`` within the limits, before any XML is parsed."""
    if len(data) > settings.UPLOAD_MAX_BYTES:
        limit = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        return [ImportProblem(name, f"файл больше допустимых {limit} МБ.")]
    try:
        contents = xlsx_check(data, limits=table1_limits())
    except XlsxRefused as exc:
        return [ImportProblem(name, exc.message[:1].lower() + exc.message[1:])]
    if len(contents.sheets) > MAX_SHEETS:
        return [ImportProblem(name, f"слишком много листов (больше {MAX_SHEETS}).")]
    return []


def table1_parse(*, name: str, data: bytes) -> list[ParsedSheet]:
    """Parse one uploaded form; raise ImportRejected listing every problem found."""
    problems = check_container(name=name, data=data)
    if problems:
        raise ImportRejected(problems)
    try:
        book = load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises many types on malformed XML
        raise ImportRejected([ImportProblem(
            name, f"файл повреждён и не читается ({exc.__class__.__name__})."
        )]) from exc
    parsed, problems = [], []
    for ws in book.worksheets:
        if ws.max_row <= 1 and ws.max_column <= 1 and ws.cell(1, 1).value is None:
            continue  # an empty extra sheet is harmless
        sheet_problems, sheet = _parse_sheet(name, ws)
        problems += sheet_problems
        if sheet is not None:
            parsed.append(sheet)
    if not parsed and not problems:
        problems.append(ImportProblem(name, "в файле нет ни одного листа с Таблицей 1."))
    if problems:
        raise ImportRejected(problems)
    return parsed


def _cell(ws, row0: int, col0: int):
    return ws.cell(row=row0 + 1, column=col0 + 1)


def _problem(name: str, ws, row0: int, col0: int, message: str) -> ImportProblem:
    return ImportProblem(name, message, ws.title, row0 + 1, get_column_letter(col0 + 1))


def _parse_sheet(name: str, ws) -> tuple[list[ImportProblem], ParsedSheet | None]:
    problems, broken = _formulas(name, ws), _layout(name, ws)
    if broken:
        return problems + broken, None
    formula_cells = {(p.row, p.column) for p in problems}
    year = int(re.search(r"\d{4}", str(_cell(ws, layout.ROW_YEAR, 1).value)).group())
    code = _cell(ws, layout.ROW_CODE, layout.FIRST_MONTH_COL).value
    try:
        community_id = int(parse_figure(code) or 0)
    except FigureError:
        community_id = 0
    if community_id <= 0:
        return [_problem(name, ws, layout.ROW_CODE, layout.FIRST_MONTH_COL,
                         "нет кода сообщества — скачайте форму с портала заново.")], None
    sheet = ParsedSheet(name, ws.title, community_id, year)
    for r, indicator in enumerate(TABLE1_INDICATORS):
        for m in range(12):
            row0, col0 = layout.FIRST_INDICATOR_ROW + r, layout.FIRST_MONTH_COL + m
            if (row0 + 1, get_column_letter(col0 + 1)) in formula_cells:
                continue
            try:
                figure = parse_figure(_cell(ws, row0, col0).value)
            except FigureError as exc:
                problems.append(_problem(name, ws, row0, col0, f"{exc}: нужно целое "
                                                                f"неотрицательное число."))
                continue
            if figure is not None:
                sheet.cells[(dt.date(year, m + 1, 1), indicator)] = figure
    return problems, sheet


def _formulas(name: str, ws) -> list[ImportProblem]:
    found = []
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value
            if cell.data_type == "f" or isinstance(value, ArrayFormula | DataTableFormula):
                found.append(ImportProblem(
                    name, "формулы не принимаются — вставьте значения (Специальная вставка → "
                          "Значения).", ws.title, cell.row, cell.column_letter))
    return found


def _layout(name: str, ws) -> list[ImportProblem]:
    """The fixed texts of the form, each where the downloaded form has it."""
    expected = [(layout.ROW_TITLE, 0, layout.TITLE), (layout.ROW_YEAR, 0, layout.NAME_HEADER)]
    expected += [(layout.ROW_MONTHS, layout.FIRST_MONTH_COL + i, label)
                 for i, label in enumerate(MONTH_ABBR_RU)]
    expected += [(layout.FIRST_INDICATOR_ROW + i, 0, ind.label)
                 for i, ind in enumerate(TABLE1_INDICATORS)]
    problems = []
    for row0, col0, text in expected:
        if _norm(_cell(ws, row0, col0).value) != _norm(text):
            problems.append(_problem(name, ws, row0, col0,
                                     f"неверный макет формы: здесь должно быть «{text}»."))
    year_text = str(_cell(ws, layout.ROW_YEAR, 1).value or "")
    match = re.fullmatch(r"\s*(\d{4})\s*г?\.?\s*", year_text)
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        problems.append(_problem(
            name, ws, layout.ROW_YEAR, 1,
            "неверный макет формы: здесь должен быть год, например «2026 г.».",
        ))
    if problems:
        problems = problems[:10]  # a foreign workbook: the first few are enough to explain
    return problems
