"""Every uploaded .xlsx is read within limits fixed before reading (portal/lib/xlsx.py).

The probe's zip bomb: a sheet whose headers declare 200 bytes but that inflates to 400 MB, about
400 KB on disk. Python's zipfile trusts the declared size and inflated the whole sheet in one
call before noticing the lie, so the Table-1 upload grew the server by the bomb's size. Now every
upload page refuses it in Russian, stores nothing, and a fresh process that uploads it grows its
peak memory by a few megabytes (measured with ``ru_maxrss`` in tests/upload_memory_probe.py).
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from institutions.models import Community, Institution, Territory
from institutions.services import import_upload_dir
from metrics.models import MetricValue
from portal.lib.xlsx import XlsxLimits, XlsxRefused, xlsx_check
from tests.metrics.test_celery_collection import test_database_url

ROOT = Path(__file__).resolve().parent.parent
SHEET = "xl/worksheets/sheet1.xml"
DECLARED_BYTES = 200
INFLATES_TO = 400 * 1024 * 1024
GROWTH_LIMIT_MB = 100
# Every page that takes a file: the name of its file field and the other fields it needs.
UPLOAD_PAGES = {"/registry/import/": ("file", {}), "/table1/upload/": ("files", {}),
                "/people/import/": ("file", {}), "/past-data/": ("file", {"kind": "members"})}
# Every API endpoint that takes a file, the same way (multipart, as the regional methodologist).
UPLOAD_API = {"/api/v1/imports/registry/": ("file", {}),
              "/api/v1/imports/table1/": ("files", {}),
              "/api/v1/imports/past-members/file/": ("file", {}),
              "/api/v1/imports/past-values/file/": ("file", {})}
UPLOADS = {**UPLOAD_PAGES, **UPLOAD_API}


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def registry_like() -> bytes:
    return workbook([["Территория", "Полное наименование", "Краткое наименование", "Тип"],
                     ["Алексеевский муниципальный район", "МБУК «ДК»", "ДК", "клуб"]])


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """The archive with ``name``'s uncompressed size in both its headers set to ``size``."""
    patched = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    struct.pack_into("<L", patched, info.header_offset + 22, size)  # the local header
    encoded = name.encode()
    for match in re.finditer(re.escape(b"PK\x01\x02"), data):  # the central directory entry
        at = match.start()
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + length] == encoded:
            struct.pack_into("<L", patched, at + 24, size)
            return bytes(patched)
    raise AssertionError(f"{name} is not in the central directory")


def replace_member(data: bytes, name: str, chunks) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != name:
                dst.writestr(item.filename, src.read(item.filename))
                continue
            with dst.open(name, "w") as member:
                for chunk in chunks:
                    member.write(chunk)
    return out.getvalue()


