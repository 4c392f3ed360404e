"""History as it was: a deletion and a rename seen today change nothing of an earlier period.

The collection's own write path marks a community deleted and renamed; every figure and name of
July–August (ranking, chart point, summary, its Excel file) must stay as it was, while a period
ending today shows the community as it is now.
"""

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from institutions.choices import CommunityState
from institutions.models import Community, CommunityHistory
from metrics.collect.fetch import BatchResult
from metrics.collect.store import update_communities
from metrics.models import MemberSnapshot, MetricValue
from reports.exports.summary import summary_sheet
from reports.exports.xlsx import workbook_bytes
from reports.models import Report, ReportState
from reports.rankings import RankingParams, ranking_compute
from reports.rankings.audience import audience_series
from reports.summaries.selectors import territory_summary
from tests.factories import CommunityFactory

JULY, AUGUST = dt.date(2026, 7, 1), dt.date(2026, 8, 1)
PERIOD = dict(date_from=JULY, date_to=dt.date(2026, 8, 31))


@pytest.fixture
def past(institution_a):
    """Three communities with daily members over the summer and approved Table-1 values."""
    communities = [CommunityFactory(institution=institution_a, title=f"ДК Лето №{n}")
                   for n in range(3)]
    for n, community in enumerate(communities):
        MemberSnapshot.objects.bulk_create(
            MemberSnapshot(community=community, date=JULY + dt.timedelta(days=d),
                           members=1000 * (n + 1) + d * (n + 2)) for d in range(0, 62, 3))
        for month in (JULY, AUGUST):
            MetricValue.objects.create(community=community, month=month, indicator="visits",
                                       value=100 * (n + 1))
    for month in (JULY, AUGUST):
        Report.objects.create(institution=institution_a, month=month,
                              state=ReportState.APPROVED)
    return communities


def _figures(user, territory):
    """Everything a reader of July–August sees, as plain comparable data."""
    scope = Community.objects.filter(institution__territory=territory)
    rankings = {}
    for metric in ("growth", "members", "t1_visits"):
        ranking = ranking_compute(communities=scope, params=RankingParams(metric=metric,
                                                                          **PERIOD))
        rankings[metric] = ([(r.community_title, r.value, r.place) for r in ranking.rows],
                            [(r.community_title, r.reason) for r in ranking.missing])
    chart = audience_series(communities=scope, **PERIOD)
    summary = territory_summary(user=user, territory=territory, **PERIOD)
    lines = [(c.title, c.state, c.figures, c.members_start, c.members_end)
             for i in summary.institutions for c in i.communities]
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes([summary_sheet(summary)])))
    sheet = list(book.worksheets[0].iter_rows(values_only=True))
    return {"rankings": rankings, "chart": chart, "summary": (lines, summary.totals),
            "sheet": sheet}


def test_a_deletion_and_a_rename_seen_today_leave_the_summer_as_it_was(regional, territory_a,
                                                                       past):
    before = _figures(regional, territory_a)
    assert len(before["rankings"]["growth"][0]) == 3 and before["chart"]

    gone = past[0]
    result = BatchResult()
    result.community_fields[gone.pk] = {"state": CommunityState.DELETED,
                                        "title": "Дом культуры №4670"}
    update_communities(result)  # what the collection writes when it finds the change

    gone.refresh_from_db()
    assert (gone.state, gone.title) == (CommunityState.DELETED, "Дом культуры №4670")
    assert list(CommunityHistory.objects.filter(community=gone).values_list(
        "state", "title")) == [(CommunityState.ACTIVE, "ДК Лето №0"),
                               (CommunityState.DELETED, "Дом культуры №4670")]
    after = _figures(regional, territory_a)
    assert after["rankings"] == before["rankings"]
    assert after["chart"] == before["chart"]
    assert after["summary"] == before["summary"]
    assert after["sheet"] == before["sheet"]

    today = timezone.localdate()
    now = ranking_compute(communities=Community.objects.all(), params=RankingParams(
        metric="members", date_from=today - dt.timedelta(days=7), date_to=today))
    [row] = [r for r in now.missing if r.community_id == gone.pk]
    assert row.community_title == "Дом культуры №4670" and row.reason == "Сообщество удалено"


def test_the_chart_drops_a_community_on_the_day_it_was_deleted(institution_a):
    staying, leaving = (CommunityFactory(institution=institution_a) for _ in range(2))
    days = [JULY + dt.timedelta(days=d) for d in range(10)]
    for day in days:
        MemberSnapshot.objects.create(community=staying, date=day, members=500)
        if day < days[5]:
            MemberSnapshot.objects.create(community=leaving, date=day, members=300)
    CommunityHistory.objects.create(community=leaving, valid_from=dt.date(1900, 1, 1),
                                    state=CommunityState.ACTIVE, title=leaving.title)
    CommunityHistory.objects.create(community=leaving, valid_from=days[5],
                                    state=CommunityState.DELETED, title=leaving.title)
    Community.objects.filter(pk=leaving.pk).update(state=CommunityState.DELETED)
    points = audience_series(communities=Community.objects.all(), date_from=days[1],
                             date_to=days[-1])
    assert [p.members for p in points] == [800] * 4 + [500] * 5


def test_a_rename_by_hand_in_the_admin_is_dated_too(rf, admin_user, community_a):
    from types import SimpleNamespace

    from django.contrib import admin

    from institutions.admin import CommunityAdmin

    old = community_a.title
    community_a.title = "Новое имя от методиста"
    request = rf.post("/")
    request.user = admin_user
    CommunityAdmin(Community, admin.site).save_model(
        request, community_a, SimpleNamespace(changed_data=["title"]), True)
    rows = list(CommunityHistory.objects.filter(community=community_a)
                .values_list("valid_from", "title"))
    assert rows == [(dt.date(1900, 1, 1), old),
                    (timezone.localdate(), "Новое имя от методиста")]
    july = Community.objects.filter(pk=community_a.pk).as_of(JULY).get()
    assert july.title_then == old
