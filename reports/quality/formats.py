"""Posts by format and by hashtag, with their engagement, for a community, an institution, a
territory or the region (grouped in the database, within the reader's scope)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, QuerySet, Sum

from institutions.models import Community
from metrics.choices import PostFormat
from metrics.models import Post, PostHashtag

LEVELS = {"region": "Регион", "territory": "Территория", "institution": "Учреждение",
          "community": "Сообщество"}
_LOOKUP = {"territory": "community__institution__territory_id",
           "institution": "community__institution_id", "community": "community_id"}


@dataclass(frozen=True)
class FormatRow:
    """Posts of one format (or hashtag) in one month, and what they gathered."""

    month: dt.date
    key: str
    label: str
    posts: int
    interactions: int
    views: int

    @property
    def per_post(self) -> float:
        return self.interactions / self.posts if self.posts else 0.0


def _scoped(model, *, user, level: str, object_id: int | None, first: dt.date,
            last: dt.date) -> QuerySet:
    visible = Community.objects.visible_to(user).values("pk")
    qs = model.objects.filter(month__gte=first, month__lte=last, community__in=visible)
    if level != "region" and object_id:
        qs = qs.filter(**{_LOOKUP[level]: object_id})
    return qs


def posts_by_format(*, user, level: str, object_id: int | None, first: dt.date,
                    last: dt.date) -> list[FormatRow]:
    """Each month's posts of each format with their likes + reposts + comments and views."""
    qs = _scoped(Post, user=user, level=level, object_id=object_id, first=first, last=last)
    rows = (qs.order_by().values("month", "format")
            .annotate(posts=Count("pk"), interactions=Sum(F("likes") + F("reposts")
                                                          + F("comments")),
                      views=Sum("views")).order_by("month", "format"))
    labels = dict(PostFormat.choices)
    return [FormatRow(r["month"], r["format"], labels.get(r["format"], r["format"]), r["posts"],
                      r["interactions"] or 0, r["views"] or 0) for r in rows]


def posts_by_hashtag(*, user, level: str, object_id: int | None, first: dt.date,
                     last: dt.date, top: int = 20) -> list[FormatRow]:
    """The period's most used hashtags: posts carrying each and their engagement."""
    qs = _scoped(PostHashtag, user=user, level=level, object_id=object_id, first=first,
                 last=last)
    rows = (qs.order_by().values("tag")
            .annotate(posts=Count("post_id"),
                      interactions=Sum(F("post__likes") + F("post__reposts")
                                       + F("post__comments")),
                      views=Sum("post__views"))
            .order_by("-posts", "tag")[:top])
    return [FormatRow(first, r["tag"], f"#{r['tag']}", r["posts"], r["interactions"] or 0,
                      r["views"] or 0) for r in rows]


def format_totals(rows: list[FormatRow]) -> list[FormatRow]:
    """The period's rows summed over its months, one per format, most posts first."""
    totals: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    for row in rows:
        sums = totals.setdefault(row.key, [0, 0, 0])
        sums[0] += row.posts
        sums[1] += row.interactions
        sums[2] += row.views
        labels[row.key] = row.label
    first = rows[0].month if rows else dt.date.today()
    out = [FormatRow(first, key, labels[key], *sums) for key, sums in totals.items()]
    return sorted(out, key=lambda r: (-r.posts, r.key))


def top_posts(*, community: Community, first: dt.date, last: dt.date,
              count: int = 5) -> list[Post]:
    """The period's posts that gathered most likes, reposts and comments."""
    return list(Post.objects.filter(community=community, month__gte=first, month__lte=last)
                .annotate(total=F("likes") + F("reposts") + F("comments"))
                .order_by("-total", "-views", "pk")[:count])
