"""The editor's tasks: each institution's open months, what is missing, why a month came back."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from institutions.choices import CommunityState
from institutions.models import Community, Institution, profile_of
from metrics.choices import TABLE1_INDICATORS
from metrics.models import MetricValue
from portal.lib.months import add_months, month_label, months_between
from reports.models import Report, ReportAction, ReportComment, ReportState
from reports.summaries.completeness import deadline_for

LOOKBACK_MONTHS = 6  # older gaps are the methodologist's business, not today's task list
REASON_ACTIONS = (ReportAction.RETURN, ReportAction.REOPEN)


@dataclass
class CommunityGap:
    """A community's indicators still empty in a month."""

    community: Community
    missing: list[str]


@dataclass
class MonthTask:
    """One open month of one institution."""

    institution: Institution
    month: dt.date
    report: Report | None
    deadline: dt.date
    overdue: bool
    gaps: list[CommunityGap] = field(default_factory=list)
    reason: ReportComment | None = None

    @property
    def month_label(self) -> str:
        return month_label(self.month)

    @property
    def state(self) -> str:
        return self.report.state if self.report else ""

    @property
    def state_label(self) -> str:
        return self.report.get_state_display() if self.report else "не начат"

    @property
    def todo(self) -> str:
        """What to do about the month, in a few words."""
        if self.state == ReportState.RETURNED:
            return "Исправьте по замечанию и отправьте снова"
        if self.state in (ReportState.SUBMITTED, ReportState.ACCEPTED):
            return "На проверке — от вас ничего не нужно"
        if self.gaps:
            return "Заполните недостающие показатели и отправьте"
        return "Всё заполнено — отправьте на проверку"

    @property
    def needs_editor(self) -> bool:
        return self.state not in (ReportState.SUBMITTED, ReportState.ACCEPTED)

    @property
    def grid_url(self) -> str:
        url = reverse("reports:entry", args=[self.institution.pk, self.month.year])
        return f"{url}?month={self.month:%Y-%m}"

    @property
    def report_url(self) -> str:
        return reverse("reports:report", args=[self.institution.pk, f"{self.month:%Y-%m}"])


@dataclass
class InstitutionTasks:
    institution: Institution
    communities: list[Community]
    months: list[MonthTask]


def _joined(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date().replace(day=1)


def _open_months(institution: Institution, reports: dict, today: dt.date) -> list[dt.date]:
    """Recent months (from joining the registry) not approved; this month only once started."""
    current = today.replace(day=1)
    first = max(_joined(institution.created_at), add_months(current, -LOOKBACK_MONTHS))
    started = [m for (pk, m) in reports if pk == institution.pk and m < first]
    months = sorted(set(months_between(first, current)) | set(started))
    out = []
    for month in months:
        report = reports.get((institution.pk, month))
        if report is not None and report.state == ReportState.APPROVED:
            continue
        if month == current and report is None:
            continue
        out.append(month)
    return out


def _filled(communities: list[Community], months: set[dt.date]) -> set[tuple]:
    rows = MetricValue.objects.filter(
        community__in=[c.pk for c in communities], month__in=months,
        indicator__in=TABLE1_INDICATORS, value__isnull=False,
    ).values_list("community_id", "month", "indicator")
    return set(rows)


def _reasons(reports: list[Report]) -> dict[int, ReportComment]:
    """The latest return or reopen reason of each returned report."""
    returned = [r.pk for r in reports if r.state == ReportState.RETURNED]
    out: dict[int, ReportComment] = {}
    comments = (ReportComment.objects.filter(report_id__in=returned, action__in=REASON_ACTIONS)
                .select_related("author").order_by("report_id", "-created_at", "-pk"))
    for comment in comments:
        out.setdefault(comment.report_id, comment)
    return out


def _gaps(communities: list[Community], month: dt.date, filled: set) -> list[CommunityGap]:
    gaps = []
    for community in communities:
        if _joined(community.created_at) > month:
            continue
        missing = [i.label for i in TABLE1_INDICATORS
                   if (community.pk, month, i.value) not in filled]
        if missing:
            gaps.append(CommunityGap(community, missing))
    return gaps


def editor_tasks(*, user, today: dt.date) -> list[InstitutionTasks]:
    """Every institution of the editor with its open months, in six queries."""
    profile = profile_of(user)
    if profile is None:
        return []
    institutions = list(Institution.objects.filter(pk__in=profile.institution_ids(),
                                                   is_active=True)
                        .select_related("territory").order_by("short_name", "pk"))
    communities: dict[int, list[Community]] = defaultdict(list)
    for community in (Community.objects.filter(institution__in=institutions)
                      .exclude(state=CommunityState.DELETED).order_by("network", "pk")):
        communities[community.institution_id].append(community)
    window = add_months(today.replace(day=1), -LOOKBACK_MONTHS)
    report_rows = list(Report.objects.filter(institution__in=institutions)
                       .exclude(state=ReportState.APPROVED, month__lt=window))
    reports = {(r.institution_id, r.month): r for r in report_rows}
    reasons = _reasons(report_rows)
    plan = {i.pk: _open_months(i, reports, today) for i in institutions}
    every_month = {m for months in plan.values() for m in months}
    every_community = [c for cs in communities.values() for c in cs]
    filled = _filled(every_community, every_month) if every_month else set()
    out = []
    for institution in institutions:
        tasks = []
        for month in plan[institution.pk]:
            report = reports.get((institution.pk, month))
            tasks.append(MonthTask(
                institution, month, report, deadline_for(month), today > deadline_for(month),
                _gaps(communities[institution.pk], month, filled),
                reasons.get(report.pk) if report else None))
        out.append(InstitutionTasks(institution, communities[institution.pk], tasks))
    return out
