"""The ranking as one SQL statement: an ORM-built base wrapped in window functions.

The ORM builds the scoped, filtered base (names via joins). Members on a date — or the nearest
earlier one — come on PostgreSQL from that day's rows of the carry-forward ``MembersOnDay`` (one
join per date over one slice of the table), elsewhere (SQLite) from correlated subqueries over
the snapshots' (community, date) index in a materialised CTE. A thin SQL shell then computes
the figure, the league and the places with ``RANK()`` window functions, so nothing is ranked in
Python.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import psycopg2.extensions
from django.db import connection, transaction
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from institutions.choices import CommunityState
from institutions.models import Community, CommunityHistory
from metrics.choices import Indicator
from metrics.models import MemberSnapshot, MembersOnDay, MetricValue
from portal.lib.analytics_sql import tune_for_analytics
from reports.counting import counted_q
from reports.rankings.definitions import (
    ER_METRICS,
    GROWTH_METRICS,
    LEAGUES,
    RankingParams,
    flagship_threshold,
)

# --- The query ----------------------------------------------------------------------------------


def members_on_subquery(day: dt.date, column: str) -> Subquery:
    """Members (or the date of that row) on ``day`` or the nearest earlier date."""
    rows = MemberSnapshot.objects.filter(community_id=OuterRef("pk"), date__lte=day)
    return Subquery(rows.order_by("-date").values(column)[:1])


def as_of_period_end(communities: QuerySet[Community], day: dt.date) -> QuerySet[Community]:
    """State and title as they were on ``day`` (``state_then``, ``title_then``).

    A period that ends today or later needs no history: the latest row is the current one.
    """
    if day >= timezone.localdate():
        return communities.annotate(state_then=F("state"), title_then=F("title"))
    return communities.as_of(day)


def filtered_communities(communities: QuerySet[Community],
                         params: RankingParams) -> QuerySet[Community]:
    lookups = {
        "institution__territory_id": params.territory,
        "institution__type": params.institution_type,
        "network": params.network,
        "institution__subordination": params.subordination,
    }
    return communities.filter(**{k: v for k, v in lookups.items() if v})


def _base_queryset(
    communities: QuerySet[Community], params: RankingParams, *, lateral: bool, history: bool = True
) -> QuerySet:
    """Scoped, filtered communities with names; without LATERAL also the snapshot lookups.

    ``history=False``: state and title as they are now (the statement joins their history).
    """
    qs = filtered_communities(communities, params)
    qs = (as_of_period_end(qs, params.date_to) if history
          else qs.annotate(state_then=F("state"), title_then=F("title")))
    qs = qs.annotate(
        community_title=F("title_then"),
        institution_name=F("institution__short_name"),
        institution_active=F("institution__is_active"),
        institution_type=F("institution__type"),
        subordination=F("institution__subordination"),
        territory_id=F("institution__territory_id"),
        territory_name=F("institution__territory__name"),
    )
    names = ["id", "community_title", "screen_name", "network", "url", "state_then",
             "institution_id",
             "institution_name", "institution_active", "institution_type", "subordination",
             "territory_id", "territory_name"]
    if not lateral:
        qs = qs.annotate(end_date=members_on_subquery(params.date_to, "date"),
                         end_members=members_on_subquery(params.date_to, "members"))
        names += ["end_date", "end_members"]
    if params.metric in GROWTH_METRICS and not lateral:
        qs = qs.annotate(start_date=members_on_subquery(params.date_from, "date"),
                         start_members=members_on_subquery(params.date_from, "members"))
        names += ["start_date", "start_members"]
    if params.metric == "t1_members":
        last = MetricValue.objects.filter(
            counted_q(params.counting),
            community_id=OuterRef("pk"), indicator=Indicator.MEMBERS, value__isnull=False,
            month__gte=params.first_month, month__lte=params.last_month,
        ).order_by("-month")
        qs = qs.annotate(t1_members=Subquery(last.values("value")[:1]),
                         t1_members_month=Subquery(last.values("month")[:1]))
        names += ["t1_members", "t1_members_month"]
    return qs.order_by().values(*names)


def value_indicators(params: RankingParams) -> list[str]:
    """The monthly indicators a value metric needs (empty for snapshot metrics)."""
    code = params.metric
    if code.startswith("t1_") and code != "t1_members":
        return [code.removeprefix("t1_")]
    if code in ("interactions", *ER_METRICS):
        return [Indicator.POSTS, Indicator.LIKES, Indicator.REPOSTS, Indicator.COMMENTS,
                Indicator.VIEWS]
    if code in Indicator.values and code != Indicator.MEMBERS:
        return [code]
    return []


def _values_queryset(params: RankingParams, indicators: list[str]) -> QuerySet:
    """Per community: the sum of each indicator over the period's months and how many rows."""
    sums = {}
    for ind in indicators:
        sums[f"v_{ind}"] = Sum("value", filter=Q(indicator=ind))
        sums[f"n_{ind}"] = Count("pk", filter=Q(indicator=ind))
    return (
        MetricValue.objects.filter(
            counted_q(params.counting),
            month__gte=params.first_month, month__lte=params.last_month, indicator__in=indicators,
        )
        .order_by()
        .values("community_id")
        .annotate(**sums)
    )


