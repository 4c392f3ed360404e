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
import datetime as dt
import io
import json
import re
import zipfile
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from institutions.models import Community, Institution, Territory
from metrics.models import MetricValue
from tests import test_permission_matrix
from tests.institutions.test_import import xlsx as registry_xlsx
from tests.test_permission_matrix import (
    ADDRESSES,
    body_text,
    rows_written,
    url_for,
    write_methods,
)

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


# --- NUL: PostgreSQL cannot store it, so every path must refuse it before the database ----------
NUL_TEXT = "Дом культуры\x00«Заря»"
FORM_FIELDS = ("comment", "title", "slug", "methodology", "name", "short_name", "full_name",
               "label", "secret", "token", "communities", "q", "version", "kind", "network")


def test_a_nul_character_is_refused_by_every_page_in_russian(sides, login, regional, caplog):
    """Every page, through a form post or its query string: 400, the reason, nothing written."""
    caplog.set_level("INFO", logger="portal.security")
    client, problems, posted = login(regional), [], 0
    for address in ADDRESSES:
        if address.is_api:
            continue
        url = url_for(address, sides["a"])
        answers = [client.get(url, {"q": NUL_TEXT})]
        if write_methods(address) == ["post"]:
            before = rows_written()
            answers.append(client.post(url, dict.fromkeys(FORM_FIELDS, NUL_TEXT)))
            posted += 1
            if rows_written() != before:
                problems.append(f"POST {url} wrote to the database")
        for answer in answers:
            text = answer.content.decode()
            if answer.status_code != 400 or "нулевой символ (NUL)" not in text:
                problems.append(f"{answer.request['REQUEST_METHOD']} {url}: "
                                f"{answer.status_code}")
    assert not problems, problems
    assert posted >= 30, posted
    assert any(r.getMessage().startswith("nul_refused ip=") for r in caplog.records)


def _nul_value(schema: dict, components: dict) -> Any:
    """A value of the schema's shape in which every string is ``NUL_TEXT``."""
    if "$ref" in schema:
        return _nul_value(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for combined in ("allOf", "oneOf", "anyOf"):
        if schema.get(combined):
            return _nul_value(schema[combined][0], components)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: _nul_value(prop, components) for name, prop in
                schema.get("properties", {}).items() if not prop.get("readOnly")}
    if kind == "array":
        return [_nul_value(schema.get("items", {}), components)]
    return {"integer": 1, "number": 1, "boolean": False}.get(kind, NUL_TEXT)


def json_bodies_with_nul() -> dict[tuple[str, str], Any]:
    """(path with ``{}`` for parameters, method) → a request body full of NUL strings."""
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    bodies = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                key = (re.sub(r"\{[^}]+\}", "{}", path), method)
                bodies[key] = _nul_value(content["application/json"]["schema"], components)
    return bodies


def test_a_nul_character_in_any_api_body_is_refused_not_a_500(sides, api_as, regional):
    """Every write of the API, each string field holding NUL: a 4xx, nothing written."""
    client, bodies, problems, refused = api_as(regional), json_bodies_with_nul(), [], 0
    for address in ADDRESSES:
        key_path = re.sub(r"\{[^}]+\}", "{}", address.template)
        for method in write_methods(address):
            body = bodies.get((key_path, method))
            if body is None:
                continue
            before = rows_written()
            answer = getattr(client, method)(url_for(address, sides["a"]), body, format="json")
            if answer.status_code >= 500 or rows_written() != before:
                problems.append(f"{method.upper()} {address}: {answer.status_code}")
            elif answer.status_code == 400:
                refused += 1
                assert re.search("[а-яА-Я]", json.dumps(answer.json(), ensure_ascii=False))
    assert not problems, problems
    assert refused >= 12, refused


# --- digits that are not ASCII: "²" passes str.isdigit() and then breaks int() ----------------
ODD_DIGITS = {
    "inn_superscript": ("institutions", "inn", "²" * 10, "ИНН"),
    "inn_arabic_indic": ("institutions", "inn", "٠" * 10, "ИНН"),
    "oktmo_superscript": ("territories", "oktmo", "²" * 8, "ОКТМО"),
    "oktmo_arabic_indic": ("territories", "oktmo", "٠" * 8, "ОКТМО"),
    "ok_group_superscript": ("communities", "url", "ok.ru/group/²", "Одноклассник"),
    "ok_group_glued": ("communities", "url", "ok.ru/group²", "Одноклассник"),
    "ok_group_beyond_64_bits": ("communities", "url", "ok.ru/group/" + "9" * 25,
                                "слишком длинный номер"),
}


def valid_body(kind: str, institution: Institution) -> dict[str, Any]:
    """A body the endpoint accepts, before one field is replaced."""
    return {
        "territories": {"name": "Район", "kind": "municipal_district", "oktmo": "36999000"},
        "institutions": {"full_name": "МБУК «Клуб»", "short_name": "Клуб", "type": "club",
                         "territory": institution.territory_id, "subordination": "municipal"},
        "communities": {"institution": institution.pk, "url": "ok.ru/group/55500011122233"},
    }[kind]


