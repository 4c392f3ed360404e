"""Collection runs: create one, fan it out in batches, store each batch, finish the run.

A run is split into batches sized so that each batch costs the minimum number of requests
(VK members: 12,500 ids = one ``execute`` of 25 × 500; OK members: 1,000 ids = 10 requests;
posts and stats: 25 communities = one ``execute``). A batch is collected by one task and stored in
one transaction, so a worker killed mid-batch leaves nothing half-written and the batch is simply
redone: snapshots and values are upserts on their natural keys, the batch's own counters are
replaced, and the run's counters move by the difference.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from institutions.choices import CommunityState, Network
from institutions.models import Community
from metrics.choices import ValueSource
from metrics.collect.choices import BatchState, ItemOutcome, RunKind, RunState
from metrics.collect.errors import NetworkError, TransientNetworkError
from metrics.collect.fetch import FETCHERS, BatchResult, NoUsableToken, chunked
from metrics.models import (
    CollectionBatch,
    CollectionRun,
    CollectionRunItem,
    MemberSnapshot,
    NetworkToken,
)
from metrics.services import api_values_record, api_values_record_many
from portal.errors import PortalError, ServiceUnavailable, ValidationFailed
from portal.lib.months import add_months

log = logging.getLogger(__name__)

BATCH_SIZES = {
    (RunKind.MEMBERS, Network.VK): 12_500,
    (RunKind.MEMBERS, Network.OK): 1_000,
    (RunKind.POSTS, Network.VK): 25,
    (RunKind.STATS, Network.VK): 25,
    (RunKind.STATS, Network.OK): 25,
}
COMMUNITY_FIELDS = ["network_id", "members_count", "title", "screen_name", "is_verified",
                    "state", "last_collected_at", "last_error"]
QUEUE_DOWN = "Очередь задач недоступна: сбор не запущен, попробуйте позже."


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
        admin = NetworkToken.communities.through.objects.filter(
            community_id=OuterRef("pk"), networktoken__is_active=True)
        # Ordered by the administering token so each batch needs as few tokens as possible.
        return communities.filter(Exists(admin)).order_by("admin_tokens__pk", "pk").distinct()
    return communities.order_by("pk")


@transaction.atomic
def collection_run_create(*, kind: str, network: str, period: dt.date | None = None,
                          user=None, batch_size: int | None = None) -> CollectionRun:
    """A run with its batches, not yet dispatched."""
    if (kind, network) not in BATCH_SIZES:
        raise ValidationFailed("Публикации собираются только из VK.")
    period = period or default_period(kind)
    if kind != RunKind.MEMBERS:
        period = period.replace(day=1)
    ids = list(dict.fromkeys(run_communities(kind=kind, network=network)
                             .values_list("pk", flat=True)))
    run = CollectionRun.objects.create(kind=kind, network=network, period=period,
                                       triggered_by=user, total=len(ids))
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
    """One run per kind and network (VK and OK; posts from VK only)."""
    return [collection_run_start(kind=kind, network=network, user=user)
            for kind in kinds for network in (Network.VK, Network.OK)
            if (kind, network) in BATCH_SIZES]


def run_dispatch(*, run: CollectionRun) -> None:
    """Enqueue the run's fan-out task; say «очередь задач недоступна» if the broker is down."""
    from metrics.tasks import collect_run_dispatch, enqueue

    try:
        enqueue(collect_run_dispatch, run.pk)
    except ServiceUnavailable:
        CollectionRun.objects.filter(pk=run.pk).update(
            state=RunState.FAILED, finished_at=timezone.now(), message=QUEUE_DOWN)
        raise


def collection_run_fan_out(*, run_id: int) -> list[int]:
    """Mark the run started and return the ids of batches still to collect."""
    now = timezone.now()
    CollectionRun.objects.filter(pk=run_id, started_at__isnull=True).update(started_at=now)
    CollectionRun.objects.filter(pk=run_id).exclude(state=RunState.DONE).update(
        state=RunState.RUNNING, finished_at=None)
    return list(CollectionBatch.objects.filter(run_id=run_id).exclude(state=BatchState.DONE)
                .order_by("index").values_list("pk", flat=True))