_LEAGUE_SQL = (
    "CASE WHEN j.end_members IS NULL THEN NULL "
    + " ".join(
        f"WHEN j.end_members <= {league.high} THEN '{league.code}'"
        for league in LEAGUES if league.high is not None
    )
    + f" ELSE '{LEAGUES[-1].code}' END"
)
_FLOAT = "DOUBLE PRECISION"
_INTERACTIONS_SQL = (
    "CASE WHEN j.v_likes IS NULL AND j.v_reposts IS NULL AND j.v_comments IS NULL THEN NULL "
    "ELSE COALESCE(j.v_likes, 0) + COALESCE(j.v_reposts, 0) + COALESCE(j.v_comments, 0) END"
)


def _raw_value_sql(params: RankingParams) -> str:
    """The figure as SQL over the joined row ``j``; NULL when it is not defined."""
    code = params.metric
    interactions = f"CAST(j.interactions AS {_FLOAT})"
    formulas = {
        "growth": "j.growth",
        "growth_pct": "j.growth_pct",
        "members": "j.end_members",
        "t1_members": "j.t1_members",
        "interactions": "j.interactions",
        "er_post": f"CASE WHEN j.v_posts > 0 AND j.end_members > 0 THEN {interactions} * 100.0 "
                   f"/ (CAST(j.v_posts AS {_FLOAT}) * j.end_members) END",
        "er_day": f"CASE WHEN j.end_members > 0 THEN {interactions} * 100.0 "
                  f"/ (CAST({params.days} AS {_FLOAT}) * j.end_members) END",
        "er_views": f"CASE WHEN j.v_views > 0 THEN {interactions} * 100.0 "
                    f"/ CAST(j.v_views AS {_FLOAT}) END",
    }
    if code in formulas:
        return formulas[code]
    return f"j.v_{value_indicators(params)[0]}"


