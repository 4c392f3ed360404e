"""Daily allowances per token and method: what the networks allow and what each token spent.

VK and OK count a token's calls of each method per day (inside VK's ``execute`` every call
counts) and refuse the rest of the day once the allowance is spent (VK error 29). The portal
counts the same calls as it sends them — in Redis, shared by every worker process, keyed by the
token's limiter name (never the token), the method and the local date — so it can plan a run
across its tokens and stop asking a token before the network refuses it. Without Redis (the
embedded demo) the counts live in process memory. Allowances: ``settings.NETWORK_DAILY_LIMITS``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Mapping
from functools import cache

from django.conf import settings
from django.utils import timezone

PREFIX = "quota"
#: Counters outlive their day by this much (then Redis forgets them).
KEEP_SECONDS = 2 * 24 * 3600


def daily_allowance(network: str, method: str) -> int | None:
    """Calls of ``method`` one token may make a day (None: the portal knows no limit)."""
    return settings.NETWORK_DAILY_LIMITS.get(network, {}).get(method)


def _network_of(limit_name: str) -> str:
    return limit_name.split(":", 1)[0]


class DailyCounter:
    """Calls spent per (token, method) today; Redis when configured, else process memory."""

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self._local: Counter[str] = Counter()
        self.redis = None
        if url:
            import redis

            self.redis = redis.Redis.from_url(url)

    @staticmethod
    def key(limit_name: str, method: str, day: dt.date) -> str:
        return f"{PREFIX}:{day:%Y%m%d}:{limit_name}:{method}"

    def spend(self, limit_name: str, calls: Mapping[str, int]) -> None:
        """Count ``calls`` (method → how many) against the token's day."""
        day = timezone.localdate()
        if self.redis is None:
            with self._lock:
                for method, n in calls.items():
                    self._local[self.key(limit_name, method, day)] += n
            return
        pipe = self.redis.pipeline()
        for method, n in calls.items():
            key = self.key(limit_name, method, day)
            pipe.incrby(key, n)
            pipe.expire(key, KEEP_SECONDS)
        pipe.execute()

    def spent(self, limit_name: str, method: str, day: dt.date | None = None) -> int:
        key = self.key(limit_name, method, day or timezone.localdate())
        if self.redis is None:
            with self._lock:
                return self._local[key]
        return int(self.redis.get(key) or 0)

    def left(self, limit_name: str, method: str) -> int | None:
        """What the token may still call today (None: no known limit)."""
        allowance = daily_allowance(_network_of(limit_name), method)
        if allowance is None:
            return None
        return max(0, allowance - self.spent(limit_name, method))

    def would_exceed(self, limit_name: str, calls: Mapping[str, int]) -> bool:
        """Whether sending ``calls`` now would pass one of the token's allowances for today."""
        for method, n in calls.items():
            left = self.left(limit_name, method)
            if left is not None and n > left:
                return True
        return False

    def clear(self) -> None:
        """Forget every count (tests and benchmarks start each run on a fresh day)."""
        if self.redis is None:
            with self._lock:
                self._local.clear()
            return
        for name in self.redis.scan_iter(f"{PREFIX}:*"):
            self.redis.delete(name)


@cache
def _counter_for(url: str) -> DailyCounter:
    return DailyCounter(url)


def quota_counter() -> DailyCounter:
    """The process's daily counter (shared through Redis when REDIS_URL is set)."""
    return _counter_for(settings.REDIS_URL)
