"""Batches a dead worker left behind are re-queued by the periodic recovery, once, and collected.

These run the tasks in process (a re-queued batch is collected at once, from the emulator);
``test_celery_recovery.py`` does the same with real workers on Redis.
"""

import datetime as dt
from collections import Counter

import pytest
from django.db.models import Count
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from institutions.choices import Network
from metrics.collect import runs
from metrics.collect.choices import BatchState, RunKind, RunState
from metrics.collect.errors import NetworkError
from metrics.collect.fetch import BatchResult
from metrics.collect.recovery import collection_recover_lost
from metrics.collect.runs import collection_run_create
from metrics.collect.schedule import DEFAULT_SCHEDULE
from metrics.models import CollectionBatch, CollectionRun, CollectionRunItem, MemberSnapshot
from metrics.tasks import collect_batch
from metrics.tasks import collection_recover_lost as recover_task
from portal.errors import ServiceUnavailable
from portal.queue import enqueue as real_enqueue
from tests.metrics.conftest import make_communities, vk_ids

pytestmark = pytest.mark.django_db

LONG_AGO = dt.timedelta(hours=2)  # past the default 30-minute timeout


@pytest.fixture
def run(emulator, vk_token) -> CollectionRun:
    """A members run of 10 communities in two batches, fanned out (state «running»)."""
    make_communities(vk_ids("active", 10))
    run = collection_run_create(kind=RunKind.MEMBERS, network=Network.VK, batch_size=5)
    CollectionRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING,
                                                   started_at=timezone.now())
    return run


def batch(run: CollectionRun, index: int) -> CollectionBatch:
    return run.batches.get(index=index)


def claimed_by_a_dead_worker(batch: CollectionBatch, ago: dt.timedelta = LONG_AGO) -> None:
    CollectionBatch.objects.filter(pk=batch.pk).update(state=BatchState.RUNNING,
                                                       updated_at=timezone.now() - ago)


def age(run: CollectionRun, ago: dt.timedelta = LONG_AGO) -> None:
    run.batches.update(updated_at=timezone.now() - ago)


@pytest.fixture
def queue(monkeypatch) -> list[int]:
    """Re-queued batch ids, recorded instead of collected (a queue nobody consumes yet)."""
    sent: list[int] = []
    monkeypatch.setattr("metrics.collect.recovery.enqueue",
                        lambda task_name, *args, **options: sent.append(args[0]))
    return sent


def test_a_batch_claimed_by_a_dead_worker_is_collected_again(run, emulator):
    collect_batch.apply(args=(batch(run, 1).pk,))
    claimed_by_a_dead_worker(batch(run, 0))

    assert collection_recover_lost() == [batch(run, 0).pk]

    run.refresh_from_db()
    assert (run.state, run.total, run.done, run.failed) == (RunState.DONE, 10, 10, 0)
    assert MemberSnapshot.objects.count() == 10
    assert not MemberSnapshot.objects.values("community", "date").annotate(
        n=Count("pk")).filter(n__gt=1).exists()
    assert emulator.stats()["requests"] == 2


def test_a_batch_still_being_worked_on_is_left_alone(run, queue):
    claimed_by_a_dead_worker(batch(run, 0), ago=dt.timedelta(minutes=5))
    assert collection_recover_lost() == [] and queue == []
    assert batch(run, 0).state == BatchState.RUNNING


def test_the_timeout_comes_from_the_settings(run, queue, settings):
    claimed_by_a_dead_worker(batch(run, 0), ago=dt.timedelta(minutes=5))
    settings.COLLECTION_BATCH_TIMEOUT_MINUTES = 3
    assert collection_recover_lost() == [batch(run, 0).pk]
    lost = batch(run, 0)
    assert lost.state == BatchState.PENDING
    assert lost.message == "Обработчик не отвечал 3 мин. — пакет поставлен в очередь заново."


def test_waiting_batches_of_a_run_that_is_moving_are_not_queued_twice(run, queue):
    age(run)  # batch 0 has waited long (a long queue) ...
    claimed_by_a_dead_worker(batch(run, 1), ago=dt.timedelta(minutes=1))  # ... batch 1 runs
    assert collection_recover_lost() == []
    assert batch(run, 0).state == BatchState.PENDING


