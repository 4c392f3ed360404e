"""Soak: a whole VK posts run and a members run under the probe's fault mix, two workers killed.

The probe's mix of VK faults strikes every request at random (seeded): rate limits (6, 9), daily
limits (29: the token rests), internal errors (10), a whole request refused (15), HTTP 503 and
500. Two real Celery workers collect both runs at once; one is SIGKILLed in the middle of the
members run and started again under its name, then the one holding the posts stream is. Both
runs must finish, every community be accounted for exactly once, and no row of any table the
runs write be lost or written twice. Bounded: the whole test takes well under two minutes, and
the counts it checked are printed at the end of the run.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from collections import Counter

import pytest
from django.db.models import Count
from django.utils import timezone

from emulator import data as emu_data
from institutions.choices import Network
from metrics.choices import Indicator
from metrics.collect.choices import BatchState, RunKind, RunState, TokenKind
from metrics.collect.runs import collection_run_start
from metrics.models import (
    CollectionBatch,
    CollectionRun,
    CollectionRunItem,
    MemberSnapshot,
    MetricValue,
)
from tests.metrics import test_celery_collection as e2e
from tests.metrics.conftest import SEED, make_communities, register, vk_ids

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]
workers = e2e.workers  # real worker processes on the test database (and their cleanup)

FAULT_MIX = "*:6@0.05,*:9@0.03,*:29@0.02,*:10@0.03,*:15@0.03,*:http503@0.05,*:http500@0.03"
# Slow enough that each run is still going when its worker is killed.
PACE = "execute:slow0.3,groups.getById:slow0.1"
FEBRUARY = dt.date(2026, 2, 1)
TODAY = "2026-03-10"  # February lies behind ten days of March: some walls take two pages
SOAK_SECONDS = 150  # a bound for a loaded machine; alone the test takes about 40 s
COMMUNITIES = 600
POSTS_INDICATORS = {Indicator.POSTS, Indicator.LIKES, Indicator.REPOSTS, Indicator.COMMENTS,
                    Indicator.VIEWS}


def wait_until(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            still_open = list(CollectionBatch.objects.filter(
                state__in=[BatchState.PENDING, BatchState.RUNNING]).values_list(
                "run__kind", "index", "state", "worker", "attempts", "message")[:20])
            raise AssertionError(f"soak: timed out waiting until {what}; open: {still_open}")
        time.sleep(0.05)


def open_batches(run: CollectionRun):
    return CollectionBatch.objects.filter(run=run, state__in=[BatchState.PENDING,
                                                              BatchState.RUNNING])


def closed_count(run: CollectionRun) -> int:
    return CollectionBatch.objects.filter(run=run).exclude(
        state__in=[BatchState.PENDING, BatchState.RUNNING]).count()


def holder(run: CollectionRun) -> str:
    """The node name of the worker collecting one of the run's batches now ("" if none)."""
    return (CollectionBatch.objects.filter(run=run, state=BatchState.RUNNING).exclude(worker="")
            .values_list("worker", flat=True).first() or "")


def kill_and_restart(workers, processes: dict, node: str) -> None:
    name = node.split("@")[0]
    os.killpg(processes[name].pid, signal.SIGKILL)
    processes[name].wait()
    processes[name] = workers(name)


def accounted(run: CollectionRun, targets: set[int]) -> dict:
    """Every community of the run counted once: in one batch, as done or with one item."""
    run.refresh_from_db()
    batches = list(CollectionBatch.objects.filter(run=run))
    in_batches = Counter(cid for batch in batches for cid in batch.community_ids)
    assert set(in_batches) == targets and set(in_batches.values()) == {1}, run
    assert all(b.state in (BatchState.DONE, BatchState.FAILED) for b in batches)
    assert all(b.done + b.failed + b.skipped == len(b.community_ids) for b in batches)
    assert (run.done, run.failed, run.skipped) == (
        sum(b.done for b in batches), sum(b.failed for b in batches),
        sum(b.skipped for b in batches))
    assert run.total == len(targets) == run.done + run.failed + run.skipped
    items = CollectionRunItem.objects.filter(run=run)
    by_community = Counter(items.values_list("community_id", flat=True))
    assert set(by_community.values()) <= {1}, "a community has two problem rows"
    assert len(by_community) == run.failed + run.skipped
    for item in items.select_related("batch"):
        assert item.community_id in item.batch.community_ids
    return {"done": targets - set(by_community), "problems": set(by_community)}


