"""One rate limiter per network token, shared by every worker process through Redis.

The networks count requests per token in a sliding window (VK: 3 a second for user and service
tokens, 20 for community tokens). We never know when the server clocked a request, only that it
was between the moment we sent it and the moment its answer's headers arrived. So a request holds
a *slot* from before it is sent until ``window`` after its answer's headers arrived; a token has
``limit`` slots. Any
``limit + 1`` requests are then more than a window apart at the server whatever the network's
jitter, and a token still runs at ``limit / (window + latency)`` — the bound, less the latency.

A process that dies mid-request leaves its slot busy for ``hold`` (the client timeout plus a
margin), so a killed worker slows its token briefly and never lets it exceed the rate.

``acquire`` takes several keys (tokens) and reserves the freest one that has a slot, so several
tokens share one stream of work. Without Redis (the embedded demo) the same algorithm runs in
process memory.
"""

from __future__ import annotations

import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings

#: Added to the network's window: clock granularity between Redis, us and the server.
WINDOW_MARGIN = 0.01
#: How long an unreleased slot stays busy beyond the client timeout (a dead process).
HOLD_MARGIN = 5.0
#: Longest single sleep while waiting, so a waiter notices slots freed early.
MAX_SLEEP = 0.25


@dataclass(frozen=True)
class LimitKey:
    """A token's limiter identity: a stable name (never the token itself) and its rate."""

    name: str
    limit: int
    window: float = 1.0


@dataclass
class Slot:
    """A reserved request slot on one of the keys passed to ``acquire``."""

    index: int
    key: LimitKey
    slot_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    answer_age: float = 0.0


class RateLimiter(ABC):
    """Reserve a slot before a request, release it when the answer arrived."""

    def __init__(self, *, hold: float) -> None:
        self.hold = hold

    @abstractmethod
    def try_acquire(self, keys: Sequence[LimitKey], slot_id: str) -> tuple[int, float]:
        """Reserve a slot: return (index of the key, 0) or (-1, seconds to wait)."""

    @abstractmethod
    def release(self, slot: Slot, *, age: float = 0.0) -> None:
        """Mark the slot's request answered ``age`` seconds ago; it frees one window after."""

    def acquire(self, keys: Sequence[LimitKey]) -> Slot:
        """Block until one of ``keys`` has a free slot and reserve it."""
        if not keys:
            raise ValueError("no limiter keys")
        slot_id = uuid.uuid4().hex
        while True:
            index, wait = self.try_acquire(keys, slot_id)
            if index >= 0:
                return Slot(index=index, key=keys[index], slot_id=slot_id)
            time.sleep(min(max(wait, 0.001), MAX_SLEEP))

    @contextmanager
    def slot(self, keys: Sequence[LimitKey]) -> Iterator[Slot]:
        """Hold a slot around one request; set ``slot.answer_age`` once the answer arrived."""
        reserved = self.acquire(keys)
        try:
            yield reserved
        finally:
            self.release(reserved, age=reserved.answer_age)


