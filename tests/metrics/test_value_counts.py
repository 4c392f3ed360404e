"""The per-community value counts the database keeps (``ValueCount``, PostgreSQL triggers).

The values list trusts them for its ``count``, so every way a value row appears, moves or goes
must leave them equal to a plain count of the rows.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count

from metrics.choices import Indicator, ValueSource
from metrics.models import MetricValue, ValueCount
from metrics.selectors import values_count
from metrics.services import api_values_record_many
from tests.factories import CommunityFactory, MetricValueFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="the counts are kept by PostgreSQL triggers")

JAN, FEB = dt.date(2026, 1, 1), dt.date(2026, 2, 1)


def counted() -> dict[int, int]:
    """What the rows say, community by community."""
    rows = MetricValue.objects.values("community").annotate(n=Count("pk"))
    return {r["community"]: r["n"] for r in rows}


def kept() -> dict[int, int]:
    """What the triggers kept (communities whose values all went count 0)."""
    return {c: n for c, n in ValueCount.objects.values_list("community", "rows") if n}


def test_saves_and_bulk_inserts_are_counted(community_a, community_b):
    MetricValueFactory(community=community_a, indicator=Indicator.VISITS)
    MetricValue.objects.bulk_create([
        MetricValue(community=c, month=m, indicator=i, value=1)
        for c in (community_a, community_b) for m in (JAN, FEB)
        for i in (Indicator.MEMBERS, Indicator.FEEDBACK)])
    MetricValue.objects.update_or_create(community=community_b, month=JAN,
                                         indicator=Indicator.VISITS, defaults={"value": 3})
    assert kept() == counted() == {community_a.pk: 5, community_b.pk: 5}


def test_deletes_of_every_kind_are_counted(community_a, community_b):
    for community in (community_a, community_b):
        for indicator in (Indicator.MEMBERS, Indicator.VISITS, Indicator.FEEDBACK):
            MetricValueFactory(community=community, indicator=indicator)
    MetricValue.objects.filter(community=community_a, indicator=Indicator.MEMBERS).get().delete()
    MetricValue.objects.filter(community=community_b).exclude(
        indicator=Indicator.VISITS).delete()
    assert kept() == counted() == {community_a.pk: 2, community_b.pk: 1}
    community_a.delete()  # its values go with it (and so does its count row)
    assert kept() == counted() == {community_b.pk: 1}
    assert not ValueCount.objects.filter(community_id=community_a.pk).exists()


def test_a_value_moved_to_another_community_moves_its_count(community_a, community_b):
    value = MetricValueFactory(community=community_a)
    MetricValueFactory(community=community_a, indicator=Indicator.VISITS)
    MetricValue.objects.filter(pk=value.pk).update(community=community_b)
    assert kept() == counted() == {community_a.pk: 1, community_b.pk: 1}


def test_truncate_empties_the_counts(community_a):
    MetricValueFactory(community=community_a)
    with connection.cursor() as cursor:
        # The test's transaction still holds the deferred foreign-key checks of the insert.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE metrics_metricvalue")
    assert kept() == counted() == {}


def test_the_collectors_bulk_writes_are_counted(community_a, community_b):
    api_values_record_many(month=JAN, source=ValueSource.VK_API, values={
        community_a.pk: {Indicator.POSTS: 3, Indicator.LIKES: 10},
        community_b.pk: {Indicator.POSTS: 1}})
    api_values_record_many(month=JAN, source=ValueSource.VK_API, values={
        community_a.pk: {Indicator.POSTS: 4, Indicator.COMMENTS: 2}})
    assert kept() == counted() == {community_a.pk: 3, community_b.pk: 1}


def test_a_rolled_back_write_leaves_the_counts_as_they_were(community_a):
    from django.db import IntegrityError, transaction

    MetricValueFactory(community=community_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        MetricValueFactory(community=community_a, indicator=Indicator.VISITS)
        MetricValueFactory(community=community_a)  # the natural key again
    assert kept() == counted() == {community_a.pk: 1}


def test_values_count_sums_the_scope(world, community_a, community_b):
    extra = CommunityFactory(institution=community_a.institution)
    for community, n in ((community_a, 2), (community_b, 3), (extra, 1)):
        for indicator in list(Indicator)[:n]:
            MetricValueFactory(community=community, indicator=indicator)
    from institutions.models import Community

    assert values_count(communities=Community.objects.all()) == 6
    assert values_count(communities=Community.objects.filter(
        institution=community_a.institution)) == 3
    assert values_count(communities=Community.objects.none()) == 0
