"""Old background-export files are deleted after the retention period; the job says so."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from reports.exports.cleanup import (
    CLEANUP_SCHEDULE,
    export_cleanup_schedule_ensure,
    export_files_cleanup,
)
from reports.models import ExportJob, ExportKind, ExportState
from reports.tasks import export_files_cleanup as cleanup_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_RETENTION_DAYS = 7
    return settings.MEDIA_ROOT


def finished_job(user, *, days_ago: float, name: str = "svodnye.zip",
                 state: str = ExportState.DONE) -> ExportJob:
    """A job finished ``days_ago`` with a real file in MEDIA_ROOT."""
    job = ExportJob(kind=ExportKind.SUMMARY_ALL, requested_by=user, state=state, progress=100,
                    filename=name, params={"date_from": "2026-01-01", "date_to": "2026-03-31"},
                    finished_at=timezone.now() - dt.timedelta(days=days_ago))
    job.file.save(name, ContentFile(b"PK archive bytes"), save=False)
    job.save()
    return job


def path_of(job: ExportJob, media: Path) -> Path:
    return media / job.file.name


def age_file(path: Path, days: float) -> None:
    stamp = (timezone.now() - dt.timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))


def test_a_file_older_than_the_retention_is_deleted_and_its_job_expires(regional, media):
    old = finished_job(regional, days_ago=8, name="old.zip")
    fresh = finished_job(regional, days_ago=2, name="fresh.zip")
    old_path, fresh_path = path_of(old, media), path_of(fresh, media)
    assert old_path.exists() and fresh_path.exists()

    result = export_files_cleanup()

    assert result.as_dict() == {"jobs_expired": 1, "files_deleted": 1}
    assert not old_path.exists() and fresh_path.exists()
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.state, old.file.name, old.filename) == (ExportState.EXPIRED, "", "old.zip")
    assert fresh.state == ExportState.DONE and fresh.file.name


def test_the_retention_comes_from_the_settings(regional, media, settings):
    job = finished_job(regional, days_ago=2)
    settings.EXPORT_RETENTION_DAYS = 1
    assert export_files_cleanup().jobs_expired == 1
    assert not path_of(job, media).exists()


def test_cleaning_twice_deletes_nothing_more(regional, media):
    finished_job(regional, days_ago=30)
    export_files_cleanup()
    assert export_files_cleanup().as_dict() == {"jobs_expired": 0, "files_deleted": 0}
    assert ExportJob.objects.get().state == ExportState.EXPIRED


def test_jobs_that_are_not_done_are_left_alone(regional, media):
    running = ExportJob.objects.create(kind=ExportKind.RANKING, requested_by=regional,
                                       state=ExportState.RUNNING, params={})
    failed = ExportJob.objects.create(
        kind=ExportKind.RANKING, requested_by=regional, state=ExportState.FAILED, params={},
        finished_at=timezone.now() - dt.timedelta(days=40), error="Выгрузка не удалась")
    export_files_cleanup()
    assert ExportJob.objects.get(pk=running.pk).state == ExportState.RUNNING
    assert ExportJob.objects.get(pk=failed.pk).state == ExportState.FAILED


def test_old_files_no_job_refers_to_are_swept_new_ones_kept(regional, media):
    kept = finished_job(regional, days_ago=1, name="kept.zip")
    folder = media / "exports" / "2026" / "01"
    folder.mkdir(parents=True, exist_ok=True)
    orphan_old, orphan_new = folder / "orphan-old.xlsx", folder / "orphan-new.xlsx"
    orphan_old.write_bytes(b"x")
    orphan_new.write_bytes(b"y")
    age_file(orphan_old, 10)
    age_file(path_of(kept, media), 10)  # an old file of a live job is the job's business

    assert export_files_cleanup().as_dict() == {"jobs_expired": 0, "files_deleted": 1}
    assert not orphan_old.exists() and orphan_new.exists() and path_of(kept, media).exists()


def test_a_missing_file_still_expires_its_job(regional, media):
    job = finished_job(regional, days_ago=9)
    path_of(job, media).unlink()
    assert export_files_cleanup().as_dict() == {"jobs_expired": 1, "files_deleted": 0}
    job.refresh_from_db()
    assert job.state == ExportState.EXPIRED


def test_the_celery_task_runs_the_cleanup(regional, media):
    job = finished_job(regional, days_ago=8)
    assert cleanup_task.apply().get() == {"jobs_expired": 1, "files_deleted": 1}
    assert not path_of(job, media).exists()


# --- what people see ----------------------------------------------------------------------------
def test_downloading_an_expired_export_says_the_file_was_deleted(login, regional, media):
    job = finished_job(regional, days_ago=8, name="svodnye-202601-202603.zip")
    export_files_cleanup()
    client = login(regional)

    response = client.get(f"/exports/{job.pk}/download/")

    assert response.status_code == 410
    body = response.content.decode()
    assert "svodnye-202601-202603.zip удалён" in body
    assert "хранятся 7 дн." in body and "Запустите выгрузку заново" in body
    status = client.get(f"/exports/{job.pk}/status/").json()
    assert status["state"] == "expired" and status["download"] is None
    assert status["state_label"] == "файл удалён: срок хранения истёк"
    listing = client.get("/exports/").content.decode()
    assert "svodnye-202601-202603.zip — удалён по сроку хранения" in listing
    assert f'href="/exports/{job.pk}/download/"' not in listing


def test_the_detail_page_of_an_expired_export_shows_the_notice(login, regional, media):
    job = finished_job(regional, days_ago=8)
    export_files_cleanup()
    body = login(regional).get(f"/exports/{job.pk}/").content.decode()
    assert 'id="export-expired" class="error" role="status"' in body  # not hidden
    assert 'id="export-ready" hidden' in body


def test_a_fresh_export_still_downloads(login, regional, media):
    job = finished_job(regional, days_ago=1)
    export_files_cleanup()
    response = login(regional).get(f"/exports/{job.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"PK archive bytes"


def test_a_done_job_whose_file_vanished_answers_410_not_500(login, regional, media):
    job = finished_job(regional, days_ago=1)
    path_of(job, media).unlink()
    response = login(regional).get(f"/exports/{job.pk}/download/")
    assert response.status_code == 410
    assert "удалён" in response.content.decode()


def test_an_expired_export_of_someone_else_stays_hidden(login, regional, municipal_a, media):
    job = finished_job(regional, days_ago=8)
    export_files_cleanup()
    assert login(municipal_a).get(f"/exports/{job.pk}/download/").status_code == 404


# --- the schedule -------------------------------------------------------------------------------
def test_the_migration_scheduled_the_daily_cleanup():
    task = PeriodicTask.objects.select_related("crontab").get(name=CLEANUP_SCHEDULE.name)
    assert task.task == "reports.tasks.export_files_cleanup" and task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("2", "30")
    assert cleanup_task.name == task.task


def test_ensuring_the_cleanup_schedule_again_keeps_what_people_edited():
    PeriodicTask.objects.filter(name=CLEANUP_SCHEDULE.name).update(enabled=False)
    assert export_cleanup_schedule_ensure() == 0
    assert PeriodicTask.objects.get(name=CLEANUP_SCHEDULE.name).enabled is False
    PeriodicTask.objects.filter(name=CLEANUP_SCHEDULE.name).delete()
    assert export_cleanup_schedule_ensure() == 1
    assert PeriodicTask.objects.filter(name=CLEANUP_SCHEDULE.name).count() == 1
