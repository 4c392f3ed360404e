"""Rankings by Table-1 indicators, posts and engagement rates, checked from the raw rows."""

import calendar
import datetime as dt
import random

import pytest

from institutions.models import Community
from metrics.choices import Indicator
from metrics.models import MemberSnapshot, MetricValue
from reports.rankings import RankingParams, period_bounds, ranking_compute
from tests.factories import CommunityFactory
from tests.reports.rankings_oracle import competition_places, members_on

Q1_FROM, Q1_TO = period_bounds("quarter", year=2026, number=1)
MONTHS = [dt.date(2026, m, 1) for m in (1, 2, 3)]
ENGAGEMENT = ["posts", "likes", "reposts", "comments", "views"]


@pytest.fixture
def values_region(institution_a, institution_b):
    """Monthly values for Q1 (and a December row that must not count), with holes and NULLs."""
    rng = random.Random(11)
    raw, members = {}, {}
    communities = [CommunityFactory(institution=(institution_a, institution_b)[n % 2])
                   for n in range(24)]
    rows, snapshots = [], []
    for community in communities:
        raw[community.pk] = {}
        for month in [dt.date(2025, 12, 1), *MONTHS]:
            for indicator in ["visits", "members", *ENGAGEMENT]:
                roll = rng.random()
                if roll < 0.15:
                    continue  # not reported at all
                value = None if roll < 0.2 else rng.choice([0, 3, 5, 10, 10, 40, 200])
                rows.append(MetricValue(community=community, month=month, indicator=indicator,
                                        value=value))
                raw[community.pk][(month, indicator)] = value
        if rng.random() < 0.85:
            day = Q1_TO - dt.timedelta(days=rng.choice([0, 0, 3]))
            count = rng.choice([0, 100, 250, 1000])
            snapshots.append(MemberSnapshot(community=community, date=day, members=count))
            members[community.pk] = {day: count}
        else:
            members[community.pk] = {}
    MetricValue.objects.bulk_create(rows)
    MemberSnapshot.objects.bulk_create(snapshots)
    return raw, members


def _period_sum(raw_values, indicator):
    present = [raw_values[(m, indicator)] for m in MONTHS if (m, indicator) in raw_values]
    values = [v for v in present if v is not None]
    return sum(values) if values else None


def _interactions(raw_values):
    parts = [_period_sum(raw_values, i) for i in ("likes", "reposts", "comments")]
    if all(p is None for p in parts):
        return None
    return sum(p or 0 for p in parts)


def _expected(metric, raw, members):
    days = sum(calendar.monthrange(2026, m)[1] for m in (1, 2, 3))
    out = {}
    for pk, values in raw.items():
        found = members_on(members[pk], Q1_TO)
        count = found[1] if found else None
        inter = _interactions(values)
        if metric == "t1_visits":
            figure = _period_sum(values, "visits")
        elif metric == "t1_members":
            present = [m for m in MONTHS if values.get((m, "members")) is not None]
            figure = values[(max(present), "members")] if present else None
        elif metric in ENGAGEMENT:
            figure = _period_sum(values, metric)
        elif metric == "interactions":
            figure = inter
        elif metric == "er_post":
            posts = _period_sum(values, "posts")
            figure = inter * 100 / (posts * count) if inter is not None and posts and count \
                else None
        elif metric == "er_day":
            figure = inter * 100 / (days * count) if inter is not None and count else None
        elif metric == "er_views":
            views = _period_sum(values, "views")
            figure = inter * 100 / views if inter is not None and views else None
        if figure is not None:
            out[pk] = figure
    return out


@pytest.mark.parametrize(
    "metric",
    ["t1_visits", "t1_members", "posts", "views", "interactions", "er_post", "er_day",
     "er_views"],
)
def test_value_rankings_match_independent_computation(values_region, metric):
    raw, members = values_region
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(counting="all", metric=metric, date_from=Q1_FROM,
                                                   date_to=Q1_TO))
    expected = _expected(metric, raw, members)
    got = {r.community_id: r.value for r in ranking.rows}
    assert got.keys() == expected.keys()
    for pk, figure in expected.items():
        assert got[pk] == pytest.approx(figure, rel=1e-12)
    assert {r.community_id: r.place for r in ranking.rows} == competition_places(expected)
    assert {r.community_id for r in ranking.missing} == set(raw) - set(expected)
    assert all(r.reason for r in ranking.missing)


def test_er_rows_show_their_components_and_the_formula(institution_a):
    community = CommunityFactory(institution=institution_a)
    for indicator, value in {"posts": 10, "likes": 30, "reposts": 5, "comments": 5,
                             "views": 400}.items():
        MetricValue.objects.create(community=community, month=dt.date(2026, 1, 1),
                                   indicator=indicator, value=value)
    MemberSnapshot.objects.create(community=community, date=dt.date(2026, 1, 31), members=200)
    first, last = period_bounds("month", year=2026, number=1)
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(counting="all", metric="er_post",
                                                   date_from=first,
                                                   date_to=last))
    [row] = ranking.rows
    assert row.figures["interactions"] == 40  # likes + reposts + comments; views do not count
    assert row.value == pytest.approx(40 / 10 / 200 * 100)
    assert row.members == 200
    notes = " ".join(ranking.notes())
    assert "ER post = взаимодействия ÷ публикации ÷ участники × 100" in notes
    assert "отметки «Нравится» + репосты + комментарии" in notes


def test_engagement_reasons_say_what_is_missing(institution_a):
    no_posts, no_views, nothing = (CommunityFactory(institution=institution_a) for _ in "123")
    month = dt.date(2026, 1, 1)
    for community in (no_posts, no_views):
        MetricValue.objects.create(community=community, month=month,
                                   indicator=Indicator.LIKES, value=5)
        MemberSnapshot.objects.create(community=community, date=dt.date(2026, 1, 31), members=9)
    MetricValue.objects.create(community=no_posts, month=month, indicator=Indicator.POSTS,
                               value=0)
    first, last = period_bounds("month", year=2026, number=1)
    by_post = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(counting="all", metric="er_post",
                                                   date_from=first,
                                                   date_to=last))
    reasons = {r.community_id: r.reason for r in by_post.missing}
    assert reasons[no_posts.pk] == "Нет публикаций за период: ER по публикациям не определён"
    assert reasons[nothing.pk] == "Нет данных за период"
    by_views = ranking_compute(communities=Community.objects.all(),
                               params=RankingParams(counting="all", metric="er_views",
                                                    date_from=first,
                                                    date_to=last))
    reasons = {r.community_id: r.reason for r in by_views.missing}
    assert reasons[no_views.pk] == (
        "Нет данных о просмотрах за период: ER по просмотрам не определён"
    )


def test_periods_cover_whole_months_quarters_and_years():
    assert period_bounds("month", year=2024, number=2) == (dt.date(2024, 2, 1),
                                                           dt.date(2024, 2, 29))
    assert period_bounds("quarter", year=2026, number=4) == (dt.date(2026, 10, 1),
                                                             dt.date(2026, 12, 31))
    assert period_bounds("year", year=2026) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
