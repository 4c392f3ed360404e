"""Large exports built in the background: request, claim, build with progress, finish.

A job is claimed with a conditional UPDATE (pending → running), so a task delivered twice builds
the file once. Progress is written as the work goes, and the page polls it.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from institutions.models import Community, Territory, profile_of
from portal.errors import NotAllowed, ServiceUnavailable, ValidationFailed
from portal.queue import enqueue
from reports.exports.rankings import ranking_sheets
from reports.exports.summary import summaries_zip
from reports.exports.xlsx import write_workbook
from reports.models import ExportJob, ExportKind, ExportState
from reports.rankings import RankingParams, ranking_notes, ranking_stream_for_user
from reports.rankings.results import ranking_counting_line, ranking_pending
from reports.summaries.selectors import territory_summary

log = logging.getLogger(__name__)
QUEUE_DOWN = "Очередь задач недоступна: выгрузка не запущена, попробуйте позже."
EXPORT_TASK = "reports.export_job_run"


def _check_params(kind: str, params: dict[str, Any]) -> None:
    if kind == ExportKind.SUMMARY_ALL:
        dt.date.fromisoformat(params["date_from"])
        dt.date.fromisoformat(params["date_to"])
    elif kind == ExportKind.RANKING:
        RankingParams.from_json(params)
    else:
        raise ValidationFailed(f"Неизвестный вид выгрузки: «{kind}».")


@transaction.atomic
def export_job_request(*, user, kind: str, params: dict[str, Any]) -> ExportJob:
    """Queue a background export for ``user``; the task starts once the row is committed."""
    if not (user.is_superuser or profile_of(user)):
        raise NotAllowed("Нет доступа: у учётной записи нет роли в портале.")
    try:
        _check_params(kind, params)
    except (KeyError, ValueError, TypeError) as exc:
        raise ValidationFailed("Параметры выгрузки заданы неверно.") from exc
    job = ExportJob.objects.create(kind=kind, params=params, requested_by=user)
    transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id: int) -> None:
    """Hand the job to a worker; with the broker down the job fails and the person is told."""
    try:
        enqueue(EXPORT_TASK, job_id, unavailable=QUEUE_DOWN)
    except ServiceUnavailable as exc:
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportState.FAILED, error=QUEUE_DOWN, finished_at=timezone.now())
        raise ServiceUnavailable(QUEUE_DOWN) from exc


def _progress(job_id: int, percent: int) -> None:
    ExportJob.objects.filter(pk=job_id).update(progress=max(0, min(100, percent)))


def _build_summaries(job: ExportJob, handle: Any) -> str:
    user = job.requested_by
    date_from = dt.date.fromisoformat(job.params["date_from"])
    date_to = dt.date.fromisoformat(job.params["date_to"])
    territories = list(Territory.objects.visible_to(user).order_by("name", "pk"))
    counting = job.params.get("states")  # jobs queued before the choice: the region's setting
    summaries = (territory_summary(user=user, territory=t, date_from=date_from, date_to=date_to,
                                   counting=counting) for t in territories)
    total = max(len(territories), 1)
    summaries_zip(handle, summaries, on_each=lambda n: _progress(job.pk, 99 * n // total))
    return f"svodnye-{date_from:%Y%m}-{date_to:%Y%m}.zip"


def _build_ranking(job: ExportJob, handle: Any) -> str:
    params = RankingParams.from_json(job.params)
    stream = ranking_stream_for_user(user=job.requested_by, params=params)
    write_workbook(handle, ranking_sheets(
        metric=params.metric, rows=stream, missing=stream.missing,
        title_lines=["Рейтинг сообществ",
                     f"Период: {params.date_from:%d.%m.%Y} — {params.date_to:%d.%m.%Y}",
                     ranking_counting_line(params, ranking_pending(
                         communities=Community.objects.visible_to(job.requested_by),
                         params=params))],
        notes=ranking_notes(params)))
    return f"rating-{params.metric}-{params.date_from:%Y%m%d}-{params.date_to:%Y%m%d}.xlsx"


BUILDERS = {ExportKind.SUMMARY_ALL: _build_summaries, ExportKind.RANKING: _build_ranking}


def export_job_execute(*, job_id: int) -> bool:
    """Build the job's file if nobody has claimed it yet; return whether this call built it."""
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.PENDING).update(
        state=ExportState.RUNNING, started_at=timezone.now(), progress=0)
    if not claimed:
        return False
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    try:
        with tempfile.TemporaryFile() as handle:
            filename = BUILDERS[job.kind](job, handle)
            handle.seek(0)
            job.file.save(filename, File(handle), save=False)
    except Exception as exc:  # the job row must end in a visible state whatever happened
        log.exception("export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportState.FAILED, finished_at=timezone.now(),
            error=f"Выгрузка не удалась: {exc}"[:2000])
        return False
    job.filename, job.state, job.progress = filename, ExportState.DONE, 100
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "filename", "state", "progress", "finished_at"])
    return True


def export_jobs_for(*, user) -> Any:
    """The user's export jobs, newest first."""
    return ExportJob.objects.visible_to(user).order_by("-created_at", "-pk")
