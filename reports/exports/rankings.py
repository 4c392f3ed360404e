"""A ranking as Excel or CSV: plain rows in, a workbook (or CSV lines) out.

Rows are the plain ranking rows of ``reports.rankings`` (live or frozen in a published version):
mappings with keys such as ``place``, ``community``, ``members``, ``growth``, ``value``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

from institutions.choices import Network
from reports.exports.xlsx import (
    DATE,
    FLOAT,
    INT,
    Column,
    Sheet,
    csv_lines,
    write_workbook,
)
from reports.rankings import ER_METRICS, GROWTH_METRICS, LEAGUE_BY_CODE, METRICS

NETWORK_LABELS = dict(Network.choices)
LEAGUE_LABELS = {code: league.label for code, league in LEAGUE_BY_CODE.items()}

LEADING = [
    ("place", Column("Место", INT, 8)),
    ("league_place", Column("Место в лиге", INT, 8)),
    ("league", Column("Лига", width=24)),
    ("territory", Column("Территория", width=30)),
    ("institution", Column("Учреждение", width=40)),
    ("community", Column("Сообщество", width=40)),
    ("network", Column("Соцсеть", width=14)),
    ("url", Column("Ссылка", width=32)),
]
MEMBERS_END = [
    ("members", Column("Участники на конец", INT, 12)),
    ("members_date", Column("Дата записи (конец)", DATE, 12)),
]
ENGAGEMENT = [
    ("posts", Column("Публикации", INT, 11)),
    ("likes", Column("Отметки «Нравится»", INT, 11)),
    ("reposts", Column("Репосты", INT, 11)),
    ("comments", Column("Комментарии", INT, 11)),
    ("interactions", Column("Взаимодействия", INT, 13)),
    ("views", Column("Просмотры", INT, 12)),
]
MISSING = [
    ("territory", Column("Территория", width=30)),
    ("institution", Column("Учреждение", width=40)),
    ("community", Column("Сообщество", width=40)),
    ("network", Column("Соцсеть", width=14)),
    ("url", Column("Ссылка", width=32)),
    ("reason", Column("Причина", width=60)),
]


def ranking_columns(metric: str) -> list[tuple[str, Column]]:
    """Which plain-row keys a ranking by ``metric`` shows, as (key, column) pairs."""
    spec = METRICS[metric]
    if metric in GROWTH_METRICS:
        return [*LEADING,
                ("start_members", Column("Участники на начало", INT, 12)),
                ("start_date", Column("Дата записи (начало)", DATE, 12)),
                *MEMBERS_END,
                ("growth", Column("Прирост, чел.", INT, 11)),
                ("growth_pct", Column("Прирост, %", FLOAT, 11, 2))]
    if metric == "members":
        return [*LEADING, *MEMBERS_END]
    value = ("value", Column(spec.label, FLOAT if spec.decimals else INT, 14, spec.decimals))
    if metric in ER_METRICS or metric == "interactions":
        return [*LEADING, *ENGAGEMENT, *MEMBERS_END, value]
    return [*LEADING, *MEMBERS_END, value]


def _values(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> Iterator[tuple]:
    labelled = {"network": NETWORK_LABELS, "league": LEAGUE_LABELS}
    for row in rows:
        yield tuple(
            labelled[key].get(row.get(key), row.get(key)) if key in labelled else row.get(key)
            for key in keys
        )


def ranking_sheets(
    *, metric: str, rows: Iterable[Mapping[str, Any]], missing: Iterable[Mapping[str, Any]],
    title_lines: Sequence[str], notes: Sequence[str],
) -> list[Sheet]:
    """The sheets of a ranking workbook: ranking, communities without data, methodology.

    ``missing`` is read only after ``rows`` are written, so it may be filled by the same stream.
    """
    columns = ranking_columns(metric)
    keys = [key for key, _ in columns]
    return [
        Sheet("Рейтинг", [c for _, c in columns], _values(rows, keys), title_lines=title_lines),
        Sheet("Без данных", [c for _, c in MISSING],
              _LazyRows(missing, [k for k, _ in MISSING]),
              title_lines=["Сообщества без данных за период (не ранжированы)"]),
        Sheet("Методика", [Column("Пояснения к расчёту", width=120)],
              [(line,) for line in [*title_lines, "", *notes]]),
    ]


class _LazyRows:
    """Rows of a source that may be a callable, resolved when the sheet is written."""

    def __init__(self, source: Any, keys: Sequence[str]) -> None:
        self.source, self.keys = source, keys

    def __iter__(self) -> Iterator[tuple]:
        source = self.source() if callable(self.source) else self.source
        return _values(source, self.keys)


def ranking_workbook(output: str | IO[bytes], **sheets: Any) -> None:
    """Write the ranking workbook (see ``ranking_sheets`` for the arguments) into ``output``."""
    write_workbook(output, ranking_sheets(**sheets))


def ranking_csv(*, metric: str, rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The ranked rows as CSV lines (the methodology and the rows apart are in the XLSX)."""
    columns = ranking_columns(metric)
    return csv_lines([c for _, c in columns], _values(rows, [k for k, _ in columns]))
