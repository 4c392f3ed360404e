"""Recovery of collection runs a dead worker left unfinished.

A worker killed mid-batch leaves its batch «running» and its task unacknowledged in the broker,
where it waits for the broker's visibility timeout (an hour) — or for someone to press
«Повторить незавершённое». Two things do the same without anyone.

At once, when a worker starts (``collection_recover_worker``, on Celery's worker_ready): each
open batch notes the last worker that held its message (``worker``: set when a worker receives
the message or claims the batch, and kept while a retry or the dispatched message travels back
through the broker, so no moment leaves a message held by no one on record). A worker that has
just started holds nothing, so whatever names it was held by its previous life and may be lost;
so is whatever names a worker that no longer answers a ping. Those are re-queued. A message
that was in fact still waiting in the broker is then delivered twice: harmless, as a batch
already done is skipped and storing one is an upsert.

Periodically (``collection_recover_lost``, beat every 15 minutes), for the batches that are lost
whoever held them:

- a batch claimed («running») and untouched for ``COLLECTION_BATCH_TIMEOUT_MINUTES`` (its claim
  sets ``updated_at``, and no batch takes anywhere near that long);
- a batch still waiting («pending») in a run where no batch has moved for that long (its task
  message was lost with the worker that had prefetched it, or with the broker).

Each batch is taken with a conditional UPDATE on the state and ``updated_at`` that were read, so
two recoveries at once, or a worker that finishes meanwhile, re-queue nothing twice. A task
delivered again anyway is harmless: a done batch is skipped, and storing a batch is an upsert
whose counters replace the batch's own. Runs whose batches are all closed but that were never
marked finished (the worker died between the two) are finished here, and runs that waited for
their tokens' daily allowances to renew (``metrics.collect.quota_plan``) are dispatched again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from metrics.collect.choices import BatchState, RunState
from metrics.collect.runs import (
    OPEN_BATCH_STATES,
    QUEUE_DOWN,
    TASK_BATCH,
    TASK_BATCHES,
    collection_run_finish_if_complete,
    collection_run_streamed,
    run_dispatch,
)
from metrics.models import CollectionBatch, CollectionRun
from portal.errors import ServiceUnavailable
from portal.queue import enqueue

log = logging.getLogger(__name__)

OPEN_RUN_STATES = [RunState.PENDING, RunState.RUNNING]


def batch_timeout() -> dt.timedelta:
    return dt.timedelta(minutes=settings.COLLECTION_BATCH_TIMEOUT_MINUTES)


def lost_batches(*, cutoff: dt.datetime) -> list[tuple[int, int, str, dt.datetime]]:
    """``(batch id, run id, state, updated_at)`` of the open runs' batches taken as lost."""
    moved_since = CollectionBatch.objects.filter(run_id=OuterRef("run_id"),
                                                 updated_at__gte=cutoff)
    return list(
        CollectionBatch.objects.filter(run__state__in=OPEN_RUN_STATES, updated_at__lt=cutoff,
                                       run__resumes_at__isnull=True)  # not waiting for a day
        .filter(Q(state=BatchState.RUNNING) | (Q(state=BatchState.PENDING) & ~Exists(moved_since)))
        .order_by("run_id", "index").values_list("pk", "run_id", "state", "updated_at"))


def _take(batch_id: int, state: str, updated_at: dt.datetime, message: str) -> bool:
    """Put one lost batch back to «pending», unless something touched it since it was read."""
    return bool(CollectionBatch.objects.filter(pk=batch_id, state=state, updated_at=updated_at)
                .update(state=BatchState.PENDING, updated_at=timezone.now(), message=message))


def _mark_runs_running(run_ids: set[int]) -> None:
    now = timezone.now()
    CollectionRun.objects.filter(pk__in=run_ids, started_at__isnull=True).update(started_at=now)
    CollectionRun.objects.filter(pk__in=run_ids, state=RunState.PENDING).update(
        state=RunState.RUNNING)


def batches_held(*, worker: str, batch_ids: Sequence[int] = (),
                 run_ids: Sequence[int] = ()) -> int:
    """Note that ``worker`` received the message of these waiting batches (or of these runs'
    waiting batches: their dispatch). A batch being collected keeps the worker that claimed it.
    """
    waiting = CollectionBatch.objects.filter(state=BatchState.PENDING,
                                             run__state__in=OPEN_RUN_STATES)
    if batch_ids:
        waiting = waiting.filter(pk__in=list(batch_ids))
    else:
        waiting = waiting.filter(run_id__in=list(run_ids))
    return waiting.update(worker=worker, updated_at=timezone.now())


