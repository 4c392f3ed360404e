"""Celery tasks of the collection: thin, take ids, safe to run twice (acks_late).

A run fans out one task per batch. A transient network error retries the batch with exponential
backoff and jitter; after the last retry the batch is given up with the error on every community.
"""

from __future__ import annotations

import random
from typing import Any

from celery import Task, shared_task
from kombu.exceptions import OperationalError

from metrics.collect.choices import RunKind
from metrics.collect.errors import TransientNetworkError
from metrics.collect.runs import (
    QUEUE_DOWN,
    collection_batch_collect,
    collection_batch_fail,
    collection_run_fan_out,
    collection_run_finish_if_complete,
    collection_start_all,
)
from portal.errors import ServiceUnavailable

MAX_RETRIES = 5
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 1}


def retry_delay(retries: int) -> float:
    """Exponential backoff with full jitter: ~10 s, 20 s, 40 s … capped at 10 minutes."""
    return min(600.0, 10.0 * 2**retries) * random.uniform(0.5, 1.5)


def enqueue(task: Task, *args: Any) -> None:
    """Send a task; a broker that cannot be reached becomes ServiceUnavailable (in Russian)."""
    if task.app.conf.task_always_eager:  # in process: no producer, no broker connection
        task.apply(args=args)
        return
    try:
        task.apply_async(args=args, retry=True, retry_policy=PUBLISH_RETRY)
    except (OperationalError, ConnectionError, OSError) as exc:
        raise ServiceUnavailable(QUEUE_DOWN) from exc


@shared_task(name="metrics.tasks.collect_run_dispatch", acks_late=True)
def collect_run_dispatch(run_id: int) -> int:
    """Fan a run out: one task per batch still to collect."""
    batch_ids = collection_run_fan_out(run_id=run_id)
    for batch_id in batch_ids:
        enqueue(collect_batch, batch_id)
    collection_run_finish_if_complete(run_id=run_id)
    return len(batch_ids)


@shared_task(bind=True, name="metrics.tasks.collect_batch", acks_late=True,
             max_retries=MAX_RETRIES)
def collect_batch(self: Task, batch_id: int) -> None:
    """Collect one batch; retry transient errors later, give up after the last retry."""
    try:
        collection_batch_collect(batch_id=batch_id)
    except TransientNetworkError as exc:
        retries = self.request.retries
        if retries >= MAX_RETRIES:
            collection_batch_fail(batch_id=batch_id, error=exc)
            return
        if self.request.is_eager:
            # In-process mode (no broker): nothing would run a delayed retry, so retry now.
            collect_batch.apply(args=(batch_id,), retries=retries + 1)
            return
        raise self.retry(exc=exc, countdown=retry_delay(retries)) from exc


@shared_task(name="metrics.tasks.collect_members_daily")
def collect_members_daily() -> list[int]:
    """Beat: members of every community from VK and OK (daily at 03:00 by default)."""
    return [run.pk for run in collection_start_all(kinds=[RunKind.MEMBERS])]


@shared_task(name="metrics.tasks.collect_monthly")
def collect_monthly() -> list[int]:
    """Beat: last month's posts and statistics (the 2nd of the month by default)."""
    return [run.pk for run in collection_start_all(kinds=[RunKind.POSTS, RunKind.STATS])]
