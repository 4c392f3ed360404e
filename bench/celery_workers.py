"""Real Celery worker processes for the collection measures, as production runs them.

``workers_running(processes)`` starts one ``celery -A portal worker -P prefork -c N`` process
group on this process's environment (the collection database, Redis as broker and limiter, the
emulator's URLs), waits until it answers a ping, and stops it at the end. The measures then
start runs as the portal does (``collection_run_start`` enqueues the fan-out on Redis) and wait
for the run's row to say it finished.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import redis
from django.conf import settings

from bench.runner import ROOT
from portal.celery import app

START_TIMEOUT = 60.0


def real_workers_wanted() -> bool:
    """Whether this process has a broker to give the workers (else tasks run in threads)."""
    return bool(settings.CELERY_BROKER_URL) and not app.conf.task_always_eager


def _queue_emptied() -> None:
    """Tasks a previous, interrupted run left on the broker would disturb this one."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery", "unacked",
                                                            "unacked_index")


def _wait_until_ready(name: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the Celery worker exited at start")
        if app.control.ping(destination=[name], timeout=0.5):
            return
    raise RuntimeError(f"the Celery worker {name} did not answer within {START_TIMEOUT:g} s")


@contextlib.contextmanager
def workers_running(processes: int) -> Iterator[str]:
    """One prefork worker with ``processes`` processes; yields its node name."""
    _queue_emptied()
    name = f"bench-{uuid.uuid4().hex[:8]}@localhost"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "prefork",
         "-c", str(processes), "-n", name, "--without-gossip", "--without-mingle", "-l",
         "warning"],
        cwd=ROOT, env={**os.environ}, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_ready(name, process)
        yield name
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
