"""The territory summary as Excel: plain summary in, a formatted sheet (or a zip of them) out."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.utils.translation import ngettext

from institutions.choices import Network
from portal.lib.months import month_label
from reports.exports.xlsx import FLOAT, INT, Column, Sheet, write_workbook
from reports.summaries.selectors import (
    FIGURE_LABELS,
    FIGURES,
    HISTORY_MEMBERS_LABEL,
    METHOD_NOTES,
    NO_DATA,
    SummaryInstitution,
    TerritorySummary,
    communities_text,
)

NOT_DUE = "срок не наступил"

NETWORK_LABELS = dict(Network.choices)
COLUMNS = [
    Column("Учреждение", width=40), Column("Сообщество", width=40),
    Column("Соцсеть", width=13), Column("Ссылка", width=30),
    *[Column(FIGURE_LABELS[key], INT, 16) for key in FIGURES],
    Column(f"{HISTORY_MEMBERS_LABEL} на начало периода", INT, 15),
    Column(f"{HISTORY_MEMBERS_LABEL} на конец периода", INT, 15),
    Column("Прирост по ежедневному сбору, чел.", INT, 14),
    Column("Отчёты учреждения сданы, мес.", INT, 12),
    Column("Полнота сдачи учреждения, %", FLOAT, 12, 1),
]


def _or_reason(value: Any, reason: str) -> Any:
    return value if value is not None else reason


def _completeness(inst: SummaryInstitution) -> tuple[Any, Any]:
    """Reports sent and the share of the months due; a period not yet due says so."""
    if not inst.months:
        return NOT_DUE, NOT_DUE
    return inst.reports_sent, inst.completeness_pct


def _rows(summary: TerritorySummary) -> Iterator[tuple[Any, ...]]:
    """One row per community: the data rows the autofilter covers."""
    for inst in summary.institutions:
        for c in inst.communities:
            yield (inst.name, c.title, NETWORK_LABELS.get(c.network, c.network), c.url,
                   *[_or_reason(value, reason) for value, reason in c.cells],
                   _or_reason(c.members_start, c.reason("members_history")),
                   _or_reason(c.members_end, c.reason("members_history")),
                   _or_reason(c.growth, c.reason("growth")), *_completeness(inst))


def _totals(summary: TerritorySummary) -> list[tuple[Any, ...]]:
    """Subtotals per institution, the territory's total and the average: bold, apart."""
    rows = []
    for inst in summary.institutions:
        label = ngettext("Итого по учреждению (%(n)s сообщество)",
                         "Итого по учреждению (%(n)s сообществ)",
                         len(inst.communities)) % {"n": len(inst.communities)}
        rows.append((inst.name, label, "", "",
                     *[_or_reason(value, reason) for value, reason in inst.total_cells],
                     _or_reason(inst.members_start, NO_DATA),
                     _or_reason(inst.members_end, NO_DATA),
                     _or_reason(inst.growth, NO_DATA), *_completeness(inst)))
    rows.append(("ВСЕГО по территории", communities_text(summary.communities_count), "", "",
                 *[_or_reason(value, reason) for value, reason in summary.total_cells],
                 "", "", _or_reason(summary.totals["growth"], NO_DATA),
                 *((summary.reports_sent, summary.completeness_pct)
                   if summary.reports_expected else (NOT_DUE, NOT_DUE))))
    rows.append(("В среднем на сообщество", "", "", "",
                 *[_or_reason(value, reason) for value, reason in summary.average_cells],
                 "", "", _or_reason(summary.averages["growth"], NO_DATA), "", ""))
    return rows


def _decimal(value: float) -> str:
    """A percentage in a title line, with the decimal comma Russian readers expect."""
    return f"{value:.1f}".replace(".", ",")


def _completeness_line(summary: TerritorySummary) -> str:
    if not summary.reports_expected:
        return "Полнота сдачи отчётов: срок сдачи за эти месяцы ещё не наступил"
    return (f"Полнота сдачи отчётов: {summary.reports_sent} из {summary.reports_expected} "
            f"({_decimal(summary.completeness_pct)} %)")


def summary_sheet(summary: TerritorySummary) -> Sheet:
    """One territory's consolidated report as a formatted sheet."""
    period = (month_label(summary.months[0]) if len(summary.months) == 1 else
              f"{month_label(summary.months[0])} — {month_label(summary.months[-1])}")
    return Sheet(
        name=summary.territory_name[:31],
        columns=COLUMNS, rows=_rows(summary), totals=_totals(summary),
        title_lines=[f"Сводный отчёт: {summary.territory_name}", f"Период: {period}",
                     _completeness_line(summary),
                     summary.counting_text],
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
