"""Background exports (with a polled progress bar) and the registry workbook."""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from portal.errors import PortalError
from reports.exports.jobs import export_job_request, export_jobs_for
from reports.exports.registry import registry_workbook
from reports.exports.xlsx import XLSX_CONTENT_TYPE
from reports.models import ExportJob, ExportKind, ExportState
from reports.rankings.forms import RankingForm
from reports.summaries.forms import SummaryForm
from reports.summaries.selectors import registry_lines
from reports.views.rankings import require_role


@login_required
@require_safe
def export_list(request: HttpRequest) -> HttpResponse:
    """The user's background exports, newest first."""
    require_role(request.user)
    jobs = export_jobs_for(user=request.user)[:50]
    return render(request, "reports/exports.html", {
        "jobs": jobs, "form": SummaryForm(user=request.user),
        "retention_days": settings.EXPORT_RETENTION_DAYS})


@login_required
@require_POST
def export_start_summaries(request: HttpRequest) -> HttpResponse:
    """Start the zip of every territory's summary for the period."""
    require_role(request.user)
    form = SummaryForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Период задан неверно — выгрузка не запущена.")
        return redirect("reports:exports")
    data = form.cleaned_data
    return _start(request, ExportKind.SUMMARY_ALL, {"date_from": data["date_from"].isoformat(),
                                                   "date_to": data["date_to"].isoformat(),
                                                   "states": form.counting()})


@login_required
@require_POST
def export_start_ranking(request: HttpRequest) -> HttpResponse:
    """Start a large ranking export (parameters in the query string, as on the page)."""
    require_role(request.user)
    try:
        params = RankingForm(request.GET, user=request.user).to_params()
    except PortalError as error:
        messages.error(request, error.message)
        return redirect("reports:rankings")
    return _start(request, ExportKind.RANKING, params.as_json())


def _start(request: HttpRequest, kind: str, params: dict) -> HttpResponse:
    try:
        job = export_job_request(user=request.user, kind=kind, params=params)
    except PortalError as error:
        messages.error(request, f"Выгрузка не запущена: {error.message}")
        return redirect("reports:exports")
    return redirect("reports:export-detail", pk=job.pk)


def _job(request: HttpRequest, pk: int) -> ExportJob:
    require_role(request.user)
    return get_object_or_404(export_jobs_for(user=request.user), pk=pk)


@login_required
@require_safe
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's progress bar; the page polls the status until the file is ready."""
    return render(request, "reports/exports_detail.html",
                  {"job": _job(request, pk), "retention_days": settings.EXPORT_RETENTION_DAYS})


@login_required
@require_safe
def export_status(request: HttpRequest, pk: int) -> JsonResponse:
    job = _job(request, pk)
    return JsonResponse({
        "state": job.state, "state_label": job.get_state_display(), "progress": job.progress,
        "error": job.error, "filename": job.filename,
        "download": (reverse("reports:export-download", kwargs={"pk": job.pk})
                     if job.state == ExportState.DONE else None),
    })


@login_required
@require_safe
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's file; once the retention period has deleted it, a page that says so (410)."""
    job = _job(request, pk)
    if job.state == ExportState.EXPIRED:
        return _file_gone(request, job)
    if job.state != ExportState.DONE or not job.file:
        raise Http404("Файл ещё не готов.")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        return _file_gone(request, job)
    return FileResponse(handle, as_attachment=True,
                        filename=job.filename or job.file.name.rsplit("/", 1)[-1])


def _file_gone(request: HttpRequest, job: ExportJob) -> HttpResponse:
    return render(request, "reports/exports_detail.html",
                  {"job": job, "file_gone": True,
                   "retention_days": settings.EXPORT_RETENTION_DAYS}, status=410)


@login_required
@require_safe
def registry_export(request: HttpRequest) -> HttpResponse:
    """The registry within the user's scope as a workbook the registry import can read back."""
    require_role(request.user)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    registry_workbook(handle, lines=registry_lines(user=request.user),
                      title=f"Реестр учреждений на {timezone.localdate():%d.%m.%Y}")
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, content_type=XLSX_CONTENT_TYPE,
                        filename=f"reestr-{timezone.localdate():%Y%m%d}.xlsx")
