"""The reviewers' tasks: reports waiting for them, who is overdue, how complete the month is,
and for the regional methodologist the health of the collection from VK and OK."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from institutions.choices import Subordination
from institutions.models import Community, Institution
from metrics.collect.choices import RunState, TokenKind
from metrics.models import CollectionRun, NetworkToken
from reports.models import Report, ReportAction, ReportComment, ReportState
from reports.summaries.completeness import (
    SUBMITTED_OR_LATER,
    CompletenessTotals,
    TerritoryLine,
    completeness_month,
    completeness_totals,
    deadline_for,
    is_overdue,
    joined_by,
    last_due_month,
)

WAITING_SHOWN = 10
ANOMALIES_SHOWN = 10
RUNS_SHOWN = 5
TOKENS_SHOWN = 10


def waiting_for_acceptance(*, user) -> QuerySet[Report]:
    """Submitted reports of the municipal user's territories that need the municipal step."""
    return (Report.objects.visible_to(user).filter(state=ReportState.SUBMITTED)
            .exclude(institution__subordination=Subordination.REGIONAL)
            .select_related("institution__territory").order_by("month", "institution__short_name"))


def waiting_for_approval(*, user) -> QuerySet[Report]:
    """Accepted reports, and submitted reports of regional institutions (no municipal step)."""
    ready = Q(state=ReportState.ACCEPTED) | Q(
        state=ReportState.SUBMITTED, institution__subordination=Subordination.REGIONAL)
    return (Report.objects.visible_to(user).filter(ready)
            .select_related("institution__territory").order_by("month", "institution__short_name"))


def anomalies_to_review(*, user) -> list[ReportComment]:
    """Reports waiting for approval that were sent with unusual figures, and the explanation."""
    return list(ReportComment.objects.filter(
        action=ReportAction.SUBMIT, report__in=waiting_for_approval(user=user).values("pk"),
    ).exclude(warnings=[]).select_related("report__institution", "author")
        .order_by("-created_at", "-pk")[:ANOMALIES_SHOWN])


@dataclass
class MonthPicture:
    """Completeness and timeliness of one month in the user's scope."""

    month: dt.date
    deadline: dt.date
    lines: list[TerritoryLine]
    totals: CompletenessTotals
    late: dict[int, list[Institution]] = field(default_factory=dict)  # territory → overdue

    @property
    def overdue_lines(self) -> list[TerritoryLine]:
        return [line for line in self.lines if line.overdue]

    @property
    def overdue_rows(self) -> list[tuple[TerritoryLine, list[Institution]]]:
        return [(line, self.late.get(line.territory_id, [])) for line in self.overdue_lines]


def overdue_institutions(*, user, month: dt.date) -> dict[int, list[Institution]]:
    """Institutions due for ``month`` that have not sent it (no report, draft or returned)."""
    sent = Report.objects.filter(month=month, state__in=SUBMITTED_OR_LATER)
    rows = (Institution.objects.visible_to(user).filter(is_active=True).filter(joined_by(month))
            .exclude(pk__in=sent.values("institution_id"))
            .only("pk", "short_name", "territory_id").order_by("short_name", "pk"))
    out: dict[int, list[Institution]] = {}
    for institution in rows:
        out.setdefault(institution.territory_id, []).append(institution)
    return out


def month_picture(*, user, today: dt.date) -> MonthPicture:
    month = last_due_month(today)
    lines = completeness_month(user=user, month=month, today=today)
    return MonthPicture(month, deadline_for(month), lines,
                        completeness_totals(lines, due=is_overdue(month, today)),
                        overdue_institutions(user=user, month=month))


@dataclass
class CollectionHealth:
    """What the methodologist checks about collection: runs, failures, tokens, coverage."""

    runs: list[CollectionRun]
    failed_runs: int
    dead_tokens: list[NetworkToken]
    without_stats_token: int
    without_stats_examples: list[Community] = field(default_factory=list)


def collection_health() -> CollectionHealth:
    """Recent runs, failed ones, disabled tokens, active communities no statistics token covers."""
    runs = list(CollectionRun.objects.select_related("triggered_by")
                .order_by("-created_at", "-pk")[:RUNS_SHOWN])
    failed = sum(1 for r in runs if r.state == RunState.FAILED or r.failed)
    dead = list(NetworkToken.objects.filter(is_active=False)
                .order_by("-disabled_at", "pk")[:TOKENS_SHOWN])
    # Statistics come only with a community admin's user token (metrics.tokens.tokens_usable).
    covered = NetworkToken.objects.filter(is_active=True, kind=TokenKind.USER,
                                          communities=OuterRef("pk"))
    uncovered = Community.objects.active().exclude(Exists(covered))
    examples = list(uncovered.select_related("institution").order_by("institution__short_name",
                                                                     "pk")[:TOKENS_SHOWN])
    return CollectionHealth(runs, failed, dead, uncovered.count(), examples)
