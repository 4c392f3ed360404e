"""Many rows as one statement parameter, for the collection's bulk writes on PostgreSQL.

psycopg2 sends a Python list as an ``ARRAY[…]`` of literals, one per element, which the server
has to parse and plan one by one: for a members batch (2,400 communities × 9 columns) that costs
far more than the writes themselves. A JSON document or an array *literal* is a single string
the server reads in one go; array literals, a column each, are the cheaper of the two to build
and to read (no key repeated on every row, a repeated timestamp formatted once).
"""

from __future__ import annotations

import datetime as dt
import functools
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


def unnest(columns: Sequence[tuple[str, str]],
           values: Sequence[Iterable[Any]]) -> tuple[str, list[str]]:
    """``unnest(%s::type[], …) AS v(name, …)`` and its parameters: rows given column by column.

    ``columns`` are (name, SQL type) pairs, ``values`` each column's values, all as long.
    """
    arrays = ", ".join(f"%s::{sql_type}[]" for _, sql_type in columns)
    names = ", ".join(name for name, _ in columns)
    return (f"unnest({arrays}) AS v({names})",
            [array_literal(column, sql_type)
             for column, (_, sql_type) in zip(values, columns, strict=True)])


_NUMBERS = frozenset({"bigint", "integer", "smallint"})


def array_literal(values: Iterable[Any], sql_type: str = "") -> str:
    """An array literal (``{1,NULL,"a \\"b\\""}``) for a ``%s::type[]`` parameter; None is NULL.

    A whole-number column (``sql_type``) skips the per-element checks: a posts run writes
    millions of such elements.
    """
    if sql_type in _NUMBERS:
        return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
    return "{" + ",".join(map(_element, values)) + "}"


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):  # datetimes too
        return _iso(value)
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@functools.lru_cache(maxsize=64)
def _iso(value: dt.date) -> str:
    """A date's text, once: a batch stamps every row with the same time."""
    return value.isoformat()


def field_columns(fields: Sequence[Field]) -> list[tuple[str, str]]:
    """(column, SQL type) of model fields, for ``recordset`` and ``unnest``."""
    return [(f.column, f.db_type(connection)) for f in fields]


def int_array(values: Iterable[int]) -> str:
    """An integer array literal (``{1,2,3}``) for a ``%s::bigint[]`` parameter."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"
