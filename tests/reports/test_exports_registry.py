"""The registry export: scoped, formatted, formula-safe, and readable by the registry import."""

import io

import openpyxl

from institutions.imports.reader import read_registry_sheet
from institutions.imports.vocabulary import Column
from tests.factories import CommunityFactory, InstitutionFactory


def test_the_export_reads_back_through_the_registry_import(login, regional, world, territory_a):
    evil = InstitutionFactory(short_name="=HYPERLINK(\"http://x\")", territory=territory_a)
    CommunityFactory(institution=evil, network="ok", network_id=55_000_000_000_001,
                     url="https://ok.ru/group/55000000000001")
    response = login(regional).get("/exports/registry.xlsx")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    sheet = read_registry_sheet(data)
    by_name = {row.values[Column.SHORT_NAME]: row for row in sheet.rows}
    assert set(by_name) == {"Дом культуры Алексеевки", "Библиотека Бора", "Областная библиотека",
                            '=HYPERLINK("http://x")'}
    row = by_name["Дом культуры Алексеевки"]
    assert row.values[Column.TERRITORY] == territory_a.name
    assert row.values[Column.OKTMO] == territory_a.oktmo
    assert [link for _, link in row.links] == [world["a"].url]
    assert not any(r.errors for r in sheet.rows)
    cells = openpyxl.load_workbook(io.BytesIO(data))["Реестр"]
    evil_cell = next(c for r in cells.iter_rows() for c in r if c.value == evil.short_name)
    assert evil_cell.data_type == "s"


def test_the_registry_export_is_scoped(login, municipal_a, outsider, world, client):
    data = b"".join(login(municipal_a).get("/exports/registry.xlsx").streaming_content)
    names = {row.values[Column.SHORT_NAME] for row in read_registry_sheet(data).rows}
    assert names == {"Дом культуры Алексеевки", "Областная библиотека"}
    assert login(outsider).get("/exports/registry.xlsx").status_code == 403
    assert client.get("/exports/registry.xlsx").status_code == 302


def test_the_registry_export_query_count(login, regional, world, territory_b,
                                         django_assert_num_queries):
    client = login(regional)
    client.get("/exports/registry.xlsx")
    with django_assert_num_queries(5):  # session, user, profile, institutions, communities
        client.get("/exports/registry.xlsx")
    for _ in range(5):
        CommunityFactory(institution=InstitutionFactory(territory=territory_b))
    with django_assert_num_queries(5):
        client.get("/exports/registry.xlsx")


def test_members_latest_come_from_the_last_collected_snapshot(world, regional, login):
    """«Участников (последнее)» is the sum of each community's latest collected count."""
    import datetime as dt
    import io

    import openpyxl

    from tests.factories import MemberSnapshotFactory

    community = world["a"]
    MemberSnapshotFactory(community=community, date=dt.date(2026, 11, 1), members=700)
    MemberSnapshotFactory(community=community, date=dt.date(2026, 11, 30), members=745)
    response = login(regional).get("/exports/registry.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row and "Участников (последнее)" in row)
    column = rows[header].index("Участников (последнее)")
    by_name = {row[3]: row[column] for row in rows[header + 1:] if row and row[3]}
    assert by_name[community.institution.short_name] == 745
    assert by_name["Библиотека Бора"] is None  # nothing collected: empty, explained on top
    assert any("пустая ячейка" in str(row[0]) for row in rows[:header] if row)
