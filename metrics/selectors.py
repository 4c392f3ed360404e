"""Reads of the numbers that more than one interface needs."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet, Sum

from institutions.models import Community
from metrics.models import MetricValue, ValueCount


def values_count(*, communities: QuerySet[Community]) -> int:
    """How many monthly values ``communities`` have, exactly.

    On PostgreSQL it sums the trigger-kept ``ValueCount`` rows (one a community) rather than
    counting every value: for a region's 360,000 values ``COUNT(*)`` costs far more than the
    page of a list it would be the count of. Elsewhere it counts the values.
    """
    scoped = communities.query.has_filters()  # else every community: no join needed
    if connection.vendor != "postgresql":
        values = MetricValue.objects.all()
        if scoped:
            values = values.filter(community__in=communities.values("pk"))
        return values.count()
    counts = ValueCount.objects.all()
    if scoped:
        counts = counts.filter(community__in=communities.values("pk"))
    return int(counts.aggregate(total=Sum("rows"))["total"] or 0)
