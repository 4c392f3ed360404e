"""Hostile input: markup in names, odd Unicode, hostile files, formulas in exports.

Names are typed by people (and imported from their files), so every page that shows them must
show them inert; odd strings are stored and shown as typed or refused with a clear Russian
message, never a 500; files that are not honest .xlsx workbooks are refused whole before any
parsing; and a name that looks like a formula stays text in every export.

Pages and exports are found from the URL configuration (as in the permission matrix), so new
ones are covered without touching this file.
"""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from institutions.models import Community, Institution, Territory
from metrics.models import MetricValue
from tests import test_permission_matrix
from tests.test_permission_matrix import ADDRESSES, body_text, url_for

sides = test_permission_matrix.sides  # both territories fully populated (a fixture)

SCRIPT = '<script>alert("xss")</script>'
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
ODD = {
    "rtl": "ДК \u202eмирт\u202c «Заря»",
    "zero_width": "Дом\u200b культуры\u200d",
    "combining": "Библиоте\u0301ка и\u0306",  # accent and breve as combining marks
    "emoji": "Музей 🎭🇷🇺 👩‍👩‍👧",
    "cjk_arabic": "文化 ثقافة Культура",
}
FORMULAS = {
    Territory: "-2+3 муниципальный район",
    Institution: "@SUM(1+1)*cmd|' /C calc'!A0",
    Community: '=HYPERLINK("http://evil.example/";"Нажми")',
}
FORMULA_START = ("=", "+", "-", "@")
REGISTRY_IMPORT, TABLE1_UPLOAD = "/registry/import/", "/table1/upload/"


def _rename(world, names: dict) -> None:
    community = world["a"]
    Territory.objects.filter(pk=community.institution.territory_id).update(name=names[Territory])
    Institution.objects.filter(pk=community.institution_id).update(
        short_name=names[Institution], full_name=names[Institution])
    Community.objects.filter(pk=community.pk).update(title=names[Community])
    for obj in (community.institution.territory, community.institution, community):
        obj.refresh_from_db()


@pytest.fixture
def markup_names(world):
    """Territory A, its institution and community are named with HTML and JavaScript."""
    _rename(world, {Territory: f"Район {SCRIPT}", Institution: f"ДК {ATTRIBUTE}",
                    Community: f"Паблик {SCRIPT}{ATTRIBUTE}"})
    return world


@pytest.fixture
def formula_names(world):
    """Territory A, its institution and community are named like spreadsheet formulas."""
    _rename(world, FORMULAS)
    return world


# --- markup shown inert ----------------------------------------------------------------------
def test_markup_in_names_is_shown_inert_on_every_page(markup_names, sides, login, regional,
                                                      api_as):
    page_client, api_client = login(regional), api_as(regional)
    escaped_on, problems = [], []
    for address in ADDRESSES:
        url = url_for(address, sides["a"])
        response = (api_client if address.is_api else page_client).get(url)
        if response.status_code >= 500:
            problems.append(f"{url}: {response.status_code}")
            continue
        kind = response.get("Content-Type", "")
        if address.is_api:
            assert response.get("X-Content-Type-Options") == "nosniff"
            if response.status_code == 200 and "html" in kind and "api-docs" not in address.name:
                problems.append(f"{url}: API answered HTML")
            continue
        if "html" not in kind:
            continue
        body = body_text(response)
        if "<script>alert(" in body or "<img src=x onerror" in body:
            problems.append(f"{url}: markup from a name reached the page unescaped")
        if "&lt;script&gt;alert(" in body:
            escaped_on.append(url)
    assert not problems, problems
    assert "/registry/" in escaped_on and len(escaped_on) >= 5, escaped_on


def test_names_in_chart_data_cannot_close_the_script_element(markup_names, sides, login,
                                                              regional):
    for url in ("/charts/audience/", "/rankings/?metric=growth&date_from=2026-01-01"
                "&date_to=2026-01-31"):
        body = login(regional).get(url).content.decode()
        assert "</script><" not in body.replace("</script>\n<", "").replace(
            "</script>\n", "")  # only real element ends
        assert "<script>alert(" not in body


