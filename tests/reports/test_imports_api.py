"""Every import through the API: dry runs, errors with sheet, row and column, past data."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from institutions.models import Institution, Territory
from metrics.collect.store import upsert_snapshots
from metrics.models import MemberSnapshot, MetricValue, SnapshotSource
from tests.factories import MemberSnapshotFactory

pytestmark = pytest.mark.django_db
REGISTRY = "/api/v1/imports/registry/"
TABLE1 = "/api/v1/imports/table1/"
PAST = "/api/v1/imports/past-members/"
PAST_FILE = "/api/v1/imports/past-members/file/"
JAN_31 = dt.date(2026, 1, 31)


def _xlsx(rows: list[list], title: str = "Реестр") -> bytes:
    book = Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_a_refused_registry_names_sheet_row_and_column_of_every_error(api_as, regional,
                                                                      territory_a):
    data = _xlsx([["Учреждение", "Тип", "ОКТМО", "Территория"],
                  ["ДК Сосновки", "ДК", "36699000", ""],
                  ["Музей Бора", "космодром", territory_a.oktmo, territory_a.name]])
    answer = api_as(regional).post(REGISTRY, {"file": _upload("r.xlsx", data)},
                                   format="multipart")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "import_rejected"
    found = [(e["sheet"], e["row"], e["column"]) for e in error["details"]["errors"]]
    assert found == [("Реестр", 2, "C"), ("Реестр", 3, "B")]
    assert "36699000" in error["details"]["errors"][0]["message"]
    assert "космодром" in error["details"]["errors"][1]["message"]
    assert not Institution.objects.exists()


def test_a_registry_dry_run_plans_new_territories_and_writes_nothing(api_as, regional):
    data = _xlsx([["Территория", "ОКТМО", "Учреждение", "Тип"],
                  ["Городской округ Озёрск", "36750000", "Библиотека Озёрска", "ЦБС"],
                  ["Городской округ Озёрск", "36750000", "ДК Озёрска", "ДК"]])
    answer = api_as(regional).post(REGISTRY, {"file": _upload("r.xlsx", data),
                                              "dry_run": "true"}, format="multipart")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["dry_run"], body["applied"], body["counts"]["create"]) == (True, False, 2)
    assert body["new_territories"] == [{"oktmo": "36750000", "name": "Городской округ Озёрск",
                                        "kind": "urban_okrug"}]
    assert not Territory.objects.filter(oktmo="36750000").exists()


def test_the_registry_import_is_for_methodologists_only(api_as, editor_a):
    answer = api_as(editor_a).post(REGISTRY, {"file": _upload("r.xlsx", b"x")},
                                   format="multipart")
    assert answer.status_code == 403


def test_a_refused_table1_form_points_at_the_cell(api_as, editor_a, login, community_a):
    form = login(editor_a).get(f"/table1/{community_a.institution_id}/2026/xlsx/").content
    book = load_workbook(io.BytesIO(form))
    book.worksheets[0]["D10"] = "много"
    out = io.BytesIO()
    book.save(out)
    answer = api_as(editor_a).post(TABLE1, {"files": [_upload("t1.xlsx", out.getvalue())]},
                                   format="multipart")
    assert answer.status_code == 400
    [error] = answer.json()["error"]["details"]["errors"]
    assert (error["file"], error["row"], error["column"]) == ("t1.xlsx", 10, "D")
    assert error["sheet"] == book.worksheets[0].title


def test_past_members_never_replace_a_collected_figure(api_as, regional, community_a):
    MemberSnapshotFactory(community=community_a, date=JAN_31, members=700)
    rows = [{"community": str(community_a.pk), "date": "2026-01", "members": 650},
            {"community": community_a.url, "date": "2026-01-15", "members": 640}]
    answer = api_as(regional).post(PAST, {"rows": rows}, format="json").json()
    assert (answer["created"], answer["kept_collected"]) == (1, 1)
    assert MemberSnapshot.objects.get(date=JAN_31).members == 700


def test_a_collected_figure_replaces_an_imported_one(api_as, regional, community_a):
    rows = [{"community": str(community_a.pk), "date": "2026-01-31", "members": 650}]
    api_as(regional).post(PAST, {"rows": rows, "source_file": "старая система"}, format="json")
    imported = MemberSnapshot.objects.get()
    assert (imported.source, imported.source_file, imported.imported_by) == (
        SnapshotSource.IMPORT, "старая система", regional)
    upsert_snapshots(JAN_31, {community_a.pk: 702})
    collected = MemberSnapshot.objects.get()
    assert (collected.members, collected.source, collected.imported_by) == (
        702, SnapshotSource.COLLECTED, None)


def test_a_reimport_updates_its_own_figures_and_counts_unchanged(api_as, regional,
                                                                community_a):
    client = api_as(regional)
    rows = [{"community": str(community_a.pk), "date": "2026-01-31", "members": 650}]
    client.post(PAST, {"rows": rows}, format="json")
    assert client.post(PAST, {"rows": rows}, format="json").json()["unchanged"] == 1
    rows[0]["members"] = 660
    assert client.post(PAST, {"rows": rows}, format="json").json()["updated"] == 1
    assert MemberSnapshot.objects.get().members == 660


def test_past_members_from_csv_name_each_bad_cell(api_as, editor_a, community_a, community_b):
    csv = ("Сообщество;Дата;Участников\n"
           f"{community_a.url};31.01.2026;1 200\n"
           f"{community_b.pk};31.01.2026;10\n"
           f"{community_a.pk};завтра;-3\n").encode()
    answer = api_as(editor_a).post(PAST_FILE, {"file": _upload("old.csv", csv)},
                                   format="multipart")
    assert answer.status_code == 400
    errors = answer.json()["error"]["details"]["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "A"), (4, "B"), (4, "C")]
    assert all(e["file"] == "old.csv" for e in errors)
    assert not MemberSnapshot.objects.exists()


def test_past_members_from_xlsx_dry_run_then_for_real(api_as, editor_a, community_a):
    data = _xlsx([["Ссылка на сообщество", "Месяц", "Количество участников"],
                  [community_a.url, "2025-12", 1100], [community_a.url, "2026-01", 1150.0]],
                 title="История")
    client = api_as(editor_a)
    dry = client.post(PAST_FILE, {"file": _upload("h.xlsx", data), "dry_run": "true"},
                      format="multipart").json()
    assert (dry["dry_run"], dry["created"]) == (True, 2)
    assert not MemberSnapshot.objects.exists()
    client.post(PAST_FILE, {"file": _upload("h.xlsx", data)}, format="multipart")
    assert dict(MemberSnapshot.objects.values_list("date", "members")) == {
        dt.date(2025, 12, 31): 1100, JAN_31: 1150}


def test_readers_cannot_import_past_data(api_as, viewer, community_a):
    rows = [{"community": str(community_a.pk), "date": "2026-01-31", "members": 1}]
    assert api_as(viewer).post(PAST, {"rows": rows}, format="json").status_code == 403


def test_bulk_values_may_be_marked_as_imported_with_their_source(api_as, regional,
                                                                  community_a):
    payload = {"values": [{"community": community_a.pk, "month": "2025-11",
                           "indicator": "visits", "value": 321}],
               "source": "import", "source_file": "выгрузка СММ 2025"}
    answer = api_as(regional).post("/api/v1/report-values/bulk/", payload, format="json")
    assert answer.status_code == 200, answer.content
    value = MetricValue.objects.get()
    assert (value.source, value.source_file, value.updated_by) == (
        "import", "выгрузка СММ 2025", regional)
    listed = api_as(regional).get("/api/v1/report-values/").json()["results"][0]
    assert listed["source_file"] == "выгрузка СММ 2025"


def test_completeness_api_refuses_a_bad_month(api_as, regional):
    answer = api_as(regional).get("/api/v1/completeness/?month=январь")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation_failed"


PAST_VALUES = "/api/v1/imports/past-values/file/"


def test_past_table1_values_from_a_flat_file_dry_run_then_for_real(api_as, editor_a,
                                                                    community_a):
    csv = ("Сообщество;Месяц;Количество участников;Посещения\n"
           f"{community_a.url};2025-11;1500;320\n"
           f"{community_a.pk};12.2025;1520;\n").encode()
    client = api_as(editor_a)
    dry = client.post(PAST_VALUES, {"file": _upload("smm.csv", csv), "dry_run": "true"},
                      format="multipart")
    assert dry.status_code == 200, dry.content
    assert (dry.json()["dry_run"], dry.json()["changed"]) == (True, 3)
    assert not MetricValue.objects.exists()
    done = client.post(PAST_VALUES, {"file": _upload("smm.csv", csv)}, format="multipart")
    assert done.json()["changed"] == 3
    visits = MetricValue.objects.get(indicator="visits")
    assert (visits.month, visits.value, visits.source, visits.source_file, visits.updated_by) \
        == (dt.date(2025, 11, 1), 320, "import", "smm.csv", editor_a)


def test_refused_past_values_name_each_cell(api_as, editor_a, community_a, community_b):
    csv = ("Сообщество;Месяц;Посещения\n"
           f"{community_a.pk};2025-11;много\n"
           f"{community_b.pk};2025-11;10\n"
           f"{community_a.pk};ноябрь;10\n").encode()
    answer = api_as(editor_a).post(PAST_VALUES, {"file": _upload("x.csv", csv)},
                                   format="multipart")
    assert answer.status_code == 400
    errors = answer.json()["error"]["details"]["errors"]
    assert sorted((e["row"], e["column"]) for e in errors) == [(3, "A"), (4, "B")]
    rows = [e for e in errors if e["row"] == 3]
    assert "не найдено" in rows[0]["message"]
    assert not MetricValue.objects.exists()
    only_figure = ("Сообщество;Месяц;Посещения\n"
                   f"{community_a.pk};2025-11;много\n").encode()
    answer = api_as(editor_a).post(PAST_VALUES, {"file": _upload("y.csv", only_figure)},
                                   format="multipart")
    [error] = answer.json()["error"]["details"]["errors"]
    assert (error["row"], error["column"], error["file"]) == (2, "C", "y.csv")
