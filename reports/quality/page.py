"""What a community's page shows an SMM lead: audience, posts per week, engagement, top posts,
formats, the checklist with fixes, its category and norms, and what would raise its index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Max, Sum

from institutions.choices import CommunityCategory
from institutions.models import Community
from metrics.models import MemberSnapshot, Post
from portal.lib.months import add_months, month_end
from reports.quality.formats import FormatRow, format_totals, posts_by_format, top_posts
from reports.quality.methodology import methodology_current
from reports.quality.ranking import CommunityQuality, community_quality
from reports.quality.weekly import NormsTable, category_of, norms_by_month, norms_by_week

ENGAGEMENT_MONTHS = 6


def latest_month(communities) -> dt.date | None:
    """The newest month with collected posts among ``communities`` (a queryset of ids)."""
    return Post.objects.filter(community__in=communities).aggregate(m=Max("month"))["m"]


@dataclass(frozen=True)
class MonthEngagement:
    month: dt.date
    posts: int
    interactions: int
    views: int
    members: int | None

    @property
    def er_post(self) -> float | None:
        """Interactions ÷ posts ÷ members × 100 (as the rankings' ER by posts)."""
        if not self.posts or not self.members:
            return None
        return self.interactions * 100 / self.posts / self.members


@dataclass
class CommunityPage:
    community: Community
    month: dt.date
    category: str
    quality: CommunityQuality | None
    audience: list[tuple[dt.date, int]]
    weeks: NormsTable
    months: NormsTable
    engagement: list[MonthEngagement]
    formats: list[FormatRow]
    top: list[Post]

    @property
    def category_label(self) -> str:
        return CommunityCategory(self.category).label

    @property
    def week_cells(self) -> list[tuple[Any, Any]]:
        """(week, its cell) of the community (the table has its one row)."""
        return list(zip(self.weeks.weeks, self.weeks.rows[0].cells, strict=True)) \
            if self.weeks.rows else []

    @property
    def month_cells(self) -> list[tuple[Any, Any]]:
        return list(zip(self.months.weeks, self.months.rows[0].cells, strict=True)) \
            if self.months.rows else []

    @property
    def category_by_rule(self) -> bool:
        return not self.community.category

    def chart(self, kind: str) -> dict[str, Any]:
        return CHARTS[kind](self)


def _audience(community: Community, end: dt.date) -> list[tuple[dt.date, int]]:
    start = end - dt.timedelta(days=90)
    return list(MemberSnapshot.objects.filter(community=community, date__gte=start,
                                              date__lte=end)
                .order_by("date").values_list("date", "members"))


def _members_at(community: Community, day: dt.date) -> int | None:
    return (MemberSnapshot.objects.filter(community=community, date__lte=day)
            .order_by("-date").values_list("members", flat=True).first())


def _engagement(community: Community, month: dt.date) -> list[MonthEngagement]:
    first = add_months(month, -(ENGAGEMENT_MONTHS - 1))
    rows = (Post.objects.filter(community=community, month__gte=first, month__lte=month)
            .order_by().values("month")
            .annotate(posts=Count("pk"), interactions=Sum(F("likes") + F("reposts")
                                                          + F("comments")),
                      views=Sum("views")).order_by("month"))
    return [MonthEngagement(r["month"], r["posts"], r["interactions"] or 0, r["views"] or 0,
                            _members_at(community, month_end(r["month"]))) for r in rows]


def community_page(*, user, community: Community, month: dt.date) -> CommunityPage:
    """Everything the page shows for ``month`` (the checklist and norms over that month)."""
    methodology = methodology_current()
    end = month_end(month)
    ids = [community.pk]
    return CommunityPage(
        community=community, month=month, category=category_of(community),
        quality=community_quality(community=community, date_from=month, date_to=end,
                                  methodology=methodology),
        audience=_audience(community, end),
        weeks=norms_by_week(community_ids=ids, date_from=month, date_to=end,
                            methodology=methodology),
        months=norms_by_month(community_ids=ids, date_from=add_months(month, -2),
                              date_to=end, methodology=methodology),
        engagement=_engagement(community, month),
        formats=format_totals(posts_by_format(user=user, level="community",
                                              object_id=community.pk, first=month,
                                              last=month)),
        top=top_posts(community=community, first=month, last=month))


def _audience_chart(page: CommunityPage) -> dict[str, Any]:
    return {"type": "line", "label": "Участники",
            "labels": [f"{d:%d.%m.%Y}" for d, _ in page.audience],
            "values": [m for _, m in page.audience]}


def _weeks_chart(page: CommunityPage) -> dict[str, Any]:
    cells = page.weeks.rows[0].cells if page.weeks.rows else []
    return {"type": "bar", "label": "Записей за неделю",
            "labels": [f"{w.start:%d.%m}–{w.end:%d.%m}" for w in page.weeks.weeks],
            "values": [c.posts for c in cells]}


def _engagement_chart(page: CommunityPage) -> dict[str, Any]:
    return {"type": "line", "label": "ER по публикациям, %",
            "labels": [f"{e.month:%m.%Y}" for e in page.engagement],
            "values": [round(e.er_post, 3) if e.er_post is not None else None
                       for e in page.engagement]}


def _formats_chart(page: CommunityPage) -> dict[str, Any]:
    return {"type": "bar", "label": "Записей",
            "labels": [f.label for f in page.formats], "values": [f.posts for f in page.formats]}


CHARTS = {"audience": _audience_chart, "weeks": _weeks_chart, "engagement": _engagement_chart,
          "formats": _formats_chart}
