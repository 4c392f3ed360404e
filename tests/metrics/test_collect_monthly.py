"""Monthly posts (wall.get in execute) and statistics (admin tokens) become Table-1 values."""

import datetime as dt

import pytest

from emulator import data as emu_data
from institutions.choices import CommunityState, Network
from metrics.choices import Indicator, ValueSource
from metrics.collect.choices import RunKind, RunState, TokenKind
from metrics.collect.runs import collection_run_start
from metrics.models import CollectionRunItem, MetricValue
from tests.metrics.conftest import SEED, make_communities, ok_ids, register, vk_ids

pytestmark = pytest.mark.django_db
FEBRUARY = dt.date(2026, 2, 1)


def values_of(community) -> dict[str, int]:
    return dict(MetricValue.objects.filter(community=community, month=FEBRUARY)
                .values_list("indicator", "value"))


def test_posts_of_30_communities_take_two_requests_and_sum_the_month(emulator, vk_user_token):
    emulator.faults(today="2026-03-02")
    communities = make_communities(vk_ids("active", 30))

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.state, run.done, run.requests) == (RunState.DONE, 30, 2)
    assert emulator.stats()["inner_calls"] == {"wall.get": 30}
    first = communities[0]
    posts = emu_data.month_posts(SEED, first.network_id, FEBRUARY)
    assert values_of(first) == {
        Indicator.POSTS: len(posts),
        Indicator.LIKES: sum(p["likes"]["count"] for p in posts),
        Indicator.REPOSTS: sum(p["reposts"]["count"] for p in posts),
        Indicator.COMMENTS: sum(p["comments"]["count"] for p in posts),
        Indicator.VIEWS: sum(p["views"]["count"] for p in posts),
    }
    row = MetricValue.objects.get(community=first, month=FEBRUARY, indicator=Indicator.POSTS)
    assert row.source == ValueSource.VK_API and row.api_value == len(posts)


def test_an_old_month_pages_back_through_the_wall(emulator, vk_token):
    emulator.faults(today="2026-06-02")
    community = make_communities(vk_ids("active", 1))[0]

    collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    posts = emu_data.month_posts(SEED, community.network_id, FEBRUARY)
    assert values_of(community)[Indicator.POSTS] == len(posts)
    assert emulator.stats()["by_method"]["wall.get"] >= 2


def test_posts_of_a_closed_community_mark_it_closed(emulator, vk_token):
    emulator.faults(today="2026-03-02")
    closed = make_communities(vk_ids("closed", 1))[0]
    open_one = make_communities(vk_ids("active", 1))[0]

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    closed.refresh_from_db()
    assert closed.state == CommunityState.CLOSED
    assert CollectionRunItem.objects.get(run=run, community=closed).message == \
        "сообщество закрыто"
    assert values_of(open_one) and not values_of(closed)


def test_vk_statistics_fill_table_1_through_the_admin_token(emulator):
    emulator.faults(today="2026-03-02")
    communities = make_communities(vk_ids("active", 3))
    register(Network.VK, "vkemu-adm-all-stats", kind=TokenKind.USER, communities=communities)
    make_communities(vk_ids("active", 2, start=90_000))  # no admin token: not in the run

    run = collection_run_start(kind=RunKind.STATS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.total, run.done, run.requests) == (3, 3, 1)
    assert emulator.stats()["inner_calls"] == {"stats.get": 3}
    gid = communities[0].network_id
    # February as VK counts it: one month interval, in Moscow time, never a sum of days
    start = int(dt.datetime(2026, 2, 1, tzinfo=dt.timezone(dt.timedelta(hours=3))).timestamp())
    end = int(dt.datetime(2026, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=3))).timestamp())
    raw = emu_data.vk_stats(SEED, gid, start, end)
    activity = raw["activity"]
    assert values_of(communities[0]) == {
        Indicator.VISITS: raw["visitors"]["views"],
        Indicator.UNIQUE_VISITORS: raw["visitors"]["visitors"],
        Indicator.REACH: raw["reach"]["reach"],
        Indicator.FEEDBACK: activity["likes"] + activity["comments"] + activity["copies"],
    }  # «Просмотр стены группы и раздела Мои новости»: no stats.get field counts it


@pytest.mark.parametrize("zone", ["Europe/Samara", "UTC", "Asia/Vladivostok",
                                  "America/New_York"])
def test_the_month_is_the_same_vk_month_in_any_time_zone(emulator, settings, zone):
    from django.utils import timezone

    settings.TIME_ZONE = zone
    timezone.deactivate()
    emulator.faults(today="2026-03-02")
    community = make_communities(vk_ids("active", 1))[0]
    register(Network.VK, "vkemu-adm-all-zones", kind=TokenKind.USER, communities=[community])

    collection_run_start(kind=RunKind.STATS, network=Network.VK, period=FEBRUARY)

    start = int(dt.datetime(2026, 2, 1, tzinfo=dt.timezone(dt.timedelta(hours=3))).timestamp())
    end = int(dt.datetime(2026, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=3))).timestamp())
    raw = emu_data.vk_stats(SEED, community.network_id, start, end)
    assert values_of(community)[Indicator.UNIQUE_VISITORS] == raw["visitors"]["visitors"]


def test_community_and_service_tokens_never_ask_for_statistics(emulator):
    emulator.faults(today="2026-03-02")
    community = make_communities(vk_ids("active", 1))[0]
    register(Network.VK, f"vkemu-grp-{community.network_id}-key", kind=TokenKind.COMMUNITY,
             communities=[community])
    register(Network.VK, "vkemu-svc-region")

    run = collection_run_start(kind=RunKind.STATS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    assert run.total == 0 and emulator.stats()["requests"] == 0
    assert "ключ пользователя — администратора сообщества" in run.plan
    assert "1 сообщества" in run.plan


def test_a_token_that_does_not_administer_the_community_gets_no_statistics(emulator):
    emulator.faults(today="2026-03-02")
    community = make_communities(vk_ids("active", 1))[0]
    register(Network.VK, "vkemu-adm-1_2-not-this-one", kind=TokenKind.USER,
             communities=[community])

    run = collection_run_start(kind=RunKind.STATS, network=Network.VK, period=FEBRUARY)

    item = CollectionRunItem.objects.get(run=run, community=community)
    assert item.message == "у токена нет прав администратора сообщества"
    assert not values_of(community)


def test_ok_statistics_fill_table_1(emulator):
    communities = make_communities(ok_ids("active", 2), network=Network.OK)
    register(Network.OK, "okemu-adm-all-stats", communities=communities)

    run = collection_run_start(kind=RunKind.STATS, network=Network.OK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.done, run.requests) == (2, 2)
    values = values_of(communities[0])
    # counts summed over the days; OK's unique people (reach) come by day only: not derived
    assert set(values) == {Indicator.VISITS, Indicator.WALL_VIEWS, Indicator.FEEDBACK}
    start = int(dt.datetime(2026, 2, 1, tzinfo=dt.timezone(dt.timedelta(hours=4))).timestamp())
    end = int(dt.datetime(2026, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=4))).timestamp())
    days = emu_data.ok_stat_trends(SEED, communities[0].network_id, start * 1000, end * 1000,
                                   ["renderings"])["renderings"]
    assert len(days) == 28 and values[Indicator.WALL_VIEWS] == sum(d["value"] for d in days)
    row = MetricValue.objects.get(community=communities[0], month=FEBRUARY,
                                  indicator=Indicator.VISITS)
    assert row.source == ValueSource.OK_API
