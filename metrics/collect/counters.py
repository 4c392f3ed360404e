"""A batch's counters and problem rows, and the run's that move with them (rows locked)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from metrics.collect.choices import ItemOutcome
from metrics.collect.fetch import BatchResult
from metrics.models import CollectionBatch, CollectionRun, CollectionRunItem


def replace_items(closing: Sequence[tuple[CollectionBatch, BatchResult]]) -> None:
    """The batches' problem rows (failed and skipped communities), replaced."""
    CollectionRunItem.objects.filter(batch__in=[batch for batch, _ in closing]).delete()
    CollectionRunItem.objects.bulk_create([
        CollectionRunItem(run_id=batch.run_id, batch=batch, community_id=cid,
                          outcome=ItemOutcome(o.status), error_key=o.key[:32],
                          message=o.message[:300])
        for batch, result in closing
        for cid, o in result.outcomes.items() if o.status != "done"
    ], batch_size=1000)


def count_late(batches: Sequence[CollectionBatch], results: dict[int, BatchResult]) -> None:
    """Batches another worker stored first keep what it stored: the first store wins, so the
    figures, the problem rows and the counters stay those of one collection. Only the requests
    and errors of this later one are counted."""
    run = CollectionRun.objects.select_for_update().get(pk=batches[0].run_id)
    for batch in batches:
        result = results[batch.pk]
        batch_count(run, batch, state=batch.state, done=batch.done, failed=batch.failed,
                     skipped=batch.skipped, requests=result.requests, errors=result.errors,
                     message=batch.message)
    run.save(update_fields=RUN_COUNTERS)


RUN_COUNTERS = ["done", "failed", "skipped", "requests", "errors_by_code"]


def batch_close(batch: CollectionBatch, *, state: str, done: int, failed: int, skipped: int,
                 requests: int, errors: Counter[str], message: str = "") -> None:
    """Replace the batch's counters and move the run's by the difference (row-locked)."""
    run = CollectionRun.objects.select_for_update().get(pk=batch.run_id)
    batch_count(run, batch, state=state, done=done, failed=failed, skipped=skipped,
                 requests=requests, errors=errors, message=message)
    run.save(update_fields=RUN_COUNTERS)


def batch_count(run: CollectionRun, batch: CollectionBatch, *, state: str, done: int,
                 failed: int, skipped: int, requests: int, errors: Counter[str],
                 message: str = "") -> None:
    """Save the batch's new counters; move the (locked, not yet saved) run's by the difference."""
    run.done += done - batch.done
    run.failed += failed - batch.failed
    run.skipped += skipped - batch.skipped
    run.requests += requests
    run.errors_by_code = dict(Counter(run.errors_by_code) + errors)
    batch.state, batch.done, batch.failed, batch.skipped = state, done, failed, skipped
    batch.requests += requests
    batch.errors_by_code = dict(Counter(batch.errors_by_code) + errors)
    batch.message = message[:300]
    batch.save()
