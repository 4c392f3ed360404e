"""The values list API: plain rows that read exactly as the serializer writes them, and a count
taken from the per-community value counts only where that count is exact."""

import datetime as dt

import pytest
from django.utils import timezone

from metrics.choices import ValueSource
from metrics.models import MetricValue
from reports.api.values import ValueSerializer
from reports.models import ReportState
from tests.factories import CommunityFactory
from tests.reports.helpers_table1 import FEBRUARY, MARCH, fill, report_in

VALUES = "/api/v1/report-values/"


@pytest.fixture
def filled(world, institution_a, regional, community_a, community_b):
    """Two months of Table 1 for three communities, with API provenance on some cells."""
    extra = CommunityFactory(institution=institution_a, title="Второе сообщество ДК")
    for community in (community_a, community_b, extra):
        fill(community, FEBRUARY)
        fill(community, MARCH)
    MetricValue.objects.filter(community=community_a, month=MARCH, indicator="visits").update(
        api_value=512, api_source=ValueSource.VK_API, updated_by=regional,
        api_collected_at=dt.datetime(2026, 4, 1, 21, 30, 15, 123456, tzinfo=dt.UTC))
    MetricValue.objects.filter(community=community_b, month=FEBRUARY).update(value=None)
    return {"a": community_a, "b": community_b, "extra": extra}


def test_the_list_reads_exactly_as_the_serializer_writes(filled, regional, api_as, settings):
    settings.TIME_ZONE = "Asia/Vladivostok"  # not UTC, not the default: times move zone
    timezone.deactivate()
    body = api_as(regional).get(VALUES, {"page_size": 1000}).json()
    rows = MetricValue.objects.select_related("community").order_by(
        "-month", "community_id", "indicator")
    assert body["results"] == ValueSerializer(rows, many=True).data
    assert body["count"] == 30
    collected = next(r for r in body["results"] if r["api_value"] == 512)
    assert collected["api_collected_at"] == "2026-04-02T07:30:15.123456+10:00"
    assert collected["updated_by"] == regional.pk and collected["month"] == "2026-03"
    assert any(r["value"] is None for r in body["results"])


@pytest.mark.parametrize(("who", "communities"), [
    ("regional", {"a", "b", "extra"}),
    ("viewer", {"a", "b", "extra"}),
    ("municipal_a", {"a", "extra"}),
    ("editor_a", {"a", "extra"}),
    ("outsider", set()),
])
def test_each_persona_counts_what_it_can_list(who, communities, filled, api_as, request):
    body = api_as(request.getfixturevalue(who)).get(VALUES, {"page_size": 4}).json()
    assert body["count"] == 10 * len(communities)
    listed = api_as(request.getfixturevalue(who)).get(VALUES, {"page_size": 1000}).json()
    assert {r["community"] for r in listed["results"]} == {filled[k].pk for k in communities}
    assert len(listed["results"]) == body["count"]


@pytest.mark.parametrize(("query", "count"), [
    ({"territory": "A"}, 20),
    ({"institution": "A"}, 20),
    ({"community": "b"}, 10),
    ({"month_from": "2026-03"}, 15),
    ({"indicator": "visits", "community": "a"}, 2),
    ({"state": "submitted"}, 10),
    ({"territory": "A", "month_to": "2026-02"}, 10),
    ({"month_from": "", "territory": ""}, 30),
])
def test_filtered_counts_are_exact(query, count, filled, regional, api_as, territory_a,
                                   institution_a):
    report_in(institution_a, FEBRUARY, ReportState.SUBMITTED)
    names = {"A": territory_a.pk, "a": filled["a"].pk, "b": filled["b"].pk}
    if "institution" in query:
        names["A"] = institution_a.pk
    query = {k: names.get(v, v) for k, v in query.items()}
    body = api_as(regional).get(VALUES, {**query, "page_size": 3}).json()
    assert body["count"] == count
    everything = api_as(regional).get(VALUES, {**query, "page_size": 1000}).json()
    assert len(everything["results"]) == count


def test_the_last_page_and_the_links_follow_the_count(filled, regional, api_as):
    first = api_as(regional).get(VALUES, {"page_size": 7}).json()
    assert first["count"] == 30 and first["previous"] is None and "page=2" in first["next"]
    last = api_as(regional).get(VALUES, {"page_size": 7, "page": 5}).json()
    assert len(last["results"]) == 2 and last["next"] is None
    assert api_as(regional).get(VALUES, {"page_size": 7, "page": 6}).status_code == 404


def test_a_page_costs_the_same_few_queries_however_many_values(filled, regional, api_as,
                                                               django_assert_num_queries):
    client = api_as(regional)
    # token+user, profile, the count, the page
    with django_assert_num_queries(4):
        client.get(VALUES)
    for _ in range(5):
        fill(CommunityFactory(institution=filled["a"].institution), MARCH)
    with django_assert_num_queries(4):
        assert client.get(VALUES).json()["count"] == 55


@pytest.mark.parametrize(("query", "from_counts"), [
    ({}, True),
    ({"territory": "A"}, True),
    ({"month_from": "2026-03"}, False),
    ({"state": "draft"}, False),
])
def test_the_count_reads_the_kept_counts_only_when_communities_alone_narrow_the_list(
        query, from_counts, filled, regional, api_as, territory_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    query = {k: territory_a.pk if v == "A" else v for k, v in query.items()}
    with CaptureQueriesContext(connection) as queries:
        api_as(regional).get(VALUES, query)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] or "SUM(" in q["sql"]]
    assert len(counts) == 1
    assert ("metrics_valuecount" in counts[0]) is from_counts
