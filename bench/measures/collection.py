"""VK collection against the emulator's 3 requests a second per token, on real Celery workers.

As production runs it: ``collection_run_start`` makes the run and its batches and puts the
fan-out on the Redis queue; a Celery worker with ``WORKERS`` prefork processes
(``bench.celery_workers``) collects the batches (one task a batch; one task streams all of a posts
run's batches), requests go through ``metrics.vk.client``, the Redis rate limiter and the
tokens' daily counts, and the measure waits for the run's row to say it finished. Without a
broker (no REDIS_URL) the tasks ``dispatch_plan`` hands out run eagerly on ``WORKERS`` threads.

Rows: the region's registry (3,000 communities, 2,400 on VK) with 1 and 3 tokens; the country's
members (130,000 communities, 104,000 on VK) with 10 tokens; the country's posts with 10 tokens
over a tenth of the country (13,000 communities whose whole walls are read): its requests are a
tenth of the country's, and ``extra.scaled_to_country`` says what the whole takes (requests, the
rate bound, and the days the tokens' daily ``wall.get`` allowances spread it over).

The bound is what the rate limit allows at best: the minimum number of requests ÷ (3 × tokens)
seconds — but never less than the time of those minimum requests themselves. A run of one
request (members: 2,400 communities are one ``execute``) is never held back by the limit, a
token may send three at once; so the members bound is max(minimum ÷ (3 × tokens),
``floor_seconds``), the time of the run's minimum requests sent bare (HTTP and JSON, no limiter,
no database). The minimum:

- members: ⌈⌈n ÷ 500⌉ ÷ 25⌉ (500 ids a ``groups.getById``, 25 calls an ``execute``);
- posts: ⌈Σ pages(c) ÷ 25⌉, where pages(c) is how many ``wall.get`` pages of 100 a reader needs
  to count community c's month, reading its wall from the top (newest first) until a page's
  oldest post is older than the month — the emulator's generator computes it
  (``emulator.data.wall_pages``); a wall busy since the month began needs two pages.

The emulator's "today" is pinned (``TODAY``) and the posts run reads the month before it, so every
run reads the same walls whatever the date. The figures are communities a second; the requests
are the emulator's own counters; ``extra`` has both parts of the bound (``rate_bound_seconds``,
``floor_seconds``).
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
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import connection

from bench import data
from bench.celery_workers import real_workers_wanted, workers_running
from bench.context import Context
from bench.harness import Result
from emulator import data as emulator_data
from institutions.choices import Network
from metrics.collect.choices import RunKind, RunState, TokenKind
from metrics.collect.runs import (
    collection_run_create,
    collection_run_finish_if_complete,
    collection_run_start,
    run_communities,
)
from metrics.models import Anomaly, CollectionRun, NetworkToken
from metrics.quota import daily_allowance, quota_counter
from metrics.ratelimit import get_limiter
from metrics.tasks import dispatch_plan
from metrics.tokens import token_register
from metrics.vk.calls import EXECUTE_MAX_CALLS, GROUPS_PER_CALL, groups_by_id_call
from portal.lib.months import add_months

RATE_PER_TOKEN = 3  # the emulator's limit for VK user and service tokens
TOKEN_COUNTS = (1, 3)
NATIONAL_TOKENS = 10
WORKERS = 4  # Celery prefork processes (threads when there is no broker)
RUN_TIMEOUT = 900.0
POLL_SECONDS = 0.01
MAX_RUNS = 3  # a posts run with one token takes over half a minute
TODAY = dt.date(2026, 11, 22)
PERIODS = {RunKind.MEMBERS: TODAY, RunKind.POSTS: add_months(TODAY.replace(day=1), -1)}


def _emulator(context: Context, action: str, payload: dict | None = None) -> dict:
    body = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{context.emulator_url}/_emulator/{action}", data=body,
                                     method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def minimum_calls(kind: str, network_ids: list[int], *, seed: int) -> int:
    """The fewest method calls a run of ``kind`` over these VK communities makes (see above)."""
    if kind == RunKind.MEMBERS:
        return math.ceil(len(network_ids) / GROUPS_PER_CALL)
    return sum(emulator_data.wall_pages(seed, gid, TODAY, PERIODS[kind]) for gid in network_ids)


def minimum_requests(kind: str, network_ids: list[int], *, seed: int) -> int:
    """The fewest requests a run of ``kind`` over these VK communities can make (see above)."""
    return math.ceil(minimum_calls(kind, network_ids, seed=seed) / EXECUTE_MAX_CALLS)


def _fresh_state(context: Context, tokens: int, scale: data.Scale) -> None:
    """The registry as loaded, ``tokens`` VK user tokens, the emulator at zero on ``TODAY``."""
    data.load(scale, force=True)
    quota_counter().clear()  # every run starts on a fresh day of the tokens' allowances
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


def _run_in_threads(kind: str) -> int:
    """The run's tasks eagerly on ``WORKERS`` threads (when there is no broker)."""
    run = collection_run_create(kind=kind, network=Network.VK, period=PERIODS[kind])
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(_task_in_thread, dispatch_plan(run.pk)))
    collection_run_finish_if_complete(run_id=run.pk)
    return run.pk