class SqlParts:
    """Named pieces of one statement and their named parameters (``%(name)s``).

    The ORM compiles with positional ``%s``; ``embed`` renames those to ``prefix_N`` so every
    parameter of the statement is found by name, whatever order the pieces end up in.
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def param(self, name: str, value: Any) -> str:
        self.params[name] = value
        return f"%({name})s"

    def embed(self, prefix: str, sql: str, params: tuple | list) -> str:
        values = iter(params)
        counter = iter(range(len(params)))

        def rename(match: re.Match) -> str:
            if match.group(0) == "%%":
                return "%%"
            return self.param(f"{prefix}_{next(counter)}", next(values))

        return re.sub(r"%%|%s", rename, sql)


def members_horizon() -> dt.date | None:
    """The latest day ``MembersOnDay`` holds (every later day's figure is that day's)."""
    return MembersOnDay.objects.aggregate(day=Max("date"))["day"]


def _day_members(sql: SqlParts, name: str, day: dt.date, horizon: dt.date | None) -> str:
    """PostgreSQL: members on a date or the nearest earlier one, read from that day's row.

    ``MembersOnDay`` has every community's row for every day up to the horizon. A day's rows lie
    together in its month's partition, and the date is a plain parameter (capped at the horizon
    here, not in SQL), so the planner reads one partition's slice, not each community's history.
    """
    table = connection.ops.quote_name(MembersOnDay._meta.db_table)
    date = connection.ops.quote_name("date")
    read_on = sql.param(f"date_{name}", min(day, horizon) if horizon else day)
    return (
        f" LEFT JOIN (SELECT md.community_id, md.observed_on AS {name}_date, "
        f"md.members AS {name}_members FROM {table} md WHERE md.{date} = {read_on}) {name[0]} "
        f"ON {name[0]}.community_id = base.id"
    )


def _history_in_sql(params: RankingParams) -> bool:
    """Whether state and title as of the period's end come from one join (PostgreSQL).

    Elsewhere ``as_of`` annotates them with correlated subqueries in the base query.
    """
    return connection.vendor == "postgresql" and params.date_to < timezone.localdate()


def _history_cte(sql: SqlParts, params: RankingParams) -> str:
    """Each community's latest recorded state and title on the period's end (DISTINCT ON)."""
    table = connection.ops.quote_name(CommunityHistory._meta.db_table)
    day = sql.param("history_day", params.date_to)
    return (f"hist AS (SELECT DISTINCT ON (community_id) community_id, state, title FROM {table} "
            f"WHERE valid_from <= {day} ORDER BY community_id, valid_from DESC)")


def _base_cte(sql: SqlParts, communities: QuerySet[Community], params: RankingParams,
              lateral: bool) -> str:
    base_sql, base_params = _base_queryset(
        communities, params, lateral=lateral, history=not _history_in_sql(params),
    ).query.sql_with_params()
    # Read twice, inlined both times on PostgreSQL: the figures need no names (the planner drops
    # those columns) and the names are looked up only for the rows shown. SQLite materialises it.
    materialized = "NOT MATERIALIZED " if connection.vendor == "postgresql" else ""
    return f"base AS {materialized}({sql.embed('base', base_sql, base_params)})"


def _members_join(sql: SqlParts, params: RankingParams) -> tuple[str, str]:
    """Joins for the end (and start) members: (join text, extra columns)."""
    horizon = members_horizon()
    join = _day_members(sql, "end", params.date_to, horizon)
    columns = ", e.end_date, e.end_members"
    if params.metric in GROWTH_METRICS:
        join += _day_members(sql, "start", params.date_from, horizon)
        columns += ", s.start_date, s.start_members"
    return join, columns


def _values_cte(sql: SqlParts, params: RankingParams, indicators: list[str]) -> str:
    vals_sql, vals_params = _values_queryset(params, indicators).query.sql_with_params()
    return f"vals AS MATERIALIZED ({sql.embed('vals', vals_sql, vals_params)})"


def _interactions_column(indicators: list[str]) -> str:
    if "likes" not in indicators:
        return "NULL"
    return f"CAST({_INTERACTIONS_SQL.replace('j.', 'vals.')} AS BIGINT)"


def _growth_columns(lateral: bool) -> str:
    start, end = (("s.start_members", "e.end_members") if lateral
                  else ("base.start_members", "base.end_members"))
    return (f", {end} - {start} AS growth, CASE WHEN {start} > 0 THEN "
            f"CAST({end} - {start} AS {_FLOAT}) * 100.0 / {start} END AS growth_pct")


# The base's columns that only name a row: joined back after ranking, never sorted.
_NAME_COLUMNS = ["community_title", "screen_name", "network", "url", "institution_id",
                 "institution_name", "institution_type", "subordination", "territory_id",
                 "territory_name"]


def _joined_cte(sql: SqlParts, params: RankingParams, indicators: list[str],
                lateral: bool) -> list[str]:
    """``vals`` (when the metric sums monthly values) and ``j``: the figures, one narrow row per
    community (id, state then, whether its institution is active, members, sums)."""
    ctes, join, columns = [], "", ""
    state, title = "base.state_then", "NULL"
    if _history_in_sql(params):
        ctes.append(_history_cte(sql, params))
        join += " LEFT JOIN hist ON hist.community_id = base.id"
        state, title = "COALESCE(hist.state, base.state_then)", "hist.title"
    if lateral:
        members_join, members_columns = _members_join(sql, params)
        join, columns = join + members_join, members_columns
    else:
        columns = ", base.end_date, base.end_members"
        if params.metric in GROWTH_METRICS:
            columns += ", base.start_date, base.start_members"
    if params.metric == "t1_members":
        columns += ", base.t1_members, base.t1_members_month"
    if indicators:
        ctes.append(_values_cte(sql, params, indicators))
        join += " LEFT JOIN vals ON vals.community_id = base.id"
        # SUM of a bigint is numeric on PostgreSQL; whole numbers keep every consumer simple.
        columns += "".join(f", CAST(vals.v_{i} AS BIGINT) AS v_{i}" for i in indicators)
    if params.metric in GROWTH_METRICS:
        columns += _growth_columns(lateral)
    ctes.append(f"j AS (SELECT base.id, {state} AS state_then, {title} AS title_then, "
                "base.institution_active"
                f"{columns}, {_interactions_column(indicators)} AS interactions FROM base{join})")
    return ctes


def _scored_cte(sql: SqlParts, params: RankingParams) -> str:
    """Each row's league and figure; only active communities of active institutions score."""
    eligible = [f"j.state_then = {sql.param('active', CommunityState.ACTIVE)}",
                "j.institution_active"]
    where = []
    if params.flagship_only:
        threshold = sql.param("flagship_threshold", flagship_threshold())
        where.append(f"(j.end_members > {threshold} OR j.end_members IS NULL)")
    if params.league:
        where.append(f"({_LEAGUE_SQL} = {sql.param('league', params.league)} "
                     "OR j.end_members IS NULL)")
    if where:
        eligible.append("j.end_members IS NOT NULL")
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    return (f"scored AS (SELECT j.*, {_LEAGUE_SQL} AS league, "
            f"CASE WHEN {' AND '.join(eligible)} THEN {_raw_value_sql(params)} END AS value "
            f"FROM j{condition})")


