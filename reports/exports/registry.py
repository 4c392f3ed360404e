"""The registry as Excel: plain rows in, a formatted sheet out.

The first nine headers are exactly those the registry import recognises
(``institutions.imports.vocabulary.COLUMN_LABELS``), so an exported file can be edited and
imported back; the columns after them are for reading only and the import ignores them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from institutions.choices import InstitutionType, Subordination
from institutions.imports.vocabulary import COLUMN_LABELS, Column
from reports.exports.xlsx import INT, Sheet, write_workbook
from reports.exports.xlsx import Column as XColumn

TYPE_LABELS = dict(InstitutionType.choices)
SUBORDINATION_LABELS = dict(Subordination.choices)
IMPORTABLE = [
    (Column.TERRITORY, 30), (Column.OKTMO, 12), (Column.FULL_NAME, 50),
    (Column.SHORT_NAME, 34), (Column.TYPE, 26), (Column.INN, 13),
    (Column.SUBORDINATION, 16), (Column.VK, 34), (Column.OK, 34),
]
COLUMNS = [
    *[XColumn(COLUMN_LABELS[column], width=width) for column, width in IMPORTABLE],
    XColumn("Сообществ", INT, 10), XColumn("Участников (последнее)", INT, 14),
    XColumn("Действует", width=10),
]


MEMBERS_NOTE = ("«Участников (последнее)» — сумма по сообществам учреждения на дату последнего "
                "сбора из VK и OK; пустая ячейка — данных о числе участников ещё нет.")


def _rows(lines: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Any, ...]]:
    for line in lines:
        yield (line["territory"], line["oktmo"], line["full_name"], line["short_name"],
               TYPE_LABELS.get(line["type"], line["type"]), line["inn"] or "",
               SUBORDINATION_LABELS.get(line["subordination"], line["subordination"]),
               "\n".join(line["vk"]), "\n".join(line["ok"]), line["communities"],
               line["members"], "да" if line["is_active"] else "нет")


def registry_workbook(output: str | IO[bytes], *, lines: Iterable[Mapping[str, Any]],
                      title: str) -> None:
    """Write the registry (one line per institution, links one per line) into ``output``."""
    write_workbook(output, [Sheet("Реестр", COLUMNS, _rows(lines),
                                  title_lines=[title, MEMBERS_NOTE])])
