"""One side of the export measure in a fresh process, so its peak RSS is its own.

``python -m bench.export_side portal|baseline START END`` writes the growth ranking of every
community to a temporary XLSX and prints ``{"seconds", "peak_rss_mb", "rows"}`` as JSON. Both
sides run the query and write the workbook; Django's start-up is not timed but is in the RSS.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time

import django


def _portal(start: dt.date, end: dt.date, handle) -> int:
    from bench.context import Context
    from bench.data import SCALES
    from reports.exports.rankings import ranking_sheets
    from reports.exports.xlsx import write_workbook
    from reports.rankings import ranking_notes, ranking_stream_for_user
    from reports.rankings.forms import parse_ranking_params

    user = Context(scale=SCALES["smoke"], repeats=1, smoke=True).regional_user()
    params = parse_ranking_params({"metric": "growth", "period": "range",
                                   "date_from": start.isoformat(), "date_to": end.isoformat()},
                                  user=user)
    stream = ranking_stream_for_user(user=user, params=params)
    rows = 0

    def counted():
        nonlocal rows
        for row in stream:
            rows += 1
            yield row

    # The same builder the background ranking export (reports.exports.jobs) uses.
    write_workbook(handle, ranking_sheets(
        metric=params.metric, rows=counted(), missing=stream.missing,
        title_lines=["Рейтинг сообществ", f"Период: {start:%d.%m.%Y} — {end:%d.%m.%Y}"],
        notes=ranking_notes(params)))
    return rows


def _baseline(start: dt.date, end: dt.date, handle) -> int:
    import psycopg2
    import xlsxwriter

    from bench.baseline_sql import SESSION_SQL, growth_params, growth_ranking_sql
    from bench.context import dsn

    book = xlsxwriter.Workbook(handle, {"constant_memory": True})
    sheet = book.add_worksheet("Рейтинг")
    rows = 0
    connection = psycopg2.connect(dsn())
    with connection.cursor() as cursor:
        cursor.execute(SESSION_SQL)
    with connection, connection.cursor("export") as cursor:
        cursor.itersize = 2000
        cursor.execute(growth_ranking_sql(), growth_params(start, end))
        for rows, row in enumerate(cursor, start=1):
            sheet.write_row(rows, 0, [v.isoformat() if isinstance(v, dt.date) else v
                                      for v in row])
    book.close()
    return rows


def _peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (``ru_maxrss`` keeps the forking parent's peak on Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    side, start, end = argv[0], dt.date.fromisoformat(argv[1]), dt.date.fromisoformat(argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    with tempfile.TemporaryFile() as handle:
        began = time.perf_counter()
        rows = (_portal if side == "portal" else _baseline)(start, end, handle)
        seconds = time.perf_counter() - began
    peak = _peak_rss_mb()
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
