"""Ranking exports: formatted workbooks, formula-injection guard, streamed downloads."""

import csv
import datetime as dt
import io

import openpyxl
import pytest

from institutions.models import Community
from metrics.models import MemberSnapshot
from reports.exports.rankings import ranking_csv, ranking_sheets
from reports.exports.xlsx import Column, Sheet, guard_text, workbook_bytes
from tests.factories import CommunityFactory, InstitutionFactory

D1, D2 = dt.date(2026, 1, 10), dt.date(2026, 2, 20)
EVIL = ["=HYPERLINK(\"http://evil\",\"x\")", "+7 495 000", "-2+3", "@SUM(A1:A2)", "\t=1+1"]


def _plain(n, title, value):
    return {"place": n, "league_place": n, "league": "starter", "territory": "Т", "institution":
            title, "community": title, "network": "vk", "url": "https://vk.com/club1",
            "members": 150, "members_date": D2, "start_members": 100, "start_date": D1,
            "growth": value, "growth_pct": value * 1.0, "value": value}


def test_text_that_looks_like_a_formula_is_written_as_text():
    rows = [_plain(i + 1, text, 10 - i) for i, text in enumerate(EVIL)]
    data = workbook_bytes(ranking_sheets(metric="growth", rows=rows, missing=[],
                                         title_lines=["Рейтинг"], notes=[]))
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Рейтинг"]
    cells = [c for row in sheet.iter_rows() for c in row if c.value in EVIL]
    assert sorted(c.value for c in cells) == sorted(EVIL * 2)  # institution and community
    assert {c.data_type for c in cells} == {"s"}


def test_csv_prefixes_formula_like_text_with_an_apostrophe():
    rows = [_plain(1, "=1+1", 5)]
    text = "".join(ranking_csv(metric="growth", rows=rows)).lstrip("\ufeff")
    parsed = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert parsed[1][parsed[0].index("Сообщество")] == "'=1+1"
    assert guard_text("Дом культуры") == "Дом культуры"
    assert guard_text("-5") == "'-5"


def test_the_sheet_is_formatted_frozen_filtered_and_typed():
    columns = [Column("Название", width=30), Column("Число", "int", 12),
               Column("Доля", "float", 10, 3), Column("Дата", "date", 12)]
    rows = [("Б", 1234, 0.5, D1), ("А", 7, 1.25, "2026-02-20"), ("В", None, None, None)]
    data = workbook_bytes([Sheet("Лист", columns, rows, title_lines=["Заголовок", "Период"])])
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Лист"]
    # two title lines, a blank line, the header on row 4, data below it
    assert sheet.freeze_panes == "A5"
    assert sheet.auto_filter.ref == "A4:D7"
    assert sheet["A4"].value == "Название" and sheet["A4"].font.b
    assert sheet.column_dimensions["A"].width == pytest.approx(30, abs=1)
    assert (sheet["B5"].value, sheet["B5"].number_format) == (1234, "#,##0")
    assert (sheet["C6"].value, sheet["C6"].number_format) == (1.25, "#,##0.000")
    assert sheet["D6"].value == dt.datetime(2026, 2, 20)
    assert sheet["D6"].number_format == "dd.mm.yyyy"
    assert sheet["B7"].value is None


def test_the_download_has_the_ranking_the_rows_apart_and_the_method(login, regional, world):
    for community in Community.objects.all():
        MemberSnapshot.objects.create(community=community, date=D1, members=100)
        MemberSnapshot.objects.create(community=community, date=D2, members=130)
    CommunityFactory(institution=InstitutionFactory(territory=world["a"].institution.territory),
                     title="=cmd|' /C calc'!A0")
    response = login(regional).get(f"/rankings/export.xlsx?date_from={D1}&date_to={D2}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="rating-growth')
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["Рейтинг", "Без данных", "Методика"]
    ranked = list(book["Рейтинг"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(ranked) if r[0] == "Место")
    assert [r[0] for r in ranked[header + 1:]] == [1, 1]  # both grew by 30: a shared place
    apart = list(book["Без данных"].iter_rows(values_only=True))
    assert ("=cmd|' /C calc'!A0" in apart[-1]) and apart[-1][-1] == (
        "Нет ни одной записи о числе участников")
    assert book["Без данных"].cell(len(apart), 3).data_type == "s"
    method = " ".join(str(r[0]) for r in book["Методика"].iter_rows(values_only=True) if r[0])
    assert "соревновательное ранжирование" in method


def test_csv_download_streams(login, viewer, world):
    for community in Community.objects.all():
        MemberSnapshot.objects.create(community=community, date=D2, members=42)
    response = login(viewer).get(f"/rankings/export.csv?metric=members&date_from={D1}"
                                 f"&date_to={D2}")
    assert response.streaming
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Место;Место в лиге;Лига;Территория")
    assert len(lines) == 1 + Community.objects.count()
