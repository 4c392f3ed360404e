"""Members on every day (PostgreSQL): the carry-forward the triggers keep matches the snapshots.

Whatever writes or removes snapshots — the collector's upsert, ``create``, ``update``, a date
moved, a delete, a community deleted, TRUNCATE — ``metrics_membersonday`` holds, for every
community and every day from its first snapshot to the horizon, its latest snapshot on or before
that day.
"""

import datetime as dt
import random

import pytest
from django.db import connection

from metrics.collect.store import upsert_snapshots
from metrics.models import MemberSnapshot, MembersOnDay
from tests.factories import CommunityFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers"),
]

DAY = dt.date(2026, 3, 30)


def _expected() -> dict[tuple[int, dt.date], tuple[int, dt.date]]:
    """Every (community, day) up to the stored horizon: the nearest earlier snapshot."""
    horizon = max((d.date for d in MembersOnDay.objects.all()), default=None)
    snapshots: dict[int, list[tuple[dt.date, int]]] = {}
    for s in MemberSnapshot.objects.order_by("date"):
        snapshots.setdefault(s.community_id, []).append((s.date, s.members))
    if snapshots:
        assert horizon is not None
        assert horizon >= max(day for rows in snapshots.values() for day, _ in rows)
    expected = {}
    for community, rows in snapshots.items():
        day, index = rows[0][0], 0
        while day <= horizon:
            while index + 1 < len(rows) and rows[index + 1][0] <= day:
                index += 1
            expected[(community, day)] = (rows[index][1], rows[index][0])
            day += dt.timedelta(days=1)
    return expected


def _stored() -> dict[tuple[int, dt.date], tuple[int, dt.date]]:
    return {(d.community_id, d.date): (d.members, d.observed_on)
            for d in MembersOnDay.objects.all()}


def _partitions() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                       " WHERE i.inhparent = 'metrics_membersonday'::regclass ORDER BY 1")
        return [row[0] for row in cursor.fetchall()]


def test_a_day_collected_fills_the_days_since_and_carries_the_others_forward():
    first, second = CommunityFactory(), CommunityFactory()
    upsert_snapshots(DAY, {first.pk: 100, second.pk: 200})
    upsert_snapshots(DAY + dt.timedelta(days=3), {first.pk: 130})

    stored = _stored()
    assert stored == _expected()
    assert stored[(second.pk, DAY + dt.timedelta(days=3))] == (200, DAY)
    assert stored[(first.pk, DAY + dt.timedelta(days=2))] == (100, DAY)
    assert stored[(first.pk, DAY + dt.timedelta(days=3))] == (130, DAY + dt.timedelta(days=3))
    # 30 March to 2 April: two months, two partitions
    assert _partitions() == ["metrics_membersonday_y2026m03", "metrics_membersonday_y2026m04"]


def test_a_day_collected_after_a_month_without_data_carries_through_the_month_between():
    community = CommunityFactory()
    upsert_snapshots(DAY, {community.pk: 100})
    upsert_snapshots(dt.date(2026, 6, 1), {community.pk: 160})

    stored = _stored()
    assert stored == _expected()
    assert stored[(community.pk, dt.date(2026, 5, 15))] == (100, DAY)
    assert _partitions() == [f"metrics_membersonday_y2026m0{m}" for m in (3, 4, 5, 6)]


def test_collecting_a_day_again_rewrites_its_figure():
    community = CommunityFactory()
    upsert_snapshots(DAY, {community.pk: 100})
    upsert_snapshots(DAY, {community.pk: 111})

    assert _stored() == {(community.pk, DAY): (111, DAY)} == _expected()


def test_an_older_snapshot_imported_later_fills_the_days_up_to_the_next_one():
    community = CommunityFactory()
    upsert_snapshots(DAY, {community.pk: 100})
    MemberSnapshot.objects.create(community=community, date=DAY - dt.timedelta(days=40),
                                  members=50)

    stored = _stored()
    assert stored == _expected()
    assert stored[(community.pk, DAY - dt.timedelta(days=1))] == (50, DAY - dt.timedelta(days=40))
    assert "metrics_membersonday_y2026m02" in _partitions()


def test_a_deleted_snapshot_hands_its_days_to_the_previous_one_or_drops_them():
    community, other = CommunityFactory(), CommunityFactory()
    upsert_snapshots(DAY, {community.pk: 100, other.pk: 5})
    upsert_snapshots(DAY + dt.timedelta(days=2), {community.pk: 120})
    upsert_snapshots(DAY + dt.timedelta(days=4), {other.pk: 6})

    MemberSnapshot.objects.filter(community=community, date=DAY + dt.timedelta(days=2)).delete()
    assert _stored()[(community.pk, DAY + dt.timedelta(days=4))] == (100, DAY)
    assert _stored() == _expected()

    community.delete()
    assert not MembersOnDay.objects.filter(community_id=community.pk).exists()
    assert _stored() == _expected()


def test_a_snapshot_moved_to_another_date_moves_its_days():
    community = CommunityFactory()
    upsert_snapshots(DAY, {community.pk: 100})
    upsert_snapshots(DAY + dt.timedelta(days=5), {community.pk: 150})
    MemberSnapshot.objects.filter(community=community, date=DAY + dt.timedelta(days=5)).update(
        date=DAY + dt.timedelta(days=2), members=140)

    stored = _stored()
    assert stored == _expected()
    assert stored[(community.pk, DAY + dt.timedelta(days=5))] == (140, DAY + dt.timedelta(days=2))


def test_truncating_the_snapshots_empties_the_days():
    upsert_snapshots(DAY, {CommunityFactory().pk: 100})
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's open transaction
        cursor.execute("TRUNCATE metrics_membersnapshot")
    assert not MembersOnDay.objects.exists()


def test_random_writes_and_removals_keep_the_days_exact():
    rng = random.Random(19)
    communities = [CommunityFactory().pk for _ in range(6)]
    for _ in range(40):
        day = DAY + dt.timedelta(days=rng.randrange(-50, 50))
        action = rng.random()
        if action < 0.6:
            upsert_snapshots(day, {c: rng.randrange(1000) for c in rng.sample(communities, 3)})
        elif action < 0.8:
            MemberSnapshot.objects.filter(community_id=rng.choice(communities),
                                          date__lte=day).delete()
        else:
            MemberSnapshot.objects.filter(community_id=rng.choice(communities), date=day) \
                .update(members=rng.randrange(1000))
        assert _stored() == _expected()


def test_rebuild_makes_the_same_days_as_the_triggers():
    communities = [CommunityFactory().pk for _ in range(3)]
    for offset in (0, 3, 7, 40):
        upsert_snapshots(DAY + dt.timedelta(days=offset), {c: offset + c for c in communities[1:]})
    upsert_snapshots(DAY + dt.timedelta(days=1), {communities[0]: 9})
    kept = _stored()

    with connection.cursor() as cursor:
        cursor.execute("SELECT metrics_members_on_day_rebuild()")

    assert _stored() == kept == _expected()
