"""The territory summary as Excel: plain summary in, a formatted sheet (or a zip of them) out."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from institutions.choices import Network
from portal.lib.months import month_label
from reports.exports.xlsx import FLOAT, INT, Column, Sheet, write_workbook
from reports.summaries.selectors import FIGURE_LABELS, FIGURES, METHOD_NOTES, TerritorySummary

NETWORK_LABELS = dict(Network.choices)
COLUMNS = [
    Column("Учреждение", width=40), Column("Сообщество", width=40),
    Column("Соцсеть", width=13), Column("Ссылка", width=30),
    *[Column(FIGURE_LABELS[key], INT, 14) for key in FIGURES],
    Column("Участники на начало", INT, 13), Column("Участники на конец", INT, 13),
    Column("Прирост, чел.", INT, 12), Column("Отчёты сданы, мес.", INT, 11),
    Column("Полнота сдачи, %", FLOAT, 11, 1),
]


def _rows(summary: TerritorySummary) -> Iterator[tuple[Any, ...]]:
    for inst in summary.institutions:
        for c in inst.communities:
            yield (inst.name, c.title, NETWORK_LABELS.get(c.network, c.network), c.url,
                   *[c.figures[k] for k in FIGURES], c.members_start, c.members_end,
                   c.growth, None, None)
        totals = inst.totals
        yield (inst.name, f"Итого по учреждению ({len(inst.communities)} сообществ)", None,
               None, *[totals[k] for k in FIGURES], None, None, inst.growth,
               inst.reports_sent, inst.completeness_pct)
    yield ("ВСЕГО по территории", f"{summary.communities_count} сообществ", None, None,
           *[summary.totals[k] for k in FIGURES], None, None, summary.totals["growth"],
           summary.reports_sent, summary.completeness_pct)
    yield ("В среднем на сообщество", None, None, None,
           *[summary.averages[k] for k in FIGURES], None, None, summary.averages["growth"],
           None, None)


def summary_sheet(summary: TerritorySummary) -> Sheet:
    """One territory's consolidated report as a formatted sheet."""
    period = (month_label(summary.months[0]) if len(summary.months) == 1 else
              f"{month_label(summary.months[0])} — {month_label(summary.months[-1])}")
    return Sheet(
        name=summary.territory_name[:31],
        columns=COLUMNS, rows=_rows(summary),
        title_lines=[f"Сводный отчёт: {summary.territory_name}", f"Период: {period}",
                     f"Полнота сдачи отчётов: {summary.reports_sent} из "
                     f"{summary.reports_expected} ({summary.completeness_pct} %)"],
        notes=METHOD_NOTES,
    )


def summary_workbook(output: str | IO[bytes], summary: TerritorySummary) -> None:
    """Write one territory's summary workbook into ``output``."""
    write_workbook(output, [summary_sheet(summary)])


def summaries_zip(output: IO[bytes], summaries: Iterable[TerritorySummary],
                  on_each: Callable[[int], None] | None = None) -> int:
    """A zip with one workbook per territory; ``on_each(n)`` after each; return the count."""
    count = 0
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for count, summary in enumerate(summaries, start=1):
            name = f"{count:02d} {summary.territory_name}.xlsx".replace("/", "-")
            with archive.open(name, "w", force_zip64=True) as member:
                summary_workbook(member, summary)
            if on_each:
                on_each(count)
    return count
