"""The completeness page: who has reported for a month and on time, and a year's heatmap."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from portal.lib.months import add_months, month_label, parse_month
from reports.exports.completeness import completeness_workbook
from reports.exports.xlsx import XLSX_CONTENT_TYPE
from reports.models import ReportState
from reports.summaries.completeness import (
    completeness_heatmap,
    completeness_month,
    completeness_totals,
    deadline_for,
    is_overdue,
    last_due_month,
)

NOT_DUE_NOTE = ("Учреждения, добавленные в реестр после месяца отчёта, не учитываются; "
                "до срока сдачи своевременность не считается.")


def _chosen_month(text: str | None, today: dt.date) -> tuple[dt.date, str]:
    default = last_due_month(today)
    if not text:
        return default, ""
    try:
        month = parse_month(text)
    except ValueError:
        return default, f"Месяц «{text}» не распознан — показан {month_label(default)}."
    return month, ""


@login_required
@require_safe
def completeness(request: HttpRequest) -> HttpResponse:
    """Per territory: counts by state, timeliness, overdue, who sent nothing; the heatmap."""
    today = timezone.localdate()
    month, error = _chosen_month(request.GET.get("month"), today)
    lines = completeness_month(user=request.user, month=month, today=today)
    months, heat = completeness_heatmap(user=request.user, year=month.year, today=today)
    overdue = is_overdue(month, today)
    context = {
        "month": month, "month_label": month_label(month), "error": error,
        "lines": lines, "states": ReportState.choices,
        "deadline": deadline_for(month), "overdue": overdue,
        "months": months, "heat": heat, "note": NOT_DUE_NOTE,
        "previous": add_months(month, -1), "next": add_months(month, 1),
        "totals": completeness_totals(lines, due=overdue),
    }
    return render(request, "reports/completeness.html", context)


@login_required
@require_safe
def completeness_export(request: HttpRequest) -> HttpResponse:
    """The same month's table as an Excel workbook."""
    today = timezone.localdate()
    month, _ = _chosen_month(request.GET.get("month"), today)
    lines = completeness_month(user=request.user, month=month, today=today)
    totals = completeness_totals(lines, due=is_overdue(month, today))
    title = (f"Полнота и своевременность сдачи отчётов за {month_label(month)} "
             f"(срок — {deadline_for(month):%d.%m.%Y})")
    content = completeness_workbook(title=title, lines=lines, totals=totals,
                                    notes=[NOT_DUE_NOTE])
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="polnota-{month:%Y-%m}.xlsx"'
    return response
