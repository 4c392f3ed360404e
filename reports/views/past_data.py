"""The past-data page: member counts and Table-1 values from another system's .xlsx or .csv.

Check first (nothing is written), then load the same file: all rows or none, each refused cell
named by row and column. The same services answer the API (/api/v1/imports/past-…/file/).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from metrics.past import can_import_past, past_members_import
from metrics.past_files import past_members_file_rows
from portal.errors import PortalError
from reports.imports.past_values import past_values_import

KINDS = [("members", "Число участников на дату или на конец месяца"),
         ("values", "Значения Таблицы 1 по месяцам")]


class PastDataForm(forms.Form):
    kind = forms.ChoiceField(label="Что загружаем", choices=KINDS, widget=forms.RadioSelect,
                             initial="members")
    file = forms.FileField(label="Файл .xlsx или .csv", widget=forms.ClearableFileInput(
        attrs={"accept": ".xlsx,.csv"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"Файл больше допустимых {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} МБ.")
        return upload


def _run(request: HttpRequest, kind: str, upload, dry_run: bool) -> dict:
    data = upload.read()
    if kind == "members":
        rows = past_members_file_rows(name=upload.name, data=data)
        result = past_members_import(user=request.user, rows=rows, source_file=upload.name,
                                     dry_run=dry_run)
        return {"members": result}
    result = past_values_import(user=request.user, name=upload.name, data=data,
                                dry_run=dry_run)
    return {"changed": len(result.changes)}


@login_required
def past_data(request: HttpRequest) -> HttpResponse:
    if not can_import_past(request.user):
        raise PermissionDenied("Загружать прошлые данные могут методисты, муниципальные "
                               "отделы и редакторы учреждений.")
    form = PastDataForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        dry_run = request.POST.get("action") != "load"
        context.update(dry_run=dry_run, kind=form.cleaned_data["kind"],
                       file_name=form.cleaned_data["file"].name)
        try:
            context["result"] = _run(request, form.cleaned_data["kind"],
                                     form.cleaned_data["file"], dry_run)
        except PortalError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            context.update(error=exc.message, errors=details.get("errors", []))
            status = 400
    return render(request, "reports/past_data.html", context, status=status)
