"""Territory summaries: Table-1 figures per institution and community, totals, averages, growth
and completeness of reporting, computed in the database.

For a period of whole months: flow indicators (visits, unique visitors, wall views, feedback) are
summed over the months; "members" is the value of the last month with a figure. Growth comes from
the daily member rows (nearest row on or before the first and the last day of the period).
Completeness counts the institution's monthly reports sent for review or further
(submitted, accepted, approved) against the months of the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Avg,
    Count,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import ngettext

from institutions.choices import CommunityState
from institutions.models import Community, Institution, Territory
from metrics.choices import TABLE1_INDICATORS, Indicator
from metrics.models import MemberSnapshot, MetricValue
from portal.lib.months import month_end, months_between
from reports.counting import (
    ALL,
    counted_q,
    counted_states,
    counting_line,
    default_counting,
    pending_values,
)
from reports.models import Report
from reports.rankings.query import as_of_period_end, members_on_subquery
from reports.summaries.completeness import SUBMITTED_OR_LATER, is_overdue

SUMMED = [Indicator.VISITS, Indicator.UNIQUE_VISITORS, Indicator.WALL_VIEWS, Indicator.FEEDBACK]
FIGURES = [str(i) for i in TABLE1_INDICATORS]  # members first, as in the form
FIGURE_LABELS = {str(i): i.label for i in TABLE1_INDICATORS}
# Two members figures sit in a row; each header names its source.
FIGURE_LABELS[str(Indicator.MEMBERS)] = "Участники по Таблице 1 (последний месяц периода)"
HISTORY_MEMBERS_LABEL = "Участники по ежедневному сбору"
METHOD_NOTES = [
    "Посещения, уникальные посетители, просмотры стены и обратная связь — сумма по месяцам "
    "периода; количество участников — значение последнего месяца периода, за который оно есть.",
    "Прирост — по ежедневным записям о числе участников: на последний день периода минус на "
    "первый (если на дату записи нет — ближайшая более ранняя).",
    "Полнота сдачи — месяцы периода, за которые отчёт учреждения отправлен, принят или утверждён.",
    "Средние — по сообществам, у которых показатель есть.",
]


NOT_SENT = "не сдан"
NOT_APPROVED = "не утверждён"
NO_DATA = "нет данных"
CREATED_LATER = "сообщество создано позже"


@dataclass
class SummaryCommunity:
    """One community's figures for the period (state and title as they were at its end)."""

    community_id: int
    title: str
    network: str
    url: str
    state: str
    figures: dict[str, int | None]
    members_start: int | None
    members_end: int | None
    first_seen: dt.date | None = None
    why_missing: str = NO_DATA

    def reason(self, key: str) -> str:
        """Why a figure is empty ('' when it is not)."""
        if key == "members_history":
            value = self.members_end
        elif key == "growth":
            value = self.growth
        else:
            value = self.figures.get(key)
        if value is not None:
            return ""
        if self.why_missing == CREATED_LATER:
            return CREATED_LATER
        if key == "growth" and self.members_end is not None:
            return "нет данных на начало периода"
        return NO_DATA if key in ("members_history", "growth") else self.why_missing

    @property
    def growth(self) -> int | None:
        if self.members_start is None or self.members_end is None:
            return None
        return self.members_end - self.members_start

    @property
    def reason_history(self) -> str:
        return self.reason("members_history")

    @property
    def reason_growth(self) -> str:
        return self.reason("growth")

    @property
    def cells(self) -> list[tuple[int | None, str]]:
        """Each Table-1 figure with the reason it is empty."""
        return [(self.figures[key], self.reason(key)) for key in FIGURES]


@dataclass
class SummaryInstitution:
    """An institution with its communities, subtotals and reporting completeness."""

    institution_id: int
    name: str
    type: str
    reports_sent: int
    months: int
    communities: list[SummaryCommunity] = field(default_factory=list)
    reports_counted: int = 0
    reports_in_period: int = 0

    @property
    def totals(self) -> dict[str, int | None]:
        return _sum_figures(self.communities)

    @property
    def growth(self) -> int | None:
        values = [c.growth for c in self.communities if c.growth is not None]
        return sum(values) if values else None

    @property
    def completeness_pct(self) -> float:
        return round(100 * self.reports_sent / self.months, 1) if self.months else 0.0

    @property
    def members_start(self) -> int | None:
        values = [c.members_start for c in self.communities if c.members_start is not None]
        return sum(values) if values else None

    @property
    def members_end(self) -> int | None:
        values = [c.members_end for c in self.communities if c.members_end is not None]
        return sum(values) if values else None

    @property
    def empty_reason(self) -> str:
        """Why a subtotal is empty."""
        if not self.communities:
            return "нет сообществ"
        if not self.reports_in_period:
            return NOT_SENT
        return NOT_APPROVED if not self.reports_counted else NO_DATA

    @property
    def total_cells(self) -> list[tuple[int | None, str]]:
        totals = self.totals
        return [(totals[key], "" if totals[key] is not None else self.empty_reason)
                for key in FIGURES]


