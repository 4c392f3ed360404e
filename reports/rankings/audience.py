"""Audience dynamics: total members of a set of communities day by day, computed in the database.

The total on a day counts each community with its latest figure on or before that day, so a
missed collection does not show as a dip. It is computed as a running sum of per-community
changes: the first row of a community in the range contributes its change from the last row
before the range (or its whole figure if it has none), every later row its change from the
previous one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

from institutions.choices import CommunityState
from institutions.models import Community, CommunityHistory
from metrics.models import MemberSnapshot
from reports.rankings.query import members_on_subquery


@dataclass(frozen=True)
class AudiencePoint:
    """Total members on a date and how many communities were collected that day."""

    date: dt.date
    members: int
    collected: int


def _baseline(communities: QuerySet[Community], before: dt.date) -> int:
    total = communities.annotate(m=members_on_subquery(before, "members")).aggregate(total=Sum("m"))
    return int(total["total"] or 0)


def _daily_changes(communities: QuerySet[Community], date_from: dt.date,
                   date_to: dt.date) -> list[tuple[dt.date, int, int]]:
    ids_sql, ids_params = communities.order_by().values("pk").query.sql_with_params()
    table = connection.ops.quote_name(MemberSnapshot._meta.db_table)
    date = connection.ops.quote_name("date")
    sql = (
        f"WITH s AS (SELECT ms.{date} AS day, ms.members - COALESCE("
        f"LAG(ms.members) OVER (PARTITION BY ms.community_id ORDER BY ms.{date}), "
        f"(SELECT p.members FROM {table} p WHERE p.community_id = ms.community_id "
        f"AND p.{date} < %s ORDER BY p.{date} DESC LIMIT 1), 0) AS delta "
        f"FROM {table} ms WHERE ms.community_id IN ({ids_sql}) "
        f"AND ms.{date} >= %s AND ms.{date} <= %s) "
        "SELECT day, SUM(delta), COUNT(*) FROM s GROUP BY day ORDER BY day"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [date_from, *ids_params, date_from, date_to])
        return [(_as_date(day), int(delta), count) for day, delta, count in cursor.fetchall()]


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _as_they_were(communities: QuerySet[Community], before: dt.date) -> tuple[QuerySet, QuerySet]:
    """The communities to follow (active before the range or now) and those active before it.

    A community deleted or closed within the range counts until that day (see ``_leaving``);
    one that was no longer active before the range never counts.
    """
    then = communities.as_of(before)
    followed = then.filter(Q(state=CommunityState.ACTIVE) | Q(state_then=CommunityState.ACTIVE))
    return followed, then.filter(state_then=CommunityState.ACTIVE)


def _leaving(communities: QuerySet[Community], date_from: dt.date,
             date_to: dt.date) -> dict[dt.date, int]:
    """Per day, the members of communities that stopped being active that day (negative)."""
    rows = CommunityHistory.objects.filter(
        community__in=communities.order_by().values("pk"), valid_from__gte=date_from,
        valid_from__lte=date_to).exclude(state=CommunityState.ACTIVE)
    earlier = CommunityHistory.objects.filter(community_id=OuterRef("community_id"),
                                              valid_from__lt=OuterRef("valid_from"))
    last = MemberSnapshot.objects.filter(community_id=OuterRef("community_id"),
                                         date__lte=OuterRef("valid_from")).order_by("-date")
    found = rows.annotate(
        was=Subquery(earlier.order_by("-valid_from").values("state")[:1]),
        members=Subquery(last.values("members")[:1]),
    ).values_list("valid_from", "was", "members")
    out: dict[dt.date, int] = {}
    for day, was, members in found:
        if was == CommunityState.ACTIVE and members:
            out[day] = out.get(day, 0) - members
    return out


def audience_series(
    *, communities: QuerySet[Community], date_from: dt.date, date_to: dt.date,
    as_they_were: bool = True,
) -> list[AudiencePoint]:
    """Every date in the range with at least one collected row, with the running total.

    ``as_they_were``: each community counts on the days it was active (``CommunityHistory``),
    so a deletion seen today changes no earlier point.
    """
    before = date_from - dt.timedelta(days=1)
    leaving: dict[dt.date, int] = {}
    counted = communities
    if as_they_were:
        communities, counted = _as_they_were(communities, before)
        leaving = _leaving(communities, date_from, date_to)
    total = _baseline(counted, before)
    changes = {day: (delta, collected)
               for day, delta, collected in _daily_changes(communities, date_from, date_to)}
    points = []
    for day in sorted(set(changes) | set(leaving)):
        delta, collected = changes.get(day, (0, 0))
        total += delta + leaving.get(day, 0)
        points.append(AudiencePoint(day, total, collected))
    return points


def sample_series(points: list[AudiencePoint], *, limit: int = 120) -> list[AudiencePoint]:
    """At most about ``limit`` points for the chart and its table, always keeping the last one."""
    if len(points) <= limit:
        return points
    step = -(-len(points) // limit)
    picked = points[::-1][::step][::-1]
    return picked