def collection_recover_worker(*, worker: str,
                              alive: Callable[[list[str]], set[str]] | None = None) -> list[int]:
    """Re-queue what ``worker`` held before it (re)started, and what workers that do not
    answer (``alive`` says which of the others do) held; return the batch ids re-queued."""
    held = (CollectionBatch.objects.filter(state__in=OPEN_BATCH_STATES,
                                           run__state__in=OPEN_RUN_STATES).exclude(worker="")
            # A run waiting for its tokens' next day is taken up then, not now.
            .exclude(run__resumes_at__gt=timezone.now()))
    others = sorted(set(held.values_list("worker", flat=True)) - {worker})
    living = set(others)
    if others and alive is not None:
        try:
            living = alive(others)
        except Exception:  # no answer at all: take none of theirs
            log.exception("could not ask which collection workers are alive")
    dead = {worker} | (set(others) - living)
    message = "Обработчик пакета остановился — пакет поставлен в очередь заново."
    taken: dict[int, list[int]] = {}
    for pk, run_id, state, holder in (held.filter(worker__in=dead).order_by("run_id", "index")
                                      .values_list("pk", "run_id", "state", "worker")):
        if (CollectionBatch.objects.filter(pk=pk, state=state, worker=holder)
                .update(state=BatchState.PENDING, worker="", updated_at=timezone.now(),
                        message=message)):
            taken.setdefault(run_id, []).append(pk)
    _mark_runs_running(set(taken))
    queued: list[int] = []
    try:
        for run_id, batch_ids in taken.items():
            _enqueue(run_id, batch_ids, queued)
    except ServiceUnavailable:
        log.error("task queue unavailable: lost batches are re-queued by the periodic recovery")
    return queued


def collection_recover_lost(*, timeout: dt.timedelta | None = None) -> list[int]:
    """Re-queue the batches a dead worker lost; return the ids of those re-queued."""
    timeout = timeout or batch_timeout()
    cutoff = timezone.now() - timeout
    minutes = max(1, int(timeout.total_seconds() // 60))
    message = f"Обработчик не отвечал {minutes} мин. — пакет поставлен в очередь заново."
    taken: dict[int, list[int]] = {}
    for pk, run_id, state, updated_at in lost_batches(cutoff=cutoff):
        if _take(pk, state, updated_at, message):
            taken.setdefault(run_id, []).append(pk)
    _mark_runs_running(set(taken))
    queued: list[int] = []
    try:
        for run_id, batch_ids in taken.items():
            log.warning("collection run %s: batches %s lost by their worker, re-queued",
                        run_id, batch_ids)
            _enqueue(run_id, batch_ids, queued)
    except ServiceUnavailable:
        # Still «pending» and their runs idle: the next recovery takes them again.
        log.error("task queue unavailable: lost batches are re-queued next time")
    _finish_closed_runs(cutoff)
    return queued


def _enqueue(run_id: int, batch_ids: list[int], queued: list[int]) -> None:
    """As the run's dispatch does: one stream task for a streamed run, else a task a batch."""
    if collection_run_streamed(run_id=run_id):
        enqueue(TASK_BATCHES, batch_ids, unavailable=QUEUE_DOWN)
        queued.extend(batch_ids)
        return
    for batch_id in batch_ids:
        enqueue(TASK_BATCH, batch_id, unavailable=QUEUE_DOWN)
        queued.append(batch_id)


def _finish_closed_runs(cutoff: dt.datetime) -> None:
    """Finish open runs with no open batch left (their last worker died before finishing)."""
    open_batches = CollectionBatch.objects.filter(
        run_id=OuterRef("pk"), state__in=[BatchState.PENDING, BatchState.RUNNING])
    stuck = (CollectionRun.objects.filter(state__in=OPEN_RUN_STATES, created_at__lt=cutoff)
             .filter(~Exists(open_batches)).values_list("pk", flat=True))
    for run_id in stuck:
        collection_run_finish_if_complete(run_id=run_id)


def collection_runs_resume_due(*, now: dt.datetime | None = None) -> list[int]:
    """Dispatch the runs that waited for their tokens' next day; the ids of those dispatched."""
    now = now or timezone.now()
    resumed = []
    for run_id, resumes_at in (CollectionRun.objects.filter(resumes_at__lte=now)
                               .order_by("pk").values_list("pk", "resumes_at")):
        # Claimed by a conditional update, so two recoveries never dispatch a run twice.
        if CollectionRun.objects.filter(pk=run_id, resumes_at=resumes_at).update(
                resumes_at=None, message=""):
            try:
                run_dispatch(run=CollectionRun.objects.get(pk=run_id))
            except ServiceUnavailable:
                CollectionRun.objects.filter(pk=run_id).update(resumes_at=resumes_at)
                continue
            resumed.append(run_id)
    return resumed