@dataclass
class TerritorySummary:
    """A territory's consolidated report for a period."""

    territory_id: int
    territory_name: str
    date_from: dt.date
    date_to: dt.date
    months: list[dt.date]
    institutions: list[SummaryInstitution]
    totals: dict[str, Any]
    averages: dict[str, float | None]
    counting: str = ALL
    pending: int = 0

    @property
    def counting_text(self) -> str:
        return counting_line(self.counting, self.pending)

    @property
    def total_cells(self) -> list[tuple[int | None, str]]:
        return [(self.totals[key], "" if self.totals[key] is not None else NO_DATA)
                for key in FIGURES]

    @property
    def average_cells(self) -> list[tuple[float | None, str]]:
        return [(self.averages[key], "" if self.averages[key] is not None else NO_DATA)
                for key in FIGURES]

    @property
    def reports_sent(self) -> int:
        return sum(i.reports_sent for i in self.institutions)

    @property
    def reports_expected(self) -> int:
        """Months due: from the month each institution joined, once the deadline has passed."""
        return sum(i.months for i in self.institutions)

    @property
    def completeness_pct(self) -> float:
        expected = self.reports_expected
        return round(100 * self.reports_sent / expected, 1) if expected else 0.0

    @property
    def communities_count(self) -> int:
        return sum(len(i.communities) for i in self.institutions)


def communities_text(n: int) -> str:
    return ngettext("%(n)s сообщество", "%(n)s сообществ", n) % {"n": n}


def summary_texts(summary: TerritorySummary) -> dict[str, str]:
    """Counts in words with their Russian plural forms, for the page's head."""
    months, institutions = len(summary.months), len(summary.institutions)
    return {
        "months_text": ngettext("%(n)s месяц", "%(n)s месяцев", months) % {"n": months},
        "institutions_text": ngettext("%(n)s учреждение", "%(n)s учреждений", institutions)
        % {"n": institutions},
        "communities_text": communities_text(summary.communities_count),
    }


def _sum_figures(communities: list[SummaryCommunity]) -> dict[str, int | None]:
    totals: dict[str, int | None] = {}
    for key in FIGURES:
        values = [c.figures[key] for c in communities if c.figures[key] is not None]
        totals[key] = sum(values) if values else None
    return totals


def _value_sum(indicator: str, first: dt.date, last: dt.date, counting: str) -> Subquery:
    rows = MetricValue.objects.filter(counted_q(counting), community_id=OuterRef("pk"),
                                      indicator=indicator, month__gte=first, month__lte=last)
    total = rows.order_by().values("community_id").annotate(s=Sum("value")).values("s")
    return Subquery(total, output_field=IntegerField())


def _last_members(first: dt.date, last: dt.date, counting: str) -> Subquery:
    rows = MetricValue.objects.filter(counted_q(counting), community_id=OuterRef("pk"),
                                      indicator=Indicator.MEMBERS,
                                      value__isnull=False, month__gte=first, month__lte=last)
    return Subquery(rows.order_by("-month").values("value")[:1])


def summary_communities(
    *, communities: QuerySet[Community], date_from: dt.date, date_to: dt.date,
    counting: str = ALL,
) -> QuerySet:
    """Communities annotated with the period's counted Table-1 figures, members at both ends
    and their state and title as they were at the end of the period."""
    first, last = months_between(date_from, date_to)[0], months_between(date_from, date_to)[-1]
    figures = {str(Indicator.MEMBERS): _last_members(first, last, counting)}
    figures |= {str(ind): _value_sum(ind, first, last, counting) for ind in SUMMED}
    return as_of_period_end(communities, date_to).annotate(
        **figures,
        members_start=members_on_subquery(date_from, "members"),
        members_end=members_on_subquery(date_to, "members"),
        first_seen=Subquery(MemberSnapshot.objects.filter(community_id=OuterRef("pk"))
                            .order_by("date").values("date")[:1]),
    )


