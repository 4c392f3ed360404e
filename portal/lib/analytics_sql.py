"""Session settings for the portal's big analytic statements (rankings, the quality index)."""

from __future__ import annotations

from django.db import connection


def tune_for_analytics() -> None:
    """Set, for the current transaction only (PostgreSQL; elsewhere nothing):

    - ``jit = off``: the planner's cost for thousands of index probes or a few window sorts
      crosses ``jit_above_cost``, and compiling then costs more than the whole statement (the
      quality index of 3,000 communities: 1.4 s with JIT, 0.14 s without);
    - ``work_mem = 64MB``: a country's ranked rows sort in memory rather than on disk;
    - ``cursor_tuple_fraction = 1``: a server-side cursor over the result is read to its end, so
      it is planned for all rows, not the first.

    Call it inside ``transaction.atomic()``: outside a transaction the settings end with the
    statement that sets them.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('jit', 'off', true), "
                       "set_config('work_mem', '64MB', true), "
                       "set_config('cursor_tuple_fraction', '1', true)")