def _run_on_workers(kind: str) -> int:
    """Started as the portal starts it (the fan-out on the queue); back when its row is done."""
    run = collection_run_start(kind=kind, network=Network.VK, period=PERIODS[kind])
    deadline = time.monotonic() + RUN_TIMEOUT
    rows = CollectionRun.objects.filter(pk=run.pk)
    while not rows.filter(state__in=[RunState.DONE, RunState.FAILED]).exists():
        if rows.filter(resumes_at__isnull=False).exists():
            raise RuntimeError(f"the {kind} run spent the tokens' daily allowances")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {kind} run did not finish in {RUN_TIMEOUT:g} s")
        time.sleep(POLL_SECONDS)
    return run.pk


def _one_run(kind: str, on_workers: bool) -> tuple[float, float, int]:
    """(the run's seconds, of which before a worker took up its fan-out, anomalies it held)."""
    started = time.perf_counter()
    run_id = _run_on_workers(kind) if on_workers else _run_in_threads(kind)
    seconds = time.perf_counter() - started
    run = CollectionRun.objects.get(pk=run_id)
    if run.state != RunState.DONE:
        raise RuntimeError(f"the {kind} run ended {run.state}: {run.message}")
    held = Anomaly.objects.filter(run_id=run_id).count()
    return seconds, (run.started_at - run.created_at).total_seconds(), held


def _floor_seconds(network_ids: list[int], tokens: int, repeats: int = 3) -> float:
    """The members run's minimum requests, bare: HTTP and JSON only (the counters move).

    Each ``execute`` asks for up to 25 × 500 ids; they go out as many at a time as the tokens
    may send at once (3 a token), each with a token of its own, so no limit is reached. One
    request for the region's 2,400 VK communities.
    """
    ids = [network_ids[i:i + GROUPS_PER_CALL] for i in range(0, len(network_ids), GROUPS_PER_CALL)]
    codes = ["return [" + ",".join(groups_by_id_call(chunk).script() for chunk in
                                   ids[i:i + EXECUTE_MAX_CALLS]) + "];"
             for i in range(0, len(ids), EXECUTE_MAX_CALLS)]
    url = settings.VK_API_BASE_URL.rstrip("/") + "/execute"

    def send(numbered: tuple[int, str], repeat: int) -> None:
        with requests.Session() as session:
            session.post(url, data={"code": numbered[1], "v": settings.VK_API_VERSION,
                                    "access_token": f"vkemu-usr-floor-{repeat}-{numbered[0]}"},
                         timeout=60).json()

    timings = []
    with ThreadPoolExecutor(max_workers=min(len(codes), RATE_PER_TOKEN * tokens)) as pool:
        for repeat in range(repeats):
            start = time.perf_counter()
            list(pool.map(lambda numbered, r=repeat: send(numbered, r), enumerate(codes)))
            timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def _network_ids(kind: str) -> list[int]:
    return list(run_communities(kind=kind, network=Network.VK)
                .values_list("network_id", flat=True))


@dataclass(frozen=True)
class Row:
    """One row of the table: how many tokens, over which registry, and its name."""

    tokens: int
    scale: data.Scale | None = None  # None: the group's (the region's 3,000 communities)
    where: str = ""
    sample: int = 1  # the registry is 1/sample of the country it stands in for


