"""Acceptance: a Python client generated from /api/v1/schema/ does a region's API work.

openapi-python-client (pinned in requirements-dev) generates the client in a temporary folder
from the schema the portal serves; the test imports it and, against a live server, obtains a
token with the owner's password, lists territories and communities, imports past members (dry
run, then for real), uploads a registry and a Table-1 workbook, and reads a ranking as JSON and
CSV and a summary as XLSX. Nothing is typed by hand: every call is the generated code's.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client as DjangoClient
from openpyxl import Workbook, load_workbook

from institutions.models import ApiToken, Territory
from metrics.models import MemberSnapshot, MetricValue, SnapshotSource

PASSWORD = "client-Pass-2026"
GENERATOR_CONFIG = """\
content_type_overrides:
  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream
  text/csv: application/octet-stream
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory, django_db_blocker):
    """The generated package ``portal_client``, imported from a temporary folder."""
    folder = tmp_path_factory.mktemp("generated")
    with django_db_blocker.unblock():
        schema = DjangoClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    (folder / "schema.json").write_bytes(schema.content)
    (folder / "config.yaml").write_text(GENERATOR_CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [str(generator), "generate", "--path", "schema.json", "--meta", "none",
         "--output-path", "portal_client", "--config", "config.yaml"],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unsupported" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("portal_client")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.startswith("portal_client")]:
            del sys.modules[name]


def _call(module_path: str, **kwargs):
    module = importlib.import_module(f"portal_client.api.{module_path}")
    response = module.sync_detailed(**kwargs)
    assert 200 <= response.status_code < 300, response.content.decode(errors="replace")
    return response.parsed


def _registry_file() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Реестр"
    sheet.append(["Территория", "ОКТМО", "Учреждение", "Тип", "Ссылки VK"])
    sheet.append(["Нижнеозёрский муниципальный округ", "36650000", "ДК Нижних Озёр", "ДК",
                  "https://vk.com/club777001"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table1_file(regional, institution, figure: int) -> bytes:
    """The institution's Table-1 form as the portal gives it, with March members typed in."""
    page = DjangoClient()
    page.force_login(regional)
    form = page.get(f"/table1/{institution.pk}/2026/xlsx/")
    assert form.status_code == 200, form.status_code
    book = load_workbook(io.BytesIO(form.content))
    book.worksheets[0]["D9"] = figure
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_does_a_regions_api_work(generated, live_server, regional, world,
                                                    territory_a):
    from portal_client import AuthenticatedClient, Client
    from portal_client import models as m
    from portal_client.types import File

    regional.set_password(PASSWORD)
    regional.save()
    token = _call("tokens.tokens_obtain", client=Client(base_url=live_server.url),
                  body=m.ApiTokenObtainRequest(username="methodist", password=PASSWORD,
                                               name="генерированный клиент"))
    assert ApiToken.objects.get(prefix=token.prefix).user == regional
    api = AuthenticatedClient(base_url=live_server.url, token=token.key, prefix="Token")

    territories = _call("territories.territories_list", client=api)
    assert {t.name for t in territories.results} >= {territory_a.name}
    communities = _call("communities.communities_list", client=api)
    ids = {c.id for c in communities.results}
    assert world["a"].pk in ids and world["b"].pk in ids

    rows = [m.PastMembersItemRequest(community=str(world["a"].pk), date=day, members=n)
            for day, n in (("2026-01-01", 600), ("2026-01-31", 690))]
    rows.append(m.PastMembersItemRequest(community=world["b"].url, date="2026-01", members=80))
    body = m.PastMembersBulkRequest(rows=rows, dry_run=True, source_file="СММ-сервис")
    checked = _call("imports.imports_past_members", client=api, body=body)
    assert (checked.dry_run, checked.created) == (True, 3)
    assert not MemberSnapshot.objects.exists()
    body.dry_run = False
    stored = _call("imports.imports_past_members", client=api, body=body)
    assert (stored.dry_run, stored.created) == (False, 3)
    snapshot = MemberSnapshot.objects.get(community=world["b"], date=dt.date(2026, 1, 31))
    assert (snapshot.members, snapshot.source, snapshot.source_file, snapshot.imported_by) == (
        80, SnapshotSource.IMPORT, "СММ-сервис", regional)

    registry = _call("imports.imports_registry", client=api, body=m.FileUploadRequest(
        file=File(payload=io.BytesIO(_registry_file()), file_name="reestr.xlsx"), dry_run=False))
    assert registry.applied and registry.counts.create == 1
    assert [t.oktmo for t in registry.new_territories] == ["36650000"]
    assert Territory.objects.get(oktmo="36650000").kind == "municipal_okrug"

    form = _table1_file(regional, world["a"].institution, 1234)
    table1 = _call("imports.imports_table1", client=api, body=m.Table1UploadRequest(
        files=[File(payload=io.BytesIO(form), file_name="t1.xlsx")], dry_run=False))
    assert table1.changed == 1 and table1.changes[0].new == 1234
    value = MetricValue.objects.get(community=world["a"], month=dt.date(2026, 3, 1),
                                    indicator="members")
    assert (value.value, value.source, value.source_file, value.updated_by) == (
        1234, "import", "t1.xlsx", regional)

    period = {"metric": "growth", "date_from": dt.date(2026, 1, 1),
              "date_to": dt.date(2026, 1, 31)}
    ranking = _call("rankings.rankings_list", client=api, **period)
    first = ranking.results[0]
    assert (first.community_id, first.growth, first.place) == (world["a"].pk, 90, 1)
    csv = _call("rankings.rankings_file", client=api, format_=m.RankingsFileFormat.CSV,
                **period)
    assert world["a"].title in csv.payload.read().decode("utf-8-sig")
    summary = _call("summaries.summaries_file", client=api, territory=territory_a.pk,
                    date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31))
    book = load_workbook(io.BytesIO(summary.payload.read()))
    assert territory_a.name in " ".join(str(c) for row in book.worksheets[0].iter_rows(
        values_only=True) for c in row if c)
