"""The registry import template: the columns the import reads and the words it understands."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from institutions.choices import TerritoryKind
from institutions.imports.vocabulary import COLUMN_LABELS, Column, institution_type_words

EXAMPLE = {
    Column.TERRITORY: "Алексеевский муниципальный район",
    Column.OKTMO: "36602000",
    Column.FULL_NAME: "Муниципальное бюджетное учреждение «Дом культуры с. Алексеевка»",
    Column.SHORT_NAME: "ДК Алексеевки",
    Column.TYPE: "ДК",
    Column.INN: "",
    Column.SUBORDINATION: "муниципальное",
    Column.VK: "https://vk.com/dk_alekseevka",
    Column.OK: "",
}
NOTES = [
    "Обязательны колонки «Территория» и «Полное наименование» (или «Краткое наименование»).",
    "Территория ищется по коду ОКТМО, без кода — по названию. Территория, которой нет в "
    "реестре, создаётся, если в строке указаны и её код ОКТМО, и название.",
    "Вид новой территории определяется по названию: «городской округ», «муниципальный округ», "
    "иначе — муниципальный район.",
    "Несколько ссылок в одной ячейке разделяйте переводом строки, запятой или пробелом.",
    "Допустимые слова для колонки «Тип» — на листе «Типы учреждений».",
]


def registry_template_xlsx() -> bytes:
    """A workbook: the header with an example row, the notes, and the accepted type words."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Реестр"
    sheet.append([COLUMN_LABELS[c] for c in EXAMPLE])
    sheet.append(list(EXAMPLE.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate((34, 12, 50, 24, 16, 14, 18, 34, 30), start=1):
        sheet.column_dimensions[chr(64 + index)].width = width
    notes = book.create_sheet("Пояснения")
    for line in NOTES:
        notes.append([line])
    notes.append([])
    notes.append(["Виды территорий: " + ", ".join(str(k.label) for k in TerritoryKind)])
    notes.column_dimensions["A"].width = 120
    types = book.create_sheet("Типы учреждений")
    types.append(["Тип учреждения", "Какие слова в колонке «Тип» его означают"])
    for cell in types[1]:
        cell.font = Font(bold=True)
    for label, words in institution_type_words():
        types.append([label, ", ".join(words) or "только само название типа"])
    types.column_dimensions["A"].width = 40
    types.column_dimensions["B"].width = 110
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