def test_a_run_whose_messages_were_lost_before_any_batch_started_is_recovered(emulator,
                                                                              vk_token):
    make_communities(vk_ids("active", 10))
    run = collection_run_create(kind=RunKind.MEMBERS, network=Network.VK, batch_size=5)
    age(run)  # created, never dispatched: the dispatch message was lost

    assert sorted(collection_recover_lost()) == sorted(run.batches.values_list("pk", flat=True))

    run.refresh_from_db()
    assert (run.state, run.done) == (RunState.DONE, 10) and run.started_at is not None


def test_recovering_twice_queues_each_lost_batch_once(run, queue):
    claimed_by_a_dead_worker(batch(run, 0))
    assert collection_recover_lost() == [batch(run, 0).pk]
    assert collection_recover_lost() == []
    assert queue == [batch(run, 0).pk]


def test_a_batch_given_up_after_its_retries_is_not_retried(run, queue):
    CollectionBatch.objects.filter(pk=batch(run, 0).pk).update(
        state=BatchState.FAILED, updated_at=timezone.now() - LONG_AGO)
    claimed_by_a_dead_worker(batch(run, 1))
    assert collection_recover_lost() == [batch(run, 1).pk]
    assert batch(run, 0).state == BatchState.FAILED


def test_finished_runs_are_not_touched(run, queue):
    claimed_by_a_dead_worker(batch(run, 0))
    CollectionRun.objects.filter(pk=run.pk).update(state=RunState.FAILED)
    assert collection_recover_lost() == []


def test_a_run_left_open_after_its_last_batch_is_finished(run, queue):
    run.batches.update(state=BatchState.DONE, updated_at=timezone.now() - LONG_AGO)
    CollectionRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - LONG_AGO)
    assert collection_recover_lost() == []
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.finished_at is not None


def test_when_the_queue_is_down_the_batch_is_taken_again_next_time(run, monkeypatch):
    def down(task_name, *args, **options):
        raise ServiceUnavailable("Очередь задач недоступна")

    monkeypatch.setattr("metrics.collect.recovery.enqueue", down)
    claimed_by_a_dead_worker(batch(run, 0))
    assert collection_recover_lost() == []
    assert batch(run, 0).state == BatchState.PENDING
    monkeypatch.undo()
    age(run)  # the next recovery, a timeout later: the run has not moved
    assert batch(run, 0).pk in collection_recover_lost()
    run.refresh_from_db()
    assert run.state == RunState.DONE and run.done == 10


def test_a_streamed_posts_run_is_requeued_as_one_stream_and_collected(emulator, vk_user_token,
                                                                     monkeypatch):
    """VK posts are collected as one stream over the run's batches: recovery keeps it so."""
    emulator.faults(today="2026-03-02")
    make_communities(vk_ids("active", 30))
    run = collection_run_create(kind=RunKind.POSTS, network=Network.VK,
                                period=dt.date(2026, 2, 1))
    CollectionRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING)
    claimed_by_a_dead_worker(batch(run, 0))
    CollectionBatch.objects.filter(pk=batch(run, 1).pk).update(
        updated_at=timezone.now() - LONG_AGO)  # never taken: the stream died with its worker
    sent: list[tuple[str, tuple]] = []
    def record(task_name, *args, **options):
        sent.append((task_name, args))
        real_enqueue(task_name, *args, **options)

    monkeypatch.setattr("metrics.collect.recovery.enqueue", record)
    ids = [batch(run, 0).pk, batch(run, 1).pk]

    assert collection_recover_lost() == ids
    assert sent == [("metrics.tasks.collect_batches", (ids,))]
    run.refresh_from_db()
    assert (run.state, run.done, run.requests) == (RunState.DONE, 30, 2)


def test_the_beat_task_recovers_and_is_scheduled_every_quarter_hour(run):
    claimed_by_a_dead_worker(batch(run, 0))
    assert recover_task.apply().get() == [batch(run, 0).pk]
    (entry,) = [e for e in DEFAULT_SCHEDULE if e.task == recover_task.name]
    task = PeriodicTask.objects.select_related("crontab").get(name=entry.name)
    assert (task.crontab.minute, task.crontab.hour, task.enabled) == ("*/15", "*", True)