def collection_run_resume(*, run_id: int) -> CollectionRun:
    """Collect again every batch of a run that did not finish (after a lost worker or errors)."""
    run = CollectionRun.objects.get(pk=run_id)
    CollectionBatch.objects.filter(run=run).exclude(state=BatchState.DONE).update(
        state=BatchState.PENDING)
    CollectionRun.objects.filter(pk=run_id).update(state=RunState.PENDING, message="")
    run.refresh_from_db()
    run_dispatch(run=run)
    return run


# --- one batch ------------------------------------------------------------------------------------
def collection_batch_collect(*, batch_id: int) -> bool:
    """Collect one batch and store it; False if it was already done (a redelivered task).

    Raises TransientNetworkError for the task to retry later; the requests it made are counted.
    """
    claimed = CollectionBatch.objects.filter(pk=batch_id).exclude(
        state=BatchState.DONE).update(state=BatchState.RUNNING, updated_at=timezone.now())
    if not claimed:
        return False
    batch = CollectionBatch.objects.select_related("run").get(pk=batch_id)
    run = batch.run
    communities = list(Community.objects.filter(pk__in=batch.community_ids).order_by("pk"))
    result = BatchResult()
    try:
        FETCHERS[(run.kind, run.network)](communities, run.period, result)
    except NoUsableToken as exc:
        result.errors[exc.key] += 1
        collection_batch_fail(batch_id=batch_id, error=exc, requests=result.requests,
                              errors=result.errors)
        return True
    except TransientNetworkError as exc:
        result.errors[exc.key] += 1
        _batch_attempt(batch_id=batch_id, requests=result.requests, errors=result.errors,
                       message=exc.message)
        raise
    _batch_store(batch_id=batch_id, communities=communities, result=result)
    collection_run_finish_if_complete(run_id=run.pk)
    return True


def _record_values(run: CollectionRun, result: BatchResult) -> None:
    """The batch's figures in a few bulk queries; community by community if one is refused."""
    source = ValueSource.VK_API if run.network == Network.VK else ValueSource.OK_API
    try:
        with transaction.atomic():
            api_values_record_many(month=run.period, values=result.monthly, source=source)
        return
    except PortalError:
        pass  # find which community is refused, and keep the others' figures
    for community_id, values in result.monthly.items():
        try:
            with transaction.atomic():
                api_values_record(community_id=community_id, month=run.period, values=values,
                                  source=source)
        except PortalError as exc:
            result.problem(community_id, key=exc.code, message=exc.message, skipped=True)


def _upsert_snapshots(day: dt.date, snapshots: dict[int, int]) -> None:
    MemberSnapshot.objects.bulk_create(
        [MemberSnapshot(community_id=cid, date=day, members=n) for cid, n in snapshots.items()],
        update_conflicts=True, unique_fields=["community", "date"],
        update_fields=["members", "collected_at"], batch_size=2000,
    )


def _update_communities(communities: list[Community], result: BatchResult) -> None:
    """Write what the network said about each community, grouped by the fields that change."""
    groups: dict[tuple[str, ...], list[tuple]] = {}
    for community in communities:
        updates = result.community_fields.get(community.pk)
        if updates:
            names = tuple(f for f in COMMUNITY_FIELDS if f in updates)
            groups.setdefault(names, []).append((community.pk, *(updates[f] for f in names)))
    for names, rows in groups.items():
        for chunk in chunked(rows, 500):
            _update_from_values(names, chunk)