# --- odd and long strings --------------------------------------------------------------------
@pytest.mark.parametrize("name", ODD.values(), ids=ODD.keys())
def test_odd_unicode_names_are_stored_and_shown_as_typed(name, api_as, login, regional,
                                                         territory_a):
    created = api_as(regional).post("/api/v1/institutions/", {
        "full_name": f"МБУК «{name}»", "short_name": name, "type": "club",
        "territory": territory_a.pk, "subordination": "municipal",
    }, format="json")
    assert created.status_code == 201, created.content.decode()
    assert Institution.objects.get(pk=created.json()["id"]).short_name == name
    assert api_as(regional).get(f"/api/v1/institutions/{created.json()['id']}/").json()[
        "short_name"] == name
    assert name in login(regional).get("/registry/").content.decode()


def test_a_nul_character_is_refused_in_russian_not_a_500(api_as, regional, territory_a):
    answer = api_as(regional).post("/api/v1/institutions/", {
        "full_name": "МБУК «Клуб»", "short_name": "Клуб\x00", "type": "club",
        "territory": territory_a.pk, "subordination": "municipal",
    }, format="json")
    assert answer.status_code == 400
    message = str(answer.json()["error"]["details"]["short_name"])
    assert any("а" <= ch <= "я" for ch in message.lower()), message
    assert not Institution.objects.filter(short_name__startswith="Клуб").exists()


def test_an_overlong_name_is_refused_whole_in_russian(api_as, regional, territory_a):
    answer = api_as(regional).post("/api/v1/institutions/", {
        "full_name": "М" * 600, "short_name": "Д" * 10_000, "type": "club",
        "territory": territory_a.pk, "subordination": "municipal",
    }, format="json")
    assert answer.status_code == 400
    details = answer.json()["error"]["details"]
    assert "не более 200" in str(details["short_name"]) and "не более 500" in str(
        details["full_name"])
    assert Institution.objects.count() == 0


HOSTILE_QUERY = {name: value for name in (
    "q", "search", "territory", "institution", "community", "network", "type", "state", "month",
    "year", "number", "page", "page_size", "period", "date_from", "date_to", "metric", "league",
    "top", "ordering", "sort", "format", "subordination", "flagship", "kind",
) for value in ["\x00'\";<script>--\u202e" + "𝕏" * 300]}


def test_hostile_query_strings_never_break_a_page_or_endpoint(sides, login, api_as, regional):
    page_client, api_client = login(regional), api_as(regional)
    failures = []
    for address in ADDRESSES:
        url = url_for(address, sides["a"]).split("?")[0]
        client = api_client if address.is_api else page_client
        status = client.get(url, HOSTILE_QUERY).status_code
        if status >= 500:
            failures.append(f"{url}: {status}")
    assert not failures, failures


# --- hostile files ---------------------------------------------------------------------------
def _zip_bomb() -> bytes:
    """A .xlsx-shaped zip whose sheet inflates to 200 MB of zeros (about 200 KB on the wire)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"0" * (1024 * 1024)
            for _ in range(200):
                member.write(chunk)
    return out.getvalue()


def _huge_dimensions() -> bytes:
    """A small, honest workbook whose one sheet claims a million rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Наименование"
    sheet.cell(row=1_000_000, column=16_000, value="конец")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _merged_cells_bomb() -> bytes:
    """A few-KB workbook whose sheet merges A1:XFD1048576 (17 billion cells when loaded)."""
    book = openpyxl.Workbook()
    book.active["A1"] = "Таблица 1."
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'</sheetData><mergeCells count="1">'
                                    b'<mergeCell ref="A1:XFD1048576"/></mergeCells>')
            dst.writestr(item, data)
    return out.getvalue()


HOSTILE_FILES = {
    "not_xlsx": b"%PDF-1.7\n" + b"\x00\xff" * 2000,
    "text_named_xlsx": "Наименование;ИНН\nДК;123\n".encode("cp1251"),
    "broken_zip": b"PK\x03\x04" + b"\x00" * 500,
    "zip_without_workbook": (lambda: (lambda out: (zipfile.ZipFile(out, "w").writestr(
        "readme.txt", "не книга"), out.getvalue())[1])(io.BytesIO()))(),
    "zip_bomb": _zip_bomb(),
    "huge_dimensions": _huge_dimensions(),
    "merged_cells_bomb": _merged_cells_bomb(),
}


def _upload(client, url: str, data: bytes, name: str = "form.xlsx"):
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    field = "file" if url == REGISTRY_IMPORT else "files"
    return client.post(url, {field: upload})


def _has_russian_refusal(response) -> bool:
    text = response.content.decode()
    return any(word in text for word in ("не является книгой", "не файл Excel", "повреждён",
                                         "не книга Excel", "слишком", "зип-бомб", "zip-бомб",
                                         "не читается", "допускается не более", "строк",
                                         "не реестр", "нет листа", "заголов"))