_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local hold = tonumber(ARGV[1])
local n = #KEYS / 2
local best, best_load, wait = -1, nil, nil
for i = 1, n do
  local flight, done = KEYS[2 * i - 1], KEYS[2 * i]
  local limit = tonumber(ARGV[2 + 2 * (i - 1)])
  local window = tonumber(ARGV[3 + 2 * (i - 1)])
  redis.call('ZREMRANGEBYSCORE', flight, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', done, '-inf', now)
  local nf = redis.call('ZCARD', flight)
  local nd = redis.call('ZCARD', done)
  local active = nf + nd
  if active < limit then
    local load = active / limit
    if best_load == nil or load < best_load then best, best_load = i, load end
  else
    local need = active - limit + 1
    local w = window
    if nd >= need then
      local entry = redis.call('ZRANGE', done, need - 1, need - 1, 'WITHSCORES')
      w = tonumber(entry[2]) - now
    end
    if wait == nil or w < wait then wait = w end
  end
end
if best > 0 then
  local window = tonumber(ARGV[3 + 2 * (best - 1)])
  redis.call('ZADD', KEYS[2 * best - 1], now + hold + window, ARGV[#ARGV])
  redis.call('PEXPIRE', KEYS[2 * best - 1], math.ceil((hold + window) / 1000) + 1000)
  return {best - 1, 0}
end
return {-1, wait}
"""

_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local answered = now - tonumber(ARGV[3])
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], answered + window, ARGV[2])
redis.call('PEXPIRE', KEYS[2], math.ceil(window / 1000) + 1000)
return 1
"""


def _micros(seconds: float) -> int:
    return int(seconds * 1_000_000)


class RedisRateLimiter(RateLimiter):
    """The shared limiter: two sorted sets per key (slots in flight, answered slots)."""

    prefix = "ratelimit"

    def __init__(self, *, url: str, hold: float) -> None:
        import redis

        super().__init__(hold=hold)
        self.redis = redis.Redis.from_url(url)
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._release = self.redis.register_script(_RELEASE)

    def _keys(self, key: LimitKey) -> list[str]:
        return [f"{self.prefix}:{{{key.name}}}:flight", f"{self.prefix}:{{{key.name}}}:done"]

    def try_acquire(self, keys: Sequence[LimitKey], slot_id: str) -> tuple[int, float]:
        redis_keys, args = [], [_micros(self.hold)]
        for key in keys:
            redis_keys += self._keys(key)
            args += [key.limit, _micros(key.window + WINDOW_MARGIN)]
        index, wait = self._acquire(keys=redis_keys, args=[*args, slot_id])
        return int(index), int(wait) / 1_000_000

    def release(self, slot: Slot, *, age: float = 0.0) -> None:
        window = _micros(slot.key.window + WINDOW_MARGIN)
        self._release(keys=self._keys(slot.key), args=[window, slot.slot_id, _micros(age)])

    def clear(self) -> None:
        """Forget every slot (tests and benchmarks start from a quiet token)."""
        for name in self.redis.scan_iter(f"{self.prefix}:*"):
            self.redis.delete(name)


class LocalRateLimiter(RateLimiter):
    """The same algorithm in process memory, for the embedded mode without Redis."""

    def __init__(self, *, hold: float) -> None:
        super().__init__(hold=hold)
        self._lock = threading.Lock()
        self._flight: dict[str, dict[str, float]] = {}
        self._done: dict[str, dict[str, float]] = {}

    def _active(self, name: str, now: float) -> tuple[dict[str, float], dict[str, float]]:
        flight = {k: v for k, v in self._flight.get(name, {}).items() if v > now}
        done = {k: v for k, v in self._done.get(name, {}).items() if v > now}
        self._flight[name], self._done[name] = flight, done
        return flight, done

    def try_acquire(self, keys: Sequence[LimitKey], slot_id: str) -> tuple[int, float]:
        with self._lock:
            now = time.monotonic()
            best, best_load, wait = -1, 0.0, float("inf")
            for i, key in enumerate(keys):
                window = key.window + WINDOW_MARGIN
                flight, done = self._active(key.name, now)
                active = len(flight) + len(done)
                if active < key.limit:
                    if best < 0 or active / key.limit < best_load:
                        best, best_load = i, active / key.limit
                    continue
                need = active - key.limit + 1
                ends = sorted(done.values())
                wait = min(wait, ends[need - 1] - now if len(ends) >= need else window)
            if best >= 0:
                window = keys[best].window + WINDOW_MARGIN
                self._flight[keys[best].name][slot_id] = now + self.hold + window
                return best, 0.0
            return -1, wait

    def release(self, slot: Slot, *, age: float = 0.0) -> None:
        with self._lock:
            self._flight.get(slot.key.name, {}).pop(slot.slot_id, None)
            until = time.monotonic() - age + slot.key.window + WINDOW_MARGIN
            self._done.setdefault(slot.key.name, {})[slot.slot_id] = until

    def clear(self) -> None:
        with self._lock:
            self._flight.clear()
            self._done.clear()


@cache
def _limiter_for(url: str, hold: float) -> RateLimiter:
    if url:
        return RedisRateLimiter(url=url, hold=hold)
    return LocalRateLimiter(hold=hold)


def get_limiter() -> RateLimiter:
    """The process's limiter: Redis when REDIS_URL is set, process memory otherwise."""
    return _limiter_for(settings.REDIS_URL, settings.NETWORK_TIMEOUT_SECONDS + HOLD_MARGIN)
