"""Recording a community's state and title with dates (``CommunityHistory``).

Whoever changes a community's state or title (a collection, a registry edit) records it here in
the same transaction, so a ranking, chart or summary of an earlier period keeps showing the
community as it was then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from institutions.models import SINCE_ALWAYS, CommunityHistory

# (state, title) of a community.
Look = tuple[str, str]


def community_history_record(*, before: Mapping[int, Look], after: Mapping[int, Look],
                             on: dt.date) -> int:
    """Record every community whose state or title changes on ``on``; return how many.

    A community with no history yet first gets a row "since always" with what it was before,
    so earlier periods keep that. Recording the same change twice on a day is a no-op.
    """
    changed = {pk: look for pk, look in after.items() if pk in before and before[pk] != look}
    if not changed:
        return 0
    known = set(CommunityHistory.objects.filter(community_id__in=list(changed))
                .values_list("community_id", flat=True).distinct())
    first = [CommunityHistory(community_id=pk, valid_from=SINCE_ALWAYS, state=before[pk][0],
                              title=before[pk][1]) for pk in changed if pk not in known]
    CommunityHistory.objects.bulk_create(first, ignore_conflicts=True)
    CommunityHistory.objects.bulk_create(
        [CommunityHistory(community_id=pk, valid_from=on, state=state, title=title)
         for pk, (state, title) in changed.items()],
        update_conflicts=True, unique_fields=["community", "valid_from"],
        update_fields=["state", "title", "recorded_at"])
    return len(changed)
