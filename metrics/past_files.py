"""Reading past member counts from a CSV or .xlsx file into rows for ``metrics.past``.

The header row names the columns (in any order, Russian or English): the community («Сообщество»,
«Ссылка», «id»), the date («Дата») or month («Месяц»), the count («Участников»).
"""

from __future__ import annotations

import csv
import io
import warnings
from itertools import islice
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from metrics.past import MAX_ROWS, PastMembersRow
from portal.errors import ValidationFailed
from portal.lib.xlsx import xlsx_check

HEADER_WORDS = {
    "community": {"сообщество", "ссылка", "ссылка на сообщество", "id", "id сообщества",
                  "community", "url", "адрес сообщества"},
    "date": {"дата", "месяц", "date", "month", "дата или месяц"},
    "members": {"участников", "количество участников", "участники", "members", "подписчиков"},
}
TEMPLATE_HEADER = ["Сообщество", "Дата", "Участников"]


def table_cells(*, name: str, data: bytes) -> tuple[str, list[list[Any]]]:
    """The sheet's title ("" for CSV) and its rows of cells, from a .xlsx or .csv file."""
    if (name or "").lower().endswith(".xlsx"):
        return _sheet_title(data), _xlsx_cells(data)
    if (name or "").lower().endswith(".csv"):
        return "", _csv_cells(data)
    raise ValidationFailed("Нужен файл .xlsx или .csv.")


def past_members_file_rows(*, name: str, data: bytes) -> list[PastMembersRow]:
    """Rows of a .csv or .xlsx file; ValidationFailed when the file or its header is unusable."""
    sheet, cells = table_cells(name=name, data=data)
    return _rows(cells, sheet_of=sheet)


def _csv_cells(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(islice(csv.reader(io.StringIO(text), dialect), MAX_ROWS + 2))


def _load(data: bytes) -> Any:
    xlsx_check(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged parts
        raise ValidationFailed(f"Файл .xlsx повреждён или не читается: {exc}") from exc


def _sheet_title(data: bytes) -> str:
    book = _load(data)
    try:
        return book.worksheets[0].title
    finally:
        book.close()


def _xlsx_cells(data: bytes) -> list[list[Any]]:
    book = _load(data)
    try:
        sheet = book.worksheets[0]
        if (sheet.max_row or 0) > MAX_ROWS + 1:
            raise ValidationFailed(f"В листе больше {MAX_ROWS} строк; разделите файл.")
        return [list(r) for r in sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=20,
                                                 values_only=True)]
    finally:
        book.close()


def _header(cells: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        word = " ".join(str(cell or "").split()).casefold().rstrip(":")
        for name, words in HEADER_WORDS.items():
            if word in words and name not in found:
                found[name] = index
    return found


def _rows(cells: list[list[Any]], *, sheet_of: str) -> list[PastMembersRow]:
    if not cells:
        raise ValidationFailed("Файл пуст.")
    header = _header(cells[0])
    missing = [TEMPLATE_HEADER[i] for i, name in enumerate(HEADER_WORDS) if name not in header]
    if missing:
        raise ValidationFailed("В первой строке нет колонок: " + ", ".join(
            f"«{m}»" for m in missing) + ". Нужны колонки «Сообщество» (ссылка или id), "
            "«Дата» (или «Месяц») и «Участников».")
    letters = {name: get_column_letter(index + 1) for name, index in header.items()}
    rows = []
    for number, values in enumerate(cells[1:], start=2):
        if all(v is None or not str(v).strip() for v in values):
            continue
        cell = {name: values[index] if index < len(values) else None
                for name, index in header.items()}
        rows.append(PastMembersRow(number=number, community=cell["community"],
                                   date=cell["date"], members=cell["members"],
                                   sheet=sheet_of, columns=letters))
    return rows
