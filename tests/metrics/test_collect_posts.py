"""A month's posts: VK walls through full execute requests across batches, OK group feeds.

Every run talks to the emulator over HTTP; request counts are the emulator's own counters.
"""

import datetime as dt
import math

import pytest

from emulator import data as emu_data
from institutions.choices import CommunityState, Network
from metrics.choices import Indicator, ValueSource
from metrics.collect import runs
from metrics.collect.choices import BatchState, RunKind, RunState, TokenKind
from metrics.collect.runs import collection_run_create, collection_run_start
from metrics.models import CollectionBatch, CollectionRunItem, MetricValue, NetworkToken
from metrics.tasks import collect_batches, dispatch_plan
from tests.metrics.conftest import SEED, make_communities, ok_ids, register, vk_ids

pytestmark = pytest.mark.django_db
FEBRUARY = dt.date(2026, 2, 1)
LATE_MARCH = "2026-03-25"  # February plus most of March on top of it: many walls take 2 pages


def values_of(community) -> dict[str, int]:
    return dict(MetricValue.objects.filter(community=community, month=FEBRUARY)
                .values_list("indicator", "value"))


def expected(posts: list[dict], *, ok: bool = False) -> dict[str, int]:
    if ok:
        return {Indicator.POSTS: len(posts),
                Indicator.LIKES: sum(p["like_summary"]["count"] for p in posts),
                Indicator.REPOSTS: sum(p["reshare_summary"]["count"] for p in posts),
                Indicator.COMMENTS: sum(p["discussion_summary"]["comments_count"] for p in posts),
                Indicator.VIEWS: sum(p["views_count"] for p in posts)}
    return {Indicator.POSTS: len(posts),
            Indicator.LIKES: sum(p["likes"]["count"] for p in posts),
            Indicator.REPOSTS: sum(p["reposts"]["count"] for p in posts),
            Indicator.COMMENTS: sum(p["comments"]["count"] for p in posts),
            Indicator.VIEWS: sum(p["views"]["count"] for p in posts)}


def minimum_requests(communities, today: str) -> int:
    pages = sum(emu_data.wall_pages(SEED, c.network_id, dt.date.fromisoformat(today), FEBRUARY)
                for c in communities)
    return math.ceil(pages / 25)


# --- VK -------------------------------------------------------------------------------------------
def test_follow_up_pages_of_busy_walls_fill_the_executes_across_batches(emulator, vk_user_token):
    emulator.faults(today=LATE_MARCH)
    communities = make_communities(vk_ids("active", 70))
    pages = sum(emu_data.wall_pages(SEED, c.network_id, dt.date(2026, 3, 25), FEBRUARY)
                for c in communities)
    assert pages > 70  # some walls need a second page

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    stats = emulator.stats()
    assert (run.state, run.done) == (RunState.DONE, 70)
    assert run.requests == stats["requests"] == minimum_requests(communities, LATE_MARCH)
    assert stats["inner_calls"] == {"wall.get": pages} and stats["limit_errors"] == 0
    assert run.batches.count() == 3 and not run.batches.exclude(state=BatchState.DONE).exists()
    for community in communities[::7]:
        posts = emu_data.month_posts(SEED, community.network_id, FEBRUARY)
        assert values_of(community) == expected(posts)


def test_a_posts_run_is_one_task_and_a_members_run_one_task_a_batch(emulator, vk_token):
    make_communities(vk_ids("active", 60))
    posts = collection_run_create(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)
    members = collection_run_create(kind=RunKind.MEMBERS, network=Network.VK, batch_size=25)

    [(task, (batch_ids,))] = dispatch_plan(posts.pk)

    assert task is collect_batches
    assert batch_ids == list(posts.batches.order_by("index").values_list("pk", flat=True))
    assert len(dispatch_plan(members.pk)) == 3


def test_a_posts_task_run_twice_collects_once(emulator, vk_user_token):
    emulator.faults(today="2026-03-02")
    make_communities(vk_ids("active", 30))
    run = collection_run_create(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)
    [(task, args)] = dispatch_plan(run.pk)

    task.apply(args=args)
    task.apply(args=args)

    run.refresh_from_db()
    assert (run.state, run.done, run.requests) == (RunState.DONE, 30, 2)
    assert emulator.stats()["requests"] == 2
    assert MetricValue.objects.filter(month=FEBRUARY).count() == 30 * 5


