"""The ranking API: same parameters as the page, JSON by default, CSV and XLSX on request."""

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
from django.db import connection

from institutions.models import Community
from metrics.models import MemberSnapshot
from tests.factories import CommunityFactory

# PostgreSQL runs one extra statement per ranking: the planner settings (JIT, work_mem).
NO_PLANNER = int(connection.vendor != "postgresql")
D1, D2 = dt.date(2026, 1, 10), dt.date(2026, 2, 20)
URL = f"/api/v1/rankings/?metric=growth&date_from={D1}&date_to={D2}"


def read_json(response):
    """The JSON ranking streams: read it to the end as a client does."""
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


@pytest.fixture
def grown(world):
    growth = {world["a"].pk: 50, world["b"].pk: 20}
    for community in Community.objects.all():
        MemberSnapshot.objects.create(community=community, date=D1, members=100)
        MemberSnapshot.objects.create(community=community, date=D2,
                                      members=100 + growth.get(community.pk, 0))
    return world


def test_the_api_client_gets_the_ranking_as_json(api_as, api_client_user, grown):
    body = read_json(api_as(api_client_user).get(URL))
    assert [(r["community_id"], r["place"], r["value"], r["start_members"], r["members"])
            for r in body["results"]] == [(grown["a"].pk, 1, 50, 100, 150),
                                          (grown["b"].pk, 2, 20, 100, 120)]
    assert body["results"][0]["members_date"] == D2.isoformat()
    assert body["metric"]["formula"].startswith("Прирост = ")
    assert "1224" in body["metric"]["ranking_method"]
    assert body["count"] == 2 and body["missing"] == []
    assert body["params"]["date_from"] == D1.isoformat()


def test_the_municipal_token_ranks_only_its_territory(api_as, municipal_a, grown):
    body = read_json(api_as(municipal_a).get(URL))
    assert [r["community_id"] for r in body["results"]] == [grown["a"].pk]


