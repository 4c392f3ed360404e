"""The Table-1 pages: who sees what, entering figures, conflicts, actions, history."""

import re

import pytest
from django.urls import reverse

from metrics.choices import ValueSource
from metrics.models import MetricValue
from reports.models import Report, ReportState
from tests.factories import CommunityFactory, InstitutionFactory
from tests.reports.helpers_table1 import (
    FEBRUARY,
    MARCH,
    NORMAL,
    NORMAL_PREV,
    fill,
    report_in,
    stored,
)


def entry_url(institution, year=2026):
    return reverse("reports:entry", kwargs={"institution_id": institution.pk, "year": year})


def report_url(institution, month=MARCH):
    return reverse("reports:report", kwargs={"institution_id": institution.pk,
                                             "month": month.strftime("%Y-%m")})


def form_of(page: str) -> dict:
    """The entry form's fields as the browser would post them untouched."""
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    fields.update(re.findall(
        r'<input type="text" inputmode="numeric" autocomplete="off" name="([^"]+)" '
        r'value="([^"]*)"', page))
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def cell(community, month, indicator):
    return f"v-{community.pk}-{month:%Y-%m}-{indicator}"


# --- permissions ----------------------------------------------------------------------------

PAGES = ["reports:list", "reports:entry-index", "reports:completeness", "reports:upload"]


@pytest.mark.parametrize("name", PAGES)
def test_pages_need_a_login(name, client, db):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("who", ["regional", "municipal_a", "editor_a", "viewer", "outsider"])
def test_every_persona_opens_the_index_pages(name, who, world, login, request):
    assert login(request.getfixturevalue(who)).get(reverse(name)).status_code == 200


@pytest.mark.parametrize(("who", "status", "editable"), [
    ("editor_a", 200, True), ("regional", 200, True), ("municipal_a", 200, False),
    ("viewer", 200, False), ("outsider", 404, False),
])
def test_entry_page_scope(who, status, editable, world, institution_a, login, request):
    response = login(request.getfixturevalue(who)).get(entry_url(institution_a))
    assert response.status_code == status
    if status == 200:
        assert ('name="v-' in response.content.decode()) is editable


def test_editor_cannot_open_another_institution(world, institution_b, editor_a, login):
    client = login(editor_a)
    assert client.get(entry_url(institution_b)).status_code == 404
    assert client.get(report_url(institution_b)).status_code == 404
    assert client.get(reverse("reports:download", args=[institution_b.pk, 2026])
                      ).status_code == 404


def test_a_reader_cannot_post_figures(world, community_a, institution_a, municipal_a, login):
    response = login(municipal_a).post(entry_url(institution_a),
                                       {cell(community_a, MARCH, "visits"): "5"})
    assert response.status_code == 403
    assert not MetricValue.objects.exists()


def test_the_report_list_is_scoped(world, institution_a, institution_b, municipal_a, login):
    report_in(institution_a, MARCH, ReportState.SUBMITTED)
    report_in(institution_b, MARCH, ReportState.SUBMITTED)
    page = login(municipal_a).get(reverse("reports:list")).content.decode()
    assert "Дом культуры Алексеевки" in page and "Библиотека Бора" not in page


def test_the_report_list_query_count_does_not_grow(world, regional, login,
                                                   django_assert_max_num_queries):
    client = login(regional)
    for _ in range(30):
        institution = InstitutionFactory(territory=world["a"].institution.territory)
        report_in(institution, MARCH, ReportState.SUBMITTED)
    # session, user, profile, three filter dropdowns, count, page
    with django_assert_max_num_queries(8):
        response = client.get(reverse("reports:list"), {"state": "submitted"})
    assert response.content.decode().count("отправлен") >= 30


def test_entry_index_and_completeness_query_counts(world, regional, login,
                                                   django_assert_max_num_queries):
    client = login(regional)
    territory = world["a"].institution.territory
    for _ in range(20):
        report_in(InstitutionFactory(territory=territory), MARCH, ReportState.APPROVED)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("reports:entry-index")).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(reverse("reports:completeness"), {"month": "2026-03"}
                          ).status_code == 200


def test_the_entry_page_query_count_does_not_grow_with_communities(
        institution_a, editor_a, login, django_assert_max_num_queries):
    for _ in range(8):
        community = CommunityFactory(institution=institution_a)
        fill(community, MARCH)
        fill(community, FEBRUARY, NORMAL_PREV)
    client = login(editor_a)
    with django_assert_max_num_queries(9):
        assert client.get(entry_url(institution_a)).status_code == 200


# --- entering figures -----------------------------------------------------------------------