def test_batches_one_answer_completes_are_stored_together(emulator, vk_user_token,
                                                           monkeypatch):
    emulator.faults(today="2026-03-02")  # every wall of February fits its first page
    active = make_communities(vk_ids("active", 7))
    closed = make_communities(vk_ids("closed", 3, start=5000))
    stored: list[list[int]] = []
    store = runs._batches_store
    monkeypatch.setattr(runs, "_batches_store", lambda done, **kw: (
        stored.append([batch_id for batch_id, _ in done]), store(done, **kw))[1])

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY,
                               batch_size=2)

    run.refresh_from_db()
    batches = list(run.batches.order_by("index"))
    assert stored == [[b.pk for b in batches]]  # ten walls, one execute, five batches at once
    assert (run.state, run.done, run.skipped, run.failed) == (RunState.DONE, 7, 3, 0)
    assert run.requests == emulator.stats()["requests"] == 1
    assert [b.state for b in batches] == [BatchState.DONE] * 5
    assert sum(b.requests for b in batches) == 1
    assert [b.done + b.skipped for b in batches] == [2] * 5
    items = CollectionRunItem.objects.filter(run=run)
    assert sorted(items.values_list("community_id", flat=True)) == sorted(c.pk for c in closed)
    for item in items:
        assert item.community_id in item.batch.community_ids
    for community in closed:
        community.refresh_from_db()
        assert community.state == CommunityState.CLOSED
    for community in active:
        posts = emu_data.month_posts(SEED, community.network_id, FEBRUARY)
        assert values_of(community) == expected(posts)


def test_a_fault_mid_stream_keeps_what_was_stored_and_retries_the_rest(emulator, vk_user_token):
    emulator.faults("execute:http502*1", today=LATE_MARCH)
    communities = make_communities(vk_ids("active", 60))

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.state, run.done) == (RunState.DONE, 60)
    assert run.requests == emulator.stats()["requests"]
    assert run.errors_by_code == {"http:502": 1}
    assert sum(CollectionBatch.objects.filter(run=run).values_list("attempts", flat=True)) >= 1
    last = communities[-1]
    assert values_of(last) == expected(emu_data.month_posts(SEED, last.network_id, FEBRUARY))


def test_an_invalid_token_mid_stream_is_disabled_and_the_other_goes_on(emulator):
    register(Network.VK, "vkemu-usr-first", kind=TokenKind.USER)
    register(Network.VK, "vkemu-usr-second", kind=TokenKind.USER)
    emulator.faults("execute:5*1", today="2026-03-02")
    make_communities(vk_ids("active", 50))

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.state, run.done, run.requests) == (RunState.DONE, 50, 3)
    assert run.errors_by_code == {"vk:5": 1}
    assert NetworkToken.objects.filter(is_active=False).count() == 1


def test_without_a_usable_token_every_batch_of_the_posts_run_fails(emulator):
    register(Network.VK, "vkemu-usr-revoked-long-ago", kind=TokenKind.USER)
    make_communities(vk_ids("active", 30))

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.state, run.failed, run.requests) == (RunState.FAILED, 30, 1)
    assert not run.batches.exclude(state=BatchState.FAILED).exists()
    assert "не осталось действующих ключей" in run.message
    assert CollectionRunItem.objects.filter(run=run).count() == 30


def test_collected_values_carry_their_history(emulator, vk_user_token):
    emulator.faults(today="2026-03-02")
    community = make_communities(vk_ids("active", 1))[0]
    collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)
    row = MetricValue.objects.get(community=community, month=FEBRUARY, indicator=Indicator.LIKES)
    [created] = row.history.all()
    assert (created.history_type, created.history_user, created.api_value, created.value) == (
        "+", None, row.api_value, row.api_value)
    assert created.history_change_reason == "VK API; отчёт: нет отчёта"

    MetricValue.objects.filter(pk=row.pk).update(api_value=1, value=1)
    collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    row.refresh_from_db()
    newest = row.history.order_by("-history_id").first()
    assert (newest.history_type, newest.value, newest.api_value) == ("~", row.value, row.value)
    assert row.value == created.value and row.source == ValueSource.VK_API


