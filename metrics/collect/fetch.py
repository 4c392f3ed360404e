"""The network half of a batch: ask VK or OK with the fewest requests, describe the outcome.

Nothing here writes the batch's results; ``runs.collection_batch_collect`` stores a
``BatchResult`` in one transaction. Token trouble is written at once (a dead token must not be
tried by the next batch): an invalid token is disabled, a token out of daily quota rests, and the
request goes on with the remaining tokens. Posts live in ``posts.py``.

Fetchers get ``Target``s, not model instances: a members run loads thousands of communities and
needs four fields of each.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection
from django.utils import timezone

from institutions.choices import CommunityState, Network
from institutions.models import Community
from metrics.bulk import int_array
from metrics.collect.credentials import Credential
from metrics.collect.errors import (
    CommunityDeleted,
    CommunityError,
    DailyLimitReached,
    NoUsableToken,
    RequestRejected,
    TokenError,
    TokenInvalid,
    TransientNetworkError,
)
from metrics.collect.mapping import ok_stats_values, vk_stats_values
from metrics.formats import PostFact
from metrics.models import NetworkToken
from metrics.ok.client import GROUPS_PER_CALL as OK_GROUPS_PER_CALL
from metrics.ok.client import OkClient
from metrics.tokens import token_credential, token_disable, token_rest, tokens_usable
from metrics.vk.answers import GroupRow, VkGroups, VkResolved, VkStats
from metrics.vk.calls import (
    GROUPS_PER_CALL,
    groups_by_id_call,
    resolve_call,
    stats_call,
    stats_month_noons,
)
from metrics.vk.client import VkClient
from portal.lib.months import add_months

T = TypeVar("T")
NETWORK_NAMES = {Network.VK: "VK", Network.OK: "OK"}


@dataclass(slots=True)
class Target:
    """What a fetcher needs of a community."""

    pk: int
    network_id: int | None
    screen_name: str
    title: str
    is_verified: bool = False
    state: str = ""

    def changes(self, **fields: Any) -> dict[str, Any]:
        """The fields whose value differs from what the registry holds: only they are written
        (a field the target does not carry, like ``members_count``, always is)."""
        return {name: value for name, value in fields.items()
                if getattr(self, name, _UNKNOWN) != value}


_UNKNOWN = object()
TARGET_FIELDS = ("pk", "network_id", "screen_name", "title", "is_verified", "state")


def targets_load(community_ids: Iterable[int]) -> list[Target]:
    """The communities' targets, ordered by id (one query, no model instances).

    On PostgreSQL the ids go as one array parameter: a members batch has thousands of them.
    """
    ids = list(community_ids)
    if connection.vendor != "postgresql":
        rows = Community.objects.filter(pk__in=ids).order_by("pk").values_list(*TARGET_FIELDS)
        return [Target(*row) for row in rows]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, network_id, screen_name, title, is_verified, state FROM "
                       f"{connection.ops.quote_name(Community._meta.db_table)}"
                       " WHERE id = ANY(%s::bigint[]) ORDER BY id", [int_array(ids)])
        return [Target(*row) for row in cursor.fetchall()]


@dataclass
class Outcome:
    """What happened to one community in a batch."""

    status: str  # done | failed | skipped
    key: str = ""
    message: str = ""


@dataclass
class BatchResult:
    """Everything a batch learned, ready to be stored in one transaction."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)
    community_fields: dict[int, dict[str, Any]] = field(default_factory=dict)
    snapshots: dict[int, int] = field(default_factory=dict)
    monthly: dict[int, dict[str, int]] = field(default_factory=dict)
    posts: dict[int, list[PostFact]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    collected_at: dt.datetime = field(default_factory=timezone.now)

    def done(self, community_id: int, **fields: Any) -> None:
        self.outcomes[community_id] = Outcome("done")
        self.community_fields[community_id] = {
            "last_collected_at": self.collected_at, "last_error": "", **fields}

    def problem(self, community_id: int, *, key: str, message: str, skipped: bool = False,
                **fields: Any) -> None:
        self.outcomes[community_id] = Outcome("skipped" if skipped else "failed", key, message)
        self.community_fields[community_id] = {"last_error": message[:300], **fields}
        self.errors[key] += 1

    def community_failure(self, community: Target, exc: CommunityError) -> None:
        """Closed and deleted communities are marked so later runs skip them."""
        state = {"closed": CommunityState.CLOSED, "deleted": CommunityState.DELETED}.get(exc.state)
        fields = {"state": state} if state else {}
        self.problem(community.pk, key=exc.key, message=exc.message, skipped=bool(state),
                     **fields)


def chunked(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month as aware local datetimes [start, end)."""
    start = timezone.make_aware(dt.datetime.combine(month.replace(day=1), dt.time()))
    end = timezone.make_aware(dt.datetime.combine(add_months(month.replace(day=1), 1), dt.time()))
    return start, end


# --- tokens ---------------------------------------------------------------------------------------
def credentials_usable(network: str, tokens: Iterable[NetworkToken]) -> list[Credential]:
    """The tokens' credentials; NoUsableToken when there are none."""
    credentials = [token_credential(t) for t in tokens]
    if not credentials:
        raise NoUsableToken(f"нет действующего ключа {NETWORK_NAMES[network]}", key="no_token")
    return credentials


def network_client(network: str, tokens: Iterable[NetworkToken]) -> VkClient | OkClient:
    cls = VkClient if network == Network.VK else OkClient
    return cls(credentials=credentials_usable(network, tokens))


def token_trouble(exc: TokenError) -> None:
    """Write down what a token error means for the token: rest, or disable only when the
    network said the token itself is dead (an unsuitable one is just set aside by the caller)."""
    if exc.token_id is None:
        return
    if isinstance(exc, DailyLimitReached):
        token_rest(token_id=exc.token_id)
    elif isinstance(exc, TokenInvalid):
        token_disable(token_id=exc.token_id, reason=f"{exc.message} ({exc.key})")


def guarded(client: VkClient | OkClient, result: BatchResult, call: Callable[[], T]) -> T:
    """Run ``call``; on a token's error set that token aside and go on with the others."""
    while True:
        try:
            return call()
        except TokenError as exc:
            if exc.token_id is None:
                raise
            token_trouble(exc)
            client.drop(exc.token_id)
            if not client.credentials:  # the batch counts this last error itself
                raise NoUsableToken(f"не осталось действующих ключей: {exc.message}",
                                    key=exc.key) from exc
            result.errors[exc.key] += 1


# --- members --------------------------------------------------------------------------------------
def vk_members(communities: list[Target], period: dt.date, result: BatchResult) -> None:
    """Members of VK communities: names resolved once, then 500 ids a call, 25 calls a request."""
    client = network_client(Network.VK, tokens_usable(network=Network.VK))
    try:
        _vk_resolve(client, [c for c in communities if not c.network_id], result)
        known = [c for c in communities if c.network_id]
        calls = [groups_by_id_call(ids) for ids in chunked([c.network_id for c in known],
                                                           GROUPS_PER_CALL)]
        answers = guarded(client, result, lambda: client.run(calls))
    finally:
        result.requests += client.requests_made
    groups: dict[int, GroupRow] = {}
    profiles: dict[int, dict[str, Any]] = {}
    for answer in answers:
        if isinstance(answer, VkGroups):
            groups.update(answer.by_id())
            profiles.update(answer.profiles_by_id())
    for community in known:
        _vk_member(community, groups.get(community.network_id), result,
                   profiles.get(community.network_id) or {})


def _vk_resolve(client: VkClient, unresolved: list[Target], result: BatchResult) -> None:
    if not unresolved:
        return
    answers = guarded(client, result, lambda: client.run(
        [resolve_call(c.screen_name) for c in unresolved]))
    found = {c.pk: a for c, a in zip(unresolved, answers, strict=True)
             if isinstance(a, VkResolved) and a.type in ("group", "page", "event")}
    taken = set(Community.objects.filter(
        network=Network.VK, network_id__in=[a.object_id for a in found.values()]
    ).values_list("network_id", flat=True))
    profiles = {c.pk for c, a in zip(unresolved, answers, strict=True)
                if isinstance(a, VkResolved) and a.type == "user"}
    for community in unresolved:
        answer = found.get(community.pk)
        if community.pk in profiles:
            result.problem(community.pk, key="vk:profile", kind="profile",
                           message=f"«{community.screen_name}» — личный профиль VK, а не "
                           "сообщество: создайте группу или публичную страницу")
        elif answer is None:
            result.problem(community.pk, key="vk:not_resolved",
                           message=f"короткое имя «{community.screen_name}» не найдено в VK")
        elif answer.object_id in taken:
            result.problem(community.pk, key="duplicate",
                           message=f"сообщество с id {answer.object_id} уже есть в реестре")
        else:
            taken.add(answer.object_id)
            community.network_id = answer.object_id
            result.community_fields[community.pk] = {"network_id": answer.object_id}


def _vk_member(community: Target, group: GroupRow | None, result: BatchResult,
               profile: dict[str, Any]) -> None:
    if group is None:
        result.problem(community.pk, key="vk:missing", message="VK не вернул сообщество")
        return
    name, screen_name, members, state, verified = group
    if state == "deleted" or members is None:
        result.problem(community.pk, key="vk:deactivated", skipped=True,
                       message="сообщество удалено или заблокировано",
                       state=CommunityState.DELETED)
        return
    extra = result.community_fields.get(community.pk, {})
    result.done(community.pk, **extra, **profile, **community.changes(
        members_count=members, title=name[:300] or community.title,
        screen_name=screen_name[:100], is_verified=verified,
        state=CommunityState.CLOSED if state == "closed" else CommunityState.ACTIVE))
    result.snapshots[community.pk] = members


def ok_members(communities: list[Target], period: dt.date, result: BatchResult) -> None:
    """Members of OK groups, 100 a request; a group OK no longer returns was deleted."""
    known = [c for c in communities if c.network_id]
    for community in communities:
        if not community.network_id:
            result.problem(community.pk, key="ok:no_id", message="у группы OK не указан id")
    client = network_client(Network.OK, tokens_usable(network=Network.OK))
    groups = {}
    try:
        for chunk in chunked(known, OK_GROUPS_PER_CALL):
            ids = [c.network_id for c in chunk]
            groups.update({g.uid: g for g in guarded(client, result,
                                                     lambda ids=ids: client.groups_info(ids))})
    finally:
        result.requests += client.requests_made
    for community in known:
        group = groups.get(community.network_id)
        if group is None:
            result.community_failure(community, CommunityDeleted(
                "группа OK удалена или заблокирована", key="ok:missing"))
            continue
        state = CommunityState.CLOSED if group.private else CommunityState.ACTIVE
        result.done(community.pk, **group.profile(), **community.changes(
            members_count=group.members_count, title=group.name[:300] or community.title,
            screen_name=group.shortname[:100], state=state))
        if group.members_count is not None:
            result.snapshots[community.pk] = group.members_count


# --- statistics -----------------------------------------------------------------------------------
def _admin_tokens(network: str, communities: list[Target]) -> dict[int, NetworkToken]:
    """For each community, a usable token that administers it (the lowest id, for batching)."""
    through = NetworkToken.communities.through
    usable = tokens_usable(network=network, for_stats=True).values("pk")
    pairs = through.objects.filter(
        community_id__in=[c.pk for c in communities], networktoken_id__in=usable
    ).order_by("community_id", "networktoken_id").values_list("community_id", "networktoken_id")
    first: dict[int, int] = {}
    for community_id, token_id in pairs:
        first.setdefault(community_id, token_id)
    tokens = NetworkToken.objects.in_bulk(set(first.values()))
    return {cid: tokens[tid] for cid, tid in first.items()}


def _stats_by_token(network: str, communities: list[Target], result: BatchResult
                    ) -> dict[int, tuple[NetworkToken, list[Target]]]:
    admin = _admin_tokens(network, communities)
    by_token: dict[int, tuple[NetworkToken, list[Target]]] = {}
    for community in communities:
        token = admin.get(community.pk)
        if token is None or not community.network_id:
            result.problem(community.pk, key="no_admin_token", skipped=True,
                           message="нет действующего ключа администратора сообщества")
            continue
        by_token.setdefault(token.pk, (token, []))[1].append(community)
    return by_token


def vk_stats(communities: list[Target], period: dt.date, result: BatchResult) -> None:
    """Monthly statistics with each community's admin user token, 25 stats.get a request.

    Each community's values come from the month's own interval (``month_interval``).
    """
    for token, group in _stats_by_token(Network.VK, communities, result).values():
        client = network_client(Network.VK, [token])
        calls = [stats_call(c.network_id, month=period) for c in group]
        try:
            answers = client.run(calls)
        except TransientNetworkError:
            raise
        except (TokenError, NoUsableToken, RequestRejected) as exc:
            if isinstance(exc, TokenError):
                token_trouble(exc)
            for community in group:
                result.problem(community.pk, key=exc.key, message=f"ключ администратора: "
                               f"{exc.message}")
            continue
        finally:
            result.requests += client.requests_made
        for community, answer in zip(group, answers, strict=True):
            if isinstance(answer, CommunityError):
                result.community_failure(community, answer)
                continue
            interval = month_interval(answer, period)
            if interval is None:
                result.problem(community.pk, key="vk:no_month",
                               message="VK не вернул статистику за этот месяц")
                continue
            result.monthly[community.pk] = vk_stats_values(interval)
            result.done(community.pk)


def month_interval(periods: Sequence[VkStats], month: dt.date) -> VkStats | None:
    """The interval of stats.get that is the month itself (VK's month, counted in Moscow time:
    the one holding the month's first noon); None when VK did not answer it."""
    first_noon, _ = stats_month_noons(month)
    for period in periods:
        if period.period_from <= first_noon < period.period_to:
            return period
    return None


def ok_stats(communities: list[Target], period: dt.date, result: BatchResult) -> None:
    """Monthly statistics of OK groups, one group.getStatTrends each."""
    start, end = month_bounds(period)
    for token, group in _stats_by_token(Network.OK, communities, result).values():
        client = network_client(Network.OK, [token])
        try:
            for community in group:
                try:
                    stats = client.group_stats(community.network_id, start=start, end=end)
                except CommunityError as exc:
                    result.community_failure(community, exc)
                    continue
                result.monthly[community.pk] = ok_stats_values(stats)
                result.done(community.pk)
        except TokenError as exc:
            token_trouble(exc)
            for community in group:
                if community.pk not in result.outcomes:
                    result.problem(community.pk, key=exc.key,
                                   message=f"ключ администратора: {exc.message}")
        finally:
            result.requests += client.requests_made