@pytest.mark.parametrize("case", ODD_DIGITS.keys())
def test_odd_digits_are_refused_in_russian_not_a_500(case, api_as, regional, institution_a):
    kind, field, value, reason = ODD_DIGITS[case]
    client, url = api_as(regional), f"/api/v1/{kind}/"
    before = rows_written()
    answer = client.post(url, {**valid_body(kind, institution_a), field: value}, format="json")
    assert answer.status_code == 400, answer.content.decode()[:500]
    assert reason in str(answer.json()["error"]["details"][field])
    assert rows_written() == before
    # The same body with honest digits goes through: the odd ones alone were refused.
    assert client.post(url, valid_body(kind, institution_a), format="json").status_code == 201


def test_an_odd_digit_as_a_figure_is_refused_whole(api_as, editor_a, community_a):
    answer = api_as(editor_a).post("/api/v1/report-values/bulk/", {"values": [
        {"community": community_a.pk, "month": "2026-01", "indicator": "members", "value": "²"},
    ]}, format="json")
    assert answer.status_code == 400
    assert "«²» — не число" in answer.json()["error"]["message"]
    assert not MetricValue.objects.exists()


def test_an_odd_digit_as_a_report_version_is_not_a_500(login, editor_a, institution_a):
    from reports.models import Report

    report = Report.objects.create(institution=institution_a, month=dt.date(2026, 1, 1))
    answer = login(editor_a).post(f"/reports/action/{report.pk}/submit/", {"version": "²"})
    assert answer.status_code < 500


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


QUERY_NAMES = (
    "q", "search", "territory", "institution", "community", "network", "type", "state", "month",
    "year", "number", "page", "page_size", "period", "date_from", "date_to", "metric", "league",
    "top", "ordering", "sort", "format", "subordination", "flagship", "kind", "level", "id",
)
# No NUL here: the NUL guard would refuse it before any view read the rest (tested below).
def _import_registry(client, data: bytes):
    """Preview the file on the import page, then apply it; the preview answer if it was refused."""
    upload = SimpleUploadedFile("реестр.xlsx", data, content_type="application/octet-stream")
    preview = client.post(REGISTRY_IMPORT, {"file": upload})
    token = preview.context["token"] if preview.context else None
    if not token:
        return preview
    return client.post("/registry/import/apply/", {"token": token}, follow=True)


def test_odd_unicode_names_from_a_registry_file_are_stored_as_typed(login, regional,
                                                                    territory_a, settings,
                                                                    tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path)
    client = login(regional)
    answer = _import_registry(client, registry_xlsx([
        [territory_a.name, f"МБУК «{name}»", name, "клуб", "", "", ""] for name in ODD.values()
    ]))
    assert answer.status_code == 200, answer.content.decode()[:2000]
    stored = set(Institution.objects.values_list("short_name", flat=True))
    assert stored == set(ODD.values())
    page = client.get("/registry/").content.decode()
    assert all(name in page for name in ODD.values())


def test_an_overlong_name_in_a_registry_file_rejects_the_file_in_russian(login, regional,
                                                                         territory_a, settings,
                                                                         tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path)
    answer = _import_registry(login(regional), registry_xlsx([
        [territory_a.name, "МБУК «Клуб»", "Клуб", "клуб", "", "", ""],
        [territory_a.name, "М" * 600, "Д" * 300, "клуб", "", "", ""],
    ]))
    assert answer.status_code in (200, 400)
    page = answer.content.decode()
    assert "Краткое наименование длиннее 200 символов" in page and "отклонено строк: 1" in page
    assert not Institution.objects.exists()


def test_long_odd_text_in_every_page_form_is_never_a_500(sides, login, regional):
    """Every page that takes a POST, each usual field 5 000 characters of odd Unicode."""
    client, failures = login(regional), []
    text = ("\u202e" + "".join(ODD.values()) + "\u200b") * 60
    for address in ADDRESSES:
        if address.is_api or write_methods(address) != ["post"]:
            continue
        url = url_for(address, sides["a"])
        status = client.post(url, dict.fromkeys(FORM_FIELDS, text)).status_code
        if status >= 500:
            failures.append(f"POST {url}: {status}")
    assert not failures, failures


HOSTILE_QUERY = {name: "'\";<script>--\u202e²٣" + "𝕏" * 300 for name in QUERY_NAMES}


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


def _nul_reference_in_a_cell() -> bytes:
    """A registry-shaped workbook whose name cell holds ``&#0;`` (NUL, invalid XML 1.0)."""
    book = openpyxl.Workbook()
    book.active.append(["Территория", "Полное наименование", "Краткое наименование", "Тип"])
    book.active.append(["Алексеевский муниципальный район", "МБУК «ДК NULMARK»", "ДК", "клуб"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename).replace(b"NULMARK", b"&#0;"))
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
    "nul_reference_in_a_cell": _nul_reference_in_a_cell(),
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
