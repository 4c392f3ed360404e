"""Celery tasks of the collection: thin, take ids, safe to run twice (acks_late).

A run fans out one task per batch — except a streamed run (VK posts), whose open batches one task
collects as a single stream of full ``execute`` requests (see ``metrics.collect.posts``). A
transient network error retries the batch (or the stream's open batches) with exponential backoff
and jitter; after the last retry they are given up with the error on every community.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from celery.signals import task_received, worker_ready
from django.conf import settings

from metrics.collect import members_month, recovery
from metrics.collect.choices import RunKind
from metrics.collect.errors import TransientNetworkError
from metrics.collect.runs import (
    DATABASE_TROUBLE,
    QUEUE_DOWN,
    TASK_BATCH,
    TASK_BATCHES,
    TASK_DISPATCH,
    collection_batch_collect,
    collection_batch_fail,
    collection_batches_collect,
    collection_batches_fail,
    collection_run_fan_out,
    collection_run_finish_if_complete,
    collection_run_streamed,
    collection_start_all,
)
from portal.lib.months import parse_month
from portal.queue import enqueue

log = logging.getLogger(__name__)
MAX_RETRIES = 5


def retry_delay(retries: int) -> float:
    """Exponential backoff with jitter: ~10 s, 20 s, 40 s … capped at 10 minutes (the first
    step is COLLECTION_RETRY_SECONDS)."""
    first = settings.COLLECTION_RETRY_SECONDS
    return min(60 * first, first * 2**retries) * random.uniform(0.5, 1.5)


def dispatch_plan(run_id: int) -> list[tuple[Task, tuple]]:
    """The tasks (and their arguments) that collect a run's open batches; marks it started."""
    batch_ids = collection_run_fan_out(run_id=run_id)
    if batch_ids and collection_run_streamed(run_id=run_id):
        return [(collect_batches, (batch_ids,))]
    return [(collect_batch, (batch_id,)) for batch_id in batch_ids]


@shared_task(name=TASK_DISPATCH, acks_late=True)
def collect_run_dispatch(run_id: int) -> int:
    """Fan a run out: one task per batch still to collect (one for a streamed run)."""
    plan = dispatch_plan(run_id)
    for task, args in plan:
        enqueue(task.name, *args, unavailable=QUEUE_DOWN)
    collection_run_finish_if_complete(run_id=run_id)
    return len(plan)


def _retry_later(task: Task, exc: TransientNetworkError, args: tuple,
                 give_up: Callable[[TransientNetworkError], object]) -> None:
    """Retry with backoff; after the last retry, ``give_up`` with the error."""
    retries = task.request.retries
    if retries >= MAX_RETRIES:
        give_up(exc)
        return
    if task.request.is_eager:
        # In-process mode (no broker): nothing would run a delayed retry, so retry now.
        task.apply(args=args, retries=retries + 1)
        return
    raise task.retry(exc=exc, countdown=retry_delay(retries)) from exc


def _database_trouble(exc: Exception) -> TransientNetworkError:
    return TransientNetworkError(f"нет связи с базой данных ({exc.__class__.__name__})",
                                 key="database")


@shared_task(bind=True, name=TASK_BATCH, acks_late=True,
             max_retries=MAX_RETRIES)
def collect_batch(self: Task, batch_id: int) -> None:
    """Collect one batch; retry transient errors later, give up after the last retry (any
    other error has closed the batch as failed already)."""
    try:
        collection_batch_collect(batch_id=batch_id, worker=self.request.hostname or "")
    except TransientNetworkError as exc:
        _retry_later(self, exc, (batch_id,),
                     lambda error: collection_batch_fail(batch_id=batch_id, error=error))
    except DATABASE_TROUBLE as exc:
        _retry_later(self, _database_trouble(exc), (batch_id,),
                     lambda error: collection_batch_fail(batch_id=batch_id, error=error))


@shared_task(bind=True, name=TASK_BATCHES, acks_late=True,
             max_retries=MAX_RETRIES)
