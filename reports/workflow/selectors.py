"""Reads for the Table-1 workflow: figures, warnings, the entry table, history."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from institutions.models import Community, Institution
from metrics.choices import TABLE1_INDICATORS
from metrics.models import MetricValue
from metrics.services import API_SOURCES
from portal.lib.months import MONTH_ABBR_RU, add_months
from reports.models import Report, ReportState
from reports.workflow.validation import Problem, Thresholds, warnings_for

FigureMap = dict[tuple[int, dt.date], dict[str, int | None]]


def thresholds() -> Thresholds:
    return Thresholds(
        jump_share=settings.REPORT_WARN_JUMP_SHARE,
        members_drop_share=settings.REPORT_WARN_MEMBERS_DROP_SHARE,
    )


def month_figures(*, community_ids: Iterable[int], months: Iterable[dt.date]) -> FigureMap:
    """``{(community_id, month): {indicator: value}}`` of the Table-1 indicators."""
    out: FigureMap = defaultdict(dict)
    rows = MetricValue.objects.filter(
        community_id__in=list(community_ids), month__in=list(months),
        indicator__in=TABLE1_INDICATORS,
    ).values_list("community_id", "month", "indicator", "value")
    for community_id, month, indicator, value in rows:
        out[(community_id, month)][indicator] = value
    return out


def report_warnings(*, institution: Institution, month: dt.date) -> list[Problem]:
    """Warnings about every community of the institution for the month, vs the month before."""
    community_ids = list(institution.communities.values_list("pk", flat=True))
    previous_month = add_months(month, -1)
    figures = month_figures(community_ids=community_ids, months=[month, previous_month])
    limits = thresholds()
    problems: list[Problem] = []
    for community_id in community_ids:
        problems += warnings_for(
            community_id=community_id, month=month,
            figures=figures.get((community_id, month), {}),
            previous=figures.get((community_id, previous_month), {}),
            thresholds=limits,
        )
    return problems


def report_has_values(*, report: Report) -> bool:
    return MetricValue.objects.filter(
        community__institution_id=report.institution_id, month=report.month,
        indicator__in=TABLE1_INDICATORS, value__isnull=False,
    ).exists()


# --- the entry page -------------------------------------------------------------------------


@dataclass
class Cell:
    """One figure on the entry page."""

    community_id: int
    month: dt.date
    indicator: str
    value: int | None = None
    value_id: int | None = None
    from_api: bool = False
    api_value: int | None = None
    confirmed: bool = False
    previous: int | None = None
    editable: bool = False
    typed: str | None = None  # what the person typed, when re-rendering after an error
    original: str | None = None  # what the page first showed, kept across a failed save
    error: str = ""

    @property
    def name(self) -> str:
        return f"v-{self.community_id}-{self.month:%Y-%m}-{self.indicator}"

    @property
    def shown(self) -> str:
        if self.typed is not None:
            return self.typed
        return "" if self.value is None else str(self.value)

    @property
    def stored(self) -> str:
        return "" if self.value is None else str(self.value)

    @property
    def seen(self) -> str:
        """The figure the person started from (the hidden original of the form)."""
        return self.stored if self.original is None else self.original

    @property
    def differs_from_stored(self) -> bool:
        return self.typed is not None and self.typed != self.stored

    @property
    def change(self) -> int | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return ""
        return f"+{change}" if change > 0 else (f"−{-change}" if change < 0 else "±0")


@dataclass
class Row:
    indicator: str
    label: str
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Block:
    """One community's Table 1 for the year."""

    community: Community
    rows: list[Row]
    unconfirmed_months: list[dt.date]
    reasons: list = field(default_factory=list)  # return reasons that name this community
    warnings: list[str] = field(default_factory=list)  # each naming community and month


@dataclass
class MonthColumn:
    month: dt.date
    label: str
    report: Report | None
    editable: bool
    future: bool
    seen_version: int | None = None  # the version first seen, kept across a failed save

    @property
    def version(self) -> int:
        return self.report.version if self.report else 0

    @property
    def form_version(self) -> int:
        return self.version if self.seen_version is None else self.seen_version

    @property
    def state_label(self) -> str:
        return self.report.get_state_display() if self.report else "не начат"


@dataclass
class EntryTable:
    institution: Institution
    year: int
    columns: list[MonthColumn]
    blocks: list[Block]


