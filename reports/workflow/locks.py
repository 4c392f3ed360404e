"""The workflow's answer to metrics: how each community's month stands, and version bumps.

Registered from ``ReportsConfig.ready``: metrics asks through ``metrics.locks`` and announces
changed figures with its signal, so the numbers layer never imports the workflow.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.utils import timezone

from metrics.locks import MonthKey, MonthLock
from reports.models import EDITABLE_STATES, Report, ReportState


def report_month_locks(community_ids: set[int], months: set[dt.date]) -> dict[MonthKey,
                                                                               MonthLock]:
    """The reports covering these communities and months, row-locked until the transaction ends."""
    rows = (
        Report.objects.select_for_update(of=("self",))
        .filter(institution__communities__in=community_ids, month__in=months)
        .values_list("institution__communities", "month", "state")
        .order_by("pk")
    )
    return {(c, m): _lock(state) for c, m, state in rows if c in community_ids}


def _lock(state: str) -> MonthLock:
    return MonthLock(locked=state == ReportState.APPROVED, open=state in EDITABLE_STATES,
                     label=ReportState(state).label, tracked=True)


def reports_touch(sender, *, community_ids: list[int], month: dt.date, **kwargs) -> None:
    """New effective figures make open entry pages stale: each report's version moves once."""
    Report.objects.filter(institution__communities__in=community_ids, month=month).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