def collect_batches(self: Task, batch_ids: list[int]) -> None:
    """Collect a streamed run's batches together; retry the ones left open, as one batch is."""
    try:
        collection_batches_collect(batch_ids=batch_ids, worker=self.request.hostname or "")
    except TransientNetworkError as exc:
        _retry_later(self, exc, (batch_ids,),
                     lambda error: collection_batches_fail(batch_ids=batch_ids, error=error))
    except DATABASE_TROUBLE as exc:
        _retry_later(self, _database_trouble(exc), (batch_ids,),
                     lambda error: collection_batches_fail(batch_ids=batch_ids, error=error))


@shared_task(name="metrics.tasks.collect_members_daily")
def collect_members_daily() -> list[int]:
    """Beat: members of every community from VK and OK (daily at 03:00 by default)."""
    return [run.pk for run in collection_start_all(kinds=[RunKind.MEMBERS])]


@shared_task(name="metrics.tasks.collect_monthly")
def collect_monthly() -> list[int]:
    """Beat: last month's posts and statistics (the 2nd of the month by default)."""
    return [run.pk for run in collection_start_all(kinds=[RunKind.POSTS, RunKind.STATS])]


@shared_task(name="metrics.tasks.collection_recover_lost", acks_late=True)
def collection_recover_lost() -> list[int]:
    """Beat (every 15 minutes): re-queue batches whose worker died; ids of those re-queued.

    Runs that waited for their tokens' next day go on too, once it has come.
    """
    recovery.collection_runs_resume_due()
    return recovery.collection_recover_lost()


# --- which worker holds which batch -------------------------------------------------------------
#: Task name → the batches its message carries (the dispatch: the waiting batches of its run).
BATCH_TASKS: dict[str, Callable[[tuple], dict[str, list[int]]]] = {
    TASK_BATCH: lambda args: {"batch_ids": [args[0]]},
    TASK_BATCHES: lambda args: {"batch_ids": list(args[0])},
    TASK_DISPATCH: lambda args: {"run_ids": [args[0]]},
}


@task_received.connect(dispatch_uid="metrics.tasks.batches_received")
def _batches_received(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    """A worker received a collection message (to run now, or at its retry's time): its
    batches are held by that worker until they close or go back to the broker."""
    carried = BATCH_TASKS.get(getattr(request, "task_name", ""))
    if carried is None:
        return
    try:
        recovery.batches_held(worker=request.hostname, **carried(tuple(request.args)))
    except Exception:  # bookkeeping must never stop the worker taking the task
        log.exception("could not note which worker holds %s", request.task_name)


@worker_ready.connect(dispatch_uid="metrics.tasks.recover_on_start")
def _recover_on_start(sender: Any = None, **kwargs: Any) -> None:
    """A worker that starts (again) re-queues at once what it held when it died, and what
    workers no longer alive held; the broker would give those messages back only after its
    visibility timeout (an hour)."""
    worker = getattr(sender, "hostname", "")
    if not worker:
        return
    try:
        requeued = recovery.collection_recover_worker(worker=worker, alive=_alive_workers)
    except Exception:  # the periodic recovery takes them later
        log.exception("collection recovery on start of %s failed", worker)
        return
    if requeued:
        log.warning("%s: re-queued collection batches %s held by dead workers", worker,
                    requeued)


def _alive_workers(names: list[str]) -> set[str]:
    """Which of the named workers answer a ping within a second."""
    from portal.celery import app

    answers = app.control.ping(destination=names, timeout=1.0) or []
    return {name for answer in answers for name in answer}


@shared_task(name="metrics.tasks.members_month_fill", acks_late=True)
def members_month_fill(month: str | None = None) -> dict:
    """Beat (the 1st of the month): last month's Table-1 members from the daily snapshots.

    ``month`` (``YYYY-MM``) fills another month on demand; running it twice changes nothing.
    """
    target = parse_month(month) if month else members_month.previous_month()
    return members_month.members_month_record(month=target).as_dict()


@shared_task(name="metrics.tasks.refresh_connected_tokens")
def refresh_connected_tokens() -> dict[str, int]:
    """Hourly: renew tokens connected through OAuth before they expire."""
    from metrics.oauth import tokens_refresh_due

    return tokens_refresh_due()