def test_a_posts_and_a_members_run_survive_the_fault_mix_and_two_killed_workers(
        workers, emulator, monkeypatch, summary_line):
    monkeypatch.setenv("COLLECTION_RETRY_SECONDS", "0.3")  # the workers' backoff, shortened
    started = time.monotonic()
    # User tokens (walls 25 to an execute); enough that the daily limits (29) the mix hands
    # out leave some to go on with.
    for n in range(12):
        register(Network.VK, f"vkemu-usr-soak-{n}", kind=TokenKind.USER)
    active = make_communities(vk_ids("active", COMMUNITIES * 8 // 10))
    others = make_communities(vk_ids("closed", COMMUNITIES // 10, start=500_000)
                              + vk_ids("deleted", COMMUNITIES // 10, start=600_000))
    emulator.faults(f"{FAULT_MIX},{PACE}", today=TODAY)
    processes = {name: workers(name) for name in ("soak-a", "soak-b")}

    members = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK, batch_size=4)
    posts = collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY,
                                 batch_size=10)
    # Both runs take all of them: the registry does not know yet which are closed or deleted.
    members_targets = posts_targets = {c.pk for c in [*active, *others]}

    # Kill 1: a worker in the middle of a members batch.
    wait_until(lambda: closed_count(members) >= 3 and open_batches(members).count() >= 5
               and holder(members), "the members run is under way", 30)
    first = holder(members)
    first_at = time.monotonic() - started
    kill_and_restart(workers, processes, first)
    # Kill 2: the worker holding the posts stream, once the stream has stored something.
    wait_until(lambda: closed_count(posts) >= 1 and open_batches(posts).count() >= 3
               and holder(posts), "the posts run is under way", 40)
    second = holder(posts)
    second_at = time.monotonic() - started
    kill_and_restart(workers, processes, second)

    wait_until(lambda: all(e2e.finished(run) for run in (members, posts)),
               "both runs finished", SOAK_SECONDS - (time.monotonic() - started))
    seconds = time.monotonic() - started

    # Members: one snapshot a day for each community collected, none for the others.
    counted = accounted(members, members_targets)
    today = timezone.localdate()
    snapshots = MemberSnapshot.objects.filter(community__in=members_targets)
    assert set(snapshots.values_list("date", flat=True)) <= {today}
    assert set(snapshots.values_list("community_id", flat=True)) == counted["done"]
    assert snapshots.count() == len(counted["done"])
    assert not snapshots.values("community", "date").annotate(n=Count("pk")).filter(n__gt=1)

    # Posts: February's five figures for each community collected, as the walls say, and
    # each value written once (one history row: created, never rewritten).
    posts_counted = accounted(posts, posts_targets)
    values = MetricValue.objects.filter(month=FEBRUARY)
    assert set(values.values_list("community_id", flat=True)) == posts_counted["done"]
    assert values.count() == len(POSTS_INDICATORS) * len(posts_counted["done"])
    assert set(values.values_list("indicator", flat=True)) <= POSTS_INDICATORS
    assert MetricValue.history.filter(month=FEBRUARY).count() == values.count()
    by_id = {c.pk: c for c in [*active, *others]}
    for community_id in sorted(posts_counted["done"])[::20]:
        posts_of = emu_data.month_posts(SEED, by_id[community_id].network_id, FEBRUARY)
        stored = dict(values.filter(community_id=community_id).values_list("indicator",
                                                                             "value"))
        assert stored[Indicator.POSTS] == len(posts_of)
        assert stored[Indicator.LIKES] == sum(p["likes"]["count"] for p in posts_of)

    stats = emulator.stats()
    for run in (members, posts):
        run.refresh_from_db()
        assert run.finished_at is not None and run.state in (RunState.DONE, RunState.FAILED)
    summary_line(
        f"{seconds:.0f} s; killed {first.split('@')[0]} at {first_at:.0f} s (members), "
        f"{second.split('@')[0]} at {second_at:.0f} s (posts); "
        f"{stats['requests']} requests, faults injected {stats['errors_by_code']}; "
        f"members {members.state}: {members.done} done, {members.failed} failed, "
        f"{members.skipped} skipped of {members.total}, {snapshots.count()} snapshots; "
        f"posts {posts.state}: {posts.done} done, {posts.failed} failed, {posts.skipped} "
        f"skipped of {posts.total}, {values.count()} values")
