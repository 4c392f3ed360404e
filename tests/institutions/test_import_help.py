"""The registry import says which words it understands: on the page and in the template."""

import io

import pytest
from openpyxl import load_workbook

from institutions.imports.vocabulary import parse_institution_type

pytestmark = pytest.mark.django_db


def test_the_import_page_lists_the_type_words(login, regional):
    page = login(regional).get("/registry/import/").content.decode()
    assert "Какие слова понимает колонка «Тип»" in page
    assert "ДШИ" in page and "ЦБС" in page
    assert "/registry/import/template.xlsx" in page


def test_the_template_has_the_columns_and_every_word_the_import_accepts(login, regional):
    answer = login(regional).get("/registry/import/template.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Реестр", "Пояснения", "Типы учреждений"]
    header = [c.value for c in book["Реестр"][1]]
    assert header[:4] == ["Территория", "ОКТМО", "Полное наименование", "Краткое наименование"]
    for label, words in book["Типы учреждений"].iter_rows(min_row=2, values_only=True):
        for word in words.split(", "):
            if not word.startswith("…"):
                assert parse_institution_type(word) is not None, word
        assert parse_institution_type(label) is not None


def test_the_template_is_for_methodologists(login, editor_a):
    assert login(editor_a).get("/registry/import/template.xlsx").status_code == 403