def test_editor_fills_the_table_on_the_page(community_a, institution_a, editor_a, login):
    client = login(editor_a)
    form = form_of(client.get(entry_url(institution_a)).content.decode())
    for indicator, value in NORMAL.items():
        form[cell(community_a, MARCH, indicator)] = f"{value:,}".replace(",", " ")
    response = client.post(entry_url(institution_a), form, follow=True)
    assert "Сохранено: изменено значений: 5" in response.content.decode()
    assert stored(community_a, MARCH) == NORMAL
    row = MetricValue.objects.get(community=community_a, month=MARCH, indicator="members")
    assert row.history.get().history_change_reason == "страница ввода; отчёт: нет отчёта"


def test_untouched_cells_are_not_written(community_a, institution_a, editor_a, login):
    fill(community_a, MARCH)
    before = MetricValue.history.count()
    client = login(editor_a)
    form = form_of(client.get(entry_url(institution_a)).content.decode())
    response = client.post(entry_url(institution_a), form, follow=True)
    assert "Изменений нет" in response.content.decode()
    assert MetricValue.history.count() == before
    assert not Report.objects.exists()


def test_a_hard_error_keeps_everything_typed(community_a, institution_a, editor_a, login):
    client = login(editor_a)
    form = form_of(client.get(entry_url(institution_a)).content.decode())
    form[cell(community_a, MARCH, "visits")] = "100"
    form[cell(community_a, MARCH, "unique_visitors")] = "150"
    form[cell(community_a, FEBRUARY, "members")] = "-4"
    response = client.post(entry_url(institution_a), form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "отрицательное число" in page
    assert f'name="{cell(community_a, MARCH, "unique_visitors")}" value="150"' in page
    assert f'name="{cell(community_a, MARCH, "visits")}" value="100"' in page
    assert not MetricValue.objects.exists()


def test_the_second_saver_gets_a_conflict_and_keeps_their_input(community_a, institution_a,
                                                                editor_a, regional, login):
    fill(community_a, MARCH)
    report_in(institution_a, MARCH, ReportState.DRAFT)
    first, second = login(editor_a), login(regional)
    form_first = form_of(first.get(entry_url(institution_a)).content.decode())
    form_second = form_of(second.get(entry_url(institution_a)).content.decode())
    form_first[cell(community_a, MARCH, "visits")] = "510"
    assert first.post(entry_url(institution_a), form_first).status_code == 302
    form_second[cell(community_a, MARCH, "visits")] = "520"
    form_second[cell(community_a, MARCH, "feedback")] = "44"
    response = second.post(entry_url(institution_a), form_second)
    page = response.content.decode()
    assert response.status_code == 409
    assert "данные изменил другой пользователь" in page
    assert f'name="{cell(community_a, MARCH, "visits")}" value="520"' in page
    assert f'name="{cell(community_a, MARCH, "feedback")}" value="44"' in page
    assert "в базе: 510" in page
    assert stored(community_a, MARCH)["visits"] == 510
    # Saving again after seeing the conflict is a deliberate overwrite, and it works.
    again = second.post(entry_url(institution_a), form_of(page))
    assert again.status_code == 302
    assert stored(community_a, MARCH)["visits"] == 520


@pytest.mark.parametrize("state", [ReportState.APPROVED, ReportState.SUBMITTED])
def test_a_closed_month_has_no_inputs_and_refuses_posts(state, community_a, institution_a,
                                                        editor_a, login):
    fill(community_a, MARCH)
    report = report_in(institution_a, MARCH, state)
    client = login(editor_a)
    page = client.get(entry_url(institution_a)).content.decode()
    assert cell(community_a, MARCH, "visits") not in page
    assert cell(community_a, FEBRUARY, "visits") in page
    response = client.post(entry_url(institution_a), {
        cell(community_a, MARCH, "visits"): "1", "o" + cell(community_a, MARCH, "visits")[1:]:
        "500", f"ver-{MARCH:%Y-%m}": str(report.version)})
    assert response.status_code == 423
    assert stored(community_a, MARCH) == NORMAL


def test_api_figures_are_marked_and_can_be_confirmed(community_a, institution_a, editor_a,
                                                     login):
    fill(community_a, MARCH, source=ValueSource.VK_API)
    client = login(editor_a)
    page = client.get(entry_url(institution_a)).content.decode()
    assert 'class="api-mark"' in page
    form = form_of(page)
    form["confirm"] = f"{community_a.pk}-2026-03"
    response = client.post(entry_url(institution_a), form, follow=True)
    assert "подтверждено значений из API: 5" in response.content.decode()
    assert set(MetricValue.objects.values_list("is_confirmed", flat=True)) == {True}


# --- the report page ------------------------------------------------------------------------


def test_report_page_shows_actions_by_role(world, community_a, institution_a, editor_a,
                                           municipal_a, regional, viewer, login):
    fill(community_a, MARCH)
    report_in(institution_a, MARCH, ReportState.SUBMITTED)
    municipal_page = login(municipal_a).get(report_url(institution_a)).content.decode()
    assert 'id="action-accept"' in municipal_page
    regional_page = login(regional).get(report_url(institution_a)).content.decode()
    assert 'id="action-return"' in regional_page and 'id="action-approve"' not in regional_page
    for reader in (editor_a, viewer):
        assert 'id="report-actions"' not in login(reader).get(report_url(institution_a)
                                                              ).content.decode()


def test_actions_through_the_page(community_a, institution_a, editor_a, municipal_a, login):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    fill(community_a, MARCH)
    report = report_in(institution_a, MARCH, ReportState.DRAFT)
    response = login(editor_a).post(reverse("reports:action", args=[report.pk, "submit"]),
                                    {"version": report.version})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    refused = login(municipal_a).post(reverse("reports:action", args=[report.pk, "return"]),
                                      {"version": report.version, "comment": " "})
    assert refused.status_code == 400
    assert "Укажите причину" in refused.content.decode()
    stale = login(municipal_a).post(reverse("reports:action", args=[report.pk, "accept"]),
                                    {"version": report.version - 1, "comment": "ок"})
    assert stale.status_code == 409
    assert "ок</textarea>" in stale.content.decode()
    assert Report.objects.get(pk=report.pk).state == ReportState.SUBMITTED


def test_an_editor_cannot_approve_through_the_page(community_a, institution_a, editor_a,
                                                   login):
    report = report_in(institution_a, MARCH, ReportState.ACCEPTED)
    response = login(editor_a).post(reverse("reports:action", args=[report.pk, "approve"]))
    assert response.status_code == 403
    assert Report.objects.get(pk=report.pk).state == ReportState.ACCEPTED


def test_reviewers_see_warnings_and_the_comment_that_answers_them(
        community_a, institution_a, editor_a, municipal_a, login):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    fill(community_a, MARCH, {**NORMAL, "members": 500})
    report = report_in(institution_a, MARCH, ReportState.DRAFT)
    login(editor_a).post(reverse("reports:action", args=[report.pk, "submit"]),
                         {"comment": "Почистили ботов"})
    page = login(municipal_a).get(report_url(institution_a)).content.decode()
    assert "Участников стало меньше на 49%" in page
    assert "Почистили ботов" in page


def test_value_history_is_one_click_from_the_report(community_a, institution_a, editor_a,
                                                    viewer, outsider, login):
    from reports.workflow.services import report_values_save

    report_values_save(user=editor_a, institution=institution_a,
                       cells={(community_a.pk, MARCH, "visits"): 400})
    report_values_save(user=editor_a, institution=institution_a,
                       cells={(community_a.pk, MARCH, "visits"): 450})
    value = MetricValue.objects.get(indicator="visits")
    url = reverse("reports:value-history", args=[value.pk])
    assert url in login(viewer).get(report_url(institution_a)).content.decode()
    page = login(viewer).get(url).content.decode()
    assert page.count("editor_a") >= 2 and "400" in page and "450" in page
    assert "страница ввода; отчёт: черновик" in page
    assert login(outsider).get(url).status_code == 404


def test_a_tampered_form_is_refused_whole_and_nothing_is_saved(community_a, institution_a,
                                                                editor_a, login):
    client = login(editor_a)
    form = form_of(client.get(entry_url(institution_a)).content.decode())
    form[f"v-{community_a.pk}-2026-03-visits"] = "100"
    form["ver-2026-03"] = "не число"
    response = client.post(entry_url(institution_a), form)
    assert response.status_code == 400
    assert "Форма повреждена" in response.content.decode()
    assert not MetricValue.objects.filter(community=community_a).exists()


def test_fields_of_another_institution_are_not_read(community_a, institution_a, editor_a,
                                                     world, login):
    other = CommunityFactory(institution=InstitutionFactory(territory=institution_a.territory))
    client = login(editor_a)
    form = form_of(client.get(entry_url(institution_a)).content.decode())
    form[f"v-{other.pk}-2026-03-visits"] = "100"
    assert client.post(entry_url(institution_a), form).status_code == 302
    assert not MetricValue.objects.filter(community=other).exists()
