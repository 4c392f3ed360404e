"""One limiter per token shared by every process: the emulator never sees a token's rate broken."""

import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from metrics.ratelimit import LimitKey, LocalRateLimiter, RedisRateLimiter
from tests.metrics.conftest import ROOT


def limiters():
    return [RedisRateLimiter(url=settings.REDIS_URL, hold=10), LocalRateLimiter(hold=10)]


@pytest.mark.parametrize("limiter", limiters(), ids=["redis", "local"])
def test_a_token_has_as_many_slots_as_its_rate(limiter):
    key = LimitKey(f"unit:{uuid.uuid4().hex}", limit=3)
    slots = [limiter.try_acquire([key], uuid.uuid4().hex) for _ in range(4)]
    assert [index for index, _ in slots] == [0, 0, 0, -1]
    assert slots[3][1] >= 1.0  # all three in flight: free no sooner than a window after answers


@pytest.mark.parametrize("limiter", limiters(), ids=["redis", "local"])
def test_an_answered_slot_frees_one_window_after_the_answer(limiter):
    key = LimitKey(f"unit:{uuid.uuid4().hex}", limit=1)
    slot = limiter.acquire([key])
    limiter.release(slot)
    index, wait = limiter.try_acquire([key], uuid.uuid4().hex)
    assert index == -1 and 0 < wait <= 1.01


@pytest.mark.parametrize("limiter", limiters(), ids=["redis", "local"])
def test_several_tokens_share_the_load(limiter):
    busy, idle = (LimitKey(f"unit:{uuid.uuid4().hex}", limit=3) for _ in range(2))
    for _ in range(2):
        limiter.acquire([busy])
    chosen = [limiter.acquire([busy, idle]).key for _ in range(4)]
    assert chosen == [idle, idle, busy, idle]


def run_probes(emulator, token: str, *, processes: int, requests: int, local: bool) -> list[int]:
    """Start the probes' bursts together (after every process has set up); their exit codes."""
    start = str(time.time() + 6)
    args = [sys.executable, "-m", "tests.metrics.probe", emulator.vk_url, token, str(requests),
            start]
    probes = [subprocess.Popen(args + (["--local"] if local else []), cwd=ROOT)
              for _ in range(processes)]
    return [p.wait(timeout=120) for p in probes]


def test_three_processes_on_one_token_never_exceed_its_rate(emulator):
    token = f"vkemu-usr-{uuid.uuid4().hex[:8]}"
    assert run_probes(emulator, token, processes=3, requests=5, local=False) == [0, 0, 0]
    stats = emulator.stats()
    assert stats["by_token"] == {token: 15}
    assert stats["limit_errors"] == 0


def test_a_limiter_per_process_is_not_enough(emulator):
    token = f"vkemu-usr-{uuid.uuid4().hex[:8]}"
    exits = run_probes(emulator, token, processes=3, requests=5, local=True)
    assert 6 in exits  # some probe died of VK error 6
    assert emulator.stats()["limit_errors"] > 0
