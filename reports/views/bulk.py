"""Bulk review from the report list: selected reports, or every report matching the filter."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal.errors import ValidationFailed
from reports.workflow.bulk import BULK_LIMIT, bulk_actions_for, reports_bulk_transition
from reports.workflow.filters import ReportPageFilter
from reports.workflow.selectors import report_list

REVIEWERS_ONLY = ("Проверять отчёты могут муниципальные отделы культуры и региональные "
                  "методисты.")


def _matching_ids(request: HttpRequest, query: QueryDict) -> list[int]:
    filterset = ReportPageFilter(query or None, queryset=report_list(user=request.user),
                                 request=request)
    if filterset.is_bound and not filterset.is_valid():
        raise ValidationFailed("Фильтр задан неверно — отчёты не выбраны.")
    return list(filterset.qs.values_list("pk", flat=True)[:BULK_LIMIT + 1])


@login_required
@require_POST
def reports_bulk(request: HttpRequest) -> HttpResponse:
    """Accept, approve or return many reports with one comment; show what changed and not."""
    if not bulk_actions_for(request.user):
        raise PermissionDenied(REVIEWERS_ONLY)
    query = QueryDict(request.POST.get("query", ""))
    back = reverse("reports:list") + (f"?{query.urlencode()}" if query else "")
    try:
        if request.POST.get("scope") == "filter":
            ids = _matching_ids(request, query)
        else:
            ids = [int(i) for i in request.POST.getlist("report") if i.isdecimal()]
        outcome = reports_bulk_transition(user=request.user, report_ids=ids,
                                          action=request.POST.get("action", ""),
                                          comment=request.POST.get("comment", ""))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect(back)
    return render(request, "reports/bulk_result.html", {"outcome": outcome, "back": back})
