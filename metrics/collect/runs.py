"""Collection runs: create one, fan it out in batches, store each batch, finish the run.

A run is split into batches sized so that each batch costs the minimum number of requests
(VK members: 12,500 ids = one ``execute`` of 25 × 500; OK members: 1,000 ids = 10 requests;
posts and stats: 25 communities = one ``execute``). A batch is collected by one task and stored in
one transaction, so a worker killed mid-batch leaves nothing half-written and the batch is simply
redone: snapshots and values are upserts on their natural keys, the batch's own counters are
replaced, and the run's counters move by the difference.

VK posts are the exception to "one task a batch": a busy wall needs more pages than its one
``wall.get``, and only a stream across batches can fill every ``execute`` with 25 of them
(``posts.WallStream``). So one task collects all of a posts run's open batches, taking each as
the stream needs it and storing each as soon as it is read, in its own transaction (shared
only with batches the same answers completed).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterator, Sequence

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from institutions.choices import CommunityState, Network
from institutions.models import Community
from institutions.names import community_names_score
from metrics.collect.choices import BatchState, RunKind, RunState, TokenKind
from metrics.collect.counters import (
    RUN_COUNTERS,
    batch_close,
    batch_count,
    count_late,
    replace_items,
)
from metrics.collect.errors import CollectionBroken, NetworkError, TransientNetworkError
from metrics.collect.fetch import (
    BatchResult,
    NoUsableToken,
    chunked,
    credentials_usable,
    ok_members,
    ok_stats,
    targets_load,
    vk_members,
    vk_stats,
)
from metrics.collect.guard import members_screen
from metrics.collect.plan import run_plan
from metrics.collect.posts import StreamBatch, WallStream, ok_posts, vk_posts
from metrics.collect.quota_plan import collection_run_wait, quota_resume_at, waiting_message
from metrics.collect.store import (
    apart_pays,
    record_posts,
    record_values_of,
    relaxed_commit,
    started,
    update_communities,
    update_communities_apart,
    upsert_snapshots,
    value_source,
)
from metrics.models import (
    CollectionBatch,
    CollectionRun,
    NetworkToken,
)
from metrics.tokens import tokens_usable
from portal.errors import ServiceUnavailable, ValidationFailed
from portal.lib.months import add_months
from portal.queue import enqueue

log = logging.getLogger(__name__)

BATCH_SIZES = {
    (RunKind.MEMBERS, Network.VK): 12_500,
    (RunKind.MEMBERS, Network.OK): 1_000,
    (RunKind.POSTS, Network.VK): 25,
    (RunKind.POSTS, Network.OK): 25,
    (RunKind.STATS, Network.VK): 25,
    (RunKind.STATS, Network.OK): 25,
}
FETCHERS = {
    (RunKind.MEMBERS, Network.VK): vk_members,
    (RunKind.MEMBERS, Network.OK): ok_members,
    (RunKind.POSTS, Network.VK): vk_posts,
    (RunKind.POSTS, Network.OK): ok_posts,
    (RunKind.STATS, Network.VK): vk_stats,
    (RunKind.STATS, Network.OK): ok_stats,
}
#: Runs whose open batches one task collects as a single stream of requests.
STREAMED = {(RunKind.POSTS, Network.VK)}
QUEUE_DOWN = "Очередь задач недоступна: сбор не запущен, попробуйте позже."
# The collection's tasks by name (``metrics.tasks`` registers them): services enqueue by name.
TASK_DISPATCH = "metrics.tasks.collect_run_dispatch"
TASK_BATCH = "metrics.tasks.collect_batch"
TASK_BATCHES = "metrics.tasks.collect_batches"
OPEN_BATCH_STATES = [BatchState.PENDING, BatchState.RUNNING]


def default_period(kind: str) -> dt.date:
    """Members: today; posts and statistics: the previous month."""
    today = timezone.localdate()
    return today if kind == RunKind.MEMBERS else add_months(today.replace(day=1), -1)


def run_communities(*, kind: str, network: str) -> QuerySet[Community]:
    """The communities a run of this kind collects, ordered for batching.

    Deleted communities are never asked again; closed ones still report members but not posts.
    """
    communities = Community.objects.filter(network=network, institution__is_active=True)
    if kind == RunKind.POSTS:
        return communities.filter(state=CommunityState.ACTIVE).order_by("pk")
    communities = communities.exclude(state=CommunityState.DELETED)
    if kind == RunKind.STATS:
        # Only a user token of an admin gets statistics (VK's stats.get takes no other kind).
        admin = NetworkToken.communities.through.objects.filter(
            community_id=OuterRef("pk"), networktoken__is_active=True,
            networktoken__kind=TokenKind.USER)
        # Ordered by the administering token so each batch needs as few tokens as possible.
        return communities.filter(Exists(admin)).order_by("admin_tokens__pk", "pk").distinct()
    return communities.order_by("pk")


@transaction.atomic
def collection_run_create(*, kind: str, network: str, period: dt.date | None = None,
                          user=None, batch_size: int | None = None) -> CollectionRun:
    """A run with its batches, not yet dispatched."""
    relaxed_commit()
    if (kind, network) not in BATCH_SIZES:
        raise ValidationFailed("Такой сбор не предусмотрен.")
    period = period or default_period(kind)
    if kind != RunKind.MEMBERS:
        period = period.replace(day=1)
    ids = list(dict.fromkeys(run_communities(kind=kind, network=network)
                             .values_list("pk", flat=True)))
    run = CollectionRun.objects.create(kind=kind, network=network, period=period,
                                       triggered_by=user, total=len(ids),
                                       plan=run_plan(kind=kind, network=network)[:500])
    size = batch_size or BATCH_SIZES[(kind, network)]
    CollectionBatch.objects.bulk_create([
        CollectionBatch(run=run, index=i, community_ids=list(chunk))
        for i, chunk in enumerate(chunked(ids, size))
    ])
    if not ids:
        run.state, run.finished_at = RunState.DONE, timezone.now()
        run.message = "Нет сообществ для сбора."
        run.save(update_fields=["state", "finished_at", "message"])
    return run


def collection_run_start(*, kind: str, network: str, period: dt.date | None = None,
                         user=None, batch_size: int | None = None) -> CollectionRun:
    """Create a run and hand it to the task queue (or run it in process when there is none)."""
    run = collection_run_create(kind=kind, network=network, period=period, user=user,
                                batch_size=batch_size)
    if not run.is_finished:
        run_dispatch(run=run)
    return run


def collection_start_all(*, kinds: Sequence[str], user=None) -> list[CollectionRun]:
    """One run per kind and network (VK and OK)."""
    return [collection_run_start(kind=kind, network=network, user=user)
            for kind in kinds for network in (Network.VK, Network.OK)
            if (kind, network) in BATCH_SIZES]


def run_dispatch(*, run: CollectionRun) -> None:
    """Enqueue the run's fan-out task; say «очередь задач недоступна» if the broker is down."""
    try:
        enqueue(TASK_DISPATCH, run.pk, unavailable=QUEUE_DOWN)
    except ServiceUnavailable:
        CollectionRun.objects.filter(pk=run.pk).update(
            state=RunState.FAILED, finished_at=timezone.now(), message=QUEUE_DOWN)
        raise


