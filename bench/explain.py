"""``python -m bench.explain``: the EXPLAIN (ANALYZE) plan of the growth ranking's SQL.

Run with DATABASE_URL pointing at the region database (``…_region``) for the README's plan.
"""

from __future__ import annotations

import os
import sys

import django


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from django.db import connection, transaction

    from bench.context import Context
    from bench.data import SCALES, loaded_scale
    from institutions.models import Community
    from reports.rankings import ranking_sql
    from reports.rankings.forms import parse_ranking_params

    marker = loaded_scale() or "region:1"
    scale = SCALES[marker.split(":")[0]]
    user = Context(scale=scale, repeats=1, smoke=False).regional_user()
    params = parse_ranking_params({"metric": "growth", "period": "range",
                                   "date_from": scale.start.isoformat(),
                                   "date_to": scale.end.isoformat()}, user=user)
    # The statement the JSON API runs (rows as JSON texts written by the database).
    sql, sql_params = ranking_sql(Community.objects.visible_to(user), params, as_json=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('jit', 'off', true), "
                       "set_config('work_mem', '64MB', true)")
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", sql_params)
        print("\n".join(row[0] for row in cursor.fetchall()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
