"""Table 1's «Количество участников» for a month, taken from the daily member snapshots.

The month's figure is the snapshot of its last day, or the latest earlier one within the month
when that day was not collected. It is written through ``api_values_record_many`` like every
other collected figure: source «VK API»/«OK API», kept in ``api_value``, effective only while
the report is open and nobody typed the figure, never written into an approved month. Running it
again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from institutions.choices import Network
from institutions.models import Community
from metrics.choices import Indicator, ValueSource
from metrics.models import MemberSnapshot
from metrics.services import api_values_record_many
from portal.errors import ValidationFailed
from portal.lib.months import add_months, month_end, month_label

CHUNK = 1000  # communities per transaction: a region in a few, the country without one huge lock
SOURCES = {Network.VK: ValueSource.VK_API, Network.OK: ValueSource.OK_API}


@dataclass
class MembersMonthResult:
    """What filling one month did."""

    month: dt.date
    communities: int = 0
    rows_changed: int = 0

    def as_dict(self) -> dict:
        return {"month": self.month.strftime("%Y-%m"), "communities": self.communities,
                "rows_changed": self.rows_changed}


def month_end_members(*, month: dt.date) -> dict[str, dict[int, int]]:
    """``{network: {community id: members}}`` from each community's last snapshot in the month."""
    first, last = month.replace(day=1), month_end(month)
    latest = (MemberSnapshot.objects.filter(community_id=OuterRef("pk"), date__gte=first,
                                            date__lte=last)
              .order_by("-date").values("members")[:1])
    rows = (Community.objects.annotate(month_members=Subquery(latest))
            .filter(month_members__isnull=False).order_by("pk")
            .values_list("pk", "network", "month_members"))
    by_network: dict[str, dict[int, int]] = defaultdict(dict)
    for community_id, network, members in rows.iterator(chunk_size=CHUNK):
        by_network[network][community_id] = members
    return by_network


def members_month_record(*, month: dt.date) -> MembersMonthResult:
    """Write each community's month-end members into the month's Table-1 values."""
    month = month.replace(day=1)
    if month > timezone.localdate():
        raise ValidationFailed(f"Месяц {month_label(month)} ещё не начался.")
    result = MembersMonthResult(month=month)
    for network, members in month_end_members(month=month).items():
        result.communities += len(members)
        items = list(members.items())
        for start in range(0, len(items), CHUNK):
            result.rows_changed += api_values_record_many(
                month=month, source=SOURCES[network],
                values={cid: {Indicator.MEMBERS: n} for cid, n in items[start:start + CHUNK]})
    return result


def previous_month() -> dt.date:
    """The month that ended most recently (local time)."""
    return add_months(timezone.localdate().replace(day=1), -1)
