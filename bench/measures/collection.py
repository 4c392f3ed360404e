"""VK collection against the emulator's 3 requests a second per token.

The real services and tasks run in process: ``collection_run_create`` makes the run and its
batches, ``dispatch_plan`` hands out the tasks the Celery fan-out would enqueue (one per batch; one
for all of a posts run's batches, which it collects as a single stream), and each task runs
eagerly (``.apply``) on a pool of ``WORKERS`` threads standing in for the Celery worker pool.
Requests go through ``metrics.vk.client`` and the Redis rate limiter.

The bound is what the rate limit allows at best: the minimum number of requests ÷ (3 × tokens)
seconds. The minimum:

- members: ⌈⌈n ÷ 500⌉ ÷ 25⌉ (500 ids a ``groups.getById``, 25 calls an ``execute``);
- posts: ⌈Σ pages(c) ÷ 25⌉, where pages(c) is how many ``wall.get`` pages of 100 a reader needs
  to count community c's month, reading its wall from the top (newest first) until a page's
  oldest post is older than the month — the emulator's generator computes it
  (``emulator.data.wall_pages``); a wall busy since the month began needs two pages.

The emulator's "today" is pinned (``TODAY``) and the posts run reads the month before it, so every
run reads the same walls whatever the date. The figures are communities a second; the requests
are the emulator's own counters. Reported beside them (not judged): ``floor_seconds``, the time
of the members run's one ``execute`` sent bare (requests + JSON, no limiter, no database) —
no run of one request can be faster than that.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from django.conf import settings
from django.db import connection

from bench import data
from bench.context import Context
from bench.harness import Result
from emulator import data as emulator_data
from institutions.choices import Network
from metrics.collect.choices import RunKind, RunState, TokenKind
from metrics.collect.runs import (
    collection_run_create,
    collection_run_finish_if_complete,
    run_communities,
)
from metrics.models import NetworkToken
from metrics.ratelimit import get_limiter
from metrics.tasks import dispatch_plan
from metrics.tokens import token_register
from metrics.vk.calls import EXECUTE_MAX_CALLS, GROUPS_PER_CALL, groups_by_id_call
from portal.lib.months import add_months

RATE_PER_TOKEN = 3  # the emulator's limit for VK user and service tokens
TOKEN_COUNTS = (1, 3)
WORKERS = 4  # threads standing in for Celery worker processes
MAX_RUNS = 3  # a posts run with one token takes over half a minute
TODAY = dt.date(2026, 11, 22)
PERIODS = {RunKind.MEMBERS: TODAY, RunKind.POSTS: add_months(TODAY.replace(day=1), -1)}


def _emulator(context: Context, action: str, payload: dict | None = None) -> dict:
    body = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{context.emulator_url}/_emulator/{action}", data=body,
                                     method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def minimum_requests(kind: str, network_ids: list[int], *, seed: int) -> int:
    """The fewest requests a run of ``kind`` over these VK communities can make (see above)."""
    if kind == RunKind.MEMBERS:
        calls = math.ceil(len(network_ids) / GROUPS_PER_CALL)
    else:
        calls = sum(emulator_data.wall_pages(seed, gid, TODAY, PERIODS[kind])
                    for gid in network_ids)
    return math.ceil(calls / EXECUTE_MAX_CALLS)


def _fresh_state(context: Context, tokens: int) -> None:
    """The registry as loaded, ``tokens`` VK user tokens, the emulator at zero on ``TODAY``."""
    data.load(context.scale, force=True)
    NetworkToken.objects.all().delete()
    for i in range(tokens):
        token_register(user=None, network=Network.VK, kind=TokenKind.USER,
                       secret=f"vkemu-usr-bench-{i + 1}", label=f"Замер {i + 1}", check=False)
    get_limiter()  # imports the Redis client outside the timed run
    time.sleep(1.2)  # the previous run's rate-limiter slots free one window after their answers
    _emulator(context, "reset", {})
    _emulator(context, "faults", {"today": TODAY.isoformat()})


def _task_in_thread(task_and_args: tuple) -> None:
    task, args = task_and_args
    try:
        task.apply(args=args, throw=True)
    finally:
        connection.close()


def _one_run(kind: str) -> tuple[float, int]:
    started = time.perf_counter()
    run = collection_run_create(kind=kind, network=Network.VK, period=PERIODS[kind])
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(_task_in_thread, dispatch_plan(run.pk)))
    collection_run_finish_if_complete(run_id=run.pk)
    seconds = time.perf_counter() - started
    run.refresh_from_db()
    if run.state != RunState.DONE:
        raise RuntimeError(f"the {kind} run ended {run.state}: {run.message}")
    return seconds, run.done + run.skipped + run.failed


def _floor_seconds(network_ids: list[int], repeats: int = 3) -> float:
    """The members run's one execute, bare: HTTP and JSON only (the emulator's counters move)."""
    calls = [groups_by_id_call(network_ids[i:i + GROUPS_PER_CALL])
             for i in range(0, len(network_ids), GROUPS_PER_CALL)][:EXECUTE_MAX_CALLS]
    code = "return [" + ",".join(call.script() for call in calls) + "];"
    url = settings.VK_API_BASE_URL.rstrip("/") + "/execute"
    timings = []
    with requests.Session() as session:
        for i in range(repeats):
            time.sleep(0.4)  # stays within the floor token's 3 requests a second
            start = time.perf_counter()
            session.post(url, data={"code": code, "access_token": f"vkemu-usr-floor-{i}",
                                    "v": settings.VK_API_VERSION}, timeout=30).json()
            timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def _network_ids(kind: str) -> list[int]:
    return list(run_communities(kind=kind, network=Network.VK)
                .values_list("network_id", flat=True))


def _measure(context: Context, kind: str, tokens: int) -> Result:
    timings, stats = [], []
    floor = None
    for _ in range(min(context.repeats, MAX_RUNS)):
        _fresh_state(context, tokens)
        if floor is None and kind == RunKind.MEMBERS:
            floor = _floor_seconds(_network_ids(kind))
            _emulator(context, "reset", {})
            _emulator(context, "faults", {"today": TODAY.isoformat()})
        network_ids = _network_ids(kind)
        seconds, _ = _one_run(kind)
        timings.append(seconds)
        stats.append(_emulator(context, "stats"))
    communities = len(network_ids)
    minimum = minimum_requests(kind, network_ids, seed=stats[0]["seed"])
    seconds = statistics.median(timings)
    bound = minimum / (RATE_PER_TOKEN * tokens)
    requests_made = max(s["requests"] for s in stats)
    limit_errors = sum(s["limit_errors"] for s in stats)
    label = f"collect_{kind} [{tokens} token{'s' if tokens > 1 else ''}]"
    result = Result(label, communities / seconds, communities / bound, "comm/s",
                    "≥ 0.9× bound, requests = minimum", bound / seconds)
    result.extra = {"seconds": seconds, "bound_seconds": bound, "communities": communities,
                    "requests": requests_made, "minimum_requests": minimum,
                    "limit_errors": limit_errors, "timings": timings, "today": TODAY.isoformat(),
                    "floor_seconds": floor}
    return result.judge(result.ratio >= 0.9 and requests_made == minimum and limit_errors == 0)


def _kind(kind: str) -> Callable[[Context], list[Result]]:
    def measure(context: Context) -> list[Result]:
        if not context.emulator_url:
            raise RuntimeError("the collection measures need the emulator (BENCH_EMULATOR_URL)")
        return [_measure(context, kind, tokens) for tokens in TOKEN_COUNTS]

    measure.__name__ = kind
    return measure


members = _kind(RunKind.MEMBERS)
posts = _kind(RunKind.POSTS)