def _update_from_values(names: tuple[str, ...], rows: Sequence[tuple]) -> None:
    """One ``UPDATE … FROM (VALUES …)`` for many rows: bulk_update's CASE chains are far slower.

    Values are adapted by the database driver; PostgreSQL gets explicit casts so a column of
    NULLs still has its type. SQLite (the embedded demo, 3.33+) names VALUES columns columnN.
    """
    meta, vendor = Community._meta, connection.vendor
    table = connection.ops.quote_name(meta.db_table)
    fields = [meta.get_field(name) for name in names]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * (len(names) + 1)) + ")"] * len(rows))
    if vendor == "postgresql":
        aliases = ["id", *(f.column for f in fields)]
        source = f"(VALUES {placeholders}) AS v({', '.join(aliases)})"
        sets = ", ".join(f"{connection.ops.quote_name(f.column)} = CAST(v.{f.column} AS "
                         f"{f.db_type(connection)})" for f in fields)
        where = f"{table}.id = CAST(v.id AS bigint)"
    else:
        source = f"(VALUES {placeholders}) AS v"
        sets = ", ".join(f"{connection.ops.quote_name(f.column)} = v.column{i + 2}"
                         for i, f in enumerate(fields))
        where = f"{table}.id = v.column1"
    params = [
        field.get_db_prep_value(value, connection) if field else value
        for row in rows for field, value in zip([None, *fields], row, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {sets} FROM {source} WHERE {where}", params)


def _replace_items(batch: CollectionBatch, result: BatchResult) -> None:
    CollectionRunItem.objects.filter(batch=batch).delete()
    CollectionRunItem.objects.bulk_create([
        CollectionRunItem(run_id=batch.run_id, batch=batch, community_id=cid,
                          outcome=ItemOutcome(o.status), error_key=o.key[:32],
                          message=o.message[:300])
        for cid, o in result.outcomes.items() if o.status != "done"
    ], batch_size=1000)


@transaction.atomic
def _batch_store(*, batch_id: int, communities: list[Community], result: BatchResult) -> None:
    batch = CollectionBatch.objects.select_for_update().select_related("run").get(pk=batch_id)
    run = batch.run
    if run.kind == RunKind.MEMBERS:
        _upsert_snapshots(run.period, result.snapshots)
    else:
        _record_values(run, result)
    _update_communities(communities, result)
    _replace_items(batch, result)
    counts = Counter(o.status for o in result.outcomes.values())
    _batch_close(batch, state=BatchState.DONE, done=counts["done"], failed=counts["failed"],
                 skipped=counts["skipped"], requests=result.requests, errors=result.errors)


def _batch_close(batch: CollectionBatch, *, state: str, done: int, failed: int, skipped: int,
                 requests: int, errors: Counter[str], message: str = "") -> None:
    """Replace the batch's counters and move the run's by the difference (row-locked)."""
    run = CollectionRun.objects.select_for_update().get(pk=batch.run_id)
    run.done += done - batch.done
    run.failed += failed - batch.failed
    run.skipped += skipped - batch.skipped
    run.requests += requests
    run.errors_by_code = dict(Counter(run.errors_by_code) + errors)
    run.save(update_fields=["done", "failed", "skipped", "requests", "errors_by_code"])
    batch.state, batch.done, batch.failed, batch.skipped = state, done, failed, skipped
    batch.requests += requests
    batch.errors_by_code = dict(Counter(batch.errors_by_code) + errors)
    batch.message = message[:300]
    batch.save()


@transaction.atomic
def _batch_attempt(*, batch_id: int, requests: int, errors: Counter[str], message: str) -> None:
    """Count a failed attempt's requests and errors; the batch stays open for a retry."""
    batch = CollectionBatch.objects.select_for_update().get(pk=batch_id)
    batch.attempts += 1
    batch.save(update_fields=["attempts"])
    _batch_close(batch, state=BatchState.PENDING, done=batch.done, failed=batch.failed,
                 skipped=batch.skipped, requests=requests, errors=errors, message=message)


def collection_batch_fail(*, batch_id: int, error: NetworkError, requests: int = 0,
                          errors: Counter[str] | None = None) -> None:
    """Give a batch up: every community gets the error, in Russian; the run may finish."""
    with transaction.atomic():
        batch = CollectionBatch.objects.select_for_update().get(pk=batch_id)
        result = BatchResult()
        for community_id in batch.community_ids:
            result.problem(community_id, key=error.key, message=error.message)
        _replace_items(batch, result)
        _batch_close(batch, state=BatchState.FAILED, done=0, failed=len(batch.community_ids),
                     skipped=0, requests=requests, errors=errors or Counter({error.key: 1}),
                     message=error.message)
    collection_run_finish_if_complete(run_id=batch.run_id)


def collection_run_finish_if_complete(*, run_id: int) -> bool:
    """Finish the run when no batch is open; called after each batch's commit."""
    open_batches = CollectionBatch.objects.filter(
        run_id=OuterRef("pk"), state__in=[BatchState.PENDING, BatchState.RUNNING])
    failed_batches = CollectionBatch.objects.filter(run_id=run_id, state=BatchState.FAILED)
    state = RunState.FAILED if failed_batches.exists() else RunState.DONE
    message = failed_batches.values_list("message", flat=True).first() or ""
    finished = (CollectionRun.objects.filter(pk=run_id)
                .filter(~Q(state__in=[RunState.DONE, RunState.FAILED]))
                .filter(~Exists(open_batches))
                .update(state=state, finished_at=timezone.now(), message=message[:300]))
    return bool(finished)
