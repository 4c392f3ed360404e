"""The bulk writes of a batch: snapshots, the communities' registry fields, Table-1 values.

A members batch writes thousands of rows; these write them in a statement or two each, with the
rows as one parameter (``metrics.bulk``), never a model instance per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from institutions.choices import Network
from institutions.history import community_history_record
from institutions.models import Community
from metrics.bulk import field_columns, int_array, unnest
from metrics.choices import ValueSource
from metrics.collect.fetch import BatchResult
from metrics.formats import PostFact
from metrics.models import CollectionRun, MemberSnapshot, Post, PostHashtag
from metrics.services import api_values_record, api_values_record_many
from portal.errors import PortalError

COMMUNITY_FIELDS = ["network_id", "members_count", "title", "screen_name", "is_verified",
                    "state", "last_collected_at", "last_error", "kind", "description", "site",
                    "has_avatar", "has_cover", "wall_mode", "has_addresses"]
#: From this many communities a batch writes their rows on a second connection (members).
APART_FROM = 500


def relaxed_commit() -> None:
    """Let this transaction's commit return before its WAL reaches the disk (PostgreSQL).

    Collected figures can always be fetched again, and the worst a database crash can do is
    lose the last fraction of a second of commits whole: a batch that was stored comes back as
    open, with nothing of it written, and is collected again. Nothing is half-written, so the
    wait for the disk at every batch is not worth its time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def value_source(run: CollectionRun) -> str:
    return ValueSource.VK_API if run.network == Network.VK else ValueSource.OK_API


def record_values(run: CollectionRun, result: BatchResult) -> None:
    """The batch's figures in a few bulk queries; community by community if one is refused."""
    source = value_source(run)
    try:
        with transaction.atomic():
            api_values_record_many(month=run.period, values=result.monthly, source=source)
        return
    except PortalError:
        pass  # find which community is refused, and keep the others' figures
    for community_id, values in result.monthly.items():
        try:
            with transaction.atomic():
                api_values_record(community_id=community_id, month=run.period, values=values,
                                  source=source)
        except PortalError as exc:
            result.problem(community_id, key=exc.code, message=exc.message, skipped=True)


def record_values_of(run: CollectionRun, results: Sequence[BatchResult]) -> None:
    """Several batches' figures in one ``api_values_record_many``; batch by batch if refused."""
    if len(results) > 1:
        values = {cid: figures for result in results for cid, figures in result.monthly.items()}
        try:
            with transaction.atomic():
                api_values_record_many(month=run.period, values=values, source=value_source(run))
            return
        except PortalError:
            pass  # each batch finds its refused communities
    for result in results:
        record_values(run, result)


def upsert_snapshots(day: dt.date, snapshots: dict[int, int]) -> None:
    """Every snapshot in one ``INSERT … ON CONFLICT`` (PostgreSQL: two arrays, no model rows)."""
    if not snapshots:
        return
    now = timezone.now()
    if connection.vendor != "postgresql":
        MemberSnapshot.objects.bulk_create(
            [MemberSnapshot(community_id=cid, date=day, members=n, collected_at=now)
             for cid, n in snapshots.items()],
            update_conflicts=True, unique_fields=["community", "date"],
            update_fields=["members", "collected_at", "source", "source_file", "imported_by"],
            batch_size=2000,
        )
        return
    table = connection.ops.quote_name(MemberSnapshot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (community_id, date, members, collected_at)"
            " SELECT s.community_id, %s, s.members, %s"
            " FROM unnest(%s::bigint[], %s::integer[]) AS s(community_id, members)"
            " ON CONFLICT (community_id, date) DO UPDATE"
            " SET members = EXCLUDED.members, collected_at = EXCLUDED.collected_at,"
            # The network's own count replaces an imported one for that date.
            " source = 'collected', source_file = '', imported_by_id = NULL",
            [day, now, int_array(snapshots), int_array(snapshots.values())],
        )


def apart_pays(result: BatchResult) -> bool:
    """Whether to write the batch's communities apart (big batch, no outer transaction)."""
    return (connection.vendor == "postgresql" and not connection.in_atomic_block
            and len(result.community_fields) >= APART_FROM)


def started(function: Callable[..., None], *args: Any) -> Future[None]:
    """``function(*args)`` running in a thread of its own."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(function, *args)
    finally:
        pool.shutdown(wait=False)


def update_communities_apart(result: BatchResult) -> None:
    """``update_communities`` in its own transaction, on this thread's own connection."""
    try:
        with transaction.atomic():
            relaxed_commit()
            update_communities(result)
    finally:
        connection.close()


def update_communities(result: BatchResult) -> None:
    """Write what the network said about each community; a field not said stays as it is.

    Only the fields some community says are written: on most days that is the members count,
    the time and the (cleared) error, and the titles and names are not touched.
    """
    rows = result.community_fields
    said = {name for values in rows.values() for name in values}
    fields = [Community._meta.get_field(name) for name in COMMUNITY_FIELDS if name in said]
    if not fields:
        return
    if said & {"state", "title"}:
        _record_history(rows)
    if connection.vendor == "postgresql":
        _update_communities_arrays(fields, rows)
    else:
        _update_communities_each(fields, rows)


