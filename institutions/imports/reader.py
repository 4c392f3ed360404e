"""Reading a registry .xlsx safely: the archive within limits first, then the header and rows.

``portal.lib.xlsx`` checks the upload before openpyxl parses it: that it is an .xlsx workbook,
and that it inflates within the XLSX_* limits (total, each member measured as it streams, the
number of members, each sheet's rows, columns and cells), so a zip bomb is refused without being
unpacked; expat (>= 2.4) limits entity expansion in the XML itself.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from institutions.choices import Network
from institutions.imports.vocabulary import COLUMN_LABELS, LINK_COLUMNS, Column, header_column
from portal.errors import ValidationFailed
from portal.lib.xlsx import xlsx_check

# How many columns of each row are read (the registry's are far fewer).
READ_COLUMNS = 100
HEADER_SEARCH_ROWS = 20
# Fillers people put into empty link cells.
LINK_FILLERS = {"-", "—", "–", "нет", "отсутствует", "n/a", "нет.", "0"}
_LINK_SPLIT = re.compile(r"[\s,;]+")


@dataclass
class SheetRow:
    """One non-empty data row of the sheet, as text, with what was wrong in its cells."""

    number: int
    values: dict[Column, str] = field(default_factory=dict)
    links: list[tuple[Network, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class RegistrySheet:
    """The rows of the registry sheet found in a workbook."""

    title: str
    columns: dict[Column, list[int]]
    rows: list[SheetRow]


def read_registry_sheet(data: bytes) -> RegistrySheet:
    """Parse registry rows out of .xlsx bytes, or raise ValidationFailed naming the problem."""
    xlsx_check(data)  # an .xlsx within the limits, or refused before it is parsed
    workbook = _load_workbook(data)
    try:
        for sheet in workbook.worksheets:
            found = _find_header(sheet)
            if found is not None:
                header_row, columns = found
                return RegistrySheet(sheet.title, columns, _read_rows(sheet, header_row, columns))
    # Read-only sheets parse their XML lazily: a damaged part (a NUL written as "&#0;") only
    # shows up while the rows are read.
    except ParseError as exc:
        raise ValidationFailed(
            _("Файл .xlsx повреждён или не читается: %(error)s") % {"error": exc}
        ) from exc
    finally:
        workbook.close()
    raise ValidationFailed(
        _(
            "В файле не найдена строка заголовков: нужны как минимум колонки «Территория» и "
            "«Учреждение» (или «Полное наименование» / «Краткое наименование») в первых %(n)s "
            "строках листа."
        )
        % {"n": HEADER_SEARCH_ROWS}
    )


def _load_workbook(data: bytes) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    # openpyxl raises a zoo of types (KeyError, ParseError, ValueError...) for damaged parts.
    except Exception as exc:
        raise ValidationFailed(
            _("Файл .xlsx повреждён или не читается: %(error)s") % {"error": exc}
        ) from exc


def _sheet_rows(sheet: Any, first: int, last: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Rows ``first..last`` (1-based) with their numbers, READ_COLUMNS cells wide."""
    cells = sheet.iter_rows(min_row=first, max_row=last, max_col=READ_COLUMNS)
    yield from enumerate(cells, start=first)


def _find_header(sheet: Any) -> tuple[int, dict[Column, list[int]]] | None:
    for number, row in _sheet_rows(sheet, 1, HEADER_SEARCH_ROWS):
        formulas = _formula_addresses(number, row)
        columns = _header_columns(row)
        if columns is None:
            if formulas:
                raise ValidationFailed(_formula_message(formulas))
            continue
        if formulas:
            raise ValidationFailed(_formula_message(formulas))
        return number, columns
    return None


def _header_columns(row: tuple[Any, ...]) -> dict[Column, list[int]] | None:
    """The column map when ``row`` is the header, else None; duplicate headers are an error."""
    columns: dict[Column, list[int]] = {}
    for index, cell in enumerate(row):
        if isinstance(cell.value, str) and (column := header_column(cell.value)) is not None:
            columns.setdefault(column, []).append(index)
    has_name = Column.FULL_NAME in columns or Column.SHORT_NAME in columns
    if Column.TERRITORY not in columns or not has_name:
        return None
    for column, indexes in columns.items():
        if column not in LINK_COLUMNS and len(indexes) > 1:
            letters = ", ".join(get_column_letter(i + 1) for i in indexes)
            raise ValidationFailed(
                _("Колонка «%(label)s» встречается в заголовке несколько раз (%(cols)s).")
                % {"label": COLUMN_LABELS[column], "cols": letters}
            )
    return columns


def _read_rows(sheet: Any, header_row: int, columns: dict[Column, list[int]]) -> list[SheetRow]:
    rows: list[SheetRow] = []
    limit = settings.XLSX_MAX_ROWS
    for number, cells in _sheet_rows(sheet, header_row + 1, limit + 1):
        if all(_is_blank(cell.value) for cell in cells):
            continue
        if number > limit:  # the archive check has refused such a sheet already
            raise ValidationFailed(
                _("В листе больше %(max)s строк; разбейте реестр на несколько файлов.")
                % {"max": limit}
            )
        rows.append(_read_row(number, cells, columns))
    return rows


def _read_row(number: int, cells: tuple[Any, ...], columns: dict[Column, list[int]]) -> SheetRow:
    row = SheetRow(number=number)
    formulas = _formula_addresses(number, cells)
    if formulas:
        row.errors.append(_formula_message(formulas))
    for column, indexes in columns.items():
        if column in LINK_COLUMNS:
            for index in indexes:
                row.links.extend(_link_tokens(cells[index].value, LINK_COLUMNS[column]))
        elif column == Column.INN:
            row.values[column] = _inn_text(cells[indexes[0]].value)
        else:
            row.values[column] = _cell_text(cells[indexes[0]].value)
    return row


def _formula_addresses(number: int, cells: Iterable[Any]) -> list[str]:
    return [
        f"{get_column_letter(index + 1)}{number}"
        for index, cell in enumerate(cells)
        if getattr(cell, "data_type", None) == "f"
    ]


def _formula_message(addresses: list[str]) -> str:
    return _(
        "Формулы не принимаются (ячейки %(cells)s): замените их значениями "
        "(«Специальная вставка» → «Значения»)."
    ) % {"cells": ", ".join(addresses)}


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _inn_text(value: Any) -> str:
    """INN as digits; a numeric cell lost its leading zero, so restore it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        digits = str(int(value))
        return digits.zfill(len(digits) + 1) if len(digits) in (9, 11) else digits
    return "".join(_cell_text(value).split())


def _link_tokens(value: Any, network: Network) -> list[tuple[Network, str]]:
    if _is_blank(value):
        return []
    tokens = [t for t in _LINK_SPLIT.split(str(value)) if t]
    return [(network, t) for t in tokens if t.casefold() not in LINK_FILLERS]
