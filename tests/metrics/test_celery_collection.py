"""End to end with real Celery workers on Redis, talking to the emulator over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.models import Count

from institutions.choices import Network
from metrics.collect.choices import RunKind, RunState
from metrics.collect.runs import collection_run_resume, collection_run_start
from metrics.models import CollectionRun, MemberSnapshot
from tests.metrics.conftest import ROOT, make_communities, register, vk_ids

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def workers(transactional_db, emulator) -> Callable[[str], subprocess.Popen]:
    """``start(name)`` runs a Celery worker process group on the test database."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery", "unacked",
                                                            "unacked_index")
    started: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        # Read when the worker starts: a test may set more of the environment first.
        env = {**os.environ, "DATABASE_URL": test_database_url(),
               "VK_API_BASE_URL": emulator.vk_url, "OK_API_BASE_URL": emulator.ok_url,
               "NETWORK_TIMEOUT_SECONDS": "2", "REDIS_URL": settings.REDIS_URL,
               "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-c", "1", "-P",
             "prefork", "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "warning"],
            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for(condition: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the workers")
        time.sleep(0.2)


def finished(run: CollectionRun) -> bool:
    run.refresh_from_db()
    return run.is_finished


def one_row_per_community_and_date() -> bool:
    return not MemberSnapshot.objects.values("community", "date").annotate(
        n=Count("pk")).filter(n__gt=1).exists()


def test_a_worker_collects_a_run_in_batches(workers, emulator):
    register(Network.VK, "vkemu-svc-celery")
    make_communities(vk_ids("active", 40))
    workers("solo")

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK, batch_size=10)
    wait_for(lambda: finished(run))

    assert (run.state, run.done, run.requests) == (RunState.DONE, 40, 4)
    assert MemberSnapshot.objects.count() == 40
    assert emulator.stats()["requests"] == 4


def test_two_workers_on_one_token_draw_no_limit_error(workers, emulator):
    token = register(Network.VK, "vkemu-svc-shared")
    make_communities(vk_ids("active", 60))
    workers("first")
    workers("second")

    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK, batch_size=5)
    wait_for(lambda: finished(run))

    stats = emulator.stats()
    assert run.state == RunState.DONE and run.done == 60
    assert stats["by_token"] == {token.label: 12}
    assert stats["limit_errors"] == 0


def test_a_killed_worker_loses_and_duplicates_nothing(workers, emulator):
    register(Network.VK, "vkemu-svc-killed")
    communities = make_communities(vk_ids("active", 30))
    emulator.faults("groups.getById:slow1.5")  # each batch's request takes 1.5 s
    victim = workers("victim")
    run = collection_run_start(kind=RunKind.MEMBERS, network=Network.VK, batch_size=5)
    wait_for(lambda: MemberSnapshot.objects.count() >= 10)

    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    run.refresh_from_db()
    assert run.state == RunState.RUNNING and MemberSnapshot.objects.count() < 30

    emulator.faults(clear=True)
    workers("rescuer")
    collection_run_resume(run_id=run.pk)
    wait_for(lambda: finished(run))

    assert run.state == RunState.DONE
    assert (run.total, run.done, run.failed) == (30, 30, 0)
    assert MemberSnapshot.objects.filter(community__in=communities).count() == 30
    assert one_row_per_community_and_date()
