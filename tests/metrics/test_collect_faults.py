"""Each fault class of the networks gives the designed behaviour and row states.

Tasks run eagerly here, so Celery's retries happen at once (no backoff sleeps).
"""

import datetime as dt

import pytest
from django.db import OperationalError
from django.utils import timezone

from institutions.choices import CommunityState, Network
from institutions.models import Community
from metrics.collect import runs
from metrics.collect.choices import BatchState, RunKind, RunState, TokenKind
from metrics.collect.posts import WallStream
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


# --- every error ends its batch: a run never stays «running» ------------------------------------
def closed_and_counted(run) -> bool:
    """The run is finished, no batch is open, and every community is counted once."""
    run.refresh_from_db()
    batches = list(CollectionBatch.objects.filter(run=run))
    items = CollectionRunItem.objects.filter(run=run)
    return (run.is_finished
            and all(b.state in (BatchState.DONE, BatchState.FAILED) for b in batches)
            and run.done + run.failed + run.skipped == run.total
            and all(b.done + b.failed + b.skipped == len(b.community_ids) for b in batches)
            and items.count() == items.values("community").distinct().count()
            == run.failed + run.skipped)


@pytest.mark.parametrize("code", [15, 18, 100, 7])
def test_an_error_vk_gives_for_a_whole_execute_fails_its_walls_and_the_run_ends(
        emulator, vk_user_token, code):
    """The probe's stuck run: ``CommunityClosed`` raised for a whole execute killed the task."""
    emulator.faults(f"execute:{code}*1", today="2026-03-02")
    communities = make_communities(vk_ids("active", 60))

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    assert closed_and_counted(run)
    assert run.state == RunState.DONE and run.failed == 25 and run.done == 35
    item = CollectionRunItem.objects.filter(run=run).first()
    assert item.message.startswith("VK отклонил запрос") and item.error_key == f"vk:{code}"
    # No community is marked closed or deleted for an error that was not about it.
    assert not Community.objects.filter(pk__in=[c.pk for c in communities]).exclude(
        state=CommunityState.ACTIVE).exists()


def test_a_members_request_refused_as_a_whole_fails_its_batch_with_the_reason(emulator,
                                                                              vk_token):
    make_communities(vk_ids("active", 10))
    emulator.faults("groups.getById:15*1")

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK, batch_size=5)

    assert closed_and_counted(run)
    assert (run.state, run.done, run.failed) == (RunState.FAILED, 5, 5)
    failed = CollectionBatch.objects.get(run=run, state=BatchState.FAILED)
    assert failed.message == "сообщество закрыто" and failed.errors_by_code == {"vk:15": 1}


def test_an_unforeseen_error_fails_the_batch_and_says_so(emulator, vk_token, monkeypatch):
    make_communities(vk_ids("active", 10))
    real = runs.FETCHERS[(RunKind.MEMBERS, Network.VK)]
    calls = []

    def broken_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("a bug")
        return real(*args)

    monkeypatch.setitem(runs.FETCHERS, (RunKind.MEMBERS, Network.VK), broken_once)

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK, batch_size=5)

    assert closed_and_counted(run)
    assert (run.state, run.done, run.failed) == (RunState.FAILED, 5, 5)
    assert "внутренняя ошибка сбора (KeyError)" in run.message


def test_an_unforeseen_error_in_the_posts_stream_fails_its_open_batches(emulator,
                                                                        vk_user_token,
                                                                        monkeypatch):
    emulator.faults(today="2026-03-02")
    make_communities(vk_ids("active", 60))
    monkeypatch.setattr(WallStream, "_read", lambda *args: (_ for _ in ()).throw(
        ValueError("unexpected answer")))

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    assert closed_and_counted(run)
    assert (run.state, run.failed) == (RunState.FAILED, 60)
    assert "внутренняя ошибка сбора (ValueError)" in run.message


def test_the_database_going_away_for_a_moment_is_retried(emulator, vk_token, monkeypatch):
    make_communities(vk_ids("active", 5))
    real, calls = runs._collect_one, []

    def dropped_once(run, batch, result):
        calls.append(batch.pk)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(run, batch, result)

    monkeypatch.setattr(runs, "_collect_one", dropped_once)

    run = members_run()

    assert closed_and_counted(run)
    assert (run.state, run.done) == (RunState.DONE, 5) and len(calls) == 2


def test_no_token_left_mid_stream_fails_every_batch_still_open(emulator, monkeypatch):
    """The stream stored a batch, then lost its only token with none coming back (no day to
    wait for): the rest fail, none stays open."""
    register(Network.VK, "vkemu-usr-one-request-a-day", kind=TokenKind.USER)
    emulator.faults(today="2026-03-02", daily_limits={"wall.get": 25})  # one execute a day
    monkeypatch.setattr(runs, "quota_resume_at", lambda network: None)
    make_communities(vk_ids("active", 100))

    run = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)

    assert closed_and_counted(run)
    assert run.state == RunState.FAILED and run.done == 25 and run.failed == 75
    assert "не осталось действующих ключей" in run.message