@pytest.mark.parametrize("kind", HOSTILE_FILES.keys())
@pytest.mark.parametrize("url", [REGISTRY_IMPORT, TABLE1_UPLOAD])
def test_hostile_files_are_refused_whole_with_a_russian_message(url, kind, login, regional,
                                                                world):
    before = (Institution.objects.count(), Community.objects.count(), MetricValue.objects.count())
    response = _upload(login(regional), url, HOSTILE_FILES[kind])
    assert response.status_code in (200, 400), response.status_code
    assert _has_russian_refusal(response), response.content.decode()[:3000]
    after = (Institution.objects.count(), Community.objects.count(), MetricValue.objects.count())
    assert after == before


@pytest.mark.parametrize("url", [REGISTRY_IMPORT, TABLE1_UPLOAD])
def test_a_file_over_the_upload_limit_is_refused(url, login, regional, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    response = _upload(login(regional), url, b"PK" + b"\x00" * (1024 * 1024 + 10))
    assert response.status_code in (200, 400)
    assert "больше допустимых 1" in response.content.decode()


@pytest.mark.parametrize("url", [REGISTRY_IMPORT, TABLE1_UPLOAD])
def test_an_oversized_request_is_refused_with_413_before_it_is_read(url, login, regional,
                                                                     settings):
    settings.REQUEST_MAX_BYTES = 2 * 1024 * 1024
    response = _upload(login(regional), url, b"PK" + b"\x00" * (3 * 1024 * 1024))
    assert response.status_code == 413
    text = response.content.decode()
    assert "Запрос слишком велик" in text and "не более 2 МБ" in text


def test_an_oversized_api_body_gets_413_in_the_error_shape(api_as, editor_a, settings):
    settings.REQUEST_MAX_BYTES = 1024 * 1024
    answer = api_as(editor_a).post("/api/v1/report-values/bulk/",
                                   {"values": [{"junk": "x" * 2_000_000}]}, format="json")
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "too_large"


# --- formulas stay text in every export -----------------------------------------------------
def export_urls(sides) -> list[tuple[str, bool]]:
    """Every page address plus each API address in its CSV and XLSX formats."""
    urls = []
    for address in ADDRESSES:
        url = url_for(address, sides["a"])
        urls.append((url, address.is_api))
        view_class = getattr(address.callback, "cls", None)
        formats = {getattr(r, "format", "") for r in getattr(view_class, "renderer_classes", [])}
        for fmt in sorted(formats & {"csv", "xlsx"}):
            urls.append((url + ("&" if "?" in url else "?") + f"format={fmt}", True))
    return urls


def _cells(raw: bytes, kind: str) -> list[tuple[str, str]]:
    """(value, type) of every non-empty cell of a workbook or CSV answer; type 'f' = formula."""
    if raw[:2] == b"PK":
        book = openpyxl.load_workbook(io.BytesIO(raw))
        return [(str(c.value), c.data_type) for ws in book.worksheets for row in ws.iter_rows()
                for c in row if c.value is not None]
    text = raw.decode("utf-8-sig", errors="replace")
    delimiter = ";" if text.count(";") > text.count(",") else ","
    return [(field, "csv") for row in csv.reader(io.StringIO(text), delimiter=delimiter)
            for field in row if field]


def test_formula_like_names_stay_text_in_every_export(formula_names, sides, login, api_as,
                                                      regional):
    page_client, api_client = login(regional), api_as(regional)
    checked, problems = [], []
    markers = ("HYPERLINK", "cmd|", "-2+3")
    for url, is_api in export_urls(sides):
        response = (api_client if is_api else page_client).get(url)
        raw = (b"".join(response.streaming_content) if getattr(response, "streaming", False)
               else response.content)
        kind = response.get("Content-Type", "")
        if response.status_code != 200 or not ("csv" in kind or "spreadsheet" in kind):
            continue
        checked.append(url)
        for value, cell_type in _cells(raw, kind):
            if not any(m in value for m in markers):
                continue
            if cell_type == "f":
                problems.append(f"{url}: a name became a formula: {value}")
            elif cell_type == "csv" and value.startswith(FORMULA_START):
                problems.append(f"{url}: CSV field starts a formula: {value}")
    assert not problems, problems
    assert len(checked) >= 4, checked
