"""The Excel round-trip of Table 1: download pre-filled, fill, upload; hostile files refused."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from metrics.choices import TABLE1_FOOTNOTES, TABLE1_INDICATORS, ValueSource
from metrics.models import MetricValue
from reports.models import ReportState
from tests.factories import CommunityFactory
from tests.reports.helpers_table1 import FEBRUARY, MARCH, NORMAL, fill, report_in, stored

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTHS = ["янв.", "фев.", "март", "апр.", "май", "июнь", "июль", "авг.", "сен.", "окт.",
          "ноя.", "дек."]


def download(client, institution, year=2026) -> bytes:
    response = client.get(reverse("reports:download", args=[institution.pk, year]))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    return response.content


def upload(client, *files, dry_run=False):
    data = {"files": [SimpleUploadedFile(name, content, content_type=XLSX)
                      for name, content in files]}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("reports:upload"), data)


def typed(content: bytes, edits: dict[tuple[int, str], object]) -> bytes:
    """Open the workbook, type into cells ``{(sheet index, "C10"): value}``, save."""
    book = load_workbook(io.BytesIO(content))
    for (index, ref), value in edits.items():
        book.worksheets[index][ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_form_has_the_seed_layout_and_is_pre_filled(community_a, institution_a, editor_a,
                                                        login):
    fill(community_a, MARCH)
    second = CommunityFactory(institution=institution_a, title="ДК Алексеевки в ОК")
    book = load_workbook(io.BytesIO(download(login(editor_a), institution_a)))
    assert len(book.worksheets) == 2
    ws = book.worksheets[0]
    assert ws["A2"].value == "Форма отчета по посещаемости группы в социальной сети «ВКонтакте»"
    assert ws["A7"].value == "Наименование показателя"
    assert ws["B7"].value == "2026 г."
    assert [ws.cell(8, 2 + i).value for i in range(12)] == MONTHS
    assert [ws.cell(9 + i, 1).value for i in range(5)] == [
        "Количество участников", "Посещения", "Абсолютно уникальные посетители*",
        "Просмотр стены группы и раздела Мои новости", "Обратная связь** + активность"]
    assert [ws.cell(15 + i, 1).value for i in range(2)] == TABLE1_FOOTNOTES
    assert ws["B5"].value == community_a.pk
    assert [ws.cell(9 + i, 4).value for i in range(5)] == [NORMAL[i] for i in TABLE1_INDICATORS]
    assert ws["C9"].value is None
    assert book.worksheets[1]["B5"].value == second.pk


def test_download_fill_upload_gives_back_exactly_the_typed_numbers(
        community_a, institution_a, editor_a, login):
    client = login(editor_a)
    figures = {"B9": 1200, "B10": 3456, "B11": 789, "B12": 10001, "B13": 0,
               "C9": 1210, "C10": 3000, "C11": 2999, "C12": 9000, "C13": 17}
    response = upload(client, ("form.xlsx", typed(download(client, institution_a),
                                                  {(0, ref): v for ref, v in figures.items()})))
    assert response.status_code == 302, response.content.decode()
    assert stored(community_a, dt_month(1)) == {"members": 1200, "visits": 3456,
                                                "unique_visitors": 789, "wall_views": 10001,
                                                "feedback": 0}
    again = load_workbook(io.BytesIO(download(client, institution_a))).worksheets[0]
    assert {ref: again[ref].value for ref in figures} == figures
    row = MetricValue.objects.get(community=community_a, month=FEBRUARY, indicator="feedback")
    assert (row.source, row.updated_by) == (ValueSource.IMPORT, editor_a)
    assert row.history.get().history_change_reason == "импорт Excel; отчёт: нет отчёта"


def dt_month(n: int):
    import datetime as dt

    return dt.date(2026, n, 1)


def test_reuploading_an_unchanged_form_changes_nothing(community_a, institution_a, editor_a,
                                                       login):
    fill(community_a, MARCH)
    report_in(institution_a, MARCH, ReportState.APPROVED)  # unchanged figures are no write
    client = login(editor_a)
    before = MetricValue.history.count()
    response = upload(client, ("same.xlsx", download(client, institution_a)))
    assert response.status_code == 302
    assert MetricValue.history.count() == before


def test_an_approved_month_refuses_the_import(community_a, institution_a, editor_a, login):
    fill(community_a, MARCH)
    report_in(institution_a, MARCH, ReportState.APPROVED)
    client = login(editor_a)
    content = typed(download(client, institution_a), {(0, "D10"): 999, (0, "B9"): 5})
    response = upload(client, ("late.xlsx", content))
    page = response.content.decode()
    assert response.status_code == 400
    assert "утверждён" in page and "столбец D" in page
    assert stored(community_a, MARCH) == NORMAL
    assert not MetricValue.objects.filter(month=dt_month(1)).exists()


def _hostile_cases(form: bytes) -> dict[str, tuple[bytes, str]]:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(40):  # more than a member may inflate to (XLSX_MAX_MEMBER_BYTES)
                member.write(b"\0" * (1024 * 1024))
    foreign = Workbook()
    foreign.active["A1"] = "Отчёт о посещаемости"
    foreign.active["B9"] = 100
    foreign_bytes = io.BytesIO()
    foreign.save(foreign_bytes)
    return {
        "not an xlsx": (b"%PDF-1.4 this is not a workbook", "не является книгой Excel"),
        "a random zip": (_zip_of({"hello.txt": "hi"}), "не является книгой Excel"),
        "wrong layout": (foreign_bytes.getvalue(), "неверный макет формы"),
        "text in a number cell": (typed(form, {(0, "C10"): "много"}),
                                  "строка 10, столбец C: «много» — не число"),
        "a fraction": (typed(form, {(0, "E12"): 12.5}), "строка 12, столбец E"),
        "a negative number": (typed(form, {(0, "F9"): -3}), "отрицательное"),
        "a formula": (typed(form, {(0, "G10"): "=B10*2"}), "строка 10, столбец G: формулы"),
        "a zip bomb": (bomb.getvalue(), "zip-бомбу"),
        "unique above visits": (typed(form, {(0, "H10"): 10, (0, "H11"): 11}),
                                "строка 11, столбец H"),
        "no community code": (typed(form, {(0, "B5"): None}), "нет кода сообщества"),
        "a foreign community": (typed(form, {(0, "B5"): 999999}), "не найдено"),
    }


def _zip_of(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


HOSTILE = ["not an xlsx", "a random zip", "wrong layout", "text in a number cell", "a fraction",
           "a negative number", "a formula", "a zip bomb", "unique above visits",
           "no community code", "a foreign community"]


@pytest.mark.parametrize("case", HOSTILE)
def test_broken_and_hostile_uploads_are_rejected_whole(case, community_a, institution_a,
                                                       editor_a, login):
    client = login(editor_a)
    form = typed(download(client, institution_a), {(0, "B9"): 100, (0, "B10"): 50})
    content, message = _hostile_cases(form)[case]
    response = upload(client, ("broken.xlsx", content))
    page = response.content.decode()
    assert response.status_code == 400
    assert "ничего не сохранено" in page
    assert message in page
    assert not MetricValue.objects.exists()


def test_every_problem_is_listed_at_once(community_a, institution_a, editor_a, login):
    client = login(editor_a)
    content = typed(download(client, institution_a),
                    {(0, "B9"): "abc", (0, "M13"): -1, (0, "C10"): "=1+1"})
    page = upload(client, ("many.xlsx", content)).content.decode()
    for where in ("строка 9, столбец B", "строка 13, столбец M", "строка 10, столбец C"):
        assert where in page


def test_an_oversized_file_is_refused(settings, community_a, institution_a, editor_a, login):
    settings.UPLOAD_MAX_BYTES = 1000
    client = login(editor_a)
    response = upload(client, ("big.xlsx", download(client, institution_a)))
    assert response.status_code == 400 and "больше допустимых" in response.content.decode()
    assert not MetricValue.objects.exists()


def test_methodologist_uploads_many_forms_all_or_nothing(community_a, community_b,
                                                         institution_a, institution_b,
                                                         regional, login):
    client = login(regional)
    good = typed(download(client, institution_a), {(0, "B9"): 100})
    bad = typed(download(client, institution_b), {(0, "B9"): 200, (0, "C9"): "сто"})
    response = upload(client, ("a.xlsx", good), ("b.xlsx", bad))
    assert response.status_code == 400
    assert "файл «b.xlsx»" in response.content.decode()
    assert not MetricValue.objects.exists()
    fixed = typed(download(client, institution_b), {(0, "B9"): 200})
    assert upload(client, ("a.xlsx", good), ("b.xlsx", fixed)).status_code == 302
    assert stored(community_a, dt_month(1)) == {"members": 100}
    assert stored(community_b, dt_month(1)) == {"members": 200}


def test_an_editor_uploads_one_form_at_a_time(community_a, institution_a, editor_a, login):
    client = login(editor_a)
    form = typed(download(client, institution_a), {(0, "B9"): 100})
    response = upload(client, ("a.xlsx", form), ("b.xlsx", form))
    assert response.status_code == 400
    assert "только региональные методисты" in response.content.decode()
    assert not MetricValue.objects.exists()


def test_an_editor_cannot_import_into_another_institution(community_a, community_b,
                                                          institution_b, editor_a, regional,
                                                          login):
    form = typed(download(login(regional), institution_b), {(0, "B9"): 100})
    response = upload(login(editor_a), ("b.xlsx", form))
    assert response.status_code == 400 and "не найдено" in response.content.decode()
    assert not MetricValue.objects.exists()


def test_a_dry_run_checks_without_saving(community_a, institution_a, editor_a, login):
    client = login(editor_a)
    form = typed(download(client, institution_a), {(0, "B9"): 100, (0, "B10"): 50})
    response = upload(client, ("a.xlsx", form), dry_run=True)
    assert response.status_code == 200
    assert "Будет изменено значений: 2" in response.content.decode()
    assert not MetricValue.objects.exists()
