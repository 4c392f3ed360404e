"""A run's plan under the networks' daily allowances, and waiting for the next day when spent.

Each kind of run spends one method's calls: VK members ``groups.getById`` (500 communities a
call), posts ``wall.get`` (a page of 100 posts a call: at least one a community), statistics
``stats.get``; OK ``group.getInfo`` (100 a call), ``mediatopic.getTopics``,
``group.getStatTrends``. The plan sets the calls still needed against what the registered tokens
may still call today (``metrics.quota``) and a day's allowance of all of them, and says when the
run should finish. When every token has spent its allowance the run does not fail: its open
batches go back to the queue and it continues when the tokens' day renews
(``recovery.collection_runs_resume_due``, which the recovery task runs every 15 minutes).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Func, IntegerField, Min, Q
from django.utils import timezone
from redis.exceptions import RedisError

from institutions.choices import Network
from metrics.collect.choices import BatchState, RunKind
from metrics.models import CollectionBatch, CollectionRun, NetworkToken
from metrics.quota import daily_allowance, quota_counter
from metrics.tokens import limit_key, next_day_start, tokens_usable
from metrics.vk.calls import EXECUTE_MAX_CALLS, batch_kinds

log = logging.getLogger(__name__)

#: (kind, network) → (the method a run spends, communities one call covers).
SPENDS = {
    (RunKind.MEMBERS, Network.VK): ("groups.getById", 500),
    (RunKind.POSTS, Network.VK): ("wall.get", 1),
    (RunKind.STATS, Network.VK): ("stats.get", 1),
    (RunKind.MEMBERS, Network.OK): ("group.getInfo", 100),
    (RunKind.POSTS, Network.OK): ("mediatopic.getTopics", 1),
    (RunKind.STATS, Network.OK): ("group.getStatTrends", 1),
}


@dataclass(frozen=True)
class TokenQuota:
    """One token's day for the run's method."""

    token_id: int
    label: str
    masked: str
    allowance: int | None
    spent: int
    left: int | None
    rests_until: dt.datetime | None

    def as_json(self) -> dict:
        return {"token": self.token_id, "label": self.label, "masked": self.masked,
                "allowance": self.allowance, "spent": self.spent, "left": self.left,
                "rests_until": self.rests_until.isoformat() if self.rests_until else None}


@dataclass(frozen=True)
class RunPlan:
    """The run's remaining work against its tokens' allowances, and when it should finish."""

    method: str
    communities_left: int
    calls_needed: int
    requests_needed: int
    tokens: list[TokenQuota]
    left_today: int | None
    per_day: int | None
    days: int | None
    finish: dt.datetime | None

    def as_json(self) -> dict:
        return {"method": self.method, "communities_left": self.communities_left,
                "calls_needed": self.calls_needed, "requests_needed": self.requests_needed,
                "tokens": [t.as_json() for t in self.tokens], "left_today": self.left_today,
                "per_day": self.per_day, "days": self.days,
                "finish": self.finish.isoformat() if self.finish else None}


def _token_quota(token: NetworkToken, method: str, now: dt.datetime) -> TokenQuota:
    name = limit_key(network=token.network, fingerprint=token.fingerprint, kind=token.kind).name
    counter = quota_counter()
    resting = token.rests_until if token.rests_until and token.rests_until > now else None
    left = counter.left(name, method)
    return TokenQuota(token_id=token.pk, label=token.label, masked=token.masked,
                      allowance=daily_allowance(token.network, method),
                      spent=counter.spent(name, method), left=0 if resting else left,
                      rests_until=resting)


def _calls_per_request(run: CollectionRun, method: str) -> int:
    """25 when a VK token that may send ``execute`` with the method is registered, else 1
    (VK's service tokens and OK call one method a request)."""
    if run.network != Network.VK:
        return 1
    kinds = set(NetworkToken.objects.filter(network=run.network, is_active=True)
                .values_list("kind", flat=True))
    return EXECUTE_MAX_CALLS if kinds & batch_kinds([method]) else 1


def _work_left(run: CollectionRun, method: str, per_call: int) -> tuple[int, int, int]:
    """(communities in open batches, calls they need at least, requests those take)."""
    per_request = _calls_per_request(run, method)
    communities = calls = requests = 0
    # The batches' sizes counted by the database: the page polls this every two seconds, and a
    # country's posts run has 5,200 batches of ids.
    length = "jsonb_array_length" if connection.vendor == "postgresql" else "json_array_length"
    for size in (CollectionBatch.objects
                 .filter(run=run, state__in=[BatchState.PENDING, BatchState.RUNNING])
                 .annotate(size=Func(F("community_ids"), function=length,
                                     output_field=IntegerField()))
                 .values_list("size", flat=True)):
        batch_calls = math.ceil(size / per_call)
        communities, calls = communities + size, calls + batch_calls
        requests += math.ceil(batch_calls / per_request)
    return communities, calls, requests


def _finish(calls: int, requests: int, tokens: Sequence[NetworkToken], left_today: int | None,
            per_day: int | None, now: dt.datetime) -> tuple[int | None, dt.datetime | None]:
    """(days the run takes, when it should finish) at the tokens' request rates."""
    rate = sum(t.rate for t in tokens)
    if not rate or per_day == 0:
        return None, None
    seconds_per_call = requests / rate / calls if calls else 0.0
    if left_today is None or calls <= left_today:
        return 1, now + dt.timedelta(seconds=calls * seconds_per_call)
    later = calls - left_today
    more_days = math.ceil(later / per_day)
    last_day_calls = later - (more_days - 1) * per_day
    start = next_day_start() + dt.timedelta(days=more_days - 1)
    return 1 + more_days, start + dt.timedelta(seconds=last_day_calls * seconds_per_call)


def collection_plan(run: CollectionRun, *, now: dt.datetime | None = None) -> RunPlan:
    """The run's plan now: what is left, what each token may still spend today, the finish."""
    now = now or timezone.now()
    method, per_call = SPENDS[(run.kind, run.network)]
    left_communities, calls, requests = _work_left(run, method, per_call)
    tokens = list(NetworkToken.objects.filter(network=run.network, is_active=True)
                  .order_by("label", "pk"))
    quotas = [_token_quota(t, method, now) for t in tokens]
    known = all(q.allowance is not None for q in quotas)
    left_today = sum(q.left or 0 for q in quotas) if known else None
    per_day = sum(q.allowance or 0 for q in quotas) if known else None
    days, finish = _finish(calls, requests, tokens, left_today, per_day, now)
    return RunPlan(method=method, communities_left=left_communities, calls_needed=calls,
                   requests_needed=requests, tokens=quotas, left_today=left_today,
                   per_day=per_day, days=days, finish=finish)


def collection_plan_shown(run: CollectionRun) -> RunPlan | None:
    """The plan a page shows: none for a finished run, or while the day's counters are out of
    reach (Redis down) — the page still answers, without the plan."""
    if run.is_finished:
        return None
    try:
        return collection_plan(run)
    except RedisError:
        log.warning("daily counters unreachable: run %s shown without its plan", run.pk)
        return None


# --- waiting for tomorrow -------------------------------------------------------------------------
def quota_resume_at(network: str) -> dt.datetime | None:
    """When the run can go on, if every token is only resting (spent its day); else None."""
    if tokens_usable(network=network).exists():
        return None
    return (NetworkToken.objects.filter(network=network, is_active=True,
                                        rests_until__gt=timezone.now())
            .aggregate(first=Min("rests_until"))["first"])


def waiting_message(until: dt.datetime) -> str:
    local = timezone.localtime(until)
    return (f"Ключи исчерпали дневные лимиты запросов: сбор продолжится "
            f"{local:%d.%m.%Y} в {local:%H:%M}.")


def collection_run_wait(*, run_id: int, until: dt.datetime) -> None:
    """The run waits for its tokens' next day (its open batches stay in the queue)."""
    CollectionRun.objects.filter(pk=run_id).filter(
        Q(resumes_at__isnull=True) | Q(resumes_at__lt=until)).update(
        resumes_at=until, message=waiting_message(until))
