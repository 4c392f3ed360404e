"""Daily members: the minimum of requests, one row per (community, date), fates marked."""

import datetime as dt

import pytest
from django.utils import timezone

from emulator import data as emu_data
from institutions.choices import CommunityState, Network
from metrics.collect.choices import RunKind, RunState
from metrics.collect.runs import collection_run_start
from metrics.models import CollectionRunItem, MemberSnapshot
from tests.factories import CommunityFactory
from tests.metrics.conftest import SEED, make_communities, ok_ids, vk_ids

pytestmark = pytest.mark.django_db


def test_members_of_1200_vk_communities_take_one_request(emulator, vk_user_token):
    communities = make_communities(vk_ids("active", 1200))

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    run.refresh_from_db()
    assert run.state == RunState.DONE
    assert (run.total, run.done, run.failed, run.skipped) == (1200, 1200, 0, 0)
    stats = emulator.stats()
    assert stats["requests"] == 1 == run.requests
    assert stats["by_method"] == {"execute": 1}
    assert stats["inner_calls"] == {"groups.getById": 3}  # 500 + 500 + 200 ids
    today = timezone.localdate()
    first = communities[0]
    snapshot = MemberSnapshot.objects.get(community=first, date=today)
    expected = emu_data.members_on(SEED, "vk", first.network_id, dt.datetime.now(dt.UTC).date())
    assert snapshot.members == expected
    first.refresh_from_db()
    assert first.members_count == expected and first.last_collected_at is not None


def test_running_members_twice_a_day_keeps_one_row_per_community_and_date(emulator, vk_token):
    make_communities(vk_ids("active", 30))

    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)
    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    assert MemberSnapshot.objects.count() == 30
    assert emulator.stats()["requests"] == 2


def test_a_second_run_the_same_day_rewrites_the_snapshots_it_finds(emulator, vk_token):
    communities = make_communities(vk_ids("active", 3))
    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)
    MemberSnapshot.objects.filter(community=communities[0]).update(members=0)
    MemberSnapshot.objects.filter(community=communities[1]).delete()

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    run.refresh_from_db()
    assert (run.state, run.done) == (RunState.DONE, 3)
    today = dt.datetime.now(dt.UTC).date()
    assert {s.community_id: s.members for s in MemberSnapshot.objects.all()} == {
        c.pk: emu_data.members_on(SEED, "vk", c.network_id, today) for c in communities}


def test_closed_deleted_and_renamed_vk_communities_are_marked(emulator, vk_token):
    closed = make_communities(vk_ids("closed", 1))[0]
    deleted = make_communities(vk_ids("deleted", 1))[0]
    banned = make_communities(vk_ids("banned", 1))[0]
    renamed = make_communities(vk_ids("renamed", 1))[0]

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    run.refresh_from_db()
    assert (run.done, run.skipped, run.failed) == (2, 2, 0)
    for community in (closed, deleted, banned, renamed):
        community.refresh_from_db()
    assert closed.state == CommunityState.CLOSED and closed.members_count
    assert deleted.state == banned.state == CommunityState.DELETED
    assert deleted.last_error == "сообщество удалено или заблокировано"
    assert renamed.screen_name == f"renamed{renamed.network_id}"
    assert "новое название" in renamed.title
    item = CollectionRunItem.objects.get(run=run, community=deleted)
    assert item.message == "сообщество удалено или заблокировано"
    assert run.errors_by_code == {"vk:deactivated": 2}

    again = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)
    assert again.total == 2  # deleted communities are not asked again


def test_screen_names_are_resolved_once_then_collected_by_id(emulator, vk_user_token):
    named = [CommunityFactory(network_id=None, screen_name=name, url=f"https://vk.com/{name}")
             for name in ("club4242", "public4343")]

    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)
    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    named[0].refresh_from_db()
    assert named[0].network_id == 4242
    stats = emulator.stats()
    # run 1: one execute of two resolutions, then groups.getById; run 2: groups.getById alone
    assert stats["inner_calls"] == {"utils.resolveScreenName": 2}
    assert stats["by_method"] == {"execute": 1, "groups.getById": 2}
    assert MemberSnapshot.objects.filter(community__in=named).count() == 2