def _report_count(months: list[dt.date], states: list[str]) -> Coalesce:
    rows = (Report.objects.filter(institution_id=OuterRef("pk"), month__in=months,
                                  state__in=states)
            .order_by().values("institution_id").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _institutions(territory: Territory, user, months: list[dt.date], due: list[dt.date],
                  counting: str) -> QuerySet:
    """Institutions with their reports sent of the months already due, sent of any month of
    the period, and counted under ``counting``."""
    return (Institution.objects.visible_to(user).filter(territory=territory, is_active=True)
            .annotate(reports_sent=_report_count(due, SUBMITTED_OR_LATER),
                      reports_in_period=_report_count(months, SUBMITTED_OR_LATER),
                      reports_counted=_report_count(months, counted_states(counting)))
            .order_by("short_name", "pk"))


def _why_missing(inst: SummaryInstitution, first_seen: dt.date | None, state: str,
                 date_to: dt.date) -> str:
    """Why a community's Table-1 cell is empty, in the words the sheet shows."""
    if first_seen is not None and first_seen > date_to:
        return CREATED_LATER
    if state != CommunityState.ACTIVE:
        return f"сообщество {CommunityState(state).label.lower()}"
    if not inst.reports_in_period:
        return NOT_SENT
    if not inst.reports_counted:
        return NOT_APPROVED
    return NO_DATA


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


def _totals_and_averages(annotated: QuerySet) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sums and per-community averages of every figure and of growth, in one query."""
    names = [*FIGURES, "growth"]
    aggregates = {}
    for name in names:
        aggregates[f"sum_{name}"] = Sum(name)
        aggregates[f"avg_{name}"] = Avg(name)
    result = annotated.annotate(growth=F("members_end") - F("members_start")).aggregate(
        **aggregates)
    totals = {name: _number(result[f"sum_{name}"]) for name in names}
    averages = {name: (round(float(result[f"avg_{name}"]), 1)
                       if result[f"avg_{name}"] is not None else None) for name in names}
    return totals, averages


def territory_summary(
    *, user, territory: Territory, date_from: dt.date, date_to: dt.date,
    counting: str | None = None,
) -> TerritorySummary:
    """The consolidated report of ``territory`` for the whole months from/to, within scope.

    Only Table-1 values of the reports ``counting`` names count (by default the region's
    setting); the summary says how many values of the period still await approval.
    """
    counting = counting or default_counting()
    months = months_between(date_from, date_to)
    date_from, date_to = months[0], month_end(months[-1])
    today = timezone.localdate()
    past_deadline = [m for m in months if is_overdue(m, today)]
    institutions = list(_institutions(territory, user, months, past_deadline, counting).values(
        "pk", "short_name", "type", "reports_sent", "reports_in_period", "reports_counted",
        "created_at"))
    by_pk = {}
    for row in institutions:
        joined = timezone.localtime(row["created_at"]).date().replace(day=1)
        due = sum(1 for m in past_deadline if m >= joined)
        by_pk[row["pk"]] = SummaryInstitution(
            row["pk"], row["short_name"], row["type"], min(row["reports_sent"], due), due,
            reports_counted=row["reports_counted"], reports_in_period=row["reports_in_period"])
    scoped = Community.objects.visible_to(user).filter(institution_id__in=list(by_pk))
    annotated = summary_communities(communities=scoped, date_from=date_from, date_to=date_to,
                                    counting=counting)
    for row in annotated.order_by("institution_id", "network", "pk").values(
            "pk", "institution_id", "title_then", "screen_name", "network", "url",
            "state_then", "members_start", "members_end", "first_seen", *FIGURES):
        inst = by_pk[row["institution_id"]]
        inst.communities.append(SummaryCommunity(
            row["pk"], row["title_then"] or row["screen_name"], row["network"], row["url"],
            row["state_then"], {key: row[key] for key in FIGURES}, row["members_start"],
            row["members_end"], row["first_seen"],
            _why_missing(inst, row["first_seen"], row["state_then"], date_to)))
    totals, averages = _totals_and_averages(annotated)
    pending = pending_values(communities=scoped, first_month=months[0], last_month=months[-1])
    return TerritorySummary(territory.pk, territory.name, date_from, date_to, months,
                            list(by_pk.values()), totals, averages, counting, pending)


def registry_lines(*, user) -> list[dict[str, Any]]:
    """The registry within ``user``'s scope: one line per institution with its links (2 queries)."""
    institutions = list(
        Institution.objects.visible_to(user)
        .order_by("territory__name", "short_name", "pk")
        .values("pk", "full_name", "short_name", "type", "inn", "subordination", "is_active",
                "territory__name", "territory__oktmo")
    )
    links: dict[int, dict[str, list[str]]] = {}
    members: dict[int, int] = {}
    latest = (MemberSnapshot.objects.filter(community=OuterRef("pk")).order_by("-date")
              .values("members")[:1])
    communities = (Community.objects.filter(institution_id__in=[i["pk"] for i in institutions])
                   .exclude(state="deleted").order_by("pk")
                   .annotate(latest_members=Coalesce(Subquery(latest), "members_count"))
                   .values_list("institution_id", "network", "url", "latest_members"))
    for institution_id, network, url, count in communities:
        links.setdefault(institution_id, {"vk": [], "ok": []})[network].append(url)
        if count is not None:  # unknown stays unknown (an empty cell with a note), not 0
            members[institution_id] = members.get(institution_id, 0) + count
    return [{
        "territory": i["territory__name"], "oktmo": i["territory__oktmo"],
        "full_name": i["full_name"], "short_name": i["short_name"], "type": i["type"],
        "inn": i["inn"], "subordination": i["subordination"], "is_active": i["is_active"],
        "vk": links.get(i["pk"], {}).get("vk", []), "ok": links.get(i["pk"], {}).get("ok", []),
        "communities": sum(len(v) for v in links.get(i["pk"], {}).values()),
        "members": members.get(i["pk"]),
    } for i in institutions]
