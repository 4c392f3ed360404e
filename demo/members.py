"""Demo numbers for rankings and charts: a year of daily members and monthly engagement.

Each community's daily members are the emulator's (``demo.network``), so every run produces the
same figure for the same day and a collection continues the curve. Rows go in with one
``INSERT ... ON CONFLICT DO NOTHING`` per batch: a second run adds only days that are new since
the first (idempotent), and a region of ~1,200 communities takes seconds on SQLite. Model
instances are not built: at 400,000 rows the ORM's per-object work would dominate.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from psycopg2.extras import execute_values

from demo.network import deleted_on, members_on, missed, network_today
from institutions.choices import CommunityState
from institutions.models import SINCE_ALWAYS, Community, CommunityHistory
from metrics.choices import Indicator, ValueSource
from metrics.models import MemberSnapshot, MetricValue
from portal.lib.months import add_months, month_start

DAYS = 365
BATCH = 5000


def _walk(network: str, gid: int, first: dt.date, end: dt.date,
          state: str) -> Iterator[tuple[dt.date, int]]:
    """The emulator's members of the community day by day, a few days missed; a community the
    emulator answers as deleted stops on the day it was deleted."""
    if state == CommunityState.DELETED:
        end = min(end, deleted_on(network, gid, end))
    day, one = first, dt.timedelta(days=1)
    while day <= end:
        if not missed(network, gid, day) or day == end:
            yield day, members_on(network, gid, day)
        day += one


def _insert_ignore(model: type[models.Model], columns: Sequence[str],
                   rows: Iterable[Sequence[Any]]) -> None:
    """Insert plain tuples, skipping rows whose natural key already exists; other columns get
    their model defaults."""
    given = set(columns)
    fields = [f for f in model._meta.concrete_fields
              if not f.primary_key and f.column not in given]
    defaults = [f.get_db_prep_save(f.get_default(), connection) for f in fields]
    names = [*columns, *(f.column for f in fields)]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, names))}) VALUES "
    row_sql = f"({', '.join(['%s'] * len(names))})"
    batch: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append((*row, *defaults))
            if len(batch) >= BATCH:
                _insert_batch(cursor, head, row_sql, batch)
                batch.clear()
        if batch:
            _insert_batch(cursor, head, row_sql, batch)


def _insert_batch(cursor: Any, head: str, row_sql: str, batch: list[tuple]) -> None:
    """On PostgreSQL one statement per batch: the snapshots' statement triggers (the members by
    day) then run once per batch, not once per row (per row, the demo took three minutes)."""
    if connection.vendor == "postgresql":
        execute_values(cursor.cursor, f"{head}%s ON CONFLICT DO NOTHING", batch,
                       template=row_sql, page_size=len(batch))
    else:
        cursor.executemany(f"{head}{row_sql} ON CONFLICT DO NOTHING", batch)


def _snapshot_rows(communities: list[tuple[int, int, str]], networks: dict[int, str],
                   end: dt.date, now: Any) -> Iterator[tuple]:
    first = end - dt.timedelta(days=DAYS - 1)
    adapt = connection.ops.adapt_datefield_value
    for pk, gid, state in communities:
        for day, members in _walk(networks[pk], gid, first, end, state):
            yield pk, adapt(day), members, now


def _deletions(communities: list[tuple[int, int, str]], networks: dict[int, str],
               end: dt.date) -> None:
    """Deleted demo communities were active until their day: their history says so."""
    gone = [(pk, deleted_on(networks[pk], gid, end)) for pk, gid, state in communities
            if state == CommunityState.DELETED]
    titles = dict(Community.objects.filter(pk__in=[pk for pk, _ in gone])
                  .values_list("pk", "title"))
    CommunityHistory.objects.bulk_create(
        [CommunityHistory(community_id=pk, valid_from=SINCE_ALWAYS, state=CommunityState.ACTIVE,
                          title=titles[pk]) for pk, _ in gone]
        + [CommunityHistory(community_id=pk, valid_from=day + dt.timedelta(days=1),
                            state=CommunityState.DELETED, title=titles[pk]) for pk, day in gone],
        ignore_conflicts=True)


def _engagement_rows(communities: list[tuple[int, int, str]], networks: dict[int, str],
                     end: dt.date, now: Any) -> Iterator[tuple]:
    """Monthly posts, likes, reposts, comments and views for the last twelve whole months."""
    months = [add_months(month_start(end), -n) for n in range(1, 13)]
    adapt = connection.ops.adapt_datefield_value
    for pk, seed, state in communities:
        if state != CommunityState.ACTIVE:
            continue
        source = ValueSource.VK_API if networks[pk] == "vk" else ValueSource.OK_API
        for month in months:
            rng = random.Random(seed * 100 + month.toordinal())
            posts = rng.randrange(2, 40)
            views = int(posts * rng.uniform(20, 600))
            likes = int(views * rng.uniform(0.01, 0.06))
            figures = {Indicator.POSTS: posts, Indicator.VIEWS: views, Indicator.LIKES: likes,
                       Indicator.REPOSTS: int(likes * rng.uniform(0.05, 0.2)),
                       Indicator.COMMENTS: int(likes * rng.uniform(0.02, 0.15))}
            for indicator, value in figures.items():
                yield (pk, adapt(month), str(indicator), value, str(source), value,
                       str(source), now, now)


@transaction.atomic
def seed_member_history(*, end: dt.date | None = None) -> dict[str, int]:
    """Daily members for about a year and monthly engagement; return how many rows were added.

    The history ends the day before the emulator's "today": its next figure is the emulator's.
    """
    end = end or network_today() - dt.timedelta(days=1)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = list(Community.objects.order_by("pk").values_list("pk", "network_id", "state",
                                                             "network"))
    communities = [(pk, network_id or pk, state) for pk, network_id, state, _ in rows]
    networks = {pk: network for pk, _, _, network in rows}
    before = (MemberSnapshot.objects.count(), MetricValue.objects.count())
    _insert_ignore(MemberSnapshot, ["community_id", "date", "members", "collected_at"],
                   _snapshot_rows(communities, networks, end, now))
    _deletions(communities, networks, end)
    _insert_ignore(MetricValue, ["community_id", "month", "indicator", "value", "source",
                                 "api_value", "api_source", "api_collected_at", "updated_at"],
                   _engagement_rows(communities, networks, end, now))
    return {"snapshots": MemberSnapshot.objects.count() - before[0],
            "values": MetricValue.objects.count() - before[1]}
