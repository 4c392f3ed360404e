"""The ranking pages as people use them: who may open what, what they see, how many queries."""

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
QUERY = f"?metric=growth&date_from={D1}&date_to={D2}"


@pytest.fixture
def grown(world):
    """Every community of the world has members on both dates; A grew most."""
    growth = {world["a"].pk: 50, world["b"].pk: 20}
    for community in Community.objects.all():
        MemberSnapshot.objects.create(community=community, date=D1, members=100)
        MemberSnapshot.objects.create(community=community, date=D2,
                                      members=100 + growth.get(community.pk, 0))
    return world


def test_anonymous_visitors_are_sent_to_login(client, grown):
    for url in ["/rankings/", "/rankings/export.xlsx", f"/rankings/why/{grown['a'].pk}/",
                "/charts/audience/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_a_user_without_a_role_is_refused(login, outsider, grown):
    client = login(outsider)
    for url in ["/rankings/", "/rankings/export.csv", f"/rankings/why/{grown['a'].pk}/",
                "/charts/audience/"]:
        assert client.get(url).status_code == 403, url


def test_the_regional_methodologist_sees_the_whole_region_ranked(login, regional, grown):
    response = login(regional).get("/rankings/" + QUERY)
    assert response.status_code == 200
    rows = response.context["ranking"].rows
    assert [(r.community_id, r.place, r.value) for r in rows] == [
        (grown["a"].pk, 1, 50), (grown["b"].pk, 2, 20)
    ]
    body = response.content.decode()
    assert "Прирост = участники на конечную дату − участники на начальную дату" in body
    assert "соревновательное ранжирование («1224»)" in body
    assert 'id="ranking-chart"' in body and "chart.umd.min.js" in body


def test_the_municipal_user_sees_only_its_territory(login, municipal_a, grown):
    rows = login(municipal_a).get("/rankings/" + QUERY).context["ranking"].rows
    assert {r.community_id for r in rows} == {grown["a"].pk}


def test_the_editor_sees_only_its_institution(login, editor_a, grown):
    rows = login(editor_a).get("/rankings/" + QUERY).context["ranking"].rows
    assert [r.community_id for r in rows] == [grown["a"].pk]


def test_places_among_a_readers_own_communities_are_said_to_be_so(
        login, api_as, regional, municipal_a, editor_a, grown):
    """«1st place» for an editor is first among its own institution's communities, not the
    region's: the page, its Excel file and the API say whose communities were ranked."""
    institution, territory = grown["a"].institution, grown["a"].institution.territory
    editor_line = (f"Места — среди сообществ ваших учреждений ({institution.short_name}), а не "
                   "всего региона. Место в рейтинге региона — в опубликованных рейтингах.")
    municipal_line = (f"Места — среди сообществ ваших территорий ({territory.name}), а не всего "
                      "региона.")
    for user, line in [(editor_a, editor_line), (municipal_a, municipal_line)]:
        client = login(user)
        assert line in client.get("/rankings/" + QUERY).content.decode()
        response = client.get("/rankings/export.xlsx" + QUERY)
        book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        assert line in [row[0] for row in book["Рейтинг"].iter_rows(values_only=True)]
        answer = json.loads(b"".join(api_as(user).get("/api/v1/rankings/" + QUERY)
                                     .streaming_content))
        assert answer["scope"] == line
    body = login(regional).get("/rankings/" + QUERY).content.decode()
    assert "Места — среди сообществ" not in body
    regional_answer = b"".join(api_as(regional).get("/api/v1/rankings/" + QUERY).streaming_content)
    assert json.loads(regional_answer)["scope"] is None


def test_a_bad_period_is_explained_not_crashed(login, regional, grown):
    response = login(regional).get(f"/rankings/?date_from={D2}&date_to={D1}")
    assert response.status_code == 400
    assert "Начальная дата периода позже конечной" in response.content.decode()


def test_the_ranking_page_query_count_does_not_grow_with_rows(
    login, regional, grown, institution_a, django_assert_num_queries
):
    client = login(regional)
    client.get("/rankings/" + QUERY)  # warm the session
    # session, user, profile; savepoint, planner settings, the ranking, release; territories
    # for the filter. No community lacks data, so no first-snapshot lookup.
    with django_assert_num_queries(9 - NO_PLANNER):
        client.get("/rankings/" + QUERY)
    for _ in range(15):
        community = CommunityFactory(institution=institution_a)
        MemberSnapshot.objects.create(community=community, date=D1, members=10)
        MemberSnapshot.objects.create(community=community, date=D2, members=11)
    with django_assert_num_queries(9 - NO_PLANNER):
        response = client.get("/rankings/" + QUERY)
    assert len(response.context["ranking"].rows) == 17


def test_why_this_place_shows_neighbours(login, regional, grown):
    response = login(regional).get(f"/rankings/why/{grown['b'].pk}/" + QUERY)
    assert response.status_code == 200
    [why] = response.context["explanations"]
    assert why.row.place == 2
    assert [r.community_id for r in why.above] == [grown["a"].pk]
    assert why.members_to_next_place == 31
    assert "31" in response.content.decode()


def test_why_for_an_institution_covers_each_of_its_communities(login, regional, grown,
                                                                  institution_a):
    second = CommunityFactory(institution=institution_a)
    response = login(regional).get(f"/rankings/why/institution/{institution_a.pk}/" + QUERY)
    assert response.status_code == 200
    explanations = response.context["explanations"]
    assert [e.row.community_id if e.row else e.missing_row.community_id
            for e in explanations] == [grown["a"].pk, second.pk]
    assert explanations[1].missing_row.reason == "Нет ни одной записи о числе участников"


def test_why_for_a_community_outside_the_scope_is_not_found(login, municipal_a, grown):
    assert login(municipal_a).get(f"/rankings/why/{grown['b'].pk}/" + QUERY).status_code == 404


def test_audience_chart_for_a_territory(login, municipal_a, grown, territory_a, territory_b):
    client = login(municipal_a)
    url = f"/charts/audience/?level=territory&id={territory_a.pk}&date_from={D1}&date_to={D2}"
    response = client.get(url)
    assert response.status_code == 200
    points = response.context["points"]
    # A: community A (100 → 150) and the regional institution's... none: only community A here
    assert [(p.date, p.members) for p in points] == [(D1, 100), (D2, 150)]
    assert 'id="audience-chart"' in response.content.decode()
    other = f"/charts/audience/?level=territory&id={territory_b.pk}"
    assert client.get(other).status_code == 404


def test_every_ranking_page_needs_a_login_and_a_role(client, login, outsider, grown,
                                                     institution_a):
    urls = ["/rankings/", "/rankings/export.xlsx", "/rankings/export.csv",
            f"/rankings/why/{grown['a'].pk}/", f"/rankings/why/institution/{institution_a.pk}/",
            "/charts/audience/", "/summaries/", "/summaries/export.xlsx", "/exports/"]
    roleless = login(outsider)
    for url in urls:
        assert client.get(url).status_code == 302, url
        assert roleless.get(url).status_code == 403, url
    for url in ["/rankings/publish/", "/exports/summaries/", "/exports/ranking/"]:
        assert client.post(url).status_code == 302, url
        assert roleless.post(url).status_code == 403, url


def test_every_ranking_endpoint_refuses_callers_without_a_role(api_as, outsider, grown,
                                                               territory_a):
    client = api_as(outsider)
    for url in ["/api/v1/rankings/", f"/api/v1/rankings/why/?community={grown['a'].pk}",
                f"/api/v1/summaries/?territory={territory_a.pk}"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"]["code"] == "permission_denied"


def test_the_why_page_query_count_does_not_grow(login, regional, grown, institution_a,
                                                django_assert_num_queries):
    client = login(regional)
    url = f"/rankings/why/{grown['b'].pk}/" + QUERY
    client.get(url)
    # session, user, profile, community; savepoint, planner settings, the ranking, release
    with django_assert_num_queries(9 - NO_PLANNER):
        client.get(url)
    for _ in range(10):
        community = CommunityFactory(institution=institution_a)
        MemberSnapshot.objects.create(community=community, date=D2, members=1)
    # + the first-snapshot dates of the ten communities without a row at the start
    with django_assert_num_queries(10 - NO_PLANNER):
        client.get(url)


def test_the_audience_chart_query_count_is_fixed(login, regional, grown, institution_a,
                                                 django_assert_num_queries):
    client = login(regional)
    url = f"/charts/audience/?date_from={D1}&date_to={D2}"
    client.get(url)
    # Session, user, profile, baseline, daily changes, communities that left in the range,
    # and the picker's three name lists.
    with django_assert_num_queries(9):
        client.get(url)
    for _ in range(10):
        community = CommunityFactory(institution=institution_a)
        MemberSnapshot.objects.create(community=community, date=D2, members=1)
    with django_assert_num_queries(9):
        client.get(url)


def test_a_long_list_without_data_is_cut_with_a_pointer_to_the_file(
        login, regional, grown, institution_a, monkeypatch):
    from reports.views import rankings as views

    monkeypatch.setattr(views, "MISSING_SHOWN", 2)
    client = login(regional)
    response = client.get("/rankings/" + QUERY)
    assert "ranking-missing-more" not in response.content.decode()  # none without data yet
    for _ in range(3):
        CommunityFactory(institution=institution_a)  # no member rows at all
    response = client.get("/rankings/" + QUERY)
    page = response.content.decode()
    assert len(response.context["ranking"].missing) == 3
    assert len(response.context["missing_shown"]) == 2
    assert "Показаны первые 2 из 3" in page and "/rankings/export.xlsx?" in page


def test_the_page_builds_only_the_rows_it_shows(login, regional, grown, institution_a,
                                                monkeypatch):
    from reports.views import rankings as views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for members in (10, 20, 30):
        community = CommunityFactory(institution=institution_a)
        MemberSnapshot.objects.create(community=community, date=D1, members=members)
        MemberSnapshot.objects.create(community=community, date=D2, members=members + 1)
    response = login(regional).get("/rankings/" + QUERY + "&page=2")
    ranking = response.context["ranking"]
    made = [row for row in ranking.rows._made if row is not None]
    assert len(ranking.rows) == 5 and len(made) == 2
    assert [r.place for r in response.context["page"]] == [3, 3]  # three grew by 1: a tie
    assert ranking.data_as_of == D2
