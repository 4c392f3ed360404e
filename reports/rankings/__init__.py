"""Rankings of communities, computed in the database.

Ranking method: standard competition ranking ("1224"): communities with equal figures share a
place and the next place is skipped; ties are listed by community id. TOP-N keeps every community
whose place is ≤ N, so a tie on the N-th place may return more than N rows. Communities without a
figure for the period are never dropped: they come back apart, each with the reason.

- ``definitions``: leagues, metrics with their formulas, parameters, periods;
- ``query``: the one SQL statement (ORM base + window functions) and its raw stream;
- ``results``: plain rows, the stream for exports/API, the typed ranking for pages;
- ``why``: "why this place".
"""

from reports.rankings.definitions import (  # noqa: F401
    ER_METRICS,
    GROWTH_METRICS,
    INTERACTIONS_NOTE,
    LEAGUE_BY_CODE,
    LEAGUE_CHOICES,
    LEAGUES,
    LEAGUES_NOTE,
    METRIC_CHOICES,
    METRICS,
    RANKING_METHOD_NOTE,
    SNAPSHOTS,
    VALUES,
    League,
    Metric,
    RankingParams,
    flagship_threshold,
    league_of,
    period_bounds,
)
from reports.rankings.query import ranking_raw_rows, ranking_sql  # noqa: F401
from reports.rankings.results import (  # noqa: F401
    PUBLIC_KEYS_DROPPED,
    Ranking,
    RankingJson,
    RankingRow,
    RankingStream,
    missing_reason,
    ranking_compute,
    ranking_for_user,
    ranking_json,
    ranking_notes,
    ranking_stream_for_user,
)
from reports.rankings.why import (  # noqa: F401
    PlaceExplanation,
    params_without_top,
    ranking_explain_place,
)
