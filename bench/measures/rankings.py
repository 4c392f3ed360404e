"""Rankings by growth through the API (Django test client) against a bare read of their figures.

The baseline is what a growth ranking cannot do without: reading two figures per community (its
members on both dates) from the storage the portal keeps them in, ``metrics_membersonday``. The
hand-written ranking SQL over the snapshots (two index probes per community) is timed beside it
and reported in ``extra`` (``sql_seconds``), the comparison the table made before.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tracemalloc
from collections.abc import Iterator

import psycopg2
from rest_framework.test import APIClient

from bench.baseline_sql import (
    SESSION_SQL,
    bare_read_sql,
    growth_params,
    growth_ranking_sql,
)
from bench.context import Context, dsn
from bench.harness import Result, interleaved_seconds, time_ratio


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


#: The first page a methodologist reads («ТОП-100»): every community is ranked, 100 are written.
PAGE_TOP = 100


def _ranking(context: Context, measure: str) -> list[Result]:
    start, end = context.scale.start, context.scale.end
    client, url = context.api_client(), growth_query(start, end)
    page_url = f"{url}&top={PAGE_TOP}"
    body = b"".join(_get(client, url))
    ranked, answer_mb = json.loads(body)["count"], len(body) / 2**20
    del body

    def portal() -> None:
        _read_through(client, url)

    def page() -> None:
        _read_through(client, page_url)

    connection = psycopg2.connect(dsn())
    with connection.cursor() as cursor:
        cursor.execute(SESSION_SQL)
    params = growth_params(start, end)
    counts = {"sql_rows": 0, "figures": 0}

    def fetched(query: str, key: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            counts[key] = len(cursor.fetchall())

    try:
        times = interleaved_seconds({
            "bare": lambda: fetched(bare_read_sql(), "figures"), "portal": portal, "page": page,
            "sql": lambda: fetched(growth_ranking_sql(), "sql_rows")}, repeats=context.repeats)
    finally:
        connection.close()
    base, mine, old_sql, first_page = (statistics.median(times[k])
                                       for k in ("bare", "portal", "sql", "page"))
    ratios = sorted(p / b for p, b in zip(times["portal"], times["bare"], strict=True))
    result = time_ratio(measure, mine, base, limit=3)
    result.extra = {"ranked_rows": ranked, **counts, "client": "Django test client", "url": url,
                    "answer_mb": round(answer_mb, 1),
                    "sql_seconds": round(old_sql, 4), "ratio_to_sql": round(mine / old_sql, 3),
                    "ratio_range": [round(ratios[0], 2), round(ratios[-1], 2)],
                    "peak_python_mb": round(_peak_python_mb(client, url), 1)}
    page_result = time_ratio(f"{measure} [top {PAGE_TOP}]", first_page, base, limit=3)
    page_result.extra = {"url": page_url, "client": "Django test client",
                         "what": "every community ranked, the first 100 places (and the rows "
                                 "without a figure) written"}
    return [result, page_result]


def region(context: Context) -> list[Result]:
    return _ranking(context, "ranking_region")


def country(context: Context) -> list[Result]:
    return _ranking(context, "ranking_country")
