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

from institutions.models import Community, Institution, Territory
from metrics.choices import TABLE1_INDICATORS, Indicator
from metrics.models import MemberSnapshot, MetricValue
from portal.lib.months import month_end, months_between
from reports.models import Report
from reports.rankings.query import members_on_subquery
from reports.summaries.completeness import SUBMITTED_OR_LATER, is_overdue

SUMMED = [Indicator.VISITS, Indicator.UNIQUE_VISITORS, Indicator.WALL_VIEWS, Indicator.FEEDBACK]
FIGURES = [str(i) for i in TABLE1_INDICATORS]  # members first, as in the form
FIGURE_LABELS = {str(i): i.label for i in TABLE1_INDICATORS}
METHOD_NOTES = [
    "Посещения, уникальные посетители, просмотры стены и обратная связь — сумма по месяцам "
    "периода; количество участников — значение последнего месяца периода, за который оно есть.",
    "Прирост — по ежедневным записям о числе участников: на последний день периода минус на "
    "первый (если на дату записи нет — ближайшая более ранняя).",
    "Полнота сдачи — месяцы периода, за которые отчёт учреждения отправлен, принят или утверждён.",
    "Средние — по сообществам, у которых показатель есть.",
]


@dataclass
class SummaryCommunity:
    """One community's figures for the period."""

    community_id: int
    title: str
    network: str
    url: str
    state: str
    figures: dict[str, int | None]
    members_start: int | None
    members_end: int | None

    @property
    def growth(self) -> int | None:
        if self.members_start is None or self.members_end is None:
            return None
        return self.members_end - self.members_start


@dataclass
class SummaryInstitution:
    """An institution with its communities, subtotals and reporting completeness."""

    institution_id: int
    name: str
    type: str
    reports_sent: int
    months: int
    communities: list[SummaryCommunity] = field(default_factory=list)

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


def _sum_figures(communities: list[SummaryCommunity]) -> dict[str, int | None]:
    totals: dict[str, int | None] = {}
    for key in FIGURES:
        values = [c.figures[key] for c in communities if c.figures[key] is not None]
        totals[key] = sum(values) if values else None
    return totals


def _value_sum(indicator: str, first: dt.date, last: dt.date) -> Subquery:
    rows = MetricValue.objects.filter(community_id=OuterRef("pk"), indicator=indicator,
                                      month__gte=first, month__lte=last)
    total = rows.order_by().values("community_id").annotate(s=Sum("value")).values("s")
    return Subquery(total, output_field=IntegerField())


def _last_members(first: dt.date, last: dt.date) -> Subquery:
    rows = MetricValue.objects.filter(community_id=OuterRef("pk"), indicator=Indicator.MEMBERS,
                                      value__isnull=False, month__gte=first, month__lte=last)
    return Subquery(rows.order_by("-month").values("value")[:1])


def summary_communities(
    *, communities: QuerySet[Community], date_from: dt.date, date_to: dt.date
) -> QuerySet:
    """Communities annotated with the period's Table-1 figures and members at both ends."""
    first, last = months_between(date_from, date_to)[0], months_between(date_from, date_to)[-1]
    figures = {str(Indicator.MEMBERS): _last_members(first, last)}
    figures |= {str(ind): _value_sum(ind, first, last) for ind in SUMMED}
    return communities.annotate(
        **figures,
        members_start=members_on_subquery(date_from, "members"),
        members_end=members_on_subquery(date_to, "members"),
    )


def _institutions(territory: Territory, user, months: list[dt.date]) -> QuerySet:
    sent = (Report.objects.filter(institution_id=OuterRef("pk"), month__in=months,
                                  state__in=SUBMITTED_OR_LATER)
            .order_by().values("institution_id").annotate(n=Count("pk")).values("n"))
    return (Institution.objects.visible_to(user).filter(territory=territory, is_active=True)
            .annotate(reports_sent=Coalesce(Subquery(sent, output_field=IntegerField()), 0))
            .order_by("short_name", "pk"))


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
    *, user, territory: Territory, date_from: dt.date, date_to: dt.date
) -> TerritorySummary:
    """The consolidated report of ``territory`` for the whole months from/to, within scope."""
    months = months_between(date_from, date_to)
    date_from, date_to = months[0], month_end(months[-1])
    today = timezone.localdate()
    past_deadline = [m for m in months if is_overdue(m, today)]
    institutions = list(_institutions(territory, user, past_deadline).values(
        "pk", "short_name", "type", "reports_sent", "created_at"))
    by_pk = {}
    for row in institutions:
        joined = timezone.localtime(row["created_at"]).date().replace(day=1)
        due = sum(1 for m in past_deadline if m >= joined)
        by_pk[row["pk"]] = SummaryInstitution(row["pk"], row["short_name"], row["type"],
                                              min(row["reports_sent"], due), due)
    scoped = Community.objects.visible_to(user).filter(institution_id__in=list(by_pk))
    annotated = summary_communities(communities=scoped, date_from=date_from, date_to=date_to)
    for row in annotated.order_by("institution_id", "network", "pk").values(
            "pk", "institution_id", "title", "screen_name", "network", "url", "state",
            "members_start", "members_end", *FIGURES):
        by_pk[row["institution_id"]].communities.append(SummaryCommunity(
            row["pk"], row["title"] or row["screen_name"], row["network"], row["url"],
            row["state"], {key: row[key] for key in FIGURES}, row["members_start"],
            row["members_end"]))
    totals, averages = _totals_and_averages(annotated)
    return TerritorySummary(territory.pk, territory.name, date_from, date_to, months,
                            list(by_pk.values()), totals, averages)


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
