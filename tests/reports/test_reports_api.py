"""The reports API: scoping, filters, workflow actions, bulk upsert with dry run."""

import pytest

from metrics.models import MetricValue
from reports.models import Report, ReportState
from tests.factories import InstitutionFactory
from tests.reports.helpers_table1 import (
    FEBRUARY,
    MARCH,
    NORMAL,
    NORMAL_PREV,
    fill,
    report_in,
    stored,
)

REPORTS = "/api/v1/reports/"
VALUES = "/api/v1/report-values/"
BULK = "/api/v1/report-values/bulk/"


@pytest.fixture
def reports(world, institution_a, institution_b, regional_institution):
    return {
        "a": report_in(institution_a, MARCH, ReportState.SUBMITTED),
        "a_feb": report_in(institution_a, FEBRUARY, ReportState.APPROVED),
        "b": report_in(institution_b, MARCH, ReportState.DRAFT),
        "regional": report_in(regional_institution, MARCH, ReportState.ACCEPTED),
    }


def ids(body) -> set[int]:
    return {row["id"] for row in body["results"]}


@pytest.mark.parametrize(("who", "expected"), [
    ("regional", {"a", "a_feb", "b", "regional"}),
    ("viewer", {"a", "a_feb", "b", "regional"}),
    ("api_client_user", {"a", "a_feb", "b", "regional"}),
    ("municipal_a", {"a", "a_feb", "regional"}),
    ("editor_a", {"a", "a_feb"}),
    ("outsider", set()),
])
def test_reports_are_scoped(who, expected, reports, api_as, request):
    body = api_as(request.getfixturevalue(who)).get(REPORTS).json()
    assert ids(body) == {reports[k].pk for k in expected}


def test_anonymous_gets_401(client, db):
    assert client.get(REPORTS).status_code == 401
    assert client.post(BULK, {}, content_type="application/json").status_code == 401


def test_a_report_outside_the_scope_is_404(reports, editor_a, api_as):
    assert api_as(editor_a).get(f"{REPORTS}{reports['b'].pk}/").status_code == 404
    response = api_as(editor_a).post(f"{REPORTS}{reports['b'].pk}/submit/")
    assert response.status_code == 404


@pytest.mark.parametrize(("query", "expected"), [
    ({"state": "submitted"}, {"a"}),
    ({"state": ["submitted", "draft"]}, {"a", "b"}),
    ({"month_from": "2026-03"}, {"a", "b", "regional"}),
    ({"month_to": "2026-02"}, {"a_feb"}),
    ({"territory": "B"}, {"b"}),
    ({"institution": "A"}, {"a", "a_feb"}),
    ({"community": "cB"}, {"b"}),
])
def test_report_filters(query, expected, reports, regional, api_as, world, territory_b,
                        institution_a):
    names = {"B": territory_b.pk, "A": institution_a.pk, "cB": world["b"].pk}
    query = {k: names.get(v, v) if isinstance(v, str) else v for k, v in query.items()}
    body = api_as(regional).get(REPORTS, query).json()
    assert ids(body) == {reports[k].pk for k in expected}


