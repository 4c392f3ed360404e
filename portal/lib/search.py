"""Search that people can use: case-insensitive for Cyrillic too, with «ё» read as «е».

The same fold runs in Python (for the typed query) and in the database (for the column), so the
two always agree: on PostgreSQL ``translate(lower(…))`` with the Cyrillic capitals spelled out
(``lower`` alone depends on the database's locale, and under ``C`` it leaves Cyrillic as is), on
SQLite a registered Python function (SQLite's ``lower`` knows only ASCII).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Func, TextField

CYRILLIC_UPPER = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯё"
CYRILLIC_FOLDED = "абвгдеежзийклмнопрстуфхцчшщъыьэюяе"
SQLITE_FUNCTION = "portal_fold"


def fold_text(value: str) -> str:
    """Lower case, «ё» as «е»: the form both sides of a search are compared in."""
    return value.lower().replace("ё", "е")


class Fold(Func):
    """``fold_text`` of a text column, in SQL."""

    output_field = TextField()
    arity = 1

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any):
        return self.as_sql(compiler, connection,
                           template=f"translate(lower(%(expressions)s), "
                                    f"'{CYRILLIC_UPPER}', '{CYRILLIC_FOLDED}')", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any):
        return self.as_sql(compiler, connection, function=SQLITE_FUNCTION, **extra)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any):  # other databases
        extra.setdefault("function", "LOWER")
        return super().as_sql(compiler, connection, **extra)


def _sqlite_fold(value: str | None) -> str | None:
    return None if value is None else fold_text(value)


def register_sqlite_fold(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: teach each SQLite connection ``portal_fold``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, _sqlite_fold,
                                              deterministic=True)