@transaction.atomic
def collection_run_fan_out(*, run_id: int) -> list[int]:
    """Mark the run started and return the ids of batches still to collect."""
    relaxed_commit()
    now = timezone.now()
    CollectionRun.objects.filter(pk=run_id, started_at__isnull=True).update(started_at=now)
    CollectionRun.objects.filter(pk=run_id).exclude(state=RunState.DONE).update(
        state=RunState.RUNNING, finished_at=None)
    return list(CollectionBatch.objects.filter(run_id=run_id).exclude(state=BatchState.DONE)
                .order_by("index").values_list("pk", flat=True))


def collection_run_streamed(*, run_id: int) -> bool:
    """Whether one task collects the run's batches as a single stream (VK posts)."""
    kind, network = CollectionRun.objects.values_list("kind", "network").get(pk=run_id)
    return (kind, network) in STREAMED


def collection_run_resume(*, run_id: int) -> CollectionRun:
    """Collect again every batch of a run that did not finish (after a lost worker or errors)."""
    run = CollectionRun.objects.get(pk=run_id)
    CollectionBatch.objects.filter(run=run).exclude(state=BatchState.DONE).update(
        state=BatchState.PENDING)
    CollectionRun.objects.filter(pk=run_id).update(state=RunState.PENDING, message="",
                                                   resumes_at=None)
    run.refresh_from_db()
    run_dispatch(run=run)
    return run


