"""Small builders shared by the Table-1 workflow tests."""

import datetime as dt

from metrics.choices import TABLE1_INDICATORS, Indicator, ValueSource
from metrics.models import MetricValue
from reports.models import Report

MARCH = dt.date(2026, 3, 1)
FEBRUARY = dt.date(2026, 2, 1)

# A plausible month: unique visitors below visits, nothing that raises a warning vs NORMAL_PREV.
NORMAL = {
    Indicator.MEMBERS: 1000, Indicator.VISITS: 500, Indicator.UNIQUE_VISITORS: 200,
    Indicator.WALL_VIEWS: 3000, Indicator.FEEDBACK: 40,
}
NORMAL_PREV = {
    Indicator.MEMBERS: 990, Indicator.VISITS: 480, Indicator.UNIQUE_VISITORS: 190,
    Indicator.WALL_VIEWS: 2900, Indicator.FEEDBACK: 35,
}


def fill(community, month: dt.date, figures: dict | None = None,
         source: str = ValueSource.MANUAL) -> None:
    """Store figures directly (test setup, not a write path under test)."""
    for indicator, value in (figures or NORMAL).items():
        MetricValue.objects.update_or_create(
            community=community, month=month, indicator=indicator,
            defaults={"value": value, "source": source},
        )


def report_in(institution, month: dt.date, state: str, **extra) -> Report:
    report, _ = Report.objects.update_or_create(
        institution=institution, month=month, defaults={"state": state, **extra}
    )
    return report


def cells_for(community, month: dt.date, figures: dict) -> dict:
    return {(community.pk, month, indicator): value for indicator, value in figures.items()}


def stored(community, month: dt.date) -> dict:
    rows = MetricValue.objects.filter(community=community, month=month,
                                      indicator__in=TABLE1_INDICATORS)
    return {r.indicator: r.value for r in rows}