def test_with_only_a_service_token_members_come_500_a_request_without_execute(emulator,
                                                                              vk_token):
    communities = make_communities(vk_ids("active", 1200))
    named = CommunityFactory(network_id=None, screen_name="club4242",
                             url="https://vk.com/club4242")

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    run.refresh_from_db()
    assert (run.state, run.done, run.failed) == (RunState.DONE, 1201, 0)
    stats = emulator.stats()
    assert stats["by_method"] == {"utils.resolveScreenName": 1, "groups.getById": 3}
    assert run.requests == 4 and "vk:28" not in stats["errors_by_code"]
    vk_token.refresh_from_db()
    assert vk_token.is_active
    assert "сервисный ключ" in run.plan and "ключ пользователя" in run.plan
    named.refresh_from_db()
    assert named.network_id == 4242
    assert MemberSnapshot.objects.filter(community__in=communities).count() == 1200


def test_a_community_token_batches_members_through_execute(emulator):
    from metrics.collect.choices import TokenKind
    from tests.metrics.conftest import register

    community = make_communities(vk_ids("active", 1))[0]
    register(Network.VK, f"vkemu-grp-{community.network_id}-key", kind=TokenKind.COMMUNITY,
             communities=[community])
    make_communities(vk_ids("active", 700, start=20_000))

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    run.refresh_from_db()
    assert (run.state, run.done, run.requests) == (RunState.DONE, 701, 1)
    assert emulator.stats()["by_method"] == {"execute": 1} and run.plan == ""


def test_ok_members_take_one_request_per_100_groups(emulator, ok_token):
    communities = make_communities(ok_ids("active", 250), network=Network.OK)
    deleted = make_communities(ok_ids("deleted", 1), network=Network.OK)[0]

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.OK)

    run.refresh_from_db()
    assert (run.done, run.skipped) == (250, 1)
    assert emulator.stats()["by_method"] == {"group.getInfo": 3}
    deleted.refresh_from_db()
    assert deleted.state == CommunityState.DELETED
    assert MemberSnapshot.objects.filter(community__in=communities).count() == 250


@pytest.mark.django_db(transaction=True)
def test_a_big_batch_writes_its_communities_on_a_second_connection(emulator, vk_token,
                                                                   monkeypatch):
    from metrics.collect import store

    monkeypatch.setattr(store, "APART_FROM", 5)  # as a members batch of 500 or more does
    active = make_communities(vk_ids("active", 6))
    deleted = make_communities(vk_ids("deleted", 1))[0]

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    run.refresh_from_db()
    assert (run.state, run.done, run.skipped) == (RunState.DONE, 6, 1)
    today = dt.datetime.now(dt.UTC).date()
    for community in active:
        community.refresh_from_db()
        expected = emu_data.members_on(SEED, "vk", community.network_id, today)
        assert community.members_count == expected and community.last_collected_at
        assert MemberSnapshot.objects.get(community=community).members == expected
    deleted.refresh_from_db()
    assert deleted.state == CommunityState.DELETED
    assert deleted.last_error == "сообщество удалено или заблокировано"


def test_registry_fields_are_written_as_said_whatever_their_characters():
    from metrics.collect.fetch import BatchResult
    from metrics.collect.store import update_communities

    renamed, failed = CommunityFactory(), CommunityFactory(members_count=7)
    title = 'Музей «Дом» {1,2} "кавычки" \\ NULL, конец'
    result = BatchResult()
    result.done(renamed.pk, title=title, members_count=5, state=CommunityState.CLOSED)
    result.problem(failed.pk, key="vk:missing", message="VK не вернул сообщество")

    update_communities(result)

    renamed.refresh_from_db()
    assert (renamed.title, renamed.members_count, renamed.state) == (
        title, 5, CommunityState.CLOSED)
    assert renamed.last_collected_at == result.collected_at and renamed.last_error == ""
    old_title = failed.title
    failed.refresh_from_db()
    assert failed.last_error == "VK не вернул сообщество"
    assert (failed.title, failed.members_count, failed.last_collected_at) == (old_title, 7, None)


def test_communities_read_the_same_through_execute_as_alone(emulator, vk_user_token):
    from metrics.tokens import token_credential
    from metrics.vk.calls import groups_by_id_call
    from metrics.vk.client import VkClient

    fates = ["active", "closed", "deleted", "banned", "renamed"]
    ids = [vk_ids(fate, 1)[0] for fate in fates]
    client = VkClient(credentials=[token_credential(vk_user_token)])
    call = groups_by_id_call(ids)

    [projected] = client.execute([call])  # columns made by VKScript inside execute
    [alone] = client.run([call])  # the whole answer

    assert projected == alone
    assert projected.ids == ids
    assert projected.states == ["active", "closed", "deleted", "deleted", "active"]
    assert [m is None for m in projected.members] == [False, False, True, True, False]
    assert projected.screen_names[4] == f"renamed{ids[4]}"