# --- one batch ------------------------------------------------------------------------------------
#: The database went away for a moment: the batch is retried, like a network error.
DATABASE_TROUBLE = (OperationalError, InterfaceError)


def _unforeseen(exc: Exception, batch_ids: Sequence[int]) -> NetworkError:
    """The error a batch fails with when ``exc`` stopped it; logged with its traceback."""
    if isinstance(exc, NetworkError):  # refused for good: no retry would help
        return exc
    log.exception("collection batches %s stopped by an unforeseen error", list(batch_ids))
    return CollectionBroken(f"внутренняя ошибка сбора ({exc.__class__.__name__}); подробности "
                            "в журнале обработчика", key="internal")


def collection_batch_collect(*, batch_id: int, worker: str = "") -> bool:
    """Collect one batch and store it; False if it was already done (a redelivered task).

    Raises TransientNetworkError (and the database's own transient errors) for the task to
    retry later; the requests it made are counted. Any other error ends the batch as failed
    with its reason: a run never stays open because of one.
    """
    if not _batch_claim(batch_id, worker):
        return False
    batch = CollectionBatch.objects.select_related("run").get(pk=batch_id)
    run = batch.run
    result = BatchResult()
    try:
        _collect_one(run, batch, result)
    except NoUsableToken as exc:
        result.errors[exc.key] += 1
        if _waits_for_quota(run, {batch_id: result}):
            return True
        collection_batch_fail(batch_id=batch_id, error=exc, requests=result.requests,
                              errors=result.errors)
    except TransientNetworkError as exc:
        result.errors[exc.key] += 1
        _batch_attempt(batch_id=batch_id, requests=result.requests, errors=result.errors,
                       message=exc.message)
        raise
    except DATABASE_TROUBLE:
        raise
    except Exception as exc:
        error = _unforeseen(exc, [batch_id])
        result.errors[error.key] += 1
        collection_batch_fail(batch_id=batch_id, error=error, requests=result.requests,
                              errors=result.errors)
    return True


def _collect_one(run: CollectionRun, batch: CollectionBatch, result: BatchResult) -> None:
    FETCHERS[(run.kind, run.network)](targets_load(batch.community_ids), run.period, result)
    if run.kind == RunKind.MEMBERS:
        members_screen(run=run, source=value_source(run), result=result)
    _batches_store([(batch.pk, result)], apart=apart_pays(result))
    collection_run_finish_if_complete(run_id=run.pk)


def collection_batches_collect(*, batch_ids: Sequence[int], worker: str = "") -> int:
    """Collect batches of one streamed run (VK posts) together; return how many it closed.

    Each batch is claimed as the stream takes it and stored, in its own transaction, as soon as
    its walls are read. A transient error ends the stream: the batches still open count the
    attempt and the error is raised for the task to retry them (the closed ones stay closed).
    With no usable token left, or after any other error, every batch not yet closed fails with
    that error.
    """
    first = CollectionBatch.objects.filter(pk__in=batch_ids).select_related("run").first()
    if first is None:
        return 0
    run, results, stream = first.run, {}, None
    closed = 0
    try:
        credentials = credentials_usable(run.network, tokens_usable(network=run.network))
        stream = WallStream(period=run.period, credentials=credentials,
                            batches=_claimed(batch_ids, results, worker))
        for completed in stream.completed():
            _batches_store([(batch_id, results.pop(batch_id)) for batch_id in completed])
            closed += len(completed)
    except NoUsableToken as exc:
        if _waits_for_quota(run, {i: results[i] for i in stream.open_batches()} if stream
                            else {}):
            return closed
        return closed + collection_batches_fail(batch_ids=batch_ids, error=exc, results=results)
    except TransientNetworkError as exc:
        for batch_id in stream.open_batches() if stream else []:
            result = results[batch_id]
            if batch_id == stream.failed_batch:
                result.errors[exc.key] += 1
            _batch_attempt(batch_id=batch_id, requests=result.requests, errors=result.errors,
                           message=exc.message)
        raise
    except DATABASE_TROUBLE:
        raise
    except Exception as exc:
        error = _unforeseen(exc, batch_ids)
        return closed + collection_batches_fail(batch_ids=batch_ids, error=error,
                                                results=results)
    collection_run_finish_if_complete(run_id=run.pk)
    return closed


