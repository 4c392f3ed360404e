"""Pages of territory summaries: the page and its workbook."""

from __future__ import annotations

import tempfile
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import render
from django.views.decorators.http import require_safe

from reports.exports.summary import summary_workbook
from reports.exports.xlsx import XLSX_CONTENT_TYPE
from reports.summaries.forms import SummaryForm
from reports.summaries.selectors import (
    FIGURE_LABELS,
    FIGURES,
    HISTORY_MEMBERS_LABEL,
    METHOD_NOTES,
    summary_texts,
    territory_summary,
)
from reports.views.rankings import require_role


def _period_query(form: SummaryForm, territory: int | None = None) -> str:
    data = form.cleaned_data
    fields = {"period": "range", "date_from": data["date_from"].isoformat(),
              "date_to": data["date_to"].isoformat(), "states": form.counting()}
    if territory:
        fields["territory"] = territory
    return urlencode(fields)


@login_required
@require_safe
def summary_page(request: HttpRequest) -> HttpResponse:
    """A territory's consolidated report: institutions, communities, totals, completeness."""
    require_role(request.user)
    form = SummaryForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/summary.html", {"form": form}, status=400)
    territory = form.cleaned_data.get("territory")
    context = {"form": form, "figures": FIGURES, "labels": FIGURE_LABELS,
               "notes": METHOD_NOTES, "period_query": _period_query(form)}
    if territory is not None:
        summary = territory_summary(
            user=request.user, territory=territory,
            date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"],
            counting=form.counting())
        context |= {"summary": summary, "query": _period_query(form, territory.pk),
                    "history_label": HISTORY_MEMBERS_LABEL, **summary_texts(summary)}
    return render(request, "reports/summary.html", context)


@login_required
@require_safe
def summary_export(request: HttpRequest) -> HttpResponse:
    """One territory's summary as a formatted workbook, streamed from a temporary file."""
    require_role(request.user)
    form = SummaryForm(request.GET, user=request.user)
    if not form.is_valid() or form.cleaned_data.get("territory") is None:
        return HttpResponse("Выберите территорию и период.", status=400,
                            content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    summary = territory_summary(user=request.user, territory=data["territory"],
                                date_from=data["date_from"], date_to=data["date_to"],
                                counting=form.counting())
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    summary_workbook(handle, summary)
    handle.seek(0)
    name = f"svodny-{data['territory'].pk}-{data['date_from']:%Y%m}-{data['date_to']:%Y%m}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name,
                        content_type=XLSX_CONTENT_TYPE)
