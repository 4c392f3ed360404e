"""Each fault class of the networks gives the designed behaviour and row states.

Tasks run eagerly here, so Celery's retries happen at once (no backoff sleeps).
"""

import datetime as dt

import pytest
from django.utils import timezone

from institutions.choices import CommunityState, Network
from metrics.collect.choices import BatchState, RunKind, RunState, TokenKind
from metrics.collect.runs import collection_run_start
from metrics.models import CollectionBatch, CollectionRunItem, MemberSnapshot, NetworkToken
from metrics.tasks import MAX_RETRIES
from tests.metrics.conftest import make_communities, ok_ids, register, vk_ids

pytestmark = pytest.mark.django_db
FEBRUARY = dt.date(2026, 2, 1)


def members_run(network: str = Network.VK):
    run = collection_run_start(kind=RunKind.MEMBERS, network=network)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("fault", ["execute:10*2", "execute:http502*1", "execute:truncated*1",
                                   "execute:6*1", "execute:9*1", "execute:slow*1"])
def test_transient_vk_faults_are_retried_until_the_batch_succeeds(emulator, vk_user_token,
                                                                  fault):
    make_communities(vk_ids("active", 600))
    emulator.faults(fault)

    run = members_run()

    assert run.state == RunState.DONE and run.done == 600
    assert MemberSnapshot.objects.count() == 600
    retries = int(fault.rsplit("*", 1)[1])
    assert run.requests == retries + 1 == emulator.stats()["requests"]
    assert sum(run.errors_by_code.values()) == retries
    batch = CollectionBatch.objects.get(run=run)
    assert batch.attempts == retries


def test_a_network_that_stays_down_fails_the_batch_with_a_russian_error(emulator, vk_token):
    communities = make_communities(vk_ids("active", 3))
    emulator.faults("execute:10")
    emulator.faults("groups.getById:10")

    run = members_run()

    assert run.state == RunState.FAILED
    assert run.requests == MAX_RETRIES + 1
    assert run.failed == 3 and not MemberSnapshot.objects.exists()
    item = CollectionRunItem.objects.get(run=run, community=communities[0])
    assert item.message == "внутренняя ошибка сервера VK"
    assert CollectionBatch.objects.get(run=run).state == BatchState.FAILED


def test_an_invalid_token_is_disabled_and_another_token_goes_on(emulator):
    first = register(Network.VK, "vkemu-svc-first")
    second = register(Network.VK, "vkemu-svc-second")
    make_communities(vk_ids("active", 5))
    emulator.faults("execute:5*1", clear=True)
    emulator.faults("groups.getById:5*1")

    run = members_run()

    assert run.state == RunState.DONE and run.done == 5
    tokens = {t.pk: t for t in NetworkToken.objects.all()}
    disabled = [t for t in tokens.values() if not t.is_active]
    assert len(disabled) == 1 and {first.pk, second.pk} == set(tokens)
    assert disabled[0].disabled_reason == "токен недействителен (vk:5)"


def test_with_its_only_token_revoked_the_run_fails_and_says_why(emulator):
    register(Network.VK, "vkemu-svc-revoked-by-owner")
    community = make_communities(vk_ids("active", 1))[0]

    run = members_run()

    assert run.state == RunState.FAILED
    token = NetworkToken.objects.get()
    assert not token.is_active and token.disabled_reason == "токен недействителен (vk:5)"
    item = CollectionRunItem.objects.get(run=run, community=community)
    assert item.message == "не осталось действующих ключей: токен недействителен"
    assert "не осталось действующих ключей" in run.message


def test_a_token_out_of_daily_quota_rests_until_tomorrow(emulator):
    tired = register(Network.VK, "vkemu-svc-tired")
    make_communities(vk_ids("active", 2))
    emulator.faults(daily_limits={"groups.getById": 0})

    run = members_run()

    tired.refresh_from_db()
    assert tired.is_active and tired.rests_until is not None
    assert timezone.localtime(tired.rests_until).date() == timezone.localdate() + dt.timedelta(1)
    # the run does not fail: it waits for the token's next day, its batch back in the queue
    assert run.state == RunState.RUNNING and run.errors_by_code.get("vk:29") == 1
    assert run.resumes_at == tired.rests_until and "продолжится" in run.message
    assert run.batches.get().state == BatchState.PENDING and run.failed == 0
    assert emulator.stats()["daily_limit_errors"] == 1

    fresh = register(Network.VK, "vkemu-svc-fresh")
    again = members_run()
    assert again.state == RunState.RUNNING  # the emulator's quota is per method for every token
    assert again.resumes_at is not None
    assert set(emulator.stats()["by_token"]) == {"vkemu-svc-tired", fresh.label}


@pytest.mark.parametrize(("code", "state", "message"), [
    (15, CommunityState.CLOSED, "сообщество закрыто"),
    (30, CommunityState.CLOSED, "сообщество закрыто (приватное)"),
    (203, CommunityState.CLOSED, "доступ к сообществу закрыт"),
    (18, CommunityState.DELETED, "сообщество удалено или заблокировано"),
    (100, CommunityState.DELETED, "сообщество не найдено"),
])
def test_community_faults_on_the_wall_mark_just_that_community(emulator, vk_user_token, code,
                                                               state, message):
    emulator.faults(f"wall.get:{code}*1", today="2026-03-02")
    hit, fine = make_communities(vk_ids("active", 2))

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    run.refresh_from_db()
    assert (run.done, run.skipped, run.requests) == (1, 1, 1)
    hit.refresh_from_db()
    fine.refresh_from_db()
    assert hit.state == state and hit.last_error == message
    assert fine.state == CommunityState.ACTIVE and fine.last_error == ""
    assert CollectionRunItem.objects.get(run=run).message == message
    assert run.errors_by_code == {f"vk:{code}": 1}


def test_ok_faults_map_to_the_same_behaviour(emulator, ok_token):
    make_communities(ok_ids("active", 3), network=Network.OK)
    emulator.faults("group.getInfo:2*1,group.getInfo:http503*1")

    run = members_run(Network.OK)

    assert run.state == RunState.DONE and run.done == 3
    assert run.errors_by_code == {"ok:2": 1, "http:503": 1}

    emulator.faults("group.getInfo:102", clear=True)
    failed = members_run(Network.OK)
    ok_token.refresh_from_db()
    assert failed.state == RunState.FAILED
    assert not ok_token.is_active and "ok:102" in ok_token.disabled_reason


def test_a_wrong_ok_application_secret_disables_the_token(emulator):
    token = register(Network.OK, "okemu-usr-wrong-secret")
    NetworkToken.objects.filter(pk=token.pk).update(
        app_secret_encrypted=__import__("metrics.tokens").tokens.secret_encrypt("not-it"))
    make_communities(ok_ids("active", 1), network=Network.OK)

    run = members_run(Network.OK)

    token.refresh_from_db()
    assert run.state == RunState.FAILED
    assert token.disabled_reason == "подпись запроса неверна (ключи приложения OK) (ok:104)"


def test_error_28_sets_the_token_aside_for_the_run_and_never_disables_it(emulator):
    register(Network.VK, "vkemu-usr-first", kind=TokenKind.USER)
    register(Network.VK, "vkemu-usr-second", kind=TokenKind.USER)
    make_communities(vk_ids("active", 600))
    emulator.faults("execute:28*1")

    run = members_run()

    assert run.state == RunState.DONE and run.done == 600
    assert run.errors_by_code == {"vk:28": 1}
    assert NetworkToken.objects.filter(is_active=True).count() == 2