def _waits_for_quota(run: CollectionRun, open_results: dict[int, BatchResult]) -> bool:
    """With every token resting after its daily allowance, the run waits for the next day.

    The open batches go back to the queue with what they spent counted; nothing fails.
    """
    until = quota_resume_at(run.network)
    if until is None:
        return False
    for batch_id, result in open_results.items():
        _batch_attempt(batch_id=batch_id, requests=result.requests, errors=result.errors,
                       message=waiting_message(until))
    collection_run_wait(run_id=run.pk, until=until)
    return True


@transaction.atomic
def _batch_claim(batch_id: int, worker: str = "") -> bool:
    """Mark a batch as being collected (by ``worker``), unless it is closed (a redelivered
    task, or one given up meanwhile)."""
    relaxed_commit()
    return bool(CollectionBatch.objects.filter(pk=batch_id, state__in=OPEN_BATCH_STATES)
                .update(state=BatchState.RUNNING, worker=worker, updated_at=timezone.now()))


def _claimed(batch_ids: Sequence[int], results: dict[int, BatchResult],
             worker: str = "") -> Iterator[StreamBatch]:
    """The batches still to collect, each claimed when the stream takes it."""
    for batch_id in batch_ids:
        if not _batch_claim(batch_id, worker):
            continue
        community_ids = CollectionBatch.objects.values_list("community_ids", flat=True).get(
            pk=batch_id)
        results[batch_id] = BatchResult()
        yield batch_id, targets_load(community_ids), results[batch_id]


def collection_batches_fail(*, batch_ids: Sequence[int], error: NetworkError,
                            results: dict[int, BatchResult] | None = None) -> int:
    """Give up every batch of the list that is not done; return how many were given up.

    ``results`` holds what was spent on batches already under way (their requests and errors).
    """
    open_ids = list(CollectionBatch.objects.filter(pk__in=batch_ids)
                    .exclude(state=BatchState.DONE).order_by("index").values_list("pk", flat=True))
    for batch_id in open_ids:
        result = (results or {}).get(batch_id) or BatchResult()
        collection_batch_fail(batch_id=batch_id, error=error, requests=result.requests,
                              errors=result.errors + Counter({error.key: 1}))
    return len(open_ids)


