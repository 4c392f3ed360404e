"""The only code that speaks HTTP to OK (Odnoklassniki REST API, ``settings.OK_API_BASE_URL``).

Every request carries ``application_key``, ``method``, ``format=json``, ``access_token`` and
``sig``: the lowercase md5 of the sorted ``k=v`` pairs (all parameters except ``access_token``
and ``sig``, concatenated without separators) followed by
``md5(access_token + application_secret_key)``. Errors come as
``{"error_code", "error_msg", "error_data"}`` and are raised as the portal's error types.

A group's posts are its feed of topics: ``mediatopic.getTopics`` (``gid``, ``count``, ``fields``),
newest first, each page ending with an opaque ``anchor`` for the next one (``direction=FORWARD``)
and ``has_more``. The counters are in the summaries the ``fields`` ask for: ``like_summary.count``,
``reshare_summary.count``, ``discussion_summary.comments_count`` and ``views_count``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from metrics.choices import PostFormat
from metrics.collect.credentials import Credential
from metrics.collect.errors import (
    CommunityClosed,
    CommunityDeleted,
    DailyLimitReached,
    NetworkError,
    NoAdminAccess,
    RateLimited,
    RequestRejected,
    TokenInvalid,
    TransientNetworkError,
)
from metrics.collect.transport import TimedAdapter
from metrics.formats import PostFact, hashtags, main_format, ok_media_kinds
from metrics.quota import quota_counter
from metrics.ratelimit import RateLimiter, get_limiter

GROUPS_PER_CALL = 100
GROUP_FIELDS = ("uid,name,shortname,members_count,private,description,pic_avatar,homepage,"
                "phone")
#: Daily counts only (events add up across a month's days; people, like ``reach``, do not).
STAT_FIELDS = ("page_visits", "renderings", "likes", "comments", "reshares")
TOPICS_PAGE = 100
TOPIC_FIELDS = ("media_topic.ID,media_topic.CREATED_MS,media_topic.LIKE_SUMMARY,"
                "media_topic.RESHARE_SUMMARY,media_topic.DISCUSSION_SUMMARY,"
                "media_topic.VIEWS_COUNT,media_topic.MEDIA")


@dataclass(frozen=True)
class OkGroup:
    """A group as group.getInfo describes it."""

    uid: int
    name: str
    shortname: str
    members_count: int | None
    private: bool
    description: str | None = None
    has_avatar: bool | None = None
    site: str | None = None

    @property
    def state(self) -> str:
        return "closed" if self.private else "active"

    def profile(self) -> dict[str, Any]:
        """The registry's fields of how the group is kept (OK has no wall setting or mark)."""
        return {"kind": "group", "description": self.description, "site": self.site,
                "has_avatar": self.has_avatar}


@dataclass(frozen=True)
class OkStats:
    """A group's statistics over a period (group.getStatTrends summed over its days)."""

    page_visits: int
    renderings: int
    likes: int
    comments: int
    reshares: int


@dataclass(frozen=True)
class OkTopic:
    """One topic (post) of a group's feed with its counters, named as VK's posts are."""

    id: str
    date: dt.datetime
    likes: int
    reposts: int
    comments: int
    views: int
    fact: PostFact | None = None


@dataclass(frozen=True)
class OkTopicPage:
    """A page of mediatopic.getTopics: topics newest first, the anchor of the next page."""

    topics: list[OkTopic]
    anchor: str
    has_more: bool


def _ok_description(group: dict[str, Any]) -> str:
    """The description with the group's phone (OK keeps it apart; a field asked for and
    absent is empty)."""
    extra = [str(group["phone"])] if group.get("phone") else []
    return "\n".join([str(group.get("description") or ""), *extra]).strip()


def _count(summary: Any, name: str = "count") -> int:
    return int((summary or {}).get(name, 0) or 0)


def parse_topic(raw: dict[str, Any]) -> OkTopic:
    date = dt.datetime.fromtimestamp(int(raw["created_ms"]) / 1000, tz=dt.UTC)
    likes, reposts = _count(raw.get("like_summary")), _count(raw.get("reshare_summary"))
    comments = _count(raw.get("discussion_summary"), "comments_count")
    views = int(raw.get("views_count") or 0)
    kinds, external, text = ok_media_kinds(raw.get("media"))
    fact = PostFact(key=str(raw["id"]), date=date, format=main_format(kinds),
                    has_image=PostFormat.PHOTO in kinds,
                    has_video=bool(kinds & {PostFormat.VIDEO, PostFormat.LIVE}),
                    has_external_video=external, hashtags=hashtags(text), likes=likes,
                    reposts=reposts, comments=comments, views=views)
    return OkTopic(id=str(raw["id"]), date=date, likes=likes, reposts=reposts,
                   comments=comments, views=views, fact=fact)


def signature(params: dict[str, Any], *, access_token: str, secret_key: str) -> str:
    """OK's request signature (see the module docstring)."""
    session_secret = hashlib.md5((access_token + secret_key).encode()).hexdigest().lower()
    pairs = "".join(f"{k}={params[k]}" for k in sorted(params)
                    if k not in ("access_token", "sig", "session_key"))
    return hashlib.md5((pairs + session_secret).encode()).hexdigest().lower()


_MESSAGES = {
    2: "сервис OK временно недоступен", 8: "превышена частота запросов к OK",
    10: "нет доступа к группе OK", 11: "дневной лимит запросов токена исчерпан",
    102: "токен недействителен (сессия истекла)", 103: "токен недействителен",
    104: "подпись запроса неверна (ключи приложения OK)", 300: "группа OK не найдена",
}


