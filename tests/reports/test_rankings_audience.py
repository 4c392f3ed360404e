"""Audience dynamics behind the charts, and the demo history that feeds them."""

import datetime as dt
import itertools
import random

from demo.members import seed_member_history
from institutions.models import Community
from metrics.models import MemberSnapshot
from reports.rankings.audience import audience_series, sample_series
from tests.factories import CommunityFactory
from tests.reports.rankings_oracle import members_on

START = dt.date(2026, 3, 1)


def test_the_total_carries_each_community_forward_over_missed_days(institution_a):
    rng = random.Random(3)
    series = {}
    for n in range(6):
        community = CommunityFactory(institution=institution_a)
        rows, value = {}, 100 * (n + 1)
        first = START - dt.timedelta(days=rng.choice([0, 5, -5]))  # some begin before
        for day in range(40):
            value += rng.choice([-3, 0, 2, 8])
            if rng.random() < 0.25:
                continue  # a missed collection
            rows[first + dt.timedelta(days=day)] = value
        MemberSnapshot.objects.bulk_create(
            MemberSnapshot(community=community, date=d, members=m) for d, m in rows.items())
        series[community.pk] = rows
    date_from, date_to = START + dt.timedelta(days=3), START + dt.timedelta(days=30)
    points = audience_series(communities=Community.objects.all(), date_from=date_from,
                             date_to=date_to)
    days = sorted({d for rows in series.values() for d in rows if date_from <= d <= date_to})
    assert [p.date for p in points] == days
    for point in points:
        known = [members_on(rows, point.date) for rows in series.values()]
        assert point.members == sum(found[1] for found in known if found), point.date
        assert point.collected == sum(1 for rows in series.values() if point.date in rows)


def test_long_ranges_are_thinned_but_keep_the_last_day():
    from reports.rankings.audience import AudiencePoint

    points = [AudiencePoint(START + dt.timedelta(days=n), n, 1) for n in range(365)]
    sampled = sample_series(points, limit=120)
    assert len(sampled) <= 120 and sampled[-1] == points[-1]
    assert sample_series(points[:50]) == points[:50]


def test_the_demo_history_is_plausible_and_idempotent(world):
    end = dt.date(2026, 6, 30)
    first = seed_member_history(end=end)
    communities = Community.objects.count()
    assert first["snapshots"] > communities * 300  # about a year, a few days missed
    assert MemberSnapshot.objects.filter(date__gt=end).count() == 0
    assert MemberSnapshot.objects.filter(date__lt=end - dt.timedelta(days=364)).count() == 0
    assert seed_member_history(end=end) == {"snapshots": 0, "values": 0}
    later = seed_member_history(end=end + dt.timedelta(days=3))
    assert 0 < later["snapshots"] <= 3 * communities
    for community in Community.objects.all():
        figures = list(MemberSnapshot.objects.filter(community=community)
                       .order_by("date").values_list("members", flat=True))
        assert all(abs(b - a) <= max(50, a * 0.05) for a, b in itertools.pairwise(figures))


def test_the_chart_picker_finds_a_subject_by_name_in_any_case(world, regional, login):
    """People pick by name with completion, not by an internal number."""
    client = login(regional)
    page = client.get("/charts/audience/", {"level": "institution",
                                            "name": "дом культуры алексеевки"})
    assert page.status_code == 200
    assert page.context["subject"] == world["a"].institution
    text = page.content.decode()
    assert 'list="names-institution"' in text
    assert '<option value="Библиотека Бора (Борский муниципальный район)">' in text


def test_an_ambiguous_or_unknown_name_is_explained(world, regional, login):
    client = login(regional)
    unknown = client.get("/charts/audience/", {"level": "territory", "name": "Марс"})
    assert unknown.status_code == 400
    assert "не найдено среди доступных вам" in unknown.content.decode()
    several = client.get("/charts/audience/", {"level": "territory", "name": "район"})
    assert several.status_code == 400
    assert "подходят несколько" in several.content.decode()


def test_the_picker_offers_only_what_the_user_may_see(world, municipal_a, login):
    text = login(municipal_a).get("/charts/audience/").content.decode()
    assert "Дом культуры Алексеевки" in text and "Библиотека Бора" not in text
    refused = login(municipal_a).get("/charts/audience/", {"level": "institution",
                                                           "name": "Библиотека Бора"})
    assert refused.status_code == 400
