"""Celery tasks of the reports app: thin, call a service, safe to run twice."""

from celery import shared_task
from django.utils import timezone

from reports.exports import cleanup as export_cleanup
from reports.exports import jobs as export_jobs
from reports.workflow import notifications
from reports.workflow.reminders import TASK_NAME, reminders_send


@shared_task(name=TASK_NAME, acks_late=True)
def send_report_reminders() -> dict:
    """Daily: e-mail editors about overdue reports and municipal users about waiting ones."""
    return reminders_send(today=timezone.localdate()).as_dict()


@shared_task(name=export_jobs.EXPORT_TASK, acks_late=True)
def export_job_run(job_id: int) -> bool:
    """Build a background export (summaries zip, large ranking); a second delivery is a no-op."""
    return export_jobs.export_job_execute(job_id=job_id)


@shared_task(name=export_cleanup.CLEANUP_TASK, acks_late=True)
def export_files_cleanup() -> dict:
    """Daily: delete finished exports' files older than EXPORT_RETENTION_DAYS (jobs expire)."""
    return export_cleanup.export_files_cleanup().as_dict()


@shared_task(name=notifications.RETURN_NOTICE_TASK)
def send_return_notice(comment_id: int) -> int:
    """E-mail the editors the reason their report came back (sent at most once: no acks_late)."""
    return notifications.return_notice_send(comment_id=comment_id)
