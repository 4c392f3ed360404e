"""Why a community holds its place: its figures, the neighbours around it, the gap to climb."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from reports.rankings.definitions import LEAGUES, League, RankingParams
from reports.rankings.results import Ranking, RankingRow


@dataclass
class PlaceExplanation:
    """Why a community holds its place: its figures, neighbours and the gap to climb."""

    ranking: Ranking
    row: RankingRow | None
    missing_row: RankingRow | None
    above: list[RankingRow] = field(default_factory=list)
    below: list[RankingRow] = field(default_factory=list)
    to_next_place: float | int | None = None
    members_to_next_place: int | None = None
    next_league: League | None = None
    members_to_next_league: int | None = None
    league_rows: int = 0


def _members_to_pass(row: RankingRow, better: RankingRow, metric: str) -> int | None:
    """New members that would put ``row`` strictly above ``better`` (growth metrics only)."""
    growth = row.figures.get("growth")
    if metric == "growth":
        return int(better.value - row.value) + 1
    if metric == "growth_pct" and row.start_members and growth is not None:
        # The smallest whole x with (growth + x) / start × 100 > better; the two loops only
        # correct float rounding of the first estimate by a step or two.
        start = row.start_members
        x = max(math.floor(better.value * start / 100 - growth) + 1, 1)
        while (growth + x) * 100 / start <= better.value:
            x += 1
        while x > 1 and (growth + x - 1) * 100 / start > better.value:
            x -= 1
        return x
    if metric == "members":
        return int(better.value - row.value) + 1
    return None


def ranking_explain_place(*, ranking: Ranking, community_id: int) -> PlaceExplanation:
    """Explain one community's place in ``ranking`` (computed over its scope without TOP-N)."""
    rows = ranking.rows
    index = next((i for i, r in enumerate(rows) if r.community_id == community_id), None)
    if index is None:
        missing = next((r for r in ranking.missing if r.community_id == community_id), None)
        return PlaceExplanation(ranking, None, missing)
    row = rows[index]
    above = [r for r in rows[:index] if r.place < row.place]
    better = [r for r in above if r.place == above[-1].place] if above else []
    after = [r for r in rows[index + 1:] if r.place > row.place]
    below = [r for r in after if r.place == after[0].place] if after else []
    next_league = _next_league(row.league)
    explanation = PlaceExplanation(
        ranking, row, None, better, below,
        next_league=next_league,
        members_to_next_league=(next_league.low - row.members
                                if next_league and row.members is not None else None),
        league_rows=sum(1 for r in rows if r.league == row.league),
    )
    if better:
        explanation.to_next_place = better[0].value - row.value
        explanation.members_to_next_place = _members_to_pass(row, better[0], ranking.metric.code)
    return explanation


def _next_league(code: str | None) -> League | None:
    codes = [league.code for league in LEAGUES]
    if code is None or code == codes[-1]:
        return None
    return LEAGUES[codes.index(code) + 1]


def params_without_top(params: RankingParams) -> RankingParams:
    return replace(params, top=None)
