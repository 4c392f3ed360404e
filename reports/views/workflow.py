"""Pages of the Table-1 workflow: the report list, the entry table, the report, value history."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from institutions.models import Institution
from metrics.models import MetricValue
from portal.errors import Conflict, PortalError, ValidationFailed
from portal.lib.months import add_months, month_label
from reports.home.editor import LOOKBACK_MONTHS
from reports.models import Report, ReportAction, ReportState
from reports.workflow import rules
from reports.workflow.bulk import bulk_actions_for
from reports.workflow.filters import ReportPageFilter
from reports.workflow.forms import TAMPERED, EntryForm
from reports.workflow.notes import grid_warnings, problem_text, return_notes
from reports.workflow.selectors import (
    EntryTable,
    entry_table,
    institutions_for_entry,
    report_history,
    report_list,
    report_value_rows,
    report_warnings,
    value_history,
)
from reports.workflow.services import ACTIONS, report_comment_add, report_values_save


def _visible_institution(user, pk: int) -> Institution:
    return get_object_or_404(Institution.objects.visible_to(user).select_related("territory"),
                             pk=pk)


def _month_from_path(text: str) -> dt.date:
    try:
        year, month = (int(p) for p in text.split("-"))
        return dt.date(year, month, 1)
    except ValueError as exc:
        raise Http404("Нет такого месяца.") from exc


@login_required
def reports_index(request: HttpRequest) -> HttpResponse:
    """The list of reports within the user's scope, filterable like the API."""
    filterset = ReportPageFilter(request.GET or None, queryset=report_list(user=request.user),
                             request=request)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "reports/report_list.html",
                  {"filter": filterset, "page": page, "query": query.urlencode(),
                   "bulk_actions": bulk_actions_for(request.user),
                   "can_enter": rules.may_enter_values(request.user)})


@login_required
def entry_index(request: HttpRequest) -> HttpResponse:
    """Which institutions' Table 1 the user may open (editors: their own)."""
    page = Paginator(institutions_for_entry(user=request.user), 50).get_page(
        request.GET.get("page"))
    return render(request, "reports/entry_index.html",
                  {"page": page, "year": timezone.localdate().year})


# --- the entry table ------------------------------------------------------------------------


def _keep_typed(table: EntryTable, typed: dict, originals: dict | None,
                versions: dict | None, errors: dict) -> None:
    """Put what the person typed back into the table (nothing they typed is lost)."""
    for block in table.blocks:
        for row in block.rows:
            for cell in row.cells:
                key = (cell.community_id, cell.month, cell.indicator)
                if key in typed:
                    cell.typed = typed[key]
                    if originals is not None:
                        cell.original = originals[key]
                cell.error = errors.get(key, "")
    if versions is not None:
        for column in table.columns:
            column.seen_version = versions.get(column.month, column.version)


def _errors_by_cell(details) -> dict:
    out = {}
    for item in details or []:
        if not isinstance(item, dict) or not item.get("month"):
            continue
        month = dt.date(*(int(p) for p in item["month"].split("-")), 1)
        indicator = item.get("indicator") or "members"
        out.setdefault((item["community_id"], month, indicator), item["message"])
    return out


@login_required
def entry(request: HttpRequest, institution_id: int, year: int) -> HttpResponse:
    """Table 1 of one institution for a year: view, fill, override or confirm API figures."""
    institution = _visible_institution(request.user, institution_id)
    if not 2000 <= year <= 2100:
        raise Http404("Нет такого года.")
    can_edit = rules.can_edit_values(request.user, institution)
    today = timezone.localdate()
    status, error = 200, ""
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Вносить значения могут редакторы учреждения и "
                                   "региональные методисты.")
        table = entry_table(institution=institution, year=year, today=today)
        form = EntryForm(request.POST, table=table)
        if not form.is_valid():
            return render(request, "reports/entry.html", {
                "table": table, "can_edit": can_edit, "error": TAMPERED,
                "years": _years(today), "institution": institution}, status=400)
        typed, originals = form.typed()
        changed = {k: v for k, v in typed.items() if v != originals.get(k)}
        versions = form.versions()
        try:
            result = report_values_save(
                user=request.user, institution=institution, cells=changed, versions=versions,
                confirm=form.confirms(), today=today,
            )
        except PortalError as exc:
            status, error = exc.http_status, exc.message
            table = entry_table(institution=institution, year=year, today=today)
            stale = isinstance(exc, Conflict)
            # After a conflict the page shows today's figures as the new originals, so saving
            # again is a deliberate decision; otherwise the originals stay what was first seen.
            _keep_typed(table, typed, None if stale else originals, None if stale else versions,
                        _errors_by_cell(exc.details) if isinstance(exc, ValidationFailed)
                        else {})
        else:
            messages.success(request, _saved_message(len(result.changes), result.confirmed))
            return redirect("reports:entry", institution_id=institution.pk, year=year)
    else:
        table = entry_table(institution=institution, year=year, today=today)
    context = {"table": table, "can_edit": can_edit, "error": error, "years": _years(today),
               "institution": institution, "general_reasons": _attach_notes(table),
               "focus_month": _focus_month(request, table)}
    return render(request, "reports/entry.html", context, status=status)


def _attach_notes(table: EntryTable) -> list:
    """Put each return reason above the community it names (the rest above all of them) and
    each community's warnings of the open months into its block."""
    communities = [b.community for b in table.blocks]
    notes = return_notes(institution=table.institution, communities=communities,
                         months=[c.month for c in table.columns])
    open_months = [c.month for c in table.columns if c.editable and c.report is not None]
    warnings = grid_warnings(communities=communities, months=open_months)
    for block in table.blocks:
        block.reasons = [n for n in notes if block.community.pk in n.community_ids]
        block.warnings = warnings.get(block.community.pk, [])
    return [n for n in notes if not n.community_ids]