# Rows without a figure sort last, so the ranks of the others are those among themselves.
# Materialised: narrow rows, read again for the answer's head.
_RANKED_CTE = (
    "ranked AS MATERIALIZED (SELECT scored.*, "
    "CASE WHEN value IS NOT NULL THEN RANK() OVER (PARTITION BY league "
    "ORDER BY value DESC NULLS LAST) END AS league_place, "
    "CASE WHEN value IS NOT NULL THEN RANK() OVER (ORDER BY value DESC NULLS LAST) END AS place "
    "FROM scored)"
)
_ORDER = "value DESC NULLS LAST, id"


def ranking_sql(
    communities: QuerySet[Community], params: RankingParams, *, lateral: bool | None = None,
    text_dates: bool = False, as_json: bool = False,
) -> tuple[str, dict[str, Any]]:
    """The whole ranking as one SQL statement with its named parameters.

    The figures are ranked on narrow rows (id, figures, league); the names are joined back to
    the rows shown, after ranking, and sorted once. ``lateral`` (default: on PostgreSQL) joins
    the day's rows of ``MembersOnDay`` (date and figure in one row); otherwise correlated
    subqueries over the snapshots do it (SQLite, and the second shape the tests compare on
    PostgreSQL). ``text_dates`` returns dates as ISO text (what JSON needs; SQLite always does).
    ``as_json`` returns (apart, institution_active, row as JSON text, data as of, ranked count)
    per row: the last two are the same on every row, so the first row already tells a streamed
    answer its head.
    """
    if lateral is None:
        lateral = connection.vendor == "postgresql"
    sql = SqlParts()
    indicators = value_indicators(params)
    ctes = [_base_cte(sql, communities, params, lateral),
            *_joined_cte(sql, params, indicators, lateral),
            _scored_cte(sql, params), _RANKED_CTE]
    top = (f"(place IS NULL OR place <= {sql.param('top', params.top)})" if params.top
           else "TRUE")
    names = ", ".join(f"base.{name}" for name in _NAME_COLUMNS).replace(
        "base.community_title", "COALESCE(ranked.title_then, base.community_title) "
        "AS community_title")
    # The JSON texts are written after the sort (outside ``shown``), so no sort moves them.
    ctes.append(f"shown AS (SELECT ranked.*, {names} FROM ranked JOIN base ON base.id = ranked.id"
                f" WHERE {top.replace('place', 'ranked.place')} ORDER BY {_ORDER})")
    columns = _output_columns(params, text_dates or as_json)
    if not as_json:
        return (f"WITH {', '.join(ctes)} SELECT {_select_list(columns)} "
                f"FROM shown ORDER BY {_ORDER}"), sql.params
    head = f"FROM ranked WHERE {top}"
    latest = f"(SELECT MAX(CASE WHEN value IS NOT NULL THEN end_date END) {head})"
    return (f"WITH {', '.join(ctes)} SELECT value IS NULL AS apart, institution_active, "
            f"{_json_object(columns)}, {_text_date(latest, True)}, "
            f"(SELECT COUNT(value) {head}) FROM shown ORDER BY {_ORDER}"), sql.params


def _text_date(column: str, text_dates: bool) -> str:
    if text_dates and connection.vendor == "postgresql":
        return f"to_char({column}, 'YYYY-MM-DD')"
    return column


