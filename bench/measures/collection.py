"""Daily VK collection against the emulator's 3 requests a second per token.

The real services and tasks run in process: ``collection_run_create`` makes the run and its
batches, ``collection_run_fan_out`` hands out the batch ids, and the ``collect_batch`` task runs
eagerly (``.apply``) for each, on a pool of ``WORKERS`` threads standing in for the Celery worker
pool (one batch at a time cannot keep three tokens busy: a batch's storing would sit between
requests). Requests go through ``metrics.vk.client`` and the Redis rate limiter. The bound is what
the rate limit allows at best: the minimum number of requests ÷ (3 × tokens) seconds. The figures
are communities a second; the requests are the emulator's own counters.
"""

from __future__ import annotations

import json
import math
import statistics
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from bench import data
from bench.context import Context
from bench.harness import Result
from institutions.choices import Network
from metrics.collect.choices import RunKind, RunState, TokenKind
from metrics.collect.runs import (
    collection_run_create,
    collection_run_fan_out,
    collection_run_finish_if_complete,
    run_communities,
)
from metrics.models import NetworkToken
from metrics.ratelimit import get_limiter
from metrics.tasks import collect_batch
from metrics.tokens import token_register
from metrics.vk.client import EXECUTE_MAX_CALLS, GROUPS_PER_CALL

RATE_PER_TOKEN = 3  # the emulator's limit for VK user and service tokens
TOKEN_COUNTS = (1, 3)
WORKERS = 4  # threads standing in for Celery worker processes
MAX_RUNS = 3  # a posts run with one token takes over half a minute


def _emulator(context: Context, action: str) -> dict:
    method = "POST" if action == "reset" else "GET"
    request = urllib.request.Request(f"{context.emulator_url}/_emulator/{action}", method=method,
                                     data=b"{}" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def minimum_requests(kind: str, communities: int) -> int:
    """Members: 500 ids a groups.getById, 25 calls an execute; posts: 25 wall.get an execute."""
    calls = math.ceil(communities / GROUPS_PER_CALL) if kind == RunKind.MEMBERS else communities
    return math.ceil(calls / EXECUTE_MAX_CALLS)


def _fresh_state(context: Context, tokens: int) -> None:
    """The registry as loaded, ``tokens`` VK user tokens, the emulator's counters at zero."""
    data.load(context.scale, force=True)
    NetworkToken.objects.all().delete()
    for i in range(tokens):
        token_register(user=None, network=Network.VK, kind=TokenKind.USER,
                       secret=f"vkemu-usr-bench-{i + 1}", label=f"Замер {i + 1}", check=False)
    get_limiter()  # imports the Redis client outside the timed run
    time.sleep(1.2)  # the previous run's rate-limiter slots free one window after their answers
    _emulator(context, "reset")


def _batch_in_thread(batch_id: int) -> None:
    try:
        collect_batch.apply(args=(batch_id,), throw=True)
    finally:
        connection.close()


def _one_run(kind: str) -> tuple[float, int]:
    started = time.perf_counter()
    run = collection_run_create(kind=kind, network=Network.VK)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(_batch_in_thread, collection_run_fan_out(run_id=run.pk)))
    collection_run_finish_if_complete(run_id=run.pk)
    seconds = time.perf_counter() - started
    run.refresh_from_db()
    if run.state != RunState.DONE:
        raise RuntimeError(f"the {kind} run ended {run.state}: {run.message}")
    return seconds, run.done + run.skipped + run.failed


def _measure(context: Context, kind: str, tokens: int) -> Result:
    timings, stats = [], []
    communities = 0
    for _ in range(min(context.repeats, MAX_RUNS)):
        _fresh_state(context, tokens)
        communities = run_communities(kind=kind, network=Network.VK).count()
        seconds, _ = _one_run(kind)
        timings.append(seconds)
        stats.append(_emulator(context, "stats"))
    minimum = minimum_requests(kind, communities)
    seconds = statistics.median(timings)
    bound = minimum / (RATE_PER_TOKEN * tokens)
    requests = max(s["requests"] for s in stats)
    limit_errors = sum(s["limit_errors"] for s in stats)
    label = f"collect_{kind} [{tokens} token{'s' if tokens > 1 else ''}]"
    result = Result(label, communities / seconds, communities / bound, "comm/s",
                    "≥ 0.9× bound, requests = minimum", bound / seconds)
    result.extra = {"seconds": seconds, "bound_seconds": bound, "communities": communities,
                    "requests": requests, "minimum_requests": minimum,
                    "limit_errors": limit_errors, "timings": timings}
    return result.judge(result.ratio >= 0.9 and requests == minimum and limit_errors == 0)


def _kind(kind: str) -> Callable[[Context], list[Result]]:
    def measure(context: Context) -> list[Result]:
        if not context.emulator_url:
            raise RuntimeError("the collection measures need the emulator (BENCH_EMULATOR_URL)")
        return [_measure(context, kind, tokens) for tokens in TOKEN_COUNTS]

    measure.__name__ = kind
    return measure


members = _kind(RunKind.MEMBERS)
posts = _kind(RunKind.POSTS)