@cache
def false_size_bomb() -> bytes:
    """A registry-shaped workbook whose sheet declares 200 bytes and inflates to 400 MB."""
    start = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    blank = b" " * (1024 * 1024)
    chunks = [start, *(blank for _ in range(INFLATES_TO // len(blank)))]
    return declare_size(replace_member(registry_like(), SHEET, chunks), SHEET, DECLARED_BYTES)


def stored_rows() -> tuple[int, ...]:
    return (Territory.objects.count(), Institution.objects.count(), Community.objects.count(),
            MetricValue.objects.count())


def upload(client, url: str, data: bytes):
    field, extra = UPLOADS[url]
    return client.post(url, {field: SimpleUploadedFile("bomb.xlsx", data), **extra})


def test_the_bomb_is_what_the_probe_found():
    data = false_size_bomb()
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET)
    assert info.file_size == DECLARED_BYTES
    assert len(data) < 2 * 1024 * 1024  # a few hundred KB on disk


def test_every_upload_page_is_tested():
    """Pages that take files are found from the templates: each must be in UPLOAD_PAGES."""
    forms = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        forms += [template.name for _ in re.finditer(r'enctype="multipart/form-data"', text)]
    assert len(forms) == len(UPLOAD_PAGES), forms


@pytest.mark.parametrize("url", UPLOADS)
def test_every_upload_page_refuses_the_false_size_bomb_and_stores_nothing(url, world, login,
                                                                          regional):
    before = stored_rows()
    response = upload(login(regional), url, false_size_bomb())
    assert response.status_code == 400
    text = response.content.decode()
    assert "распаковывается больше заявленного" in text and "zip-бомбу" in text, text[-2000:]
    assert stored_rows() == before
    assert not list(import_upload_dir().glob("*.xlsx"))


@pytest.mark.django_db(transaction=True)  # the probe process reads the user from the database
@pytest.mark.parametrize("url", UPLOADS)
def test_uploading_the_bomb_grows_the_peak_memory_by_less_than_100_mb(url, world, regional,
                                                                      tmp_path, summary_line):
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(false_size_bomb())
    before = stored_rows()
    probe = subprocess.run(
        [sys.executable, "-m", "tests.upload_memory_probe", url, UPLOADS[url][0],
         regional.username, str(bomb), json.dumps(UPLOADS[url][1])],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": test_database_url()},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    answer = json.loads(probe.stdout.strip().splitlines()[-1])
    summary_line(f"{url}: a sheet declaring {DECLARED_BYTES} bytes that inflates to "
                 f"{INFLATES_TO // 2**20} MB: status {answer['status']} in {answer['seconds']} s, "
                 f"peak memory +{answer['grew_mb']} MB")
    assert answer["grew_mb"] < GROWTH_LIMIT_MB, answer["grew_mb"]
    assert answer["status"] == 400
    assert "zip-бомбу" in answer["text"]
    assert stored_rows() == before


# --- the limits, one at a time -----------------------------------------------------------------
def limits(**overrides: int) -> XlsxLimits:
    return XlsxLimits.from_settings(**overrides)


def test_an_honest_workbook_passes_with_its_real_sizes():
    data = registry_like()
    contents = xlsx_check(data, limits=limits())
    assert contents.members == {i.filename: i.file_size
                                for i in zipfile.ZipFile(io.BytesIO(data)).infolist()}
    assert [(s.rows, s.columns, s.cells) for s in contents.sheets] == [(2, 4, 8)]


def test_a_member_is_measured_as_it_inflates_not_by_its_declared_size():
    honest = replace_member(registry_like(), SHEET, [b"<worksheet/>" + b" " * 300_000])
    with pytest.raises(XlsxRefused, match="больше заявленного"):
        xlsx_check(declare_size(honest, SHEET, 100), limits=limits())
    with pytest.raises(XlsxRefused, match="zip-бомбу"):
        xlsx_check(honest, limits=limits(max_member_bytes=200_000))
    with pytest.raises(XlsxRefused, match="zip-бомбу"):
        xlsx_check(honest, limits=limits(max_bytes=250_000))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"max_members": 5}, "слишком много внутренних частей"),
    ({"max_rows": 1}, "объявлено 2 строк"),
    ({"max_columns": 3}, "объявлено 4 столбцов"),
    ({"max_cells": 7}, "больше 7 заполненных ячеек"),
])
def test_each_limit_refuses_with_a_russian_message(overrides, message):
    with pytest.raises(XlsxRefused, match=message):
        xlsx_check(registry_like(), limits=limits(**overrides))


def test_rows_and_cells_are_counted_without_declared_dimensions():
    without = replace_member(registry_like(), SHEET, [
        b'<worksheet><sheetData><row><c t="inlineStr"><is><t>a</t></is></c><c/><c/></row>'
        b"<row><c/></row><row><c/></row></sheetData></worksheet>"])
    assert [(s.rows, s.columns) for s in xlsx_check(without, limits=limits()).sheets] == [(3, 3)]
    with pytest.raises(XlsxRefused, match="больше 2 строк"):
        xlsx_check(without, limits=limits(max_rows=2))
    with pytest.raises(XlsxRefused, match="больше 2 столбцов"):
        xlsx_check(without, limits=limits(max_columns=2))


def test_merged_cells_are_counted_in_the_raw_xml():
    merged = replace_member(registry_like(), SHEET, [
        b'<worksheet><sheetData/><mergeCells><mergeCell ref="A1:XFD1048576"/></mergeCells>'
        b"</worksheet>"])
    with pytest.raises(XlsxRefused, match="объединены слишком большие области"):
        xlsx_check(merged, limits=limits())


def test_a_sheet_with_a_document_type_is_refused():
    entity = replace_member(registry_like(), SHEET, [
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><worksheet>&a;</worksheet>'])
    with pytest.raises(XlsxRefused, match="повреждён"):
        xlsx_check(entity, limits=limits())