def _focus_month(request: HttpRequest, table: EntryTable) -> str:
    """The month the grid opens at: the one asked for, else the first the person can edit."""
    asked = request.GET.get("month", "")
    if any(f"{c.month:%Y-%m}" == asked for c in table.columns):
        return asked
    editable = [c.month for c in table.columns if c.editable]
    joined = timezone.localtime(table.institution.created_at).date().replace(day=1)
    recent = max(joined, add_months(timezone.localdate().replace(day=1), -LOOKBACK_MONTHS))
    current = [m for m in editable if m >= recent]
    chosen = current or editable
    return f"{chosen[0]:%Y-%m}" if chosen else ""


def _years(today: dt.date) -> list[int]:
    return list(range(today.year - 3, today.year + 1))


def _saved_message(changed: int, confirmed: int) -> str:
    if not changed and not confirmed:
        return "Изменений нет — сохранять нечего."
    parts = []
    if changed:
        parts.append(f"изменено значений: {changed}")
    if confirmed:
        parts.append(f"подтверждено значений из API: {confirmed}")
    return "Сохранено: " + ", ".join(parts) + "."


# --- the report page ------------------------------------------------------------------------


@login_required
def report_detail(request: HttpRequest, institution_id: int, month: str) -> HttpResponse:
    """One month's report: figures, warnings, actions, the comment trail and history."""
    institution = _visible_institution(request.user, institution_id)
    return _render_report(request, institution, _month_from_path(month))


def _render_report(request: HttpRequest, institution: Institution, month: dt.date, *,
                   status: int = 200, error: str = "", typed: str = "",
                   failed_action: str = "") -> HttpResponse:
    report = Report.objects.filter(institution=institution, month=month).select_related(
        "submitted_by", "accepted_by", "approved_by").first()
    context = {
        "institution": institution, "month": month, "month_label": month_label(month),
        "report": report, "error": error, "typed": typed, "failed_action": failed_action,
        "warnings": _warning_texts(institution, month),
        "can_edit": rules.can_edit_values(request.user, institution),
        "can_comment": bool(report and rules.roles_for(request.user, institution)),
    }
    if report is not None:
        comments = list(report.comments.select_related("author"))
        context |= {
            "comments": comments,
            "return_reason": _latest_reason(report, comments),
            "actions": [(a, ReportAction(a).label) for a in rules.allowed_actions(
                request.user, institution, report.state)],
            "history": report_history(report=report),
        }
    context["communities"] = report_value_rows(report=report) if report else []
    return render(request, "reports/report_detail.html", context, status=status)


DONE_MESSAGES = {
    ReportAction.SUBMIT: "Отчёт отправлен на проверку.",
    ReportAction.ACCEPT: "Отчёт принят и передан региональному методисту на утверждение.",
    ReportAction.APPROVE: "Отчёт утверждён: значения месяца закрыты для изменений.",
    ReportAction.RETURN: "Отчёт возвращён на доработку; учреждение увидит причину.",
    ReportAction.REOPEN: "Отчёт переоткрыт и возвращён учреждению на доработку.",
}


def _warning_texts(institution: Institution, month: dt.date) -> list[str]:
    communities = {c.pk: c for c in institution.communities.all()}
    return [problem_text(p, communities)
            for p in report_warnings(institution=institution, month=month)]


def _latest_reason(report: Report, comments: list):
    """The reason a returned report came back (the newest return or reopen comment)."""
    if report.state != ReportState.RETURNED:
        return None
    reasons = [c for c in comments if c.action in (ReportAction.RETURN, ReportAction.REOPEN)]
    return reasons[-1] if reasons else None


@login_required
@require_POST
def report_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Apply one workflow action; on refusal the page says why and keeps the typed comment."""
    report = get_object_or_404(Report.objects.visible_to(request.user)
                               .select_related("institution__territory"), pk=pk)
    comment = request.POST.get("comment", "")
    version = request.POST.get("version")
    try:
        if action == ReportAction.COMMENT:
            report_comment_add(user=request.user, report_id=report.pk, text=comment)
        elif action in ACTIONS:
            ACTIONS[action](user=request.user, report_id=report.pk, comment=comment,
                            version=int(version) if version and version.isdecimal() else None)
        else:
            raise Http404("Нет такого действия.")
    except PortalError as exc:
        return _render_report(request, report.institution, report.month,
                              status=exc.http_status, error=exc.message, typed=comment,
                              failed_action=action)
    if action != ReportAction.COMMENT:
        messages.success(request, DONE_MESSAGES[action])
    return redirect(_report_url(report))


def _report_url(report: Report) -> str:
    return reverse("reports:report", kwargs={"institution_id": report.institution_id,
                                             "month": report.month.strftime("%Y-%m")})


@login_required
def value_history_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change of one value: who, when, old → new, source, channel and report state."""
    value = get_object_or_404(
        MetricValue.objects.select_related("community__institution").filter(
            community__in=_visible_communities(request.user)), pk=pk)
    records = value_history(value=value)
    rows = []
    for index, record in enumerate(records):
        older = records[index + 1] if index + 1 < len(records) else None
        rows.append({"record": record, "old": older.value if older else None})
    return render(request, "reports/value_history.html", {"value": value, "rows": rows})


def _visible_communities(user):
    from institutions.models import Community

    return Community.objects.visible_to(user).values("pk")
