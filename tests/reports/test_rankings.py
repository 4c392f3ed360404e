"""Rankings by audience growth and size, checked against an independent computation."""

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings

from institutions.choices import CommunityState, Network, Subordination
from institutions.models import Community
from metrics.models import MemberSnapshot
from portal.errors import ValidationFailed
from reports.rankings import RankingParams, ranking_compute, ranking_explain_place
from tests.factories import CommunityFactory, InstitutionFactory, MemberSnapshotFactory
from tests.reports.rankings_oracle import (
    competition_places,
    league,
    members_on,
    random_region,
)

D1, D2 = dt.date(2026, 1, 10), dt.date(2026, 2, 20)


def _eligible(community: Community) -> bool:
    return community.state == CommunityState.ACTIVE and community.institution.is_active


def _expected_growth(series_by_community, date_from, date_to, percent=False):
    figures, missing = {}, set()
    for community, series in series_by_community.items():
        start, end = members_on(series, date_from), members_on(series, date_to)
        if not _eligible(community) or start is None or end is None:
            missing.add(community.pk)
            continue
        if percent:
            if start[1] == 0:
                missing.add(community.pk)
                continue
            figures[community.pk] = (end[1] - start[1]) * 100 / start[1]
        else:
            figures[community.pk] = end[1] - start[1]
    return figures, missing


@pytest.fixture
def region(territory_a, territory_b):
    return random_region([territory_a, territory_b])


def _sql_shapes():
    """Both SQL shapes on PostgreSQL (LATERAL and the portable one); SQLite has only the latter."""
    return [None, False] if connection.vendor == "postgresql" else [None]


@pytest.mark.parametrize("lateral", _sql_shapes())
def test_growth_ranking_matches_independent_computation(region, lateral):
    ranking = ranking_compute(
        communities=Community.objects.all(),
        params=RankingParams(metric="growth", date_from=D1, date_to=D2), lateral=lateral,
    )
    expected, expected_missing = _expected_growth(region, D1, D2)
    places = competition_places(expected)
    assert {r.community_id: r.value for r in ranking.rows} == expected
    assert {r.community_id: r.place for r in ranking.rows} == places
    assert {r.community_id for r in ranking.missing} == expected_missing
    assert len(set(places.values())) < len(places), "the data must contain ties"
    for row in ranking.rows:
        series = next(s for c, s in region.items() if c.pk == row.community_id)
        assert (row.start_date, row.start_members) == members_on(series, D1)
        assert (row.members_date, row.members) == members_on(series, D2)
        assert row.league == league(row.members)
    assert [r.place for r in ranking.rows] == sorted(r.place for r in ranking.rows)


@pytest.mark.parametrize("lateral", _sql_shapes())
def test_percent_growth_matches_and_zero_start_is_listed_apart(region, lateral):
    ranking = ranking_compute(
        communities=Community.objects.all(),
        params=RankingParams(metric="growth_pct", date_from=D1, date_to=D2), lateral=lateral,
    )
    expected, expected_missing = _expected_growth(region, D1, D2, percent=True)
    got = {r.community_id: r.value for r in ranking.rows}
    assert got.keys() == expected.keys()
    for pk, value in expected.items():
        assert got[pk] == pytest.approx(value, abs=1e-9)
    assert {r.community_id: r.place for r in ranking.rows} == competition_places(expected)
    assert {r.community_id for r in ranking.missing} == expected_missing


def test_ties_share_a_place_and_the_next_place_is_skipped(institution_a):
    communities = [CommunityFactory(institution=institution_a) for _ in range(4)]
    for community, (start, end) in zip(communities, [(100, 150), (200, 230), (10, 40), (5, 6)],
                                       strict=True):
        MemberSnapshotFactory(community=community, date=D1, members=start)
        MemberSnapshotFactory(community=community, date=D2, members=end)
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric="growth", date_from=D1, date_to=D2))
    assert [(r.community_id, r.value, r.place) for r in ranking.rows] == [
        (communities[0].pk, 50, 1),
        (communities[1].pk, 30, 2), (communities[2].pk, 30, 2),  # same place, then by id
        (communities[3].pk, 1, 4),
    ]


def test_an_earlier_row_stands_in_for_a_missing_date_and_the_row_says_so(institution_a):
    community = CommunityFactory(institution=institution_a)
    MemberSnapshotFactory(community=community, date=D1 - dt.timedelta(days=3), members=90)
    MemberSnapshotFactory(community=community, date=D2 - dt.timedelta(days=1), members=120)
    MemberSnapshotFactory(community=community, date=D2 + dt.timedelta(days=1), members=999)
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric="growth", date_from=D1, date_to=D2))
    [row] = ranking.rows
    assert (row.start_date, row.start_members) == (D1 - dt.timedelta(days=3), 90)
    assert (row.members_date, row.members) == (D2 - dt.timedelta(days=1), 120)
    assert row.value == 30
    assert ranking.substituted_dates == 1
    assert any("ближайшая более ранняя" in note for note in ranking.notes())