def ok_error(code: int, message: str, *, method: str, token_id: int | None) -> NetworkError:
    """Map an OK error code to the portal's error type."""
    key, text = f"ok:{code}", _MESSAGES.get(code, f"ошибка OK {code}: {message}")
    if code in (101, 102, 103, 104):
        return TokenInvalid(text, key=key, token_id=token_id)
    if code == 11:
        return DailyLimitReached(text, key=key, token_id=token_id)
    if code in (8, 9):
        return RateLimited(text, key=key, token_id=token_id)
    if code in (1, 2, 5000):
        return TransientNetworkError(text, key=key)
    if code == 10:
        if method == "group.getStatTrends":
            return NoAdminAccess("у токена нет прав администратора группы", key=key)
        return CommunityClosed("группа закрыта", key=key)
    if code == 300:
        return CommunityDeleted(text, key=key)
    return RequestRejected(text, key=key)


class OkClient:
    """OK REST API on behalf of one or more tokens, paced by the shared limiter."""

    def __init__(
        self,
        *,
        credentials: Sequence[Credential],
        limiter: RateLimiter | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.credentials = list(credentials)
        self.limiter = limiter or get_limiter()
        self.base_url = base_url or settings.OK_API_BASE_URL
        self.timeout = timeout or settings.NETWORK_TIMEOUT_SECONDS
        self.adapter = TimedAdapter(timeout=self.timeout, pool_connections=1, pool_maxsize=4)
        self.session = requests.Session()
        self.session.mount("http://", self.adapter)
        self.session.mount("https://", self.adapter)
        self.requests_made = 0
        self.last_token_id: int | None = None

    def drop(self, token_id: int | None) -> None:
        self.credentials = [c for c in self.credentials if c.token_id != token_id]

    def request(self, method: str, params: dict[str, Any]) -> Any:
        """One signed request: wait for a token's slot, send, map errors."""
        if not self.credentials:
            raise TokenInvalid("нет действующего токена OK", key="no_token")
        with self.limiter.slot([c.limit_key for c in self.credentials]) as slot:
            credential = self.credentials[slot.index]
            quota = quota_counter()  # see metrics.quota: stop before OK refuses (its code 11)
            if quota.would_exceed(credential.limit_key.name, {method: 1}):
                raise DailyLimitReached(
                    "дневной лимит запросов ключа OK исчерпан (по счёту портала)",
                    key="daily_quota", token_id=credential.token_id)
            quota.spend(credential.limit_key.name, {method: 1})
            self.requests_made += 1
            self.last_token_id = credential.token_id
            try:
                answer = self._send(method, params, credential)
            finally:
                slot.answer_age = self.adapter.answer_age()
        if isinstance(answer, dict) and "error_code" in answer:
            raise ok_error(int(answer["error_code"]), str(answer.get("error_msg", "")),
                           method=method, token_id=credential.token_id)
        return answer

    def _send(self, method: str, params: dict[str, Any], credential: Credential) -> Any:
        values = {**params, "application_key": credential.app_key, "method": method,
                  "format": "json"}
        values["sig"] = signature(values, access_token=credential.secret,
                                  secret_key=credential.app_secret)
        values["access_token"] = credential.secret
        try:
            response = self.session.post(self.base_url, data=values, timeout=self.timeout)
            if response.status_code >= 400:
                raise TransientNetworkError(
                    f"сервер OK ответил ошибкой {response.status_code}",
                    key=f"http:{response.status_code}")
            return response.json()
        except requests.Timeout as exc:
            raise TransientNetworkError("OK не ответил вовремя", key="timeout") from exc
        except requests.ConnectionError as exc:
            raise TransientNetworkError("нет связи с OK", key="connection") from exc
        except ValueError as exc:
            raise TransientNetworkError("ответ OK повреждён", key="bad_json") from exc

    def groups_info(self, uids: Sequence[int]) -> list[OkGroup]:
        """group.getInfo for up to 100 groups; deleted groups are simply absent."""
        if len(uids) > GROUPS_PER_CALL:
            raise ValueError(f"group.getInfo takes at most {GROUPS_PER_CALL} uids")
        answer = self.request("group.getInfo", {
            "uids": ",".join(str(u) for u in uids), "fields": GROUP_FIELDS})
        return [OkGroup(uid=int(g["uid"]), name=g.get("name", ""),
                        shortname=g.get("shortname", ""),
                        members_count=g.get("members_count"), private=bool(g.get("private")),
                        description=_ok_description(g),
                        has_avatar=bool(g.get("pic_avatar")),  # asked for: absent is none
                        site=g.get("homepage"))
                for g in answer]

    def group_topics(self, gid: int, *, anchor: str = "",
                     count: int = TOPICS_PAGE) -> OkTopicPage:
        """One page of a group's feed (``anchor``: where the previous page ended)."""
        params: dict[str, Any] = {"gid": gid, "count": count, "fields": TOPIC_FIELDS}
        if anchor:
            params |= {"anchor": anchor, "direction": "FORWARD"}
        answer = self.request("mediatopic.getTopics", params)
        try:
            topics = [parse_topic(t) for t in answer.get("media_topics") or []]
            return OkTopicPage(topics=topics, anchor=str(answer.get("anchor") or ""),
                               has_more=bool(answer.get("has_more")))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise TransientNetworkError("ответ OK повреждён", key="bad_json") from exc

    def group_stats(self, gid: int, *, start: dt.datetime, end: dt.datetime) -> OkStats:
        """group.getStatTrends over [start, end), summed per field (admin tokens only)."""
        answer = self.request("group.getStatTrends", {
            "gid": gid, "start_time": int(start.timestamp() * 1000),
            "end_time": int(end.timestamp() * 1000), "fields": ",".join(STAT_FIELDS)})
        totals = {name: sum(int(p.get("value", 0)) for p in answer.get(name, []))
                  for name in STAT_FIELDS}
        return OkStats(**totals)
