"""Bulk review: many reports, one action and one comment, each report on its own; the answer
says what changed and what was refused and why — on the list page and in the API."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.models import Report, ReportAction, ReportState
from tests.factories import CommunityFactory, InstitutionFactory
from tests.reports.helpers_table1 import FEBRUARY, MARCH, fill, report_in


@pytest.fixture
def submitted(territory_a):
    """Three submitted reports of territory A, each with figures."""
    reports = []
    for index in range(3):
        institution = InstitutionFactory(short_name=f"Клуб {index}", territory=territory_a)
        fill(CommunityFactory(institution=institution), MARCH)
        reports.append(report_in(institution, MARCH, ReportState.SUBMITTED))
    return reports


def test_the_municipal_user_accepts_the_selected_reports_at_once(submitted, municipal_a,
                                                                 login):
    page = login(municipal_a).post("/reports/bulk/", {
        "action": "accept", "report": [r.pk for r in submitted[:2]], "comment": "Сверено"})
    assert page.status_code == 200
    states = dict(Report.objects.values_list("pk", "state"))
    assert [states[r.pk] for r in submitted] == ["accepted", "accepted", "submitted"]
    assert page.context["outcome"].refused == []
    text = page.content.decode()
    assert "Изменено отчётов: <strong id=\"bulk-changed-count\">2</strong>" in text
    assert all(r.comments.get(action=ReportAction.ACCEPT).text == "Сверено"
               for r in submitted[:2])


def test_refusals_are_listed_with_their_reasons_and_do_not_stop_the_rest(
        submitted, institution_b, municipal_a, login):
    approved = report_in(submitted[0].institution, FEBRUARY, ReportState.APPROVED)
    foreign = report_in(institution_b, MARCH, ReportState.SUBMITTED)
    page = login(municipal_a).post("/reports/bulk/", {
        "action": "accept", "report": [approved.pk, submitted[1].pk, foreign.pk]})
    outcome = page.context["outcome"]
    assert [r.pk for r in outcome.changed] == [submitted[1].pk]
    reasons = {item.report_id: item.reason for item in outcome.refused}
    assert "в состоянии «утверждён»" in reasons[approved.pk]
    assert reasons[foreign.pk] == "Отчёт не найден или недоступен вам."
    assert Report.objects.get(pk=foreign.pk).state == ReportState.SUBMITTED


def test_returning_needs_one_reason_which_every_report_gets_and_editors_are_emailed(
        submitted, municipal_a, editor_a, login, django_capture_on_commit_callbacks):
    client = login(municipal_a)
    ids = [r.pk for r in submitted]
    refused = client.post("/reports/bulk/", {"action": "return", "report": ids}, follow=True)
    assert "Укажите причину возврата" in refused.content.decode()
    assert not Report.objects.filter(state=ReportState.RETURNED).exists()
    editor_a.email = "editor@example.org"
    editor_a.save()
    editor_a.profile.institutions.add(submitted[0].institution)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/reports/bulk/", {"action": "return", "report": ids,
                                       "comment": "Охват не совпадает со статистикой VK."})
    assert Report.objects.filter(state=ReportState.RETURNED).count() == 3
    assert len(mail.outbox) == 1  # one editor with an address, for their one institution
    assert "Охват не совпадает со статистикой VK." in mail.outbox[0].body
    assert "Клуб 0" in mail.outbox[0].subject


def test_all_matching_the_filter_means_every_page_not_only_the_one_shown(
        submitted, regional, territory_a, login):
    for report in submitted:
        Report.objects.filter(pk=report.pk).update(state=ReportState.ACCEPTED)
    other_month = report_in(submitted[0].institution, FEBRUARY, ReportState.ACCEPTED)
    page = login(regional).post("/reports/bulk/", {
        "action": "approve", "scope": "filter", "query": "state=accepted&month_from=2026-03"})
    assert len(page.context["outcome"].changed) == 3
    assert Report.objects.filter(state=ReportState.APPROVED).count() == 3
    assert Report.objects.get(pk=other_month.pk).state == ReportState.ACCEPTED


@pytest.mark.parametrize("persona", ["editor_a", "viewer", "outsider"])
def test_people_who_cannot_review_get_no_form_and_are_refused(persona, request, submitted,
                                                              login):
    client = login(request.getfixturevalue(persona))
    assert 'id="bulk-form"' not in client.get("/reports/").content.decode()
    response = client.post("/reports/bulk/", {"action": "accept",
                                              "report": [submitted[0].pk]})
    assert response.status_code == 403
    assert Report.objects.get(pk=submitted[0].pk).state == ReportState.SUBMITTED


def test_reviewers_see_the_bulk_form_with_their_actions_only(submitted, municipal_a, login):
    text = login(municipal_a).get("/reports/").content.decode()
    assert 'id="bulk-form"' in text and 'value="accept"' in text
    assert 'value="approve"' not in text


def test_the_api_bulk_endpoint_answers_changed_and_refused(submitted, municipal_a, api_as,
                                                           institution_b):
    foreign = report_in(institution_b, MARCH, ReportState.SUBMITTED)
    answer = api_as(municipal_a).post("/api/v1/reports/bulk/", {
        "action": "accept", "ids": [submitted[0].pk, foreign.pk], "comment": "ок"},
        format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [r["id"] for r in body["changed"]] == [submitted[0].pk]
    assert body["changed"][0]["state"] == "accepted"
    assert body["refused"] == [{"id": foreign.pk,
                                "reason": "Отчёт не найден или недоступен вам."}]


def test_the_api_bulk_endpoint_takes_a_filter(submitted, municipal_a, api_as):
    answer = api_as(municipal_a).post("/api/v1/reports/bulk/", {
        "action": "accept", "filter": {"state": ["submitted"], "month_from": "2026-03"}},
        format="json")
    assert answer.status_code == 200, answer.content
    assert len(answer.json()["changed"]) == 3


def test_the_api_refuses_read_only_roles(submitted, viewer, api_as):
    answer = api_as(viewer).post("/api/v1/reports/bulk/", {
        "action": "accept", "ids": [submitted[0].pk]}, format="json")
    assert answer.status_code == 403
    assert answer.json()["error"]["message"].startswith("Проверять отчёты могут")


# A report costs a fixed number of queries (lock, transition, history, comment), never more
# with the size of the batch.
PER_REPORT_QUERIES = 8


def _bulk_queries(client, ids: list[int]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/reports/bulk/", {"action": "accept", "ids": ids},
                               format="json")
    assert response.status_code == 200 and len(response.json()["changed"]) == len(ids)
    return len(queries)


def test_bulk_queries_grow_by_a_fixed_cost_per_report(territory_a, municipal_a, api_as):
    reports = []
    for index in range(7):
        institution = InstitutionFactory(short_name=f"Клуб {index}", territory=territory_a)
        fill(CommunityFactory(institution=institution), MARCH)
        reports.append(report_in(institution, MARCH, ReportState.SUBMITTED).pk)
    client = api_as(municipal_a)
    one = _bulk_queries(client, reports[:1])
    two = _bulk_queries(client, reports[1:3])
    four = _bulk_queries(client, reports[3:7])
    per_report = two - one
    assert per_report <= PER_REPORT_QUERIES
    assert four - two == 2 * per_report
