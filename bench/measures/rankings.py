"""Rankings by growth through the API (Django test client) against one hand-written query."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from collections.abc import Iterator

import psycopg2
from rest_framework.test import APIClient

from bench.baseline_sql import SESSION_SQL, growth_params, growth_ranking_sql
from bench.context import Context, dsn
from bench.harness import Result, median_seconds, time_ratio


def growth_query(start: dt.date, end: dt.date) -> str:
    return (f"/api/v1/rankings/?metric=growth&period=range&date_from={start.isoformat()}"
            f"&date_to={end.isoformat()}")


def _get(client: APIClient, url: str) -> Iterator[bytes]:
    """The answer's pieces (the JSON ranking streams), refused unless it is a 200."""
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"the ranking API answered {response.status_code}: "
                           f"{response.getvalue()[:300]!r}")
    return response.streaming_content if response.streaming else iter([response.content])


def _read_through(client: APIClient, url: str) -> int:
    """Read the whole answer as a server writing it out would, keeping none of it; its size."""
    return sum(len(piece) for piece in _get(client, url))


def _peak_python_mb(client: APIClient, url: str) -> float:
    """Peak Python heap of one request read to the end (tracemalloc; not a timed run)."""
    tracemalloc.start()
    try:
        _read_through(client, url)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _ranking(context: Context, measure: str) -> list[Result]:
    start, end = context.scale.start, context.scale.end
    client, url = context.api_client(), growth_query(start, end)
    body = b"".join(_get(client, url))
    ranked, answer_mb = json.loads(body)["count"], len(body) / 2**20
    del body

    def portal() -> None:
        _read_through(client, url)

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
                    "url": url, "answer_mb": round(answer_mb, 1),
                    "peak_python_mb": round(_peak_python_mb(client, url), 1)}
    return [result]


def region(context: Context) -> list[Result]:
    return _ranking(context, "ranking_region")


def country(context: Context) -> list[Result]:
    return _ranking(context, "ranking_country")
