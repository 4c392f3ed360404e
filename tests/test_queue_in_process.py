"""In-process tasks (no broker): synchronous in tests, in a thread of their own in ``make run``."""

import threading

import pytest
from django.db import transaction
from django.test import override_settings

from institutions.models import Territory
from portal.celery import app
from portal.queue import enqueue

started = threading.Event()
release = threading.Event()
seen: list[tuple[str, str, bool]] = []


@app.task(name="tests.queue.record")
def record(name: str) -> None:
    """Waits until the test lets it go, then notes its thread and what it saw in the database."""
    started.set()
    release.wait(10)
    seen.append((name, threading.current_thread().name,
                 Territory.objects.filter(name=name).exists()))


@pytest.fixture
def fresh():
    started.clear()
    release.clear()
    seen.clear()
    yield
    release.set()


def test_without_background_the_task_has_run_when_enqueue_returns(db, fresh):
    release.set()
    enqueue("tests.queue.record", "сразу")
    assert seen == [("сразу", threading.current_thread().name, False)]


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS_IN_BACKGROUND=True)
def test_in_background_the_task_starts_after_commit_on_its_own_thread(fresh):
    with transaction.atomic():
        Territory.objects.create(name="Территория фоновой задачи", kind="urban_okrug")
        enqueue("tests.queue.record", "Территория фоновой задачи")
        assert not started.wait(0.3), "the task must wait for the caller's commit"
    assert started.wait(10), "the task did not start after the commit"
    assert seen == []  # enqueue returned while the task still runs
    release.set()
    for _ in range(100):
        if seen:
            break
        threading.Event().wait(0.05)
    assert seen == [("Территория фоновой задачи", "task tests.queue.record", True)]


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS_IN_BACKGROUND=True)
def test_a_rolled_back_caller_starts_no_task(fresh):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue("tests.queue.record", "откат")
        raise RuntimeError("the request failed")
    assert not started.wait(0.5)
    assert seen == []
