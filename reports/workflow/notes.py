"""What people must read next to the figures: return reasons and warnings, each saying which
community and which month it is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from institutions.models import Community, Institution
from metrics.choices import Indicator
from portal.lib.months import add_months, month_label
from reports.models import Report, ReportAction, ReportComment, ReportState
from reports.workflow.selectors import month_figures, thresholds
from reports.workflow.validation import Problem, warnings_for

REASON_ACTIONS = (ReportAction.RETURN, ReportAction.REOPEN)


def community_label(community: Community) -> str:
    """«ДК Алексеевки (ВКонтакте)»: two communities of one institution never look alike."""
    return f"{community} ({community.get_network_display()})"


def problem_text(problem: Problem, communities: dict[int, Community]) -> str:
    """A warning that says where: community, month, indicator, then what is wrong."""
    where = []
    community = communities.get(problem.community_id or 0)
    if community is not None:
        where.append(community_label(community))
    if problem.month:
        where.append(month_label(problem.month))
    if problem.indicator and Indicator(problem.indicator).label not in problem.message:
        where.append(f"«{Indicator(problem.indicator).label}»")
    return (", ".join(where) + ": " if where else "") + problem.message


@dataclass
class ReturnNote:
    """Why a month came back to the institution, and which communities the reason names."""

    month: dt.date
    comment: ReportComment
    community_ids: set[int] = field(default_factory=set)

    @property
    def month_label(self) -> str:
        return month_label(self.month)


def _named(text: str, communities: Iterable[Community]) -> set[int]:
    lowered = text.lower()
    return {c.pk for c in communities
            if (c.title and c.title.lower() in lowered)
            or (c.screen_name and c.screen_name.lower() in lowered)}


def return_notes(*, institution: Institution, months: Iterable[dt.date],
                 communities: list[Community]) -> list[ReturnNote]:
    """The latest reason of every returned report among ``months``, oldest month first."""
    returned = Report.objects.filter(institution=institution, month__in=list(months),
                                     state=ReportState.RETURNED)
    comments = (ReportComment.objects.filter(report__in=returned, action__in=REASON_ACTIONS)
                .select_related("author", "report").order_by("report__month", "-created_at"))
    notes: dict[dt.date, ReturnNote] = {}
    for comment in comments:
        month = comment.report.month
        if month not in notes:
            notes[month] = ReturnNote(month, comment, _named(comment.text, communities))
    return list(notes.values())


def grid_warnings(*, communities: list[Community], months: list[dt.date]) -> dict[int, list[str]]:
    """``{community_id: [warning text]}`` for the open months shown in the grid."""
    if not communities or not months:
        return {}
    figures = month_figures(community_ids=[c.pk for c in communities],
                            months=[add_months(months[0], -1), *months])
    by_id = {c.pk: c for c in communities}
    limits = thresholds()
    out: dict[int, list[str]] = {}
    for community in communities:
        texts = []
        for month in months:
            for problem in warnings_for(
                    community_id=community.pk, month=month,
                    figures=figures.get((community.pk, month), {}),
                    previous=figures.get((community.pk, add_months(month, -1)), {}),
                    thresholds=limits):
                texts.append(problem_text(problem, by_id))
        if texts:
            out[community.pk] = texts
    return out
