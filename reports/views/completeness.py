"""The completeness page: who has reported for a month, and a year's heatmap."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.lib.months import add_months, month_label, parse_month
from reports.models import ReportState
from reports.summaries.completeness import (
    completeness_heatmap,
    completeness_month,
    deadline_for,
    is_overdue,
)


def _chosen_month(text: str | None, today: dt.date) -> tuple[dt.date, str]:
    default = add_months(today.replace(day=1), -1)
    if not text:
        return default, ""
    try:
        month = parse_month(text)
    except ValueError:
        return default, f"Месяц «{text}» не распознан — показан {month_label(default)}."
    return month, ""


@login_required
def completeness(request: HttpRequest) -> HttpResponse:
    """Per territory: counts by state, overdue, who sent nothing; and the year's heatmap."""
    today = timezone.localdate()
    month, error = _chosen_month(request.GET.get("month"), today)
    lines = completeness_month(user=request.user, month=month, today=today)
    months, heat = completeness_heatmap(user=request.user, year=month.year, today=today)
    context = {
        "month": month, "month_label": month_label(month), "error": error,
        "lines": lines, "states": ReportState.choices,
        "deadline": deadline_for(month), "overdue": is_overdue(month, today),
        "months": months, "heat": heat,
        "previous": add_months(month, -1), "next": add_months(month, 1),
        "totals": _totals(lines),
    }
    return render(request, "reports/completeness.html", context)


def _totals(lines) -> dict:
    return {
        "total": sum(line.total for line in lines),
        "not_started": sum(line.not_started for line in lines),
        "overdue": sum(line.overdue for line in lines),
        "by_state": [sum(line.by_state[s] for line in lines) for s in ReportState.values],
    }
