"""The default beat schedule lives in the database; tasks are idempotent and take ids."""

import pytest
from django_celery_beat.models import PeriodicTask

from institutions.choices import Network
from metrics.collect.choices import RunKind, RunState
from metrics.collect.runs import collection_run_create
from metrics.collect.schedule import DEFAULT_SCHEDULE, collection_schedule_ensure
from metrics.models import CollectionRun, MemberSnapshot
from metrics.tasks import collect_batch, collect_members_daily, collect_monthly, retry_delay
from tests.metrics.conftest import make_communities, vk_ids

pytestmark = pytest.mark.django_db


def test_the_migration_created_the_default_schedule():
    tasks = {t.name: t for t in PeriodicTask.objects.select_related("crontab")}
    members = tasks[DEFAULT_SCHEDULE[0].name]
    assert members.task == "metrics.tasks.collect_members_daily"
    assert (members.crontab.hour, members.crontab.minute) == ("3", "0")
    monthly = tasks[DEFAULT_SCHEDULE[1].name]
    assert (monthly.crontab.day_of_month, monthly.crontab.hour) == ("2", "4")


def test_ensuring_the_schedule_again_keeps_what_people_edited():
    task = PeriodicTask.objects.get(name=DEFAULT_SCHEDULE[0].name)
    task.enabled = False
    task.save()
    assert collection_schedule_ensure() == 0
    task.refresh_from_db()
    assert task.enabled is False
    PeriodicTask.objects.filter(name=DEFAULT_SCHEDULE[1].name).delete()
    assert collection_schedule_ensure() == 1


def test_a_batch_task_run_twice_collects_once(emulator, vk_token):
    make_communities(vk_ids("active", 3))
    run = collection_run_create(kind=RunKind.MEMBERS, network=Network.VK)
    batch = run.batches.get()

    collect_batch.apply(args=(batch.pk,))
    collect_batch.apply(args=(batch.pk,))

    run.refresh_from_db()
    assert run.done == 3 and run.state == RunState.DONE
    assert emulator.stats()["requests"] == 1
    assert MemberSnapshot.objects.count() == 3


def test_the_beat_tasks_start_runs_for_both_networks(emulator, vk_token, ok_token):
    make_communities(vk_ids("active", 2))
    assert len(collect_members_daily.apply().get()) == 2
    assert len(collect_monthly.apply().get()) == 4  # posts and statistics, VK and OK
    assert set(CollectionRun.objects.values_list("kind", "network")) == {
        (RunKind.MEMBERS, Network.VK), (RunKind.MEMBERS, Network.OK),
        (RunKind.POSTS, Network.VK), (RunKind.POSTS, Network.OK),
        (RunKind.STATS, Network.VK), (RunKind.STATS, Network.OK)}


def test_retries_back_off_exponentially_with_jitter():
    delays = [retry_delay(n) for n in range(6)]
    assert 5 <= delays[0] <= 15 and 80 <= delays[4] <= 240
    assert all(d <= 900 for d in delays)
