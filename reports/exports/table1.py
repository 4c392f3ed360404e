"""The Table-1 form as an Excel workbook: one sheet per community, the agency's layout.

A pure builder: plain data in, ``.xlsx`` bytes out. ``reports.imports.table1`` reads the same
layout back, so the positions below are the contract between the two.
"""

import io
import re
from dataclasses import dataclass, field

import xlsxwriter

from metrics.choices import TABLE1_FOOTNOTES, TABLE1_INDICATORS
from portal.lib.months import MONTH_ABBR_RU

TITLE = "Форма отчета по посещаемости группы в социальной сети «ВКонтакте»"
TABLE_CAPTION = "Таблица 1."
NAME_HEADER = "Наименование показателя"
INSTITUTION_LABEL = "Учреждение:"
COMMUNITY_LABEL = "Сообщество:"
CODE_LABEL = "Код сообщества в портале:"

# Zero-based rows and columns (xlsxwriter); Excel shows them one-based.
ROW_CAPTION, ROW_TITLE, ROW_INSTITUTION, ROW_COMMUNITY, ROW_CODE = 0, 1, 2, 3, 4
ROW_YEAR, ROW_MONTHS, FIRST_INDICATOR_ROW = 6, 7, 8
ROW_FOOTNOTES = FIRST_INDICATOR_ROW + len(TABLE1_INDICATORS) + 1
COL_LABEL, FIRST_MONTH_COL = 0, 1


@dataclass(frozen=True)
class CommunitySheet:
    """One community's year: ``figures[indicator]`` holds twelve values (None: empty cell)."""

    community_id: int
    title: str
    url: str
    institution: str
    year: int
    figures: dict[str, list[int | None]] = field(default_factory=dict)


def sheet_name(index: int, title: str) -> str:
    """Excel sheet names: at most 31 characters, no ``[]:*?/\\``, unique via the number."""
    clean = re.sub(r"[\[\]:*?/\\']", " ", title).strip() or "Сообщество"
    return f"{index}. {clean}"[:31].rstrip()


def table1_workbook(*, sheets: list[CommunitySheet]) -> bytes:
    """The filled-in forms as ``.xlsx`` bytes (an empty institution gets an empty form)."""
    buffer = io.BytesIO()
    # Titles are typed by people: a title such as "=HYPERLINK(...)" must stay text.
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    styles = _styles(book)
    for index, sheet in enumerate(sheets, start=1):
        _write_sheet(book.add_worksheet(sheet_name(index, sheet.title)), sheet, styles)
    if not sheets:
        book.add_worksheet("Таблица 1").write(0, 0, "У учреждения нет сообществ.")
    book.close()
    return buffer.getvalue()


def _styles(book) -> dict:
    border = {"border": 1, "valign": "vcenter"}
    return {
        "title": book.add_format({"bold": True, "font_size": 12}),
        "label": book.add_format({"italic": True}),
        "header": book.add_format({**border, "bold": True, "align": "center", "text_wrap": True,
                                   "bg_color": "#EEF2F7"}),
        "row": book.add_format({**border, "text_wrap": True}),
        "number": book.add_format({**border, "num_format": "0", "align": "right"}),
        "note": book.add_format({"font_size": 9}),
    }


def _write_sheet(ws, sheet: CommunitySheet, styles: dict) -> None:
    last_col = FIRST_MONTH_COL + 11
    ws.set_column(COL_LABEL, COL_LABEL, 46)
    ws.set_column(FIRST_MONTH_COL, last_col, 10)
    ws.write(ROW_CAPTION, COL_LABEL, TABLE_CAPTION, styles["title"])
    ws.merge_range(ROW_TITLE, COL_LABEL, ROW_TITLE, last_col, TITLE, styles["title"])
    ws.write(ROW_INSTITUTION, COL_LABEL, INSTITUTION_LABEL, styles["label"])
    ws.merge_range(ROW_INSTITUTION, FIRST_MONTH_COL, ROW_INSTITUTION, last_col,
                   sheet.institution)
    ws.write(ROW_COMMUNITY, COL_LABEL, COMMUNITY_LABEL, styles["label"])
    ws.merge_range(ROW_COMMUNITY, FIRST_MONTH_COL, ROW_COMMUNITY, last_col,
                   f"{sheet.title} — {sheet.url}")
    ws.write(ROW_CODE, COL_LABEL, CODE_LABEL, styles["label"])
    ws.write_number(ROW_CODE, FIRST_MONTH_COL, sheet.community_id)
    ws.merge_range(ROW_YEAR, COL_LABEL, ROW_MONTHS, COL_LABEL, NAME_HEADER, styles["header"])
    ws.merge_range(ROW_YEAR, FIRST_MONTH_COL, ROW_YEAR, last_col, f"{sheet.year} г.",
                   styles["header"])
    for offset, label in enumerate(MONTH_ABBR_RU):
        ws.write(ROW_MONTHS, FIRST_MONTH_COL + offset, label, styles["header"])
    for row_offset, indicator in enumerate(TABLE1_INDICATORS):
        row = FIRST_INDICATOR_ROW + row_offset
        ws.write(row, COL_LABEL, indicator.label, styles["row"])
        values = sheet.figures.get(indicator, [None] * 12)
        for offset, value in enumerate(values):
            if value is None:
                ws.write_blank(row, FIRST_MONTH_COL + offset, None, styles["number"])
            else:
                ws.write_number(row, FIRST_MONTH_COL + offset, value, styles["number"])
    for offset, note in enumerate(TABLE1_FOOTNOTES):
        ws.write(ROW_FOOTNOTES + offset, COL_LABEL, note, styles["note"])
    ws.freeze_panes(FIRST_INDICATOR_ROW, FIRST_MONTH_COL)