@transaction.atomic
def _batches_store(done: Sequence[tuple[int, BatchResult]], *, apart: bool = False) -> None:
    """Store batches in one transaction; ``apart``: their communities on a second connection.

    Usually one batch. A stream's last answers complete several batches at once, and they are
    written together, a statement per table rather than per batch, so the run does not end
    waiting on one commit after another.

    The communities' rows are written apart, at the same time, only for big batches outside
    any outer transaction (a second connection could not see its rows). They are committed
    before the batches are: a batch is only done once its communities are written, and if the
    batch fails after them it is redone and they are written again, unchanged.
    """
    relaxed_commit()
    results = dict(done)
    batches = list(CollectionBatch.objects.select_for_update().select_related("run")
                   .filter(pk__in=results).order_by("pk"))
    late = [batch for batch in batches if batch.state == BatchState.DONE]
    if late:  # stored meanwhile by another worker (a redelivered or recovered task)
        count_late(late, results)
        batches = [batch for batch in batches if batch.state != BatchState.DONE]
        results = {batch.pk: results[batch.pk] for batch in batches}
        if not batches:
            return
    communities = started(update_communities_apart, _joined(results)) if apart else None
    run = batches[0].run
    if run.kind == RunKind.MEMBERS:
        upsert_snapshots(run.period, _joined(results).snapshots)
    else:
        record_values_of(run, list(results.values()))
        record_posts(run.period, list(results.values()))
    if communities is None:
        update_communities(_joined(results))  # after the values: a refused one has its error
    else:
        communities.result()
    if run.kind == RunKind.MEMBERS:
        fields = _joined(results).community_fields
        community_names_score(community_ids=fields,
                              retitled=[cid for cid, said in fields.items() if "title" in said])
    closing = [(batch, results[batch.pk]) for batch in batches]
    replace_items(closing)
    run = CollectionRun.objects.select_for_update().get(pk=run.pk)
    for batch, result in closing:
        counts = Counter(o.status for o in result.outcomes.values())
        batch_count(run, batch, state=BatchState.DONE, done=counts["done"],
                     failed=counts["failed"], skipped=counts["skipped"],
                     requests=result.requests, errors=result.errors)
    run.save(update_fields=RUN_COUNTERS)


def _joined(results: dict[int, BatchResult]) -> BatchResult:
    """The batches' snapshots and community fields as one result (one statement each)."""
    if len(results) == 1:
        return next(iter(results.values()))
    joined = BatchResult()
    for result in results.values():
        joined.community_fields.update(result.community_fields)
        joined.snapshots.update(result.snapshots)
    return joined


@transaction.atomic
def _batch_attempt(*, batch_id: int, requests: int, errors: Counter[str], message: str) -> None:
    """Count a failed attempt's requests and errors; the batch stays open for a retry."""
    batch = CollectionBatch.objects.select_for_update().get(pk=batch_id)
    if batch.state == BatchState.DONE:  # another worker stored it meanwhile: it stays done
        count_late([batch], {batch.pk: BatchResult(requests=requests, errors=errors)})
        return
    batch.attempts += 1
    batch.save(update_fields=["attempts"])
    batch_close(batch, state=BatchState.PENDING, done=batch.done, failed=batch.failed,
                 skipped=batch.skipped, requests=requests, errors=errors, message=message)


def collection_batch_fail(*, batch_id: int, error: NetworkError, requests: int = 0,
                          errors: Counter[str] | None = None) -> None:
    """Give a batch up: every community gets the error, in Russian; the run may finish."""
    with transaction.atomic():
        batch = CollectionBatch.objects.select_for_update().get(pk=batch_id)
        if batch.state == BatchState.DONE:  # another worker stored it meanwhile: it stays done
            count_late([batch], {batch.pk: BatchResult(
                requests=requests, errors=errors or Counter({error.key: 1}))})
            return
        result = BatchResult()
        for community_id in batch.community_ids:
            result.problem(community_id, key=error.key, message=error.message)
        replace_items([(batch, result)])
        batch_close(batch, state=BatchState.FAILED, done=0, failed=len(batch.community_ids),
                     skipped=0, requests=requests, errors=errors or Counter({error.key: 1}),
                     message=error.message)
    collection_run_finish_if_complete(run_id=batch.run_id)


@transaction.atomic
def collection_run_finish_if_complete(*, run_id: int) -> bool:
    """Finish the run when no batch is open; called after each batch's commit."""
    relaxed_commit()
    open_batches = CollectionBatch.objects.filter(
        run_id=OuterRef("pk"), state__in=[BatchState.PENDING, BatchState.RUNNING])
    failure = (CollectionBatch.objects.filter(run_id=run_id, state=BatchState.FAILED)
               .values_list("message", flat=True).first())
    state = RunState.DONE if failure is None else RunState.FAILED
    message = failure or ""
    finished = (CollectionRun.objects.filter(pk=run_id)
                .filter(~Q(state__in=[RunState.DONE, RunState.FAILED]))
                .filter(~Exists(open_batches))
                .update(state=state, finished_at=timezone.now(), message=message[:300]))
    return bool(finished)