def _record_history(rows: dict[int, dict]) -> None:
    """Date the states and titles about to change, so earlier periods keep the old ones."""
    ids = [pk for pk, values in rows.items() if "state" in values or "title" in values]
    before = {pk: (state, title) for pk, state, title in Community.objects.filter(
        pk__in=ids).values_list("pk", "state", "title")}
    after = {pk: (rows[pk].get("state") or look[0], rows[pk].get("title") or look[1])
             for pk, look in before.items()}
    community_history_record(before=before, after=after, on=timezone.localdate())


def _update_communities_arrays(fields: list, rows: dict[int, dict]) -> None:
    """One ``UPDATE … FROM unnest(…)`` for the whole batch; a NULL keeps the column.

    Each field travels as one array literal (see ``metrics.bulk``), NULL for a community that
    does not say it.
    """
    quote = connection.ops.quote_name
    source, params = unnest(
        [("id", "bigint"), *field_columns(fields)],
        [rows.keys(), *([values.get(f.name) for values in rows.values()] for f in fields)])
    sets = ", ".join(f"{quote(f.column)} = COALESCE(v.{f.column}, t.{quote(f.column)})"
                     for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(Community._meta.db_table)} AS t SET {sets}"
                       f" FROM {source} WHERE t.id = v.id", params)


def _update_communities_each(fields: list, rows: dict[int, dict]) -> None:
    """The same for other databases (the embedded SQLite demo): one statement per row."""
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = COALESCE(%s, {quote(f.column)})" for f in fields)
    params = [
        [None if values.get(f.name) is None else
         f.get_db_prep_value(values[f.name], connection) for f in fields] + [pk]
        for pk, values in rows.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(Community._meta.db_table)} SET {sets} WHERE id = %s", params)


def record_posts(month: dt.date, results: Sequence[BatchResult]) -> None:
    """Replace the month's posts of every community read whole (a rerun leaves the same rows).

    On PostgreSQL a batch's posts and hashtags go in two ``INSERT … SELECT FROM unnest``
    statements (a posts run writes a hundred thousand of them), never a model per row.
    """
    # A post read twice (the wall moved between its pages) is one post.
    read = {cid: list({fact.key[:40]: fact for fact in facts}.values())
            for result in results for cid, facts in result.posts.items()}
    if not read:
        return
    if connection.vendor == "postgresql":
        _record_posts_arrays(month, read)
        return
    Post.objects.filter(community_id__in=list(read), month=month).delete()
    posts = [_post_row(cid, month, fact) for cid, facts in read.items() for fact in facts]
    Post.objects.bulk_create(posts, batch_size=2000)
    facts = (fact for facts in read.values() for fact in facts)
    tags = [PostHashtag(post=post, community_id=post.community_id, month=month, tag=tag)
            for post, fact in zip(posts, facts, strict=True) for tag in fact.hashtags]
    PostHashtag.objects.bulk_create(tags, batch_size=2000)


_POST_COLUMNS = [
    ("community_id", "bigint"), ("key", "varchar"), ("published_at", "timestamptz"),
    ("format", "varchar"), ("has_image", "boolean"), ("has_video", "boolean"),
    ("has_external_video", "boolean"), ("hashtags", "smallint"), ("comments_open", "boolean"),
    ("likes", "integer"), ("reposts", "integer"), ("comments", "integer"), ("views", "integer"),
]


def _post_values(cid: int, fact: PostFact) -> tuple:
    return (cid, fact.key[:40], fact.date, fact.format, fact.has_image, fact.has_video,
            fact.has_external_video, len(fact.hashtags), fact.comments_open, fact.likes,
            fact.reposts, fact.comments, fact.views)


def _record_posts_arrays(month: dt.date, read: dict[int, list[PostFact]]) -> None:
    quote = connection.ops.quote_name
    posts, tags = quote(Post._meta.db_table), quote(PostHashtag._meta.db_table)
    ids = int_array(read)
    rows = [_post_values(cid, fact) for cid, facts in read.items() for fact in facts]
    with connection.cursor() as cursor:
        for table in (tags, posts):
            cursor.execute(f"DELETE FROM {table} WHERE month = %s"
                           " AND community_id = ANY(%s::bigint[])", [month, ids])
        if not rows:
            return
        source, params = unnest(_POST_COLUMNS, list(zip(*rows, strict=True)))
        names = ", ".join(quote(name) for name, _ in _POST_COLUMNS)
        cursor.execute(f"INSERT INTO {posts} ({names}, month) SELECT v.*, %s FROM {source}"
                       " RETURNING id, community_id, key", [month, *params])
        post_ids = {(cid, key): pk for pk, cid, key in cursor.fetchall()}
        tagged = [(post_ids[(cid, fact.key[:40])], cid, tag)
                  for cid, facts in read.items() for fact in facts for tag in fact.hashtags]
        if tagged:
            source, params = unnest([("post_id", "bigint"), ("community_id", "bigint"),
                                     ("tag", "varchar")], list(zip(*tagged, strict=True)))
            cursor.execute(f"INSERT INTO {tags} (post_id, community_id, tag, month)"
                           f" SELECT v.*, %s FROM {source}", [month, *params])


def _post_row(community_id: int, month: dt.date, fact: PostFact) -> Post:
    return Post(community_id=community_id, key=fact.key[:40], month=month,
                published_at=fact.date, format=fact.format, has_image=fact.has_image,
                has_video=fact.has_video, has_external_video=fact.has_external_video,
                hashtags=len(fact.hashtags), comments_open=fact.comments_open,
                likes=fact.likes, reposts=fact.reposts, comments=fact.comments,
                views=fact.views)