def test_with_only_a_service_token_a_posts_run_reads_a_page_a_request(emulator, vk_token):
    """The acceptance of issue 13: no error 28, no token disabled, the run page says why."""
    emulator.faults(today=LATE_MARCH)
    communities = make_communities(vk_ids("active", 30))
    closed = make_communities(vk_ids("closed", 2, start=5000))
    pages = sum(emu_data.wall_pages(SEED, c.network_id, dt.date(2026, 3, 25), FEBRUARY)
                for c in communities + closed)

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    stats = emulator.stats()
    assert (run.state, run.done, run.skipped, run.failed) == (RunState.DONE, 30, 2, 0)
    assert stats["by_method"] == {"wall.get": pages} and run.requests == pages
    assert "vk:28" not in stats["errors_by_code"] and "vk:28" not in run.errors_by_code
    vk_token.refresh_from_db()
    assert vk_token.is_active
    assert "по одной странице за запрос" in run.plan and "ключ пользователя" in run.plan
    for community in communities[::5]:
        posts = emu_data.month_posts(SEED, community.network_id, FEBRUARY)
        assert values_of(community) == expected(posts)


def test_with_a_user_token_too_the_service_token_waits_and_walls_go_25_a_request(
        emulator, vk_token, vk_user_token):
    emulator.faults(today="2026-03-02")
    make_communities(vk_ids("active", 30))

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.state, run.done, run.requests, run.plan) == (RunState.DONE, 30, 2, "")
    assert set(emulator.stats()["by_token"]) == {"vkemu-usr-tests"}


def test_a_run_page_says_why_a_service_token_run_is_slower(emulator, vk_token, login, regional):
    emulator.faults(today="2026-03-02")
    make_communities(vk_ids("active", 2))
    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    page = login(regional).get(f"/collection/runs/{run.pk}/").content.decode()

    assert 'id="run-plan"' in page and "Почему сбор медленнее" in page
    assert "зарегистрируйте на странице «Ключи доступа» ключ пользователя VK" in page


# --- OK -------------------------------------------------------------------------------------------
def test_ok_posts_are_the_month_of_each_group_feed(emulator, ok_token):
    emulator.faults(today="2026-03-02")
    groups = make_communities(ok_ids("active", 3), network=Network.OK)

    run = collection_run_start(kind=RunKind.POSTS, network=Network.OK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.state, run.done) == (RunState.DONE, 3)
    assert run.requests == emulator.stats()["requests"] == 3  # one page each
    assert emulator.stats()["by_method"] == {"mediatopic.getTopics": 3}
    for group in groups:
        topics = emu_data.ok_month_topics(SEED, group.network_id, FEBRUARY)
        assert values_of(group) == expected(topics, ok=True)
        assert MetricValue.objects.filter(community=group, month=FEBRUARY).first().source \
            == ValueSource.OK_API


def test_an_old_month_pages_back_through_the_ok_feed(emulator, ok_token):
    today = dt.date(2026, 6, 2)
    emulator.faults(today=today.isoformat())

    def newer(uid: int) -> int:  # topics from February 1 to today, newest first
        return (emu_data.posts_before(SEED, uid, today, "ok")
                - emu_data.posts_before(SEED, uid, FEBRUARY, "ok"))

    uid = max(ok_ids("active", 10), key=newer)
    group = make_communities([uid], network=Network.OK)[0]

    collection_run_start(kind=RunKind.POSTS, network=Network.OK, period=FEBRUARY)

    topics = emu_data.ok_month_topics(SEED, uid, FEBRUARY)
    assert values_of(group) == expected(topics, ok=True)
    # pages down to the one holding the first topic older than February
    assert emulator.stats()["requests"] == newer(uid) // 100 + 1 >= 2


def test_closed_and_deleted_ok_groups_are_marked_and_the_others_collected(emulator, ok_token):
    emulator.faults(today="2026-03-02")
    closed = make_communities(ok_ids("closed", 1), network=Network.OK)[0]
    deleted = make_communities(ok_ids("deleted", 1), network=Network.OK)[0]
    fine = make_communities(ok_ids("active", 1), network=Network.OK)[0]

    run = collection_run_start(kind=RunKind.POSTS, network=Network.OK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.done, run.skipped) == (1, 2)
    closed.refresh_from_db()
    deleted.refresh_from_db()
    assert closed.state == CommunityState.CLOSED and deleted.state == CommunityState.DELETED
    assert run.errors_by_code == {"ok:10": 1, "ok:300": 1}
    assert values_of(fine) and not values_of(closed)
