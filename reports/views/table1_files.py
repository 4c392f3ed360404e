"""Table-1 forms as Excel files: download pre-filled, upload filled (one or, for
methodologists, many at once)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from institutions.models import Institution
from reports.exports.table1 import table1_workbook
from reports.imports.services import table1_import
from reports.imports.table1 import ImportProblem, ImportRejected
from reports.workflow import rules
from reports.workflow.selectors import table1_sheets

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def download(request: HttpRequest, institution_id: int, year: int) -> HttpResponse:
    """The institution's Table 1 for a year, pre-filled with what is stored."""
    institution = get_object_or_404(Institution.objects.visible_to(request.user),
                                     pk=institution_id)
    if not 2000 <= year <= 2100:
        raise Http404("Нет такого года.")
    content = table1_workbook(sheets=table1_sheets(institution=institution, year=year))
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="table1_{institution.pk}_{year}.xlsx"'
    )
    return response


def _read_files(request: HttpRequest) -> tuple[list[tuple[str, bytes]], list[ImportProblem]]:
    files, problems = [], []
    for upload in request.FILES.getlist("files"):
        if upload.size > settings.UPLOAD_MAX_BYTES:
            limit = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
            problems.append(ImportProblem(upload.name, f"файл больше допустимых {limit} МБ."))
            continue
        files.append((upload.name, upload.read()))
    return files, problems


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    """Upload filled forms; everything is checked first and stored only if all is well."""
    many = rules.is_regional(request.user)
    context = {"many": many, "problems": [], "result": None}
    if request.method != "POST":
        return render(request, "reports/upload.html", context)
    if not rules.may_enter_values(request.user):
        raise PermissionDenied(rules.ENTER_VALUES_REFUSED)
    files, problems = _read_files(request)
    dry_run = request.POST.get("dry_run") == "on"
    if not files and not problems:
        problems.append(ImportProblem("—", "выберите файл формы (.xlsx)."))
    if problems:
        context["problems"] = problems
        return render(request, "reports/upload.html", context, status=400)
    try:
        result = table1_import(user=request.user, files=files, dry_run=dry_run)
    except ImportRejected as exc:
        context["problems"] = exc.problems
        return render(request, "reports/upload.html", context, status=400)
    if dry_run:
        context["result"] = result
        return render(request, "reports/upload.html", context)
    messages.success(request, f"Загружено: файлов {result.files}, листов {result.sheets}, "
                              f"изменено значений {len(result.changes)}.")
    return redirect("reports:upload")