def test_a_bad_month_filter_is_a_400_in_russian(reports, regional, api_as):
    response = api_as(regional).get(REPORTS, {"month_from": "март"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"


def test_the_list_query_count_does_not_grow(world, regional, api_as,
                                            django_assert_max_num_queries):
    client = api_as(regional)
    client.get(REPORTS)  # token and profile warm-up is per request anyway
    for _ in range(25):
        report_in(InstitutionFactory(territory=world["a"].institution.territory), MARCH,
                  ReportState.SUBMITTED)
    with django_assert_max_num_queries(5):
        body = client.get(REPORTS).json()
    assert body["count"] == 25


def test_the_values_list_is_scoped_filtered_and_cheap(world, community_a, community_b,
                                                      municipal_a, api_as,
                                                      django_assert_max_num_queries):
    fill(community_a, MARCH)
    fill(community_b, MARCH)
    report_in(community_a.institution, MARCH, ReportState.SUBMITTED)
    client = api_as(municipal_a)
    with django_assert_max_num_queries(5):
        body = client.get(VALUES, {"month_from": "2026-03", "month_to": "2026-03"}).json()
    assert {row["community"] for row in body["results"]} == {community_a.pk}
    assert body["count"] == 5
    submitted = client.get(VALUES, {"state": "submitted", "indicator": "visits"}).json()
    assert [(r["indicator"], r["value"], r["month"]) for r in submitted["results"]] == [
        ("visits", 500, "2026-03")]
    assert client.get(VALUES, {"state": "approved"}).json()["count"] == 0


def test_the_whole_journey_through_the_api(community_a, institution_a, editor_a, municipal_a,
                                           regional, api_as):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    report = report_in(institution_a, MARCH, ReportState.DRAFT)
    answer = api_as(editor_a).post(BULK, {"values": [
        {"community": community_a.pk, "month": "2026-03", "indicator": k, "value": v,
         "version": report.version} for k, v in NORMAL.items()]}, format="json")
    assert answer.status_code == 200 and answer.json()["changed"] == 5
    version = answer.json()["versions"][0]["version"]
    submitted = api_as(editor_a).post(f"{REPORTS}{report.pk}/submit/", {"version": version},
                                      format="json")
    assert submitted.json()["state"] == "submitted"
    assert api_as(municipal_a).get(f"{REPORTS}{report.pk}/").json()["actions"] == [
        "accept", "return"]
    api_as(municipal_a).post(f"{REPORTS}{report.pk}/accept/")
    approved = api_as(regional).post(f"{REPORTS}{report.pk}/approve/").json()
    assert approved["state"] == "approved" and approved["approved_by"] == regional.pk
    detail = api_as(regional).get(f"{REPORTS}{report.pk}/").json()
    assert [c["action"] for c in detail["comments"]] == ["submit", "accept", "approve"]
    row = MetricValue.objects.get(community=community_a, month=MARCH, indicator="visits")
    assert row.history.get().history_change_reason == "API портала; отчёт: черновик"


def test_refusals_have_the_one_error_shape(community_a, institution_a, editor_a, regional,
                                          api_as):
    fill(community_a, MARCH)
    report = report_in(institution_a, MARCH, ReportState.SUBMITTED)
    forbidden = api_as(editor_a).post(f"{REPORTS}{report.pk}/approve/")
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    no_reason = api_as(regional).post(f"{REPORTS}{report.pk}/return/", {"comment": ""})
    assert no_reason.status_code == 400
    assert "Укажите причину" in no_reason.json()["error"]["message"]
    stale = api_as(regional).post(f"{REPORTS}{report.pk}/return/",
                                  {"comment": "нет", "version": report.version + 5})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    wrong_state = api_as(regional).post(f"{REPORTS}{report.pk}/reopen/", {"comment": "x"})
    assert wrong_state.status_code == 409
    assert Report.objects.get(pk=report.pk).state == ReportState.SUBMITTED


def test_dry_run_answers_what_would_change_without_writing(community_a, institution_a,
                                                          editor_a, api_as):
    fill(community_a, MARCH)
    payload = {"values": [
        {"community": community_a.pk, "month": "2026-03", "indicator": "visits", "value": 600},
        {"community": community_a.pk, "month": "2026-03", "indicator": "members",
         "value": 1000},
        {"community": community_a.pk, "month": "2026-04", "indicator": "members", "value": 7},
    ]}
    before = MetricValue.history.count()
    body = api_as(editor_a).post(f"{BULK}?dry_run=true", payload, format="json").json()
    assert body["dry_run"] is True and body["changed"] == 2
    assert {(c["month"], c["indicator"], c["old"], c["new"]) for c in body["changes"]} == {
        ("2026-03", "visits", 500, 600), ("2026-04", "members", None, 7)}
    assert stored(community_a, MARCH) == NORMAL
    assert MetricValue.history.count() == before
    assert not Report.objects.exists()


def test_bulk_is_all_or_nothing_across_institutions(community_a, community_b, regional,
                                                    api_as):
    payload = {"values": [
        {"community": community_a.pk, "month": "2026-03", "indicator": "visits", "value": 10},
        {"community": community_b.pk, "month": "2026-03", "indicator": "visits", "value": -1},
    ]}
    response = api_as(regional).post(BULK, payload, format="json")
    assert response.status_code == 400
    assert "отрицательное" in response.json()["error"]["message"]
    assert not MetricValue.objects.exists()


def test_bulk_refuses_an_approved_month(community_a, institution_a, editor_a, api_as):
    fill(community_a, MARCH)
    report_in(institution_a, MARCH, ReportState.APPROVED)
    response = api_as(editor_a).post(BULK, {"values": [
        {"community": community_a.pk, "month": "2026-03", "indicator": "visits", "value": 1}]},
        format="json")
    assert response.status_code == 423 and response.json()["error"]["code"] == "locked"
    assert stored(community_a, MARCH) == NORMAL


def test_bulk_with_a_stale_version_is_a_conflict(community_a, institution_a, editor_a, api_as):
    fill(community_a, MARCH)
    report = report_in(institution_a, MARCH, ReportState.DRAFT)
    item = {"community": community_a.pk, "month": "2026-03", "indicator": "visits",
            "version": report.version}
    assert api_as(editor_a).post(BULK, {"values": [{**item, "value": 510}]},
                                 format="json").status_code == 200
    second = api_as(editor_a).post(BULK, {"values": [{**item, "value": 520}]}, format="json")
    assert second.status_code == 409
    assert stored(community_a, MARCH)["visits"] == 510


@pytest.mark.parametrize("who", ["api_client_user", "viewer", "municipal_a"])
def test_readers_cannot_write_through_the_api(who, community_a, api_as, request):
    response = api_as(request.getfixturevalue(who)).post(BULK, {"values": [
        {"community": community_a.pk, "month": "2026-03", "indicator": "visits", "value": 1}]},
        format="json")
    assert response.status_code == 403
    assert not MetricValue.objects.exists()


def test_bulk_cannot_reach_outside_the_scope(community_b, editor_a, api_as):
    response = api_as(editor_a).post(BULK, {"values": [
        {"community": community_b.pk, "month": "2026-03", "indicator": "visits", "value": 1}]},
        format="json")
    assert response.status_code == 400 and "не найдены" in response.json()["error"]["message"]
    assert not MetricValue.objects.exists()
