"""A worker killed mid-run: the next worker to start, not a person, brings the run to its end.

Real Celery workers on Redis and the emulator over HTTP, as in ``test_celery_collection.py``
(whose fixtures this reuses).
"""

from __future__ import annotations

import datetime as dt
import os
import signal

import pytest
from django.utils import timezone

from institutions.choices import Network
from metrics.collect.choices import BatchState, RunKind, RunState
from metrics.collect.runs import collection_run_start
from metrics.models import CollectionBatch, MemberSnapshot
from metrics.tasks import collection_recover_lost
from tests.metrics import test_celery_collection as e2e
from tests.metrics.conftest import make_communities, register, vk_ids
from tests.metrics.test_celery_collection import (
    finished,
    one_row_per_community_and_date,
    wait_for,
)

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]
workers = e2e.workers  # the fixture that starts worker processes on the test database


def kill_mid_batch(workers, emulator, name: str):
    """A members run whose worker ``name`` is killed in the middle of its third batch."""
    register(Network.VK, "vkemu-svc-recovery")
    communities = make_communities(vk_ids("active", 30))
    emulator.faults("groups.getById:slow1.5")  # each batch's request takes 1.5 s
    victim = workers(name)
    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK, batch_size=5)
    wait_for(lambda: MemberSnapshot.objects.count() >= 10
             and run.batches.filter(state=BatchState.RUNNING).exists())
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    lost = run.batches.get(state=BatchState.RUNNING)
    assert lost.worker.startswith(f"{name}@")
    emulator.faults(clear=True)
    return run, communities, lost


def test_the_next_worker_to_start_takes_the_killed_workers_batch_back_at_once(workers,
                                                                            emulator):
    """Another worker (a new container has a new name; the same name restarted is the soak
    test's case): the lost batch's message waits in Redis for the broker's visibility timeout
    (an hour), but the batch is re-queued as the worker starts, the victim not answering."""
    run, communities, lost = kill_mid_batch(workers, emulator, "victim")
    rescuer = "rescuer"

    workers(rescuer)
    wait_for(lambda: finished(run), timeout=30)

    assert run.state == RunState.DONE
    assert (run.total, run.done, run.failed, run.skipped) == (30, 30, 0, 0)
    lost.refresh_from_db()
    assert lost.state == BatchState.DONE and lost.worker.startswith(f"{rescuer}@")
    assert MemberSnapshot.objects.filter(community__in=communities).count() == 30
    assert one_row_per_community_and_date()
    assert collection_recover_lost.apply().get() == []


def test_the_periodic_recovery_takes_a_batch_no_worker_came_back_for(workers, emulator):
    """No worker starts after the kill: beat's recovery re-queues the batch once it is old."""
    run, communities, lost = kill_mid_batch(workers, emulator, "victim")
    run.refresh_from_db()
    assert run.state == RunState.RUNNING

    # Time passes: the claim grows older than the timeout, and beat runs the recovery.
    CollectionBatch.objects.filter(pk__in=run.batches.exclude(state=BatchState.DONE)).update(
        updated_at=timezone.now() - dt.timedelta(hours=1))
    queued = collection_recover_lost.apply().get()
    assert lost.pk in queued
    workers("rescuer")
    wait_for(lambda: finished(run))

    assert run.state == RunState.DONE
    assert (run.total, run.done, run.failed, run.skipped) == (30, 30, 0, 0)
    assert MemberSnapshot.objects.filter(community__in=communities).count() == 30
    assert one_row_per_community_and_date()
