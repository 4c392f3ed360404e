"""Many rows as one statement parameter, for the collection's bulk writes on PostgreSQL.

psycopg2 sends a Python list as an ``ARRAY[…]`` of literals, one per element, which the server
has to parse and plan one by one: for a members batch (2,400 communities × 9 columns) that costs
far more than the writes themselves. A JSON document or an array *literal* is a single string
the server reads in one go.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def recordset(columns: Sequence[tuple[str, str]],
              rows: Iterable[Sequence[Any] | dict[str, Any]]) -> tuple[str, str]:
    """``json_to_recordset(%s::json) AS v(name type, …)`` and its parameter.

    ``columns`` are (name, SQL type) pairs; each row gives their values in that order, or is
    a dict by name (a name it lacks reads as NULL).
    """
    names = [name for name, _ in columns]
    payload = json.dumps(
        [row if isinstance(row, dict) else dict(zip(names, row, strict=True)) for row in rows],
        default=_plain, ensure_ascii=False)
    spec = ", ".join(f"{name} {sql_type}" for name, sql_type in columns)
    return f"json_to_recordset(%s::json) AS v({spec})", payload


def field_columns(fields: Sequence[Field]) -> list[tuple[str, str]]:
    """(column, SQL type) of model fields, for ``recordset``."""
    return [(f.column, f.db_type(connection)) for f in fields]


def int_array(values: Iterable[int]) -> str:
    """An integer array literal (``{1,2,3}``) for a ``%s::bigint[]`` parameter."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"