def _output_columns(params: RankingParams, text_dates: bool) -> list[tuple[str, str]]:
    """The plain-row keys as (SQL expression, name), so consumers only zip names and values."""
    columns = [
        ("place", "place"), ("league_place", "league_place"), ("league", "league"),
        ("id", "community_id"),
        ("COALESCE(NULLIF(community_title, ''), NULLIF(screen_name, ''), CAST(id AS TEXT))",
         "community"),
        ("network", "network"), ("url", "url"), ("state_then", "state"),
        ("institution_id", "institution_id"), ("institution_name", "institution"),
        ("institution_type", "institution_type"), ("subordination", "subordination"),
        ("territory_id", "territory_id"), ("territory_name", "territory"),
        ("end_members", "members"), (_text_date("end_date", text_dates), "members_date"),
        ("value", "value"),
    ]
    if params.metric in GROWTH_METRICS:
        columns += [("start_members", "start_members"),
                    (_text_date("start_date", text_dates), "start_date"),
                    ("growth", "growth"), ("growth_pct", "growth_pct")]
    if params.metric == "t1_members":
        columns += [("t1_members", "t1_members"),
                    (_text_date("t1_members_month", text_dates), "t1_members_month")]
    indicators = value_indicators(params)
    columns += [(f"v_{ind}", ind) for ind in indicators]
    if "likes" in indicators:
        columns.append(("interactions", "interactions"))
    if params.metric == "er_day":
        columns.append((str(int(params.days)), "days"))
    return columns


def _select_list(columns: list[tuple[str, str]]) -> str:
    return ", ".join(f'{expr} AS "{name}"' for expr, name in [
        *columns, ("institution_active", "institution_active")])


# Plain-row keys whose values are numbers (or NULL) and dates (ISO text on PostgreSQL): their
# JSON is their text. Any other key is encoded by the database's JSON functions.
_NUMBER_KEYS = frozenset({
    "place", "league_place", "community_id", "institution_id", "territory_id", "members",
    "value", "start_members", "growth", "growth_pct", "t1_members", "interactions", "days",
    *Indicator.values,
})
_DATE_KEYS = frozenset({"members_date", "start_date", "t1_members_month"})
# Keys whose values are the portal's own choice codes (ASCII identifiers: 'vk', 'active',
# 'municipal'…), which need no escaping; ``to_json`` on a text costs as much as the rest of
# the row's writing (≈ 70 ms per 130,000 values).
_CODE_KEYS = frozenset({"league", "network", "state", "institution_type", "subordination"})


def _json_value(expr: str, name: str) -> str:
    if name in _NUMBER_KEYS:
        return f"COALESCE(CAST({expr} AS TEXT), 'null')"
    if name in _DATE_KEYS or name in _CODE_KEYS:
        return f"COALESCE('\"' || {expr} || '\"', 'null')"
    return f"COALESCE(CAST(to_json({expr}) AS TEXT), 'null')"


def _json_object(columns: list[tuple[str, str]]) -> str:
    """One JSON object per row, written by the database (keys in the plain-row order).

    On PostgreSQL the object is concatenated text: numbers and dates as they print, only the
    text values through ``to_json``. ``json_build_object`` looks up how to write every value of
    every row, which tripled the cost of writing the rows (≈ 0.6 s more at 130,000). Numbers
    are finite in every metric (its divisions are guarded), so their text is valid JSON.
    """
    if connection.vendor != "postgresql":
        pairs = ", ".join(f"'{name}', {expr}" for expr, name in columns)
        return f"json_object({pairs})"
    pairs = []
    for n, (expr, name) in enumerate(columns):
        if not name.isidentifier():  # it goes into an SQL string literal as is
            raise ValueError(f"not a plain-row key: {name!r}")
        pairs.append(f"'{',' if n else '{'}\"{name}\":' || {_json_value(expr, name)}")
    return "(" + " || ".join(pairs) + " || '}')"


def ranking_raw_rows(
    *, communities: QuerySet[Community], params: RankingParams, chunk: int = 2000,
    lateral: bool | None = None, text_dates: bool = False, as_json: bool = False,
) -> Iterator[tuple[str, ...] | tuple[Any, ...]]:
    """Stream the ranking: first the column names, then each row as a plain tuple.

    Ranked rows come first (by place), then those without a figure (``value`` is NULL). On
    PostgreSQL a server-side cursor keeps memory flat however many communities there are.
    With ``as_json`` on PostgreSQL the texts come as UTF-8 bytes, as they are written out:
    decoding 70 MB of a country's rows only to encode them again cost a fifth of the answer.
    """
    sql, sql_params = ranking_sql(communities, params, lateral=lateral, text_dates=text_dates,
                                  as_json=as_json)
    # A server-side cursor's statement gets no parallel workers; a ТОП-N answer is small, so
    # it is fetched whole and joined in parallel (the country's first 100: ≈ 20 % faster).
    cursor_of = connection.cursor if params.top else connection.chunked_cursor
    with transaction.atomic():
        tune_for_analytics()
        with cursor_of() as cursor:
            if as_json and connection.vendor == "postgresql":
                psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor.cursor)
            cursor.execute(sql, sql_params)
            rows = cursor.fetchmany(chunk)
            yield tuple(col[0] for col in cursor.description)
            while rows:
                yield from rows
                rows = cursor.fetchmany(chunk)

