"""«Мои задачи»: each role lands on what it should do now, in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from institutions.choices import Role
from institutions.models import Community, Institution
from metrics.choices import Indicator
from metrics.models import NetworkToken
from metrics.tokens import token_register
from portal.lib.months import add_months, month_label
from reports.models import ReportAction, ReportComment, ReportState
from tests.factories import CommunityFactory, InstitutionFactory, ProfileFactory
from tests.reports.helpers_table1 import NORMAL, fill, report_in

REASON = "Посещения за октябрь меньше уникальных посетителей — проверьте «Статистику» VK."


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def joined_months_ago(*objects, months: int = 4) -> None:
    """Backdate registry entries: they joined ``months`` months ago."""
    moment = timezone.make_aware(dt.datetime.combine(add_months(this_month(), -months),
                                                     dt.time(12)))
    for obj in objects:
        type(obj).objects.filter(pk=obj.pk).update(created_at=moment)


def returned_with_reason(institution, month, author):
    report = report_in(institution, month, ReportState.RETURNED)
    ReportComment.objects.create(report=report, action=ReportAction.RETURN,
                                 from_state=ReportState.SUBMITTED,
                                 to_state=ReportState.RETURNED, text=REASON, author=author)
    return report


def test_the_editor_sees_each_open_month_with_what_is_missing_and_the_reason(
        community_a, institution_a, editor_a, municipal_a, login):
    joined_months_ago(institution_a, community_a)
    last, before = add_months(this_month(), -1), add_months(this_month(), -2)
    fill(community_a, last, {Indicator.MEMBERS: 1000})
    returned_with_reason(institution_a, before, municipal_a)
    page = login(editor_a).get("/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Мои задачи" in text
    assert REASON in text  # the reason in full
    assert f"/table1/{institution_a.pk}/{last.year}/?month={last:%Y-%m}" in text
    assert "посещения" in text  # last month lacks everything but members
    assert f"{add_months(last, 1).replace(day=5):%d.%m.%Y}" in text  # its deadline
    tasks = page.context["tasks"][0].months
    assert [t.month for t in tasks][-2:] == [before, last]
    assert tasks[-2].reason.text == REASON


def test_months_before_joining_the_registry_are_not_tasks(community_a, institution_a,
                                                         editor_a, login):
    page = login(editor_a).get("/")  # joined today: last month was never due
    assert page.context["tasks"][0].months == []
    assert "Открытых месяцев нет" in page.content.decode()


def test_approved_months_leave_the_list(community_a, institution_a, editor_a, login):
    joined_months_ago(institution_a, community_a, months=1)
    last = add_months(this_month(), -1)
    fill(community_a, last, NORMAL)
    report_in(institution_a, last, ReportState.APPROVED)
    assert login(editor_a).get("/").context["tasks"][0].months == []


def test_the_municipal_user_sees_reports_waiting_for_acceptance(
        world, institution_a, regional_institution, institution_b, municipal_a, login):
    last = add_months(this_month(), -1)
    report_in(institution_a, last, ReportState.SUBMITTED)
    report_in(regional_institution, last, ReportState.SUBMITTED)  # no municipal step
    report_in(institution_b, last, ReportState.SUBMITTED)  # another territory
    page = login(municipal_a).get("/")
    assert [r.institution for r in page.context["waiting"]] == [institution_a]
    text = page.content.decode()
    assert "Ждут вашего принятия: 1" in text
    assert "/reports/?state=submitted" in text
    assert "Полнота:" in text and "своевременность" in text


def test_the_methodologist_sees_approvals_overdue_territories_and_collection_health(
        world, institution_a, regional_institution, community_a, regional, login):
    joined_months_ago(institution_a, regional_institution, community_a, months=3)
    last = add_months(this_month(), -1)
    report_in(institution_a, add_months(last, -1), ReportState.ACCEPTED)
    report_in(regional_institution, last, ReportState.SUBMITTED)
    token = token_register(user=None, network="vk", kind="community", secret="dead-token-1",
                           label="Ключ ДК", community_ids=[community_a.pk], check=False)
    NetworkToken.objects.filter(pk=token.pk).update(
        is_active=False, disabled_reason="Ключ отозван администратором сообщества",
        disabled_at=timezone.now())
    page = login(regional).get("/")
    assert {r.institution for r in page.context["waiting"]} == {institution_a,
                                                                regional_institution}
    health = page.context["health"]
    assert [t.label for t in health.dead_tokens] == ["Ключ ДК"]
    assert health.without_stats_token == Community.objects.active().count()
    text = page.content.decode()
    assert "Ключ отозван администратором сообщества" in text
    assert "Сбор из VK и OK" in text


@pytest.mark.parametrize("persona", ["viewer", "api_client_user"])
def test_readers_are_told_what_they_may_read(persona, request, login, world):
    text = login(request.getfixturevalue(persona)).get("/").content.decode()
    assert "Что вам доступно" in text and "только чтение" in text
    assert "None" not in text


# --- query guards: more institutions, reports and comments cost no more queries -------------

def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def _grow(territory, editor, author, n: int) -> None:
    last = add_months(this_month(), -1)
    for index in range(n):
        institution = InstitutionFactory(short_name=f"Клуб {index}", territory=territory)
        community = CommunityFactory(institution=institution, title=f"Клуб {index} VK")
        joined_months_ago(institution, community)
        fill(community, last, {Indicator.MEMBERS: 10 + index})
        returned_with_reason(institution, add_months(last, -1), author)
        report_in(institution, last, ReportState.SUBMITTED)
        editor.profile.institutions.add(institution)


@pytest.mark.parametrize("persona", ["editor_a", "municipal_a", "regional"])
def test_home_pages_cost_a_constant_number_of_queries(persona, request, territory_a,
                                                      editor_a, regional, login):
    user = request.getfixturevalue(persona)
    _grow(territory_a, editor_a, regional, 1)
    few = _queries(login(user))
    _grow(territory_a, editor_a, regional, 4)
    assert Institution.objects.count() >= 6
    assert _queries(login(user)) == few


def test_no_role_means_no_tasks_and_a_clear_message(outsider, login):
    text = login(outsider).get("/").content.decode()
    assert "не назначена роль" in text


def test_the_return_reason_is_the_latest_one(community_a, institution_a, editor_a,
                                            municipal_a, login):
    joined_months_ago(institution_a, community_a)
    month = add_months(this_month(), -2)
    report = returned_with_reason(institution_a, month, municipal_a)
    ReportComment.objects.create(report=report, action=ReportAction.RETURN,
                                 from_state=ReportState.SUBMITTED,
                                 to_state=ReportState.RETURNED, text="Второй возврат: охват.",
                                 author=municipal_a)
    tasks = login(editor_a).get("/").context["tasks"][0].months
    assert next(t for t in tasks if t.month == month).reason.text == "Второй возврат: охват."
    assert month_label(month) in login(editor_a).get("/").content.decode().lower()


def test_a_second_editor_profile_sees_only_their_institutions(world, institution_b, login):
    other = ProfileFactory(user__username="editor_b", role=Role.EDITOR,
                           institutions=[institution_b]).user
    tasks = login(other).get("/").context["tasks"]
    assert [t.institution for t in tasks] == [institution_b]


def test_the_editor_sees_where_their_communities_stand_in_published_rankings(
        world, community_a, editor_a, regional, login):
    from django.http import QueryDict

    from reports.rankings.forms import parse_ranking_params
    from reports.rankings.publishing import ranking_publish
    from tests.factories import MemberSnapshotFactory

    for community, members in ((community_a, (600, 700)), (world["b"], (600, 900))):
        MemberSnapshotFactory(community=community, date=dt.date(2026, 1, 1), members=members[0])
        MemberSnapshotFactory(community=community, date=dt.date(2026, 1, 31),
                              members=members[1])
    params = parse_ranking_params(
        QueryDict("metric=growth&date_from=2026-01-01&date_to=2026-01-31"), user=regional)
    ranking_publish(user=regional, params=params, title="Прирост за январь",
                    slug="growth-january", methodology="Прирост участников за месяц.")
    page = login(editor_a).get("/")
    standings = page.context["standings"]
    assert [(s.community_title, s.place, s.of) for s in standings] == [
        (community_a.title, 2, 2)]  # region-wide place, not among the editor's own only
    text = page.content.decode()
    assert "2 из 2" in text and f"/rankings/why/{community_a.pk}/?" in text
    assert "Библиотека Бора" not in text  # other communities' lines are not shown


def test_the_methodologist_sees_reports_sent_with_unusual_figures(
        community_a, institution_a, editor_a, municipal_a, regional, login):
    from reports.workflow.services import report_accept, report_submit
    from tests.reports.helpers_table1 import NORMAL_PREV

    previous, month = add_months(this_month(), -3), add_months(this_month(), -2)
    fill(community_a, previous, NORMAL_PREV)
    fill(community_a, month, {**NORMAL, Indicator.VISITS: 50_000})
    report = report_in(institution_a, month, ReportState.DRAFT)
    report_submit(user=editor_a, report_id=report.pk, comment="Был районный фестиваль.")
    report_accept(user=municipal_a, report_id=report.pk)
    page = login(regional).get("/")
    assert [c.report for c in page.context["anomalies"]] == [report]
    text = page.content.decode()
    assert "Был районный фестиваль." in text and month_label(month) in text


def test_only_an_admins_user_token_covers_a_community_for_statistics(world, community_a,
                                                                    regional, login):
    """A community token cannot read statistics (VK answers error 27), a user token can."""
    before = login(regional).get("/").context["health"].without_stats_token
    token_register(user=None, network="vk", kind="community", secret="community-key-1",
                   label="Ключ сообщества", community_ids=[community_a.pk], check=False)
    assert login(regional).get("/").context["health"].without_stats_token == before
    token_register(user=None, network="vk", kind="user", secret="admin-user-key-1",
                   label="Ключ администратора", community_ids=[community_a.pk], check=False)
    assert login(regional).get("/").context["health"].without_stats_token == before - 1