def _rows(context: Context) -> list[Row]:
    country = [Row(NATIONAL_TOKENS, data.COLLECT_COUNTRY, "country"),
               Row(NATIONAL_TOKENS, data.COLLECT_SAMPLE, "country 1/10 sample", sample=10)]
    if context.smoke:  # the national rows' machinery on the tiny registry
        country = [Row(NATIONAL_TOKENS, where="country")]
    return [*(Row(tokens) for tokens in TOKEN_COUNTS), *country]


def _label(kind: str, row: Row) -> str:
    tokens = f"{row.tokens} token{'s' if row.tokens > 1 else ''}"
    return f"collect_{kind} [{row.where + ', ' if row.where else ''}{tokens}]"


def _scaled(kind: str, row: Row, calls: int, minimum: int) -> dict:
    """What the sample's figures make of the whole country: requests, time, days."""
    method = "wall.get" if kind == RunKind.POSTS else "groups.getById"
    per_day = row.tokens * (daily_allowance(Network.VK, method) or 0)
    country_calls = calls * row.sample
    return {"sample": row.sample, "country_calls": country_calls,
            "country_requests": minimum * row.sample,
            "country_rate_bound_seconds": minimum * row.sample / (RATE_PER_TOKEN * row.tokens),
            "allowance_per_day": per_day,
            "country_days": math.ceil(country_calls / per_day) if per_day else None}


def _measure(context: Context, kind: str, row: Row, on_workers: bool) -> Result:
    timings, queue_waits, stats, anomalies = [], [], [], 0
    floor = None
    scale = row.scale or context.scale
    for _ in range(min(context.repeats, MAX_RUNS)):
        _fresh_state(context, row.tokens, scale)
        if floor is None and kind == RunKind.MEMBERS:
            floor = _floor_seconds(_network_ids(kind), row.tokens)
            _emulator(context, "reset", {})
            _emulator(context, "faults", {"today": TODAY.isoformat()})
        network_ids = _network_ids(kind)
        seconds, queued, held = _one_run(kind, on_workers)
        anomalies += held
        timings.append(seconds)
        queue_waits.append(queued)
        stats.append(_emulator(context, "stats"))
    communities = len(network_ids)
    calls = minimum_calls(kind, network_ids, seed=stats[0]["seed"])
    minimum = math.ceil(calls / EXECUTE_MAX_CALLS)
    seconds = statistics.median(timings)
    rate_bound = minimum / (RATE_PER_TOKEN * row.tokens)
    bound = max(rate_bound, floor or 0.0)
    requests_made = max(s["requests"] for s in stats)
    limit_errors = sum(s["limit_errors"] + s["daily_limit_errors"] for s in stats)
    result = Result(_label(kind, row), communities / seconds, communities / bound, "comm/s",
                    "≥ 0.9× bound, requests = minimum", bound / seconds)
    result.extra = {"seconds": seconds, "bound_seconds": bound,
                    "rate_bound_seconds": rate_bound, "communities": communities,
                    "requests": requests_made, "minimum_requests": minimum, "calls": calls,
                    "limit_errors": limit_errors, "timings": timings, "today": TODAY.isoformat(),
                    "floor_seconds": floor, "tokens": row.tokens,
                    # The registry is the network's own: a run that holds figures back as
                    # implausible measures the guard's path, not a daily collection.
                    "anomalies_held": anomalies,
                    "queued_seconds": statistics.median(queue_waits),
                    "workers": f"{WORKERS} Celery prefork processes" if on_workers
                    else f"{WORKERS} threads (no broker)"}
    if row.sample > 1:
        result.extra["scaled_to_country"] = _scaled(kind, row, calls, minimum)
    return result.judge(result.ratio >= 0.9 and requests_made == minimum and limit_errors == 0)


def _kind(kind: str) -> Callable[[Context], list[Result]]:
    def measure(context: Context) -> list[Result]:
        if not context.emulator_url:
            raise RuntimeError("the collection measures need the emulator (BENCH_EMULATOR_URL)")
        rows = [row for row in _rows(context)
                if not (kind == RunKind.MEMBERS and row.sample > 1)
                and not (kind == RunKind.POSTS and row.scale is data.COLLECT_COUNTRY)]
        if not real_workers_wanted():
            return [_measure(context, kind, row, False) for row in rows]
        with workers_running(WORKERS):
            return [_measure(context, kind, row, True) for row in rows]

    measure.__name__ = kind
    return measure


members = _kind(RunKind.MEMBERS)
posts = _kind(RunKind.POSTS)