def test_anonymous_and_roleless_callers_are_refused(client, api_as, outsider, grown):
    assert client.get(URL).status_code in (401, 403)
    response = api_as(outsider).get(URL)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_wrong_parameters_get_one_russian_error(api_as, viewer, grown):
    response = api_as(viewer).get(f"/api/v1/rankings/?date_from={D2}&date_to={D1}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert "Начальная дата периода позже конечной" in error["message"]


def test_csv_on_request(api_as, viewer, grown):
    response = api_as(viewer).get(URL + "&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Место", "Место в лиге", "Лига"]
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    assert rows[1][rows[0].index("Прирост, чел.")] == "50"


def test_xlsx_on_request(api_as, viewer, grown):
    response = api_as(viewer).get(URL + "&format=xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book["Рейтинг"]
    header_row = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Место")
    assert "Прирост, чел." in header_row


def test_why_endpoint(api_as, viewer, grown):
    body = api_as(viewer).get(
        f"/api/v1/rankings/why/?community={grown['b'].pk}&metric=growth"
        f"&date_from={D1}&date_to={D2}").json()
    assert body["row"]["place"] == 2
    assert [r["community_id"] for r in body["above"]] == [grown["a"].pk]
    assert body["members_to_next_place"] == 31


def test_why_endpoint_hides_communities_outside_the_scope(api_as, municipal_a, grown):
    response = api_as(municipal_a).get(
        f"/api/v1/rankings/why/?community={grown['b'].pk}&date_from={D1}&date_to={D2}")
    assert response.status_code == 404


def test_the_ranking_endpoint_query_count_is_constant(api_as, viewer, grown, institution_a,
                                                       django_assert_num_queries):
    client = api_as(viewer)
    # token+user, profile, the viewer's territory limits; savepoint, planner settings, the
    # ranking, release, the values awaiting approval
    with django_assert_num_queries(8 - NO_PLANNER):
        read_json(client.get(URL))
    for _ in range(12):
        community = CommunityFactory(institution=institution_a)
        MemberSnapshot.objects.create(community=community, date=D1, members=1)
        MemberSnapshot.objects.create(community=community, date=D2, members=2)
    with django_assert_num_queries(8 - NO_PLANNER):
        body = read_json(client.get(URL))
    assert body["count"] == 14


def test_the_schema_documents_the_ranking_parameters(client, db):
    schema = client.get("/api/v1/schema/?format=json").json()
    names = {p["name"] for p in schema["paths"]["/api/v1/rankings/"]["get"]["parameters"]}
    assert {"metric", "date_from", "date_to", "territory", "flagship", "league", "top",
            "format", "states"} <= names


def test_the_summary_endpoint(api_as, api_client_user, municipal_a, world, territory_a,
                              territory_b):
    import datetime as _dt

    from metrics.models import MetricValue

    MetricValue.objects.create(community=world["a"], month=_dt.date(2026, 1, 1),
                               indicator="visits", value=12)
    url = (f"/api/v1/summaries/?territory={territory_a.pk}&period=month&year=2026&number=1"
           "&states=all")  # the value has no report: only the widest choice counts it
    body = api_as(api_client_user).get(url).json()
    assert body["territory"] == territory_a.name
    assert body["totals"]["visits"] == 12
    assert body["institutions"][0]["communities"][0]["figures"]["visits"] == 12
    xlsx = api_as(api_client_user).get(url + "&format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    other = f"/api/v1/summaries/?territory={territory_b.pk}&period=month&year=2026&number=1"
    refused = api_as(municipal_a).get(other)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "validation_failed"
    assert api_as(api_client_user).get("/api/v1/summaries/").status_code == 400


@pytest.mark.parametrize("metric", ["growth", "growth_pct", "er_post", "t1_members"])
def test_the_json_rows_match_the_ranking_page_rows(api_as, regional, territory_a, territory_b,
                                                   metric):
    """The API's rows are written by the database as JSON; they must equal the page's rows."""
    from metrics.models import MetricValue
    from reports.rankings import RankingParams, ranking_compute
    from tests.reports.rankings_oracle import random_region

    random_region([territory_a, territory_b], seed=21, communities=16)
    for n, community in enumerate(Community.objects.order_by("pk")):
        for indicator, value in {"posts": n % 4, "likes": 3 * n, "comments": n,
                                 "members": 100 + n}.items():
            MetricValue.objects.create(community=community, month=dt.date(2026, 2, 1),
                                       indicator=indicator, value=value)
    date_to = dt.date(2026, 2, 28)
    body = read_json(api_as(regional).get(f"/api/v1/rankings/?metric={metric}&date_from={D1}"
                                          f"&date_to={date_to}"))
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric=metric, date_from=D1, date_to=date_to))

    def as_json(rows):
        return [{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in r.items()}
                for r in rows]

    assert body["results"] == as_json(ranking.plain_rows)
    assert body["missing"] == as_json(ranking.plain_missing)
    assert body["missing"] and all(r["reason"] for r in body["missing"])
    assert body["count"] == len(ranking.rows)


def test_the_json_ranking_streams_in_pieces_and_reads_the_same(api_as, viewer, grown,
                                                               institution_a, monkeypatch):
    for members in (130, 130, 170):  # a tie on the second place
        community = CommunityFactory(institution=institution_a)
        MemberSnapshot.objects.create(community=community, date=D1, members=100)
        MemberSnapshot.objects.create(community=community, date=D2, members=members)
    whole = read_json(api_as(viewer).get(URL))
    monkeypatch.setattr("reports.api.rankings.JSON_CHUNK_ROWS", 1)
    response = api_as(viewer).get(URL)
    pieces = list(response.streaming_content)
    assert len(pieces) == 2 + whole["count"]  # the head, a piece per ranked row, the tail
    assert json.loads(b"".join(pieces)) == whole
    assert [(r["place"], r["value"]) for r in whole["results"]] == [
        (1, 70), (2, 50), (3, 30), (3, 30), (5, 20)]
    assert whole["count"] == 5 and whole["data_as_of"] == D2.isoformat()


def test_the_head_counts_only_the_top_and_dates_the_ranked_rows(api_as, viewer, grown,
                                                                institution_a):
    late = CommunityFactory(institution=institution_a)  # no row on D2: its figure is older
    MemberSnapshot.objects.create(community=late, date=D1, members=100)
    MemberSnapshot.objects.create(community=late, date=D2 - dt.timedelta(days=3), members=101)
    body = read_json(api_as(viewer).get(URL + "&top=1"))
    assert body["count"] == 1 and [r["community_id"] for r in body["results"]] == [
        grown["a"].pk]
    assert body["data_as_of"] == D2.isoformat()
    closed = read_json(api_as(viewer).get(
        f"/api/v1/rankings/?metric=growth&date_from={D1}&date_to={D2 - dt.timedelta(days=1)}"))
    assert closed["data_as_of"] == (D2 - dt.timedelta(days=3)).isoformat()


def test_communities_without_figures_come_apart_after_the_ranked_rows(api_as, viewer, grown,
                                                                     institution_a):
    bare = CommunityFactory(institution=institution_a)  # no member rows at all
    body = read_json(api_as(viewer).get(URL))
    assert body["count"] == 2
    assert [(r["community_id"], r["reason"]) for r in body["missing"]] == [
        (bare.pk, "Нет ни одной записи о числе участников")]
    assert "institution_active" not in body["missing"][0]


def test_an_empty_scope_streams_an_empty_ranking(api_as, editor_a, db, institution_a):
    body = read_json(api_as(editor_a).get(URL))
    assert (body["count"], body["results"], body["missing"], body["data_as_of"]) == (
        0, [], [], None)


def test_a_reader_leaving_early_gives_the_cursor_and_savepoint_back(viewer, grown,
                                                                   monkeypatch):
    from reports.api.rankings import json_streamed
    from reports.rankings import ranking_json
    from reports.rankings.forms import parse_ranking_params

    monkeypatch.setattr("reports.api.rankings.JSON_CHUNK_ROWS", 1)
    savepoints = list(connection.savepoint_ids)
    params = parse_ranking_params({"metric": "growth", "date_from": D1, "date_to": D2},
                                  user=viewer)
    ranking = ranking_json(communities=Community.objects.all(), params=params)
    stream = json_streamed({"count": ranking.count}, ranking)
    next(stream), next(stream)  # the head and the first row, then the client goes away
    assert connection.savepoint_ids != savepoints  # the ranking's transaction is open
    stream.close()  # what the server's close of the answer does
    assert connection.savepoint_ids == savepoints
    assert Community.objects.count() == 2


@pytest.mark.parametrize("url", [
    URL,
    f"/api/v1/rankings/file/?format=csv&metric=growth&date_from={D1}&date_to={D2}",
    f"/rankings/export.csv?metric=growth&date_from={D1}&date_to={D2}",
])
def test_an_answer_nobody_reads_leaves_no_transaction_open(url, api_as, login, regional,
                                                           grown):
    """The ranking's statement holds a transaction while its rows stream. Opened by the view,
    an unread answer kept it open until the garbage collector closed the stream — maybe inside
    the next test's transaction, whose rows then stayed behind. It opens as the answer is read."""
    savepoints = list(connection.savepoint_ids)
    client = login(regional) if url.startswith("/rankings/") else api_as(regional)
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    assert connection.savepoint_ids == savepoints  # nothing opened before the body is read
    body = b"".join(response.streaming_content)
    assert connection.savepoint_ids == savepoints  # read to the end: closed again
    assert grown["a"].url.encode() in body