def entry_table(*, institution: Institution, year: int, today: dt.date) -> EntryTable:
    """Everything the entry page shows for one institution and year, in four queries."""
    months = [dt.date(year, m, 1) for m in range(1, 13)]
    reports = {r.month: r for r in Report.objects.filter(institution=institution,
                                                         month__year=year)}
    columns = [_column(m, reports.get(m), today) for m in months]
    communities = list(institution.communities.order_by("network", "pk"))
    values = MetricValue.objects.filter(
        community__in=communities, month__gte=add_months(months[0], -1), month__lte=months[-1],
        indicator__in=TABLE1_INDICATORS,
    )
    stored = {(v.community_id, v.month, v.indicator): v for v in values}
    blocks = [_block(c, columns, stored) for c in communities]
    return EntryTable(institution=institution, year=year, columns=columns, blocks=blocks)


def _column(month: dt.date, report: Report | None, today: dt.date) -> MonthColumn:
    future = month > today.replace(day=1)
    editable = not future and (report is None or report.is_editable)
    return MonthColumn(month, MONTH_ABBR_RU[month.month - 1], report, editable, future)


def _block(community: Community, columns: list[MonthColumn], stored: dict) -> Block:
    rows, unconfirmed = [], set()
    for indicator in TABLE1_INDICATORS:
        row = Row(indicator, indicator.label)
        for column in columns:
            value = stored.get((community.pk, column.month, indicator))
            before = stored.get((community.pk, add_months(column.month, -1), indicator))
            cell = Cell(community.pk, column.month, indicator, editable=column.editable,
                        previous=before.value if before else None)
            if value is not None:
                cell.value, cell.value_id = value.value, value.pk
                cell.from_api = value.source in API_SOURCES
                cell.api_value, cell.confirmed = value.api_value, value.is_confirmed
                if cell.from_api and not cell.confirmed and column.editable:
                    unconfirmed.add(column.month)
            row.cells.append(cell)
        rows.append(row)
    return Block(community, rows, sorted(unconfirmed))


# --- the report page ------------------------------------------------------------------------


def report_value_rows(*, report: Report) -> list[dict]:
    """The report month's figures per community, with the previous month and history links."""
    previous_month = add_months(report.month, -1)
    communities = list(report.institution.communities.order_by("network", "pk"))
    values = MetricValue.objects.filter(
        community__in=communities, month__in=[report.month, previous_month],
        indicator__in=TABLE1_INDICATORS,
    ).select_related("updated_by")
    stored = {(v.community_id, v.month, v.indicator): v for v in values}
    out = []
    for community in communities:
        lines = []
        for indicator in TABLE1_INDICATORS:
            now = stored.get((community.pk, report.month, indicator))
            before = stored.get((community.pk, previous_month, indicator))
            lines.append({"indicator": indicator, "label": indicator.label, "value": now,
                          "previous": before.value if before else None})
        out.append({"community": community, "lines": lines})
    return out


def report_history(*, report: Report) -> list:
    """The report's own historical records, newest first, with who made them."""
    return list(report.history.select_related("history_user").order_by("-history_date"))


def value_history(*, value: MetricValue) -> list:
    return list(value.history.select_related("history_user").order_by("-history_date"))


def report_label_state(state: str | None) -> str:
    return ReportState(state).label if state else "не начат"


def report_list(*, user):
    """Reports the user may see, with what the list shows, newest month first."""
    return (
        Report.objects.visible_to(user)
        .select_related("institution__territory")
        .order_by("-month", "institution__territory__name", "institution__short_name", "pk")
    )


def institutions_for_entry(*, user):
    """Institutions whose Table 1 the user may open, in the order the entry index lists them."""
    return Institution.objects.visible_to(user).select_related("territory").order_by(
        "territory__name", "short_name", "pk"
    )


def table1_sheets(*, institution: Institution, year: int) -> list:
    """The institution's year as plain rows for the Excel builder, one per community."""
    from reports.exports.table1 import CommunitySheet

    communities = list(institution.communities.order_by("network", "pk"))
    values = MetricValue.objects.filter(
        community__in=communities, month__year=year, indicator__in=TABLE1_INDICATORS
    ).values_list("community_id", "month", "indicator", "value")
    figures: dict[int, dict[str, list]] = {
        c.pk: {i: [None] * 12 for i in TABLE1_INDICATORS} for c in communities
    }
    for community_id, month, indicator, value in values:
        figures[community_id][indicator][month.month - 1] = value
    return [
        CommunitySheet(community_id=c.pk, title=str(c), url=c.url,
                       institution=institution.short_name, year=year, figures=figures[c.pk])
        for c in communities
    ]
