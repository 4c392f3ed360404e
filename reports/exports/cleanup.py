"""Old background-export files are deleted after ``EXPORT_RETENTION_DAYS``; their jobs stay.

A finished job keeps its row (who ordered what and when) and becomes «expired», so the download
link says the file is gone instead of failing. The job is switched with a conditional UPDATE
before its file is deleted: two cleaners at once, or a cleaner and a download, never see a
"done" job without its file. Files under ``exports/`` that no job refers to any more (the job or
its user was deleted) are removed after the same age.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.utils import timezone

from portal.lib.beat import PeriodicEntry, periodic_tasks_ensure
from reports.models import ExportJob, ExportState

log = logging.getLogger(__name__)

EXPORTS_DIR = "exports"
CLEANUP_TASK = "reports.tasks.export_files_cleanup"
CLEANUP_SCHEDULE = PeriodicEntry("Удаление старых файлов выгрузок (ежедневно в 02:30)",
                                 CLEANUP_TASK, minute="30", hour="2")


@dataclass
class CleanupResult:
    """What one cleanup did."""

    jobs_expired: int = 0
    files_deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"jobs_expired": self.jobs_expired, "files_deleted": self.files_deleted}


def retention() -> dt.timedelta:
    """How long a finished export's file is kept."""
    return dt.timedelta(days=settings.EXPORT_RETENTION_DAYS)


def _delete(storage: Storage, name: str) -> bool:
    try:
        storage.delete(name)
    except OSError:  # the job is expired already; a file left behind is swept next time
        log.exception("could not delete the export file %s", name)
        return False
    return True


def _expire_jobs(cutoff: dt.datetime, result: CleanupResult) -> None:
    jobs = (ExportJob.objects.filter(state=ExportState.DONE, finished_at__lt=cutoff)
            .values_list("pk", "file").order_by("pk"))
    for pk, name in jobs.iterator():
        claimed = ExportJob.objects.filter(pk=pk, state=ExportState.DONE).update(
            state=ExportState.EXPIRED, file="")
        if not claimed:
            continue
        result.jobs_expired += 1
        if name and default_storage.exists(name) and _delete(default_storage, name):
            result.files_deleted += 1


def _stored_files(storage: Storage, folder: str) -> list[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [f"{folder}/{name}" for name in files]
    for sub in folders:
        names += _stored_files(storage, f"{folder}/{sub}")
    return names


def _sweep_orphans(cutoff: dt.datetime, result: CleanupResult) -> None:
    """Delete old files under ``exports/`` that no job refers to."""
    referenced = set(ExportJob.objects.exclude(file="").values_list("file", flat=True))
    for name in _stored_files(default_storage, EXPORTS_DIR):
        if name in referenced or default_storage.get_modified_time(name) >= cutoff:
            continue
        if _delete(default_storage, name):
            result.files_deleted += 1


def export_files_cleanup(*, now: dt.datetime | None = None) -> CleanupResult:
    """Expire finished exports older than the retention and delete their files."""
    cutoff = (now or timezone.now()) - retention()
    result = CleanupResult()
    _expire_jobs(cutoff, result)
    _sweep_orphans(cutoff, result)
    return result


def export_cleanup_schedule_ensure(*, periodic_task_model=None, crontab_model=None) -> int:
    """Register the daily cleanup with django-celery-beat unless it is there already."""
    return periodic_tasks_ensure([CLEANUP_SCHEDULE], periodic_task_model=periodic_task_model,
                                 crontab_model=crontab_model)
