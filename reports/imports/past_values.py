"""Past Table-1 values from a flat .xlsx or .csv file (another system's export).

Columns: «Сообщество» (portal id or link), «Месяц» (2025-03 or 03.2025), then one column per
indicator, headed by its Table-1 label or code (members, visits, unique_visitors, wall_views,
feedback). Empty cells are skipped. Values are stored through the workflow's bulk upsert as
«импорт» with the file's name, all or nothing; each refused cell is named by row and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

from metrics.choices import TABLE1_INDICATORS, ValueSource
from metrics.past import CommunityFinder
from metrics.past_files import table_cells
from portal.errors import ValidationFailed
from portal.lib.months import parse_month
from reports.workflow.services import BulkResult, ValueItem, values_bulk_upsert

_RU_MONTH = re.compile(r"^(\d{1,2})\.(\d{4})$")
COMMUNITY_WORDS = {"сообщество", "ссылка", "id", "community", "ссылка на сообщество"}
MONTH_WORDS = {"месяц", "month", "период"}


@dataclass(frozen=True)
class CellError:
    sheet: str
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column,
                "message": self.message}


def _word(cell: Any) -> str:
    return " ".join(str(cell or "").replace("*", "").split()).casefold()


def _header(cells: list[Any]) -> tuple[int, int, dict[int, str]]:
    labels = {_word(i.label): i.value for i in TABLE1_INDICATORS} | {
        i.value: i.value for i in TABLE1_INDICATORS}
    found = {_word(c): n for n, c in enumerate(cells)}
    community = next((n for w, n in found.items() if w in COMMUNITY_WORDS), None)
    month = next((n for w, n in found.items() if w in MONTH_WORDS), None)
    indicators = {n: labels[w] for w, n in found.items() if w in labels}
    if community is None or month is None or not indicators:
        raise ValidationFailed("В первой строке нужны колонки «Сообщество», «Месяц» и хотя бы "
                               "один показатель Таблицы 1 (например, «Посещения» или visits).")
    return community, month, indicators


def _month(value: Any):
    text = str(value or "").strip()[:10]
    ru = _RU_MONTH.match(text)
    return parse_month(f"{ru[2]}-{int(ru[1]):02d}" if ru else text[:7])


def read_past_values(*, user, name: str, data: bytes
                     ) -> tuple[list[ValueItem], dict[tuple, tuple[int, str]], list[CellError]]:
    """The figures of the file, where each came from, and the cells that cannot be read."""
    sheet, cells = table_cells(name=name, data=data)
    if not cells:
        raise ValidationFailed("Файл пуст.")
    community_at, month_at, indicators = _header(cells[0])
    finder, items, where, errors = CommunityFinder(user), [], {}, []
    for number, row in enumerate(cells[1:], start=2):
        if all(v is None or not str(v).strip() for v in row):
            continue
        row = [*row, *([None] * (max(community_at, month_at, *indicators) + 1 - len(row)))]
        cell = row.__getitem__
        pk = finder.find(cell(community_at))
        if pk is None:
            errors.append(CellError(sheet, number, get_column_letter(community_at + 1),
                                    f"сообщество «{cell(community_at)}» не найдено среди "
                                    "доступных вам"))
        try:
            month = _month(cell(month_at))
        except ValueError:
            errors.append(CellError(sheet, number, get_column_letter(month_at + 1),
                                    f"«{cell(month_at)}» — не месяц (нужно 2025-03)"))
            continue
        for column, indicator in indicators.items():
            value = cell(column)
            if pk is None or value is None or not str(value).strip():
                continue
            items.append(ValueItem(pk, month, indicator, value))
            where[(pk, month.strftime("%Y-%m"), indicator)] = (number,
                                                               get_column_letter(column + 1))
    return items, where, errors


def past_values_import(*, user, name: str, data: bytes, dry_run: bool) -> BulkResult:
    """Store the file's figures as «импорт», all or none; refused cells named by row and column."""
    items, where, errors = read_past_values(user=user, name=name, data=data)
    sheet = errors[0].sheet if errors else ""
    if not errors and not items:
        raise ValidationFailed("В файле нет ни одного значения.")
    if not errors:
        try:
            return values_bulk_upsert(user=user, items=items, dry_run=dry_run,
                                      source=ValueSource.IMPORT, source_file=name)
        except ValidationFailed as exc:
            if not isinstance(exc.details, list):
                raise
            for item in exc.details:
                row, column = where.get((item.get("community_id"), item.get("month"),
                                         item.get("indicator")), (None, None))
                errors.append(CellError(sheet, row, column, item.get("message", exc.message)))
    raise ValidationFailed("Ничего не записано: ошибок — " + str(len(errors)) + ".",
                           details={"errors": [e.as_dict() for e in errors]})
