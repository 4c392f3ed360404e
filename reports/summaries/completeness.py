"""Who has reported: per-territory counts for a month and a territory × month heatmap.

Everything is counted in the database, a fixed number of queries whatever the region's size.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q

from institutions.models import Institution, Territory
from portal.lib.months import MONTH_ABBR_RU, add_months
from reports.models import Report, ReportState

SUBMITTED_OR_LATER = [ReportState.SUBMITTED, ReportState.ACCEPTED, ReportState.APPROVED]
NOT_YET_SENT = [ReportState.DRAFT, ReportState.RETURNED]


def deadline_for(month: dt.date) -> dt.date:
    """Reports for a month are due on ``REPORT_DEADLINE_DAY`` of the next month."""
    return add_months(month, 1).replace(day=settings.REPORT_DEADLINE_DAY)


def is_overdue(month: dt.date, today: dt.date) -> bool:
    return today > deadline_for(month)


@dataclass
class TerritoryLine:
    """One territory's reports for the month."""

    territory_id: int
    name: str
    total: int
    by_state: dict[str, int]
    not_started: int
    overdue: int
    silent: list[Institution] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.by_state.get(s, 0) for s in SUBMITTED_OR_LATER)


def _scope(user):
    return Institution.objects.visible_to(user).filter(is_active=True)


def completeness_month(*, user, month: dt.date, today: dt.date) -> list[TerritoryLine]:
    """Per territory: institutions, reports by state, not started, overdue, who sent nothing."""
    state_counts = {
        s: Count("reports", filter=Q(reports__month=month, reports__state=s))
        for s in ReportState.values
    }
    rows = (
        _scope(user).values("territory_id", "territory__name")
        .annotate(total=Count("pk", distinct=True), **state_counts)
        .order_by("territory__name")
    )
    overdue = is_overdue(month, today)
    lines = {}
    for row in rows:
        by_state = {s: row[s] for s in ReportState.values}
        started = sum(by_state.values())
        not_started = row["total"] - started
        late = not_started + sum(by_state[s] for s in NOT_YET_SENT) if overdue else 0
        lines[row["territory_id"]] = TerritoryLine(
            row["territory_id"], row["territory__name"], row["total"], by_state,
            not_started, late,
        )
    for institution in _silent(user, month):
        lines[institution.territory_id].silent.append(institution)
    return list(lines.values())


def _silent(user, month: dt.date):
    """Institutions that have sent nothing for the month (no report, or still a draft)."""
    sent = Report.objects.filter(month=month).exclude(state=ReportState.DRAFT)
    return (
        _scope(user).exclude(pk__in=sent.values("institution_id"))
        .only("pk", "short_name", "territory_id").order_by("short_name", "pk")
    )


@dataclass
class HeatCell:
    sent: int
    total: int
    future: bool

    @property
    def share(self) -> float:
        return self.sent / self.total if self.total else 0.0

    @property
    def colour(self) -> str:
        """From red (nobody) through yellow to green (everyone), as a CSS colour."""
        return f"hsl({round(120 * self.share)} 70% 80%)"


@dataclass
class HeatRow:
    name: str
    cells: list[HeatCell]


def completeness_heatmap(*, user, year: int, today: dt.date) -> tuple[list[str], list[HeatRow]]:
    """Territory × month: how many institutions had sent the month's report (of how many)."""
    totals = dict(_scope(user).values_list("territory_id").annotate(n=Count("pk")))
    sent = (
        Report.objects.filter(institution__in=_scope(user), month__year=year,
                              state__in=SUBMITTED_OR_LATER)
        .values_list("institution__territory_id", "month").annotate(n=Count("pk"))
    )
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for territory_id, month, n in sent:
        counts[(territory_id, month.month)] = n
    current = today.replace(day=1)
    rows = []
    for territory in Territory.objects.filter(pk__in=list(totals)).order_by("name"):
        cells = [HeatCell(counts[(territory.pk, m)], totals[territory.pk],
                          dt.date(year, m, 1) > current) for m in range(1, 13)]
        rows.append(HeatRow(territory.name, cells))
    return list(MONTH_ABBR_RU), rows