def test_communities_without_data_are_listed_apart_with_the_reason(institution_a, territory_b):
    late, none, closed, gone, fine = (CommunityFactory(institution=institution_a) for _ in "12345")
    closed.state, gone.state = CommunityState.CLOSED, CommunityState.DELETED
    closed.save(), gone.save()
    inactive = CommunityFactory(institution=InstitutionFactory(territory=territory_b,
                                                               is_active=False))
    after = CommunityFactory(institution=institution_a)
    MemberSnapshotFactory(community=late, date=dt.date(2026, 1, 15), members=10)
    MemberSnapshotFactory(community=after, date=dt.date(2026, 3, 1), members=10)
    for community in (closed, gone, fine, inactive):
        MemberSnapshotFactory(community=community, date=D1, members=10)
        MemberSnapshotFactory(community=community, date=D2, members=20)
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric="growth", date_from=D1, date_to=D2))
    assert [r.community_id for r in ranking.rows] == [fine.pk]
    reasons = {r.community_id: r.reason for r in ranking.missing}
    assert reasons == {
        late.pk: "Нет записи о числе участников на 10.01.2026 или раньше: первая запись — "
                 "15.01.2026",
        none.pk: "Нет ни одной записи о числе участников",
        closed.pk: "Сообщество закрыто",
        gone.pk: "Сообщество удалено",
        inactive.pk: "Учреждение не действует",
        after.pk: "Нет записи о числе участников на 20.02.2026 или раньше: первая запись — "
                  "01.03.2026",
    }


@override_settings(FLAGSHIP_MEMBERS_THRESHOLD=500)
def test_flagship_only_keeps_communities_above_the_threshold(institution_a):
    by_end = {}
    for end in (499, 500, 501, 2000):
        community = CommunityFactory(institution=institution_a)
        MemberSnapshotFactory(community=community, date=D1, members=end - 7)
        MemberSnapshotFactory(community=community, date=D2, members=end)
        by_end[end] = community.pk
    unknown = CommunityFactory(institution=institution_a)
    params = RankingParams(metric="growth", date_from=D1, date_to=D2, flagship_only=True)
    ranking = ranking_compute(communities=Community.objects.all(), params=params)
    assert {r.community_id for r in ranking.rows} == {by_end[501], by_end[2000]}
    assert all(r.place == 1 for r in ranking.rows)  # both grew by 7
    assert [(r.community_id, r.reason) for r in ranking.missing] == [
        (unknown.pk, "Нет ни одной записи о числе участников")
    ]


@override_settings(FLAGSHIP_MEMBERS_THRESHOLD=2000)
def test_flagship_threshold_comes_from_settings(institution_a):
    for end in (1999, 2000, 2001):
        community = CommunityFactory(institution=institution_a)
        MemberSnapshotFactory(community=community, date=D2, members=end)
    params = RankingParams(metric="members", date_from=D1, date_to=D2, flagship_only=True)
    ranking = ranking_compute(communities=Community.objects.all(), params=params)
    assert [r.members for r in ranking.rows] == [2001]


def test_leagues_rank_within_their_band(region):
    params = RankingParams(metric="growth", date_from=D1, date_to=D2, league="small")
    ranking = ranking_compute(communities=Community.objects.all(), params=params)
    expected, _ = _expected_growth(region, D1, D2)
    ends = {c.pk: members_on(s, D2) for c, s in region.items()}
    in_league = {pk: v for pk, v in expected.items() if league(ends[pk][1]) == "small"}
    assert in_league, "the random region must populate the league"
    assert {r.community_id: r.place for r in ranking.rows} == competition_places(in_league)
    unknown_end = {c.pk for c, s in region.items() if ends[c.pk] is None}
    assert unknown_end <= {r.community_id for r in ranking.missing}


def test_league_place_is_the_place_within_the_band(region):
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric="growth", date_from=D1, date_to=D2))
    for code in {r.league for r in ranking.rows}:
        band = {r.community_id: r.value for r in ranking.rows if r.league == code}
        places = competition_places(band)
        assert {r.community_id: r.league_place for r in ranking.rows
                if r.league == code} == places


def test_top_n_keeps_everyone_tied_on_the_last_place(institution_a):
    for growth in (50, 40, 30, 30, 10):
        community = CommunityFactory(institution=institution_a)
        MemberSnapshotFactory(community=community, date=D1, members=100)
        MemberSnapshotFactory(community=community, date=D2, members=100 + growth)
    nodata = CommunityFactory(institution=institution_a)
    params = RankingParams(metric="growth", date_from=D1, date_to=D2, top=3)
    ranking = ranking_compute(communities=Community.objects.all(), params=params)
    assert [(r.value, r.place) for r in ranking.rows] == [(50, 1), (40, 2), (30, 3), (30, 3)]
    assert [r.community_id for r in ranking.missing] == [nodata.pk]