# --- a worker that starts takes back what the dead held -----------------------------------------
def held_by(batch: CollectionBatch, worker: str, state: str = BatchState.RUNNING) -> None:
    CollectionBatch.objects.filter(pk=batch.pk).update(state=state, worker=worker)


def test_a_starting_worker_requeues_what_it_and_silent_workers_held_at_once(run, queue):
    """No timeout to wait for: the worker's own name says it held them before it died."""
    from metrics.collect.recovery import collection_recover_worker

    second = CollectionBatch.objects.create(run=run, index=2, community_ids=[])
    held_by(batch(run, 0), "w1@host")                               # its own, mid-collection
    held_by(batch(run, 1), "gone@host", state=BatchState.PENDING)  # a retry held by the dead
    held_by(second, "alive@host")                                   # someone alive is on it
    asked = []

    def alive(names: list[str]) -> set[str]:
        asked.append(sorted(names))
        return {"alive@host"}

    assert collection_recover_worker(worker="w1@host", alive=alive) == [
        batch(run, 0).pk, batch(run, 1).pk]
    assert asked == [["alive@host", "gone@host"]]
    assert sorted(queue) == [batch(run, 0).pk, batch(run, 1).pk]
    taken = batch(run, 0)
    assert (taken.state, taken.worker) == (BatchState.PENDING, "")
    assert "поставлен в очередь заново" in taken.message
    assert CollectionBatch.objects.get(pk=second.pk).worker == "alive@host"
    assert collection_recover_worker(worker="w1@host", alive=alive) == []


def test_a_run_waiting_for_its_tokens_next_day_is_left_to_wait(run, queue):
    from metrics.collect.recovery import collection_recover_worker

    held_by(batch(run, 0), "w1@host", state=BatchState.PENDING)
    CollectionRun.objects.filter(pk=run.pk).update(
        resumes_at=timezone.now() + dt.timedelta(hours=5))

    assert collection_recover_worker(worker="w1@host") == [] and queue == []


def test_a_batch_stored_twice_keeps_the_first_store(db):
    """Two workers can hold one batch (a recovered task beside a redelivered one): the first to
    store it wins, so its figures, problem rows and counters stay those of one collection; a
    later store, a later failed attempt or a later give-up only adds its requests."""
    first, second = make_communities(vk_ids("active", 2))
    run = collection_run_create(kind=RunKind.MEMBERS, network=Network.VK)
    the_batch = run.batches.get()
    stored = BatchResult(requests=1)
    stored.done(first.pk, members_count=120)
    stored.snapshots[first.pk] = 120
    stored.done(second.pk, members_count=80)
    stored.snapshots[second.pk] = 80
    runs._batches_store([(the_batch.pk, stored)])

    later = BatchResult(requests=2)
    later.done(first.pk, members_count=999)
    later.snapshots[first.pk] = 999
    later.problem(second.pk, key="vk:6", message="Слишком много запросов")
    runs._batches_store([(the_batch.pk, later)])
    runs._batch_attempt(batch_id=the_batch.pk, requests=3, errors=Counter({"vk:10": 1}),
                        message="ошибка сервера")
    runs.collection_batch_fail(batch_id=the_batch.pk,
                               error=NetworkError("все ключи отозваны", key="vk:5"), requests=4)

    the_batch.refresh_from_db()
    run.refresh_from_db()
    assert (the_batch.state, the_batch.done, the_batch.failed) == (BatchState.DONE, 2, 0)
    assert (run.done, run.failed, run.skipped, run.requests) == (2, 0, 0, 1 + 2 + 3 + 4)
    assert dict(MemberSnapshot.objects.values_list("community_id", "members")) == {
        first.pk: 120, second.pk: 80}
    assert not CollectionRunItem.objects.filter(run=run).exists()
    assert run.errors_by_code == {"vk:6": 1, "vk:10": 1, "vk:5": 1}
