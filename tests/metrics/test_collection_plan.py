"""A run under the networks' daily allowances: planned, waiting for the next day, resumed.

The portal and the emulator are given the same small allowances; the portal counts each token's
calls and stops asking a token before the network would refuse it (VK's 29), lets the run wait
for the tokens' next day instead of failing it, and the recovery task takes it up again.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from institutions.choices import Network
from metrics.collect.choices import BatchState, RunKind, RunState, TokenKind
from metrics.collect.quota_plan import collection_plan
from metrics.collect.recovery import collection_runs_resume_due
from metrics.collect.runs import collection_run_create, run_dispatch
from metrics.models import CollectionRun, NetworkToken
from metrics.quota import quota_counter
from metrics.tokens import next_day_start
from tests.metrics.conftest import make_communities, register, vk_ids

pytestmark = pytest.mark.django_db


def _allowances(settings, emulator, **limits: int) -> None:
    """The same daily allowances on both sides (method → calls a token may make a day)."""
    settings.NETWORK_DAILY_LIMITS = {
        **settings.NETWORK_DAILY_LIMITS,
        "vk": {**settings.NETWORK_DAILY_LIMITS["vk"], **limits},
    }
    emulator.faults(daily_limits=limits)


def _next_day(emulator) -> None:
    """Tomorrow for the network and the portal: allowances renew, resting tokens wake up."""
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    emulator.faults(today=tomorrow.isoformat())
    quota_counter().clear()  # the portal counts per local date
    NetworkToken.objects.update(rests_until=timezone.now() - dt.timedelta(seconds=1))


def _members_run(count: int) -> CollectionRun:
    make_communities(vk_ids("active", count))
    # 500 communities a batch: one groups.getById call each
    return collection_run_create(kind=RunKind.MEMBERS, network=Network.VK, batch_size=500)


def test_the_plan_sets_the_calls_needed_against_the_tokens_allowances(emulator, settings):
    _allowances(settings, emulator, **{"groups.getById": 2})
    register(Network.VK, "vkemu-usr-plan-a", kind=TokenKind.USER, label="A")
    register(Network.VK, "vkemu-usr-plan-b", kind=TokenKind.USER, label="B")
    run = _members_run(2500)

    plan = collection_plan(run)

    assert (plan.method, plan.communities_left, plan.calls_needed, plan.requests_needed) == (
        "groups.getById", 2500, 5, 5)
    assert [(t.label, t.allowance, t.spent, t.left) for t in plan.tokens] == [
        ("A", 2, 0, 2), ("B", 2, 0, 2)]
    assert (plan.left_today, plan.per_day, plan.days) == (4, 4, 2)
    assert timezone.localtime(plan.finish).date() == timezone.localdate() + dt.timedelta(days=1)


def test_the_plan_finishes_today_when_the_tokens_allowances_cover_the_run(emulator, vk_token):
    run = _members_run(1200)

    plan = collection_plan(run)

    assert plan.days == 1 and plan.left_today == 100_000
    assert plan.finish - timezone.now() < dt.timedelta(minutes=1)


def test_a_run_larger_than_a_days_allowance_waits_and_finishes_the_next_day(emulator, settings):
    _allowances(settings, emulator, **{"groups.getById": 2})
    token = register(Network.VK, "vkemu-usr-plan", kind=TokenKind.USER)
    run = _members_run(1500)

    run_dispatch(run=run)

    run.refresh_from_db()
    token.refresh_from_db()
    assert (run.state, run.done, run.failed) == (RunState.RUNNING, 1000, 0)
    assert run.resumes_at == token.rests_until == next_day_start()
    assert "продолжится" in run.message
    assert run.batches.filter(state=BatchState.PENDING).count() == 1
    stats = emulator.stats()
    assert stats["requests"] == 2 and stats["daily_limit_errors"] == 0  # stopped before VK did
    plan = collection_plan(run)
    assert plan.communities_left == 500 and plan.tokens[0].left == 0
    assert plan.tokens[0].rests_until == token.rests_until
    assert collection_runs_resume_due() == []  # not before the day has come

    _next_day(emulator)
    assert collection_runs_resume_due(now=run.resumes_at) == [run.pk]

    run.refresh_from_db()
    assert (run.state, run.done, run.failed, run.resumes_at) == (RunState.DONE, 1500, 0, None)
    assert emulator.stats()["requests"] == 3 and emulator.stats()["daily_limit_errors"] == 0


def test_the_emulator_renews_its_daily_limits_on_its_next_day(emulator, settings):
    emulator.faults(daily_limits={"groups.getById": 1})
    register(Network.VK, "vkemu-usr-renew", kind=TokenKind.USER)
    run = _members_run(1000)  # two batches, one call each: the second is refused (29)

    run_dispatch(run=run)

    run.refresh_from_db()
    assert run.done == 500 and run.errors_by_code == {"vk:29": 1}
    assert emulator.stats()["daily_limit_errors"] == 1
    _next_day(emulator)
    collection_runs_resume_due(now=next_day_start())
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.done == 1000


def test_the_run_page_shows_the_plan_and_each_tokens_day(client, regional, emulator, settings):
    _allowances(settings, emulator, **{"groups.getById": 2})
    register(Network.VK, "vkemu-usr-page", kind=TokenKind.USER, label="Ключ методиста")
    run = _members_run(1500)
    run_dispatch(run=run)
    client.force_login(regional)

    page = client.get(reverse("metrics:collection-run", args=[run.pk])).content.decode()
    progress = client.get(reverse("metrics:collection-run-progress", args=[run.pk])).json()

    assert "План сбора по дневным лимитам" in page and "Ключ методиста" in page
    assert "продолжится" in page
    assert progress["quota_plan"]["communities_left"] == 500
    assert progress["quota_plan"]["tokens"][0]["left"] == 0
    assert progress["quota_plan"]["days"] == 2 and progress["resumes_at"] is not None
