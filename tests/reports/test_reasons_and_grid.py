"""Reasons where people look (report page, grid) and a grid that says where everything is."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from institutions.choices import Network
from metrics.choices import Indicator
from reports.models import ReportAction, ReportComment, ReportState
from reports.workflow.services import report_return, report_submit
from tests.factories import CommunityFactory
from tests.reports.helpers_table1 import FEBRUARY, MARCH, NORMAL, NORMAL_PREV, fill, report_in

REASON = "Охват за март не совпадает со «Статистикой»: пришлите снимок экрана."


def _returned(institution, municipal, month=MARCH, text=REASON):
    report = report_in(institution, month, ReportState.SUBMITTED)
    return report_return(user=municipal, report_id=report.pk, comment=text)


def test_the_report_page_shows_the_return_reason_and_who_did_what(
        community_a, institution_a, editor_a, municipal_a, login):
    fill(community_a, MARCH)
    report = report_in(institution_a, MARCH, ReportState.DRAFT)
    report_submit(user=editor_a, report_id=report.pk)
    report_return(user=municipal_a, report_id=report.pk, comment=REASON)
    text = login(editor_a).get(f"/reports/{institution_a.pk}/2026-03/").content.decode()
    reason_box = text[text.index('id="return-reason"'):text.index("</section>",
                                                                   text.index('id="return-reason"'))]
    assert "Охват за март не совпадает" in reason_box
    assert "municipal_a" in reason_box
    trail = text[text.index('id="report-trail"'):]
    assert "editor_a" in trail and "отправить" in trail and "вернуть на доработку" in trail


def test_the_grid_shows_a_general_reason_above_every_community(
        community_a, institution_a, editor_a, municipal_a, login):
    _returned(institution_a, municipal_a)
    text = login(editor_a).get(f"/table1/{institution_a.pk}/2026/").content.decode()
    grid_reasons = text.index('id="grid-reasons"')
    assert grid_reasons < text.index('class="card table1-block"')
    assert "Охват за март" in text[grid_reasons:text.index('class="card table1-block"')]


def test_a_reason_naming_a_community_sits_above_that_community(
        community_a, institution_a, editor_a, municipal_a, login):
    other = CommunityFactory(institution=institution_a, title="ДК Алексеевки в ОК",
                             network=Network.OK, url="https://ok.ru/group/123")
    _returned(institution_a, municipal_a, text="ДК Алексеевки в ОК: посещения завышены.")
    text = login(editor_a).get(f"/table1/{institution_a.pk}/2026/").content.decode()
    assert 'id="grid-reasons"' not in text
    block = text[text.index(f'data-community="{other.pk}"'):]
    assert "посещения завышены" in block[:block.index("<table")]
    first = text[text.index(f'data-community="{community_a.pk}"'):]
    assert "посещения завышены" not in first[:first.index("<table")]


def test_each_community_heading_names_its_network_and_address(
        community_a, institution_a, editor_a, login):
    twin = CommunityFactory(institution=institution_a, title=community_a.title,
                            network=Network.OK, url="https://ok.ru/group/555")
    text = login(editor_a).get(f"/table1/{institution_a.pk}/2026/").content.decode()
    assert "социальной сети «Одноклассники»" in text
    assert twin.url in text and community_a.url in text
    assert f'aria-label="{community_a.title}: Посещения' in text


def test_warnings_in_the_grid_name_the_community_and_the_month(
        community_a, institution_a, editor_a, login):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    fill(community_a, MARCH, {**NORMAL, Indicator.VISITS: 50_000})
    report_in(institution_a, MARCH, ReportState.DRAFT)
    text = login(editor_a).get(f"/table1/{institution_a.pk}/2026/").content.decode()
    warnings = text[text.index("community-warnings"):]
    assert f"{community_a.title} (" in warnings and "март 2026" in warnings


def test_the_grid_opens_at_the_month_asked_for_or_the_first_open_one(
        community_a, institution_a, editor_a, login):
    client = login(editor_a)
    asked = client.get(f"/table1/{institution_a.pk}/2026/?month=2026-03")
    assert asked.context["focus_month"] == "2026-03"
    report_in(institution_a, dt.date(2026, 1, 1), ReportState.APPROVED)
    today = timezone.localdate()
    default = client.get(f"/table1/{institution_a.pk}/{today.year}/")
    # Joined today: the grid opens at this month, not at January.
    assert default.context["focus_month"] == f"{today:%Y-%m}"
    assert 'data-focus-month="' in default.content.decode()


def test_the_trail_keeps_the_warnings_the_editor_answered_with_where(
        community_a, institution_a, editor_a):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    fill(community_a, MARCH, {**NORMAL, Indicator.VISITS: 50_000})
    report = report_in(institution_a, MARCH, ReportState.DRAFT)
    report_submit(user=editor_a, report_id=report.pk, comment="Был фестиваль.")
    stored = ReportComment.objects.get(report=report, action=ReportAction.SUBMIT).warnings
    assert stored and all("март 2026" in w["text"] and community_a.title in w["text"]
                          for w in stored)
