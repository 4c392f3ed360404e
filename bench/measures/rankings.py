"""Rankings by growth through the API (Django test client) against one hand-written query."""

from __future__ import annotations

import datetime as dt

import psycopg2

from bench.baseline_sql import SESSION_SQL, growth_params, growth_ranking_sql
from bench.context import Context, dsn
from bench.harness import Result, median_seconds, time_ratio


def growth_query(start: dt.date, end: dt.date) -> str:
    return (f"/api/v1/rankings/?metric=growth&period=range&date_from={start.isoformat()}"
            f"&date_to={end.isoformat()}")


def _ranking(context: Context, measure: str) -> list[Result]:
    start, end = context.scale.start, context.scale.end
    client, url = context.api_client(), growth_query(start, end)
    answer = client.get(url)
    if answer.status_code != 200:
        raise RuntimeError(f"the ranking API answered {answer.status_code}: {answer.content!r}")
    ranked = answer.json()["count"]

    def portal() -> None:
        response = client.get(url)
        assert response.status_code == 200

    connection = psycopg2.connect(dsn())
    with connection.cursor() as cursor:
        cursor.execute(SESSION_SQL)
    query, params = growth_ranking_sql(), growth_params(start, end)
    rows = 0

    def baseline() -> None:
        nonlocal rows
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            rows = len(cursor.fetchall())

    try:
        base = median_seconds(baseline, repeats=context.repeats)
        mine = median_seconds(portal, repeats=context.repeats)
    finally:
        connection.close()
    result = time_ratio(measure, mine, base, limit=2)
    result.extra = {"ranked_rows": ranked, "sql_rows": rows, "client": "Django test client",
                    "url": url}
    return [result]


def region(context: Context) -> list[Result]:
    return _ranking(context, "ranking_region")


def country(context: Context) -> list[Result]:
    return _ranking(context, "ranking_country")
