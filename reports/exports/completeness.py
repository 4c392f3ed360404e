"""The completeness workbook: per territory, due institutions, sent, on time, overdue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reports.exports.xlsx import FLOAT, INT, Column, Sheet, workbook_bytes

COLUMNS = [
    Column("Территория", width=40),
    Column("Учреждений (срок наступил)", INT, 16),
    Column("Отправили", INT, 12),
    Column("Полнота, %", FLOAT, 12, decimals=1),
    Column("Вовремя", INT, 12),
    Column("Своевременность, %", FLOAT, 16, decimals=1),
    Column("Не начат", INT, 12),
    Column("Просрочено", INT, 12),
]


def completeness_workbook(*, title: str, lines: Sequence[Any], totals: Any,
                          notes: Sequence[str] = ()) -> bytes:
    """Territory lines and the total line (objects with the completeness fields) as .xlsx."""
    rows = [_row(line.name, line) for line in lines]
    if lines:
        rows.append(_row("Итого", totals))
    return workbook_bytes([Sheet("Полнота сдачи", COLUMNS, rows, title_lines=[title],
                                 notes=notes)])


def _row(name: str, line: Any) -> tuple:
    return (name, line.total, line.sent, line.completeness_pct, line.timely,
            line.timeliness_pct, line.not_started, line.overdue)
