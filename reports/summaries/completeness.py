"""Who has reported: per-territory counts for a month, timeliness, and a territory × month heatmap.

Fair by construction: a month is due from an institution only from the month it joined the
registry (``created_at``) and only once its deadline has passed; a month not yet due is neutral,
never counted as missing. Timely means sent (submitted, accepted or approved) by the deadline.
Everything is counted in the database, a fixed number of queries whatever the region's size.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

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


def last_due_month(today: dt.date) -> dt.date:
    """The latest month whose deadline has passed (the month reviewers chase)."""
    month = add_months(today.replace(day=1), -1)
    return month if is_overdue(month, today) else add_months(month, -1)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def joined_by(month: dt.date) -> Q:
    """Institutions already in the registry during ``month`` (joined before it ended)."""
    return Q(created_at__lt=_local_midnight(add_months(month, 1)))


def timely_filter(month: dt.date, prefix: str = "") -> Q:
    """Reports of ``month`` sent by its deadline (the deadline day counts)."""
    return Q(**{f"{prefix}month": month, f"{prefix}state__in": SUBMITTED_OR_LATER,
                f"{prefix}submitted_at__lt": _local_midnight(deadline_for(month)
                                                             + dt.timedelta(days=1))})


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class TerritoryLine:
    """One territory's reports for the month (only institutions the month is due from)."""

    territory_id: int
    name: str
    total: int
    by_state: dict[str, int]
    not_started: int
    overdue: int
    timely: int = 0
    due: bool = True
    silent: list[Institution] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(self.by_state.get(s, 0) for s in SUBMITTED_OR_LATER)

    @property
    def completeness_pct(self) -> float | None:
        return _percent(self.sent, self.total)

    @property
    def timeliness_pct(self) -> float | None:
        """None while the month is not yet due: nobody can be late yet."""
        return _percent(self.timely, self.total) if self.due else None


def _scope(user):
    return Institution.objects.visible_to(user).filter(is_active=True)


def completeness_month(*, user, month: dt.date, today: dt.date) -> list[TerritoryLine]:
    """Per territory: institutions due, reports by state, not started, overdue, timely, silent."""
    state_counts = {
        s: Count("reports", filter=Q(reports__month=month, reports__state=s))
        for s in ReportState.values
    }
    rows = (
        _scope(user).filter(joined_by(month)).values("territory_id", "territory__name")
        .annotate(total=Count("pk", distinct=True),
                  timely=Count("reports", filter=timely_filter(month, "reports__")),
                  **state_counts)
        .order_by("territory__name")
    )
    overdue = is_overdue(month, today)
    lines = {}
    for row in rows:
        by_state = {s: row[s] for s in ReportState.values}
        not_started = row["total"] - sum(by_state.values())
        late = not_started + sum(by_state[s] for s in NOT_YET_SENT) if overdue else 0
        lines[row["territory_id"]] = TerritoryLine(
            row["territory_id"], row["territory__name"], row["total"], by_state,
            not_started, late, timely=row["timely"], due=overdue,
        )
    for institution in _silent(user, month):
        lines[institution.territory_id].silent.append(institution)
    return list(lines.values())


def _silent(user, month: dt.date):
    """Institutions that have sent nothing for the month (no report, or still a draft)."""
    sent = Report.objects.filter(month=month).exclude(state=ReportState.DRAFT)
    return (
        _scope(user).filter(joined_by(month)).exclude(pk__in=sent.values("institution_id"))
        .only("pk", "short_name", "territory_id").order_by("short_name", "pk")
    )


@dataclass
class CompletenessTotals:
    """The region's (or the user's scope's) line: sums of the territory lines."""

    total: int
    sent: int
    timely: int
    not_started: int
    overdue: int
    by_state: list[int]
    due: bool

    @property
    def completeness_pct(self) -> float | None:
        return _percent(self.sent, self.total)

    @property
    def timeliness_pct(self) -> float | None:
        return _percent(self.timely, self.total) if self.due else None


def completeness_totals(lines: list[TerritoryLine], *, due: bool) -> CompletenessTotals:
    return CompletenessTotals(
        total=sum(line.total for line in lines), sent=sum(line.sent for line in lines),
        timely=sum(line.timely for line in lines),
        not_started=sum(line.not_started for line in lines),
        overdue=sum(line.overdue for line in lines),
        by_state=[sum(line.by_state[s] for line in lines) for s in ReportState.values], due=due,
    )


@dataclass
class HeatCell:
    sent: int
    total: int
    future: bool
    due: bool = True
    timely: int = 0

    @property
    def share(self) -> float:
        return self.sent / self.total if self.total else 0.0

    @property
    def neutral(self) -> bool:
        """Not yet due (or nobody due): shown without a colour, never as red."""
        return self.future or not self.due or not self.total

    @property
    def colour(self) -> str:
        """From red (nobody) through yellow to green (everyone), as a CSS colour."""
        return f"hsl({round(120 * self.share)} 70% 80%)"


@dataclass
class HeatRow:
    name: str
    cells: list[HeatCell]


def _due_totals(user, year: int) -> dict[tuple[int, int], int]:
    """``{(territory_id, month number): institutions due}`` — joined by the end of that month."""
    aggregates = {str(m): Count("pk", filter=joined_by(dt.date(year, m, 1)))
                  for m in range(1, 13)}
    rows = _scope(user).values("territory_id").annotate(**aggregates)
    return {(row["territory_id"], m): row[str(m)] for row in rows for m in range(1, 13)}


def completeness_heatmap(*, user, year: int, today: dt.date) -> tuple[list[str], list[HeatRow]]:
    """Territory × month: how many institutions had sent the month's report (of how many due)."""
    totals = _due_totals(user, year)
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
    territory_ids = {t for t, _ in totals}
    for territory in Territory.objects.filter(pk__in=territory_ids).order_by("name"):
        cells = []
        for m in range(1, 13):
            month = dt.date(year, m, 1)
            cells.append(HeatCell(counts[(territory.pk, m)], totals[(territory.pk, m)],
                                  month > current, due=is_overdue(month, today)))
        rows.append(HeatRow(territory.name, cells))
    return list(MONTH_ABBR_RU), rows
