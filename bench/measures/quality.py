"""The quality index ranking of the region (the service, one SQL statement) against one
hand-written query of the same figures."""

from __future__ import annotations

import datetime as dt

import psycopg2

from bench.baseline_quality import quality_index_params, quality_index_sql
from bench.baseline_sql import SESSION_SQL
from bench.context import Context, dsn
from bench.harness import Result, median_seconds, time_ratio
from reports.quality.query import QualityParams
from reports.quality.ranking import quality_ranking


def _figures(rows) -> list[tuple[int, float, int]]:
    return [(int(r[0]), round(float(r[1]), 6), int(r[2])) for r in rows]


def region(context: Context) -> list[Result]:
    end = context.scale.end
    params = QualityParams(dt.date(end.year, end.month, 1), end)
    user = context.regional_user()
    portal_rows: list[dict] = []

    def portal() -> None:
        nonlocal portal_rows
        portal_rows = quality_ranking(user=user, params=params)

    connection = psycopg2.connect(dsn())
    with connection.cursor() as cursor:
        cursor.execute(SESSION_SQL)
    query, query_params = quality_index_sql(), quality_index_params(params)
    sql_rows: list[tuple] = []

    def baseline() -> None:
        nonlocal sql_rows
        with connection.cursor() as cursor:
            cursor.execute(query, query_params)
            sql_rows = cursor.fetchall()

    try:
        base = median_seconds(baseline, repeats=context.repeats)
        mine = median_seconds(portal, repeats=context.repeats)
    finally:
        connection.close()
    same = _figures((r["id"], r["quality_index"], r["place"]) for r in portal_rows) == \
        _figures((r[0], r[6], r[7]) for r in sql_rows)
    result = time_ratio("quality_index_region", mine, base, limit=2)
    if not same:  # a faster answer with other figures is no answer
        result.judge(False)
    result.extra = {"ranked_rows": len(portal_rows), "sql_rows": len(sql_rows),
                    "same_figures": same, "period": f"{params.date_from}–{params.date_to}"}
    return [result]
