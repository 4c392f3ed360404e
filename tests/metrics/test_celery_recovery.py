"""A worker killed mid-run: the periodic recovery, not a person, brings the run to its end.

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


def test_the_recovery_finishes_a_run_whose_worker_was_killed(workers, emulator):
    register(Network.VK, "vkemu-svc-recovery")
    communities = make_communities(vk_ids("active", 30))
    emulator.faults("groups.getById:slow1.5")  # each batch's request takes 1.5 s
    victim = workers("victim")
    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK, batch_size=5)
    # Killed in the middle of its third batch (the slow request), holding that batch's message.
    wait_for(lambda: MemberSnapshot.objects.count() >= 10
             and run.batches.filter(state=BatchState.RUNNING).exists())
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    lost = run.batches.get(state=BatchState.RUNNING)

    emulator.faults(clear=True)
    workers("rescuer")
    # The rescuer takes every batch still queued; the one the victim held stays «running»
    # (its message is unacknowledged in Redis for the broker's visibility timeout: an hour).
    wait_for(lambda: run.batches.filter(state=BatchState.DONE).count() == 5)
    assert run.batches.get(state=BatchState.RUNNING) == lost
    run.refresh_from_db()
    assert run.state == RunState.RUNNING

    # Time passes: the claim grows older than the timeout, and beat runs the recovery.
    CollectionBatch.objects.filter(pk=lost.pk).update(
        updated_at=timezone.now() - dt.timedelta(hours=1))
    assert collection_recover_lost.apply().get() == [lost.pk]
    wait_for(lambda: finished(run))

    assert run.state == RunState.DONE
    assert (run.total, run.done, run.failed, run.skipped) == (30, 30, 0, 0)
    assert MemberSnapshot.objects.filter(community__in=communities).count() == 30
    assert one_row_per_community_and_date()
    assert collection_recover_lost.apply().get() == []
