"""Who meets the category norms week by week and month by month (counted in the database).

A week runs Monday to Sunday; the period's first and last weeks may be cut by it, and their
posts norm is then prorated to their days (``norm × days ÷ 7``). A month meets the norms when
its posts per week, its share of posts with images or video and its formats all reach them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth, TruncWeek

from institutions.choices import CommunityCategory
from institutions.models import Community
from metrics.models import Post
from portal.lib.months import add_months, month_end, month_start
from reports.quality.methodology import Methodology
from reports.rankings.definitions import flagship_threshold


def category_of(community: Community) -> str:
    """The community's category: as the methodologist set it, or by the flagship threshold."""
    if community.category:
        return community.category
    if (community.members_count or 0) > flagship_threshold():
        return CommunityCategory.FLAGSHIP
    return CommunityCategory.ACTIVE


@dataclass(frozen=True)
class Cell:
    """One community's posts of one week or month against its norms."""

    posts: int
    media: int
    formats: int
    days: int
    met: bool

    @property
    def media_share(self) -> float:
        return self.media / self.posts if self.posts else 0.0


@dataclass
class NormsRow:
    community: Community
    category: str
    cells: list[Cell] = field(default_factory=list)

    @property
    def met_count(self) -> int:
        return sum(cell.met for cell in self.cells)


@dataclass(frozen=True)
class Span:
    start: dt.date
    end: dt.date  # inclusive, cut by the period

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass
class NormsTable:
    weeks: list[Span]
    rows: list[NormsRow]

    def row(self, community_id: int) -> NormsRow:
        return next(r for r in self.rows if r.community.pk == community_id)


def _weeks(date_from: dt.date, date_to: dt.date) -> list[Span]:
    start = date_from - dt.timedelta(days=date_from.weekday())
    out = []
    while start <= date_to:
        out.append(Span(start, min(start + dt.timedelta(days=6), date_to)))
        start += dt.timedelta(days=7)
    return out


def _months(date_from: dt.date, date_to: dt.date) -> list[Span]:
    out, month = [], month_start(date_from)
    while month <= date_to:
        out.append(Span(month, min(month_end(month), date_to)))
        month = add_months(month, 1)
    return out


def _counts(ids: list[int], date_from: dt.date, date_to: dt.date, trunc) -> dict:
    """(community, span start) → (posts, with media, formats), one grouped query."""
    rows = (Post.objects.filter(community_id__in=ids, published_at__date__gte=date_from,
                                published_at__date__lte=date_to)
            .annotate(span=trunc("published_at")).order_by()
            .values("community_id", "span")
            .annotate(n=Count("pk"), media=Count("pk", filter=Q(has_image=True)
                                                  | Q(has_video=True)),
                      formats=Count("format", distinct=True)))
    out = {}
    for r in rows:
        span = r["span"].date() if isinstance(r["span"], dt.datetime) else r["span"]
        out[(r["community_id"], span)] = (r["n"], r["media"], r["formats"])
    return out


def _table(community_ids: list[int], spans: list[Span], counts: dict,
           methodology: Methodology, *, weekly: bool) -> NormsTable:
    communities = Community.objects.filter(pk__in=community_ids).order_by("title", "pk")
    rows = []
    for community in communities:
        category = category_of(community)
        norms = methodology.norms[category]
        row = NormsRow(community, category)
        for span in spans:
            posts, media, formats = counts.get((community.pk, span.start), (0, 0, 0))
            posts_ok = posts * 7 >= norms["posts_per_week"] * span.days
            met = posts_ok if weekly else (
                posts_ok and posts > 0 and media / posts >= norms["media_share"]
                and formats >= norms["formats"])
            row.cells.append(Cell(posts, media, formats, span.days, met))
        rows.append(row)
    return NormsTable(spans, rows)


def norms_by_week(*, community_ids: list[int], date_from: dt.date, date_to: dt.date,
                  methodology: Methodology) -> NormsTable:
    """Posts of each week of the period against the category's posts-per-week norm."""
    spans = _weeks(date_from, date_to)
    counts = _counts(community_ids, date_from, date_to,
                     lambda name: TruncWeek(name, tzinfo=_zone()))
    return _table(community_ids, [Span(max(s.start, date_from), s.end) for s in spans],
                  _shift_weeks(counts, spans, date_from), methodology, weekly=True)


def _shift_weeks(counts: dict, spans: list[Span], date_from: dt.date) -> dict:
    """Counts keyed by the week's start as the table shows it (cut by the period's start)."""
    starts = {s.start: max(s.start, date_from) for s in spans}
    return {(cid, starts.get(start, start)): v for (cid, start), v in counts.items()}


def norms_by_month(*, community_ids: list[int], date_from: dt.date, date_to: dt.date,
                   methodology: Methodology) -> NormsTable:
    """Each month of the period against all three norms of the category."""
    spans = _months(date_from, date_to)
    counts = _counts(community_ids, date_from, date_to,
                     lambda name: TruncMonth(name, tzinfo=_zone()))
    return _table(community_ids, spans, counts, methodology, weekly=False)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)