def test_filters_by_territory_network_type_and_subordination(territory_a, territory_b):
    regional = InstitutionFactory(territory=territory_a, subordination=Subordination.REGIONAL,
                                  type="library")
    municipal = InstitutionFactory(territory=territory_b, type="club")
    vk = CommunityFactory(institution=regional, network=Network.VK)
    ok = CommunityFactory(institution=municipal, network=Network.OK)
    for community in (vk, ok):
        MemberSnapshotFactory(community=community, date=D2, members=10)
    cases = [
        ({"territory": territory_a.pk}, {vk.pk}), ({"territory": territory_b.pk}, {ok.pk}),
        ({"network": "ok"}, {ok.pk}), ({"institution_type": "library"}, {vk.pk}),
        ({"subordination": "municipal"}, {ok.pk}), ({}, {vk.pk, ok.pk}),
    ]
    for filters, expected in cases:
        params = RankingParams(metric="members", date_from=D1, date_to=D2, **filters)
        ranking = ranking_compute(communities=Community.objects.all(), params=params)
        assert {r.community_id for r in ranking.rows} == expected, filters


def test_the_municipal_user_ranks_only_its_own_territory(world, municipal_a):
    from reports.rankings import ranking_for_user

    for community in Community.objects.all():
        MemberSnapshotFactory(community=community, date=D2, members=10)
    ranking = ranking_for_user(user=municipal_a,
                               params=RankingParams(metric="members", date_from=D1, date_to=D2))
    assert {r.territory_name for r in ranking.rows} == {"Алексеевский муниципальный район"}


def test_wrong_parameters_are_refused_in_russian():
    with pytest.raises(ValidationFailed, match="Начальная дата периода позже конечной"):
        RankingParams(metric="growth", date_from=D2, date_to=D1)
    with pytest.raises(ValidationFailed, match="Неизвестный показатель"):
        RankingParams(metric="likes_per_cat", date_from=D1, date_to=D2)
    with pytest.raises(ValidationFailed, match="ТОП-N"):
        RankingParams(metric="growth", date_from=D1, date_to=D2, top=0)


def test_why_this_place_names_neighbours_and_the_growth_needed(institution_a):
    pks = []
    for start, end in [(100, 160), (100, 140), (100, 140), (480, 500), (100, 110)]:
        community = CommunityFactory(institution=institution_a)
        MemberSnapshotFactory(community=community, date=D1, members=start)
        MemberSnapshotFactory(community=community, date=D2, members=end)
        pks.append(community.pk)
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric="growth", date_from=D1, date_to=D2))
    why = ranking_explain_place(ranking=ranking, community_id=pks[3])  # grew 20, place 4
    assert why.row.place == 4
    assert {r.community_id for r in why.above} == {pks[1], pks[2]}
    assert [r.community_id for r in why.below] == [pks[4]]
    assert why.members_to_next_place == 21  # 40 − 20 + 1: strictly above the shared 2nd place
    assert why.next_league.code == "small"
    assert why.members_to_next_league == 1  # 500 → 501
    top = ranking_explain_place(ranking=ranking, community_id=pks[0])
    assert top.above == [] and top.members_to_next_place is None


def test_why_this_place_for_percent_growth_counts_whole_members(institution_a):
    pks = []
    for start, end in [(300, 330), (1000, 1050)]:  # 10 % and 5 %
        community = CommunityFactory(institution=institution_a)
        MemberSnapshotFactory(community=community, date=D1, members=start)
        MemberSnapshotFactory(community=community, date=D2, members=end)
        pks.append(community.pk)
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric="growth_pct", date_from=D1, date_to=D2))
    why = ranking_explain_place(ranking=ranking, community_id=pks[1])
    # needs (50 + x) / 1000 > 10 %: x = 51
    assert why.members_to_next_place == 51


def test_snapshot_rows_after_the_end_date_do_not_count(institution_a):
    community = CommunityFactory(institution=institution_a)
    MemberSnapshot.objects.create(community=community, date=D1, members=10)
    MemberSnapshot.objects.create(community=community, date=D2 + dt.timedelta(days=1), members=99)
    ranking = ranking_compute(communities=Community.objects.all(),
                              params=RankingParams(metric="growth", date_from=D1, date_to=D2))
    assert [(r.value, r.members_date) for r in ranking.rows] == [(0, D1)]


def test_the_stream_gives_ranked_rows_then_the_rest_and_can_be_asked_twice(institution_a):
    from reports.rankings import RankingStream

    ranked, empty = CommunityFactory(institution=institution_a), CommunityFactory(
        institution=institution_a)
    MemberSnapshotFactory(community=ranked, date=D2, members=7)
    stream = RankingStream(communities=Community.objects.all(),
                           params=RankingParams(metric="members", date_from=D1, date_to=D2))
    missing = stream.missing()  # before iterating: consumes the stream itself
    assert [r["community_id"] for r in missing] == [empty.pk]
    assert stream.missing() == missing
    assert missing[0]["reason"] == "Нет ни одной записи о числе участников"
    assert stream.data_as_of == D2
