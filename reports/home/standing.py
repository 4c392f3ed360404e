"""Where a person's communities stand in the region's current (latest published) rankings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.urls import reverse

from institutions.models import Community
from reports.models import PublishedRankingVersion
from reports.rankings.definitions import LEAGUE_BY_CODE
from reports.rankings.forms import params_query
from reports.rankings.publishing import version_params

RANKINGS_SHOWN = 5


@dataclass
class Standing:
    """One community's line in one published ranking."""

    ranking_title: str
    ranking_url: str
    community_title: str
    place: int | None
    of: int
    league: str
    league_place: int | None
    why_url: str


def _latest_versions() -> list[PublishedRankingVersion]:
    newest = (PublishedRankingVersion.objects.filter(ranking=OuterRef("ranking"))
              .order_by("-number").values("number")[:1])
    return list(PublishedRankingVersion.objects.filter(number=Subquery(newest))
                .select_related("ranking").order_by("-published_at", "-pk")[:RANKINGS_SHOWN])


def community_standings(*, communities: Iterable[Community]) -> list[Standing]:
    """Place, league and a «why» link of each given community in each current ranking.

    Published rows carry names and addresses, not internal ids, so a community is found by its
    address (unique per community).
    """
    by_url = {c.url: c for c in communities if c.url}
    if not by_url:
        return []
    out = []
    for version in _latest_versions():
        rows = [r for r in version.rows if r.get("url") in by_url]
        if not rows:
            continue
        query = params_query(version_params(version))
        for row in rows:
            community = by_url[row["url"]]
            league = LEAGUE_BY_CODE[row["league"]].label if row.get("league") else ""
            why = reverse("reports:ranking-why", args=[community.pk]) + "?" + query
            out.append(Standing(version.title, version.get_absolute_url(),
                                row.get("community") or str(community), row.get("place"),
                                len(version.rows), league, row.get("league_place"), why))
    return out
