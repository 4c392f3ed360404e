"""The only code that speaks HTTP to VK.

Built on the ``vk-api`` package: its ``requests.Session`` goes through a transport adapter that
sends ``https://api.vk.com/method/…`` (and ``api.vk.ru``) to ``settings.VK_API_BASE_URL``, so an
emulator can stand in. vk-api's own per-process delay and its sleep-and-retry on error 6 are off:
the shared limiter (metrics.ratelimit) paces every request, and errors go up as the portal's types.

Calls are described as ``VkCall`` (method, params, parser) so the same call runs alone or inside
``execute`` (up to 25 per request). Inside ``execute`` a call may return only the fields it needs
(``VkCall.project``): a page of ``wall.get`` comes back as columns — ids, dates, counters —
instead of whole posts with their texts and attachments, a fraction of the JSON to build, send and
parse; ``groups.getById`` likewise, as columns of the fields the members run reads. Results
are typed dataclasses; a call that failed for one community comes back as its ``CommunityError``
in place of the result, while errors of the token or the network are raised for the whole request.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import vk_api
from django.conf import settings
from jconfig.memory import MemoryConfig
from vk_api.exceptions import TOO_MANY_RPS_CODE, ApiError, ApiHttpError, Captcha, VkApiError

from metrics.collect.credentials import Credential
from metrics.collect.errors import (
    CommunityClosed,
    CommunityDeleted,
    CommunityError,
    DailyLimitReached,
    NetworkError,
    NoAdminAccess,
    RateLimited,
    RequestRejected,
    TokenInvalid,
    TransientNetworkError,
)
from metrics.collect.transport import TimedAdapter
from metrics.ratelimit import RateLimiter, get_limiter

EXECUTE_MAX_CALLS = 25
GROUPS_PER_CALL = 500
WALL_PAGE = 100
VK_ORIGINS = ("https://api.vk.com/method/", "https://api.vk.ru/method/")
GROUP_FIELDS = "members_count,verified,screen_name,is_closed,deactivated"


# --- typed answers -------------------------------------------------------------------------------
@dataclass(frozen=True)
class VkGroup:
    """A community as groups.getById describes it."""

    id: int
    name: str
    screen_name: str
    members_count: int | None
    is_closed: int
    deactivated: str
    verified: bool
    is_admin: bool

    @property
    def state(self) -> str:
        """The portal's community state: active, closed or deleted."""
        return group_state(self.is_closed, self.deactivated)


def group_state(is_closed: Any, deactivated: Any) -> str:
    """A community's state from groups.getById's ``is_closed`` and ``deactivated``."""
    if deactivated:
        return "deleted"
    return "closed" if is_closed else "active"


#: A community as ``VkGroups.by_id`` gives it: name, screen name, members, state, verified.
GroupRow = tuple[str, str, int | None, str, bool]


@dataclass(frozen=True)
class VkGroups:
    """Communities of groups.getById as columns, what the members run reads of them.

    A members run reads thousands of communities to write a few fields of each; an object per
    community would cost more than the rest of reading them (as posts in ``VkWallPage``).
    """

    ids: list[int]
    names: list[str]
    screen_names: list[str]
    members: list[int | None]
    states: list[str]
    verified: list[bool]

    def by_id(self) -> dict[int, GroupRow]:
        return dict(zip(self.ids, zip(self.names, self.screen_names, self.members, self.states,
                                      self.verified, strict=True), strict=True))


@dataclass(frozen=True)
class VkPost:
    """One wall post with its counters."""

    id: int
    date: dt.datetime
    likes: int
    reposts: int
    comments: int
    views: int
    is_pinned: bool


@dataclass(frozen=True)
class VkWallPage:
    """A page of wall.get: the wall's total post count and up to 100 posts, newest first.

    The posts are kept as columns (unix dates, pinned flags, counters): a run reads a quarter
    of a million posts only to count and sum them, and an object per post would cost more than
    the rest of reading them.
    """

    count: int
    dates: list[int]
    pinned: list[bool]
    likes: list[int]
    reposts: list[int]
    comments: list[int]
    views: list[int]

    @property
    def size(self) -> int:
        return len(self.dates)

    @property
    def posts(self) -> list[VkPost]:
        """The page as post objects (for callers that want one post at a time)."""
        return [VkPost(id=0, date=dt.datetime.fromtimestamp(date, tz=dt.UTC), likes=likes,
                       reposts=reposts, comments=comments, views=views, is_pinned=pinned)
                for date, pinned, likes, reposts, comments, views in zip(
                    self.dates, self.pinned, self.likes, self.reposts, self.comments,
                    self.views, strict=True)]

    def oldest_regular(self) -> int | None:
        """The date of the page's oldest post that is not pinned (None: there is none)."""
        for date, pinned in zip(reversed(self.dates), reversed(self.pinned), strict=True):
            if not pinned:
                return date
        return None

    def totals(self, start: int, end: int) -> tuple[int, int, int, int, int]:
        """Posts, likes, reposts, comments and views of the page's posts in [start, end)."""
        posts = likes = reposts = comments = views = 0
        for i, date in enumerate(self.dates):
            if start <= date < end:
                posts += 1
                likes += self.likes[i]
                reposts += self.reposts[i]
                comments += self.comments[i]
                views += self.views[i]
        return posts, likes, reposts, comments, views


@dataclass(frozen=True)
class VkResolved:
    """What utils.resolveScreenName found for a short name."""

    type: str
    object_id: int


@dataclass(frozen=True)
class VkStats:
    """One interval of stats.get (a community's statistics, admins only)."""

    period_from: int
    period_to: int
    views: int
    visitors: int
    reach: int
    reach_subscribers: int
    likes: int
    comments: int
    copies: int
    subscribed: int
    unsubscribed: int


@dataclass(frozen=True)
class VkCall:
    """One API method call, runnable alone or inside execute.

    ``project`` (name, VKScript path) pairs say what to return of the answer inside
    ``execute``, read by ``parse_projected``; a failed call then comes back with a ``null``
    first field.
    """

    method: str
    params: dict[str, Any]
    parse: Callable[[Any], Any]
    project: tuple[tuple[str, str], ...] = ()
    parse_projected: Callable[[Any], Any] | None = None

    def script(self) -> str:
        return f"API.{self.method}({json.dumps(self.params, ensure_ascii=False)})"

    def projection(self, var: str) -> str:
        """The VKScript object of the projected fields of variable ``var``."""
        return "{" + ",".join(f'"{name}":{var}{path}' for name, path in self.project) + "}"

    def failed(self, result: Any) -> bool:
        if result is False:
            return True
        return bool(self.project) and (not isinstance(result, dict)
                                       or result.get(self.project[0][0]) is None)

    def read(self, result: Any) -> Any:
        return self.parse_projected(result) if self.project and self.parse_projected \
            else self.parse(result)


# --- parsers --------------------------------------------------------------------------------------
def _group(raw: dict[str, Any]) -> VkGroup:
    return VkGroup(
        id=int(raw["id"]), name=raw.get("name", ""), screen_name=raw.get("screen_name", ""),
        members_count=raw.get("members_count"), is_closed=int(raw.get("is_closed", 0)),
        deactivated=raw.get("deactivated", ""), verified=bool(raw.get("verified", 0)),
        is_admin=bool(raw.get("is_admin", 0)),
    )


def parse_groups(raw: Any) -> list[VkGroup]:
    return [_group(item) for item in _group_items(raw)]


def _group_items(raw: Any) -> list[dict[str, Any]]:
    """The communities of an answer: ``{"groups": […]}`` since API 5.194, a list before."""
    return raw.get("groups", []) if isinstance(raw, dict) else raw


#: What groups.getById returns inside execute: its communities' fields as columns.
GROUP_COLUMNS = tuple((name, f".groups@.{name}") for name in (
    "id", "name", "screen_name", "members_count", "is_closed", "deactivated", "verified"))


def parse_group_columns(raw: Any) -> VkGroups:
    """Communities from their projected columns (``GROUP_COLUMNS``)."""
    ids = [int(i) for i in raw["id"]]

    def column(name: str) -> list[Any]:
        values = raw.get(name)
        if values is None:  # no community has the field
            return [None] * len(ids)
        if len(values) != len(ids):
            raise ValueError("group columns of different lengths")
        return values

    return VkGroups(
        ids=ids, names=[n or "" for n in column("name")],
        screen_names=[n or "" for n in column("screen_name")], members=column("members_count"),
        states=list(map(group_state, column("is_closed"), column("deactivated"))),
        verified=[bool(v) for v in column("verified")])


def parse_groups_as_columns(raw: Any) -> VkGroups:
    """A whole groups.getById answer (the call sent alone) read as ``parse_group_columns``."""
    items = _group_items(raw)
    return parse_group_columns({name: [item.get(name) for item in items]
                                for name, _ in GROUP_COLUMNS})


def _post(raw: dict[str, Any]) -> VkPost:
    def count(name: str) -> int:
        return int((raw.get(name) or {}).get("count", 0))

    return VkPost(
        id=int(raw["id"]), date=dt.datetime.fromtimestamp(int(raw["date"]), tz=dt.UTC),
        likes=count("likes"), reposts=count("reposts"), comments=count("comments"),
        views=count("views"), is_pinned=bool(raw.get("is_pinned", 0)),
    )


def parse_wall(raw: Any) -> VkWallPage:
    posts = [_post(p) for p in raw["items"]]
    return VkWallPage(
        count=int(raw.get("count", 0)), dates=[int(p.date.timestamp()) for p in posts],
        pinned=[p.is_pinned for p in posts], likes=[p.likes for p in posts],
        reposts=[p.reposts for p in posts], comments=[p.comments for p in posts],
        views=[p.views for p in posts])


#: What a wall page returns inside execute: the wall's count and its posts as columns.
WALL_COLUMNS = (("count", ".count"), ("date", ".items@.date"), ("pinned", ".items@.is_pinned"),
                ("likes", ".items@.likes@.count"), ("reposts", ".items@.reposts@.count"),
                ("comments", ".items@.comments@.count"), ("views", ".items@.views@.count"))


def parse_wall_columns(raw: Any) -> VkWallPage:
    """A wall page from its projected columns (``WALL_COLUMNS``); a missing counter is 0."""
    def numbers(name: str) -> list[int]:
        return [int(n or 0) for n in raw.get(name) or []]

    dates = numbers("date")
    page = VkWallPage(count=int(raw["count"]), dates=dates,
                      pinned=[bool(p) for p in raw.get("pinned") or []], likes=numbers("likes"),
                      reposts=numbers("reposts"), comments=numbers("comments"),
                      views=numbers("views"))
    if any(len(column) != len(dates) for column in (page.pinned, page.likes, page.reposts,
                                                     page.comments, page.views)):
        raise ValueError("wall columns of different lengths")
    return page


def parse_resolved(raw: Any) -> VkResolved | None:
    if not raw:
        return None
    return VkResolved(type=raw["type"], object_id=int(raw["object_id"]))


def parse_stats(raw: Any) -> list[VkStats]:
    out = []
    for item in raw:
        visitors, reach = item.get("visitors", {}), item.get("reach", {})
        activity = item.get("activity", {})
        out.append(VkStats(
            period_from=int(item["period_from"]), period_to=int(item["period_to"]),
            views=int(visitors.get("views", 0)), visitors=int(visitors.get("visitors", 0)),
            reach=int(reach.get("reach", 0)),
            reach_subscribers=int(reach.get("reach_subscribers", 0)),
            likes=int(activity.get("likes", 0)), comments=int(activity.get("comments", 0)),
            copies=int(activity.get("copies", 0)),
            subscribed=int(activity.get("subscribed", 0)),
            unsubscribed=int(activity.get("unsubscribed", 0)),
        ))
    return out


# --- call builders --------------------------------------------------------------------------------
def groups_by_id_call(ids: Sequence[int], *, with_admin: bool = False) -> VkCall:
    """groups.getById of up to 500 ids; its answer is ``VkGroups`` (``groups_by_id`` reads the
    same request as ``VkGroup`` objects, with ``is_admin``)."""
    if len(ids) > GROUPS_PER_CALL:
        raise ValueError(f"groups.getById takes at most {GROUPS_PER_CALL} ids")
    fields = GROUP_FIELDS + (",is_admin" if with_admin else "")
    params: dict[str, Any] = {"fields": fields}
    if ids:
        params["group_ids"] = ",".join(str(i) for i in ids)
    return VkCall("groups.getById", params, parse_groups_as_columns, GROUP_COLUMNS,
                  parse_group_columns)


def resolve_call(screen_name: str) -> VkCall:
    return VkCall("utils.resolveScreenName", {"screen_name": screen_name}, parse_resolved)


def wall_call(group_id: int, *, offset: int = 0, count: int = WALL_PAGE) -> VkCall:
    params = {"owner_id": -group_id, "offset": offset, "count": count, "filter": "owner"}
    return VkCall("wall.get", params, parse_wall, WALL_COLUMNS, parse_wall_columns)


def stats_call(group_id: int, *, start: dt.datetime, end: dt.datetime) -> VkCall:
    params = {
        "group_id": group_id, "timestamp_from": int(start.timestamp()),
        "timestamp_to": int(end.timestamp()), "interval": "month", "intervals_count": 1,
    }
    return VkCall("stats.get", params, parse_stats)


def execute_code(calls: Sequence[VkCall]) -> str:
    """The VKScript of an ``execute``: the calls' answers in order, projected where asked."""
    if not any(call.project for call in calls):
        return "return [" + ",".join(call.script() for call in calls) + "];"
    assigned = "".join(f"var r{i}={call.script()};" for i, call in enumerate(calls))
    answers = ",".join(call.projection(f"r{i}") if call.project else f"r{i}"
                       for i, call in enumerate(calls))
    return f"{assigned}return [{answers}];"


# --- errors ---------------------------------------------------------------------------------------
_COMMUNITY_CODES = {15: CommunityClosed, 30: CommunityClosed, 203: CommunityClosed,
                    18: CommunityDeleted, 100: CommunityDeleted}
_MESSAGES = {
    5: "токен недействителен", 6: "превышена частота запросов к VK",
    9: "VK ограничил однотипные запросы", 10: "внутренняя ошибка сервера VK",
    15: "сообщество закрыто", 18: "сообщество удалено или заблокировано",
    29: "дневной лимит запросов токена исчерпан", 30: "сообщество закрыто (приватное)",
    100: "сообщество не найдено", 203: "доступ к сообществу закрыт",
}


def vk_error(code: int, message: str, *, method: str, token_id: int | None) -> NetworkError:
    """Map a VK error code to the portal's error type, judging by the method where it matters."""
    key, text = f"vk:{code}", _MESSAGES.get(code, f"ошибка VK {code}: {message}")
    if method == "stats.get" and code in (7, 15, 30, 203):
        return NoAdminAccess("у токена нет прав администратора сообщества", key=key)
    if code in (5, 28):
        return TokenInvalid(_MESSAGES[5], key=key, token_id=token_id)
    if code == 29:
        return DailyLimitReached(_MESSAGES[29], key=key, token_id=token_id)
    if code in (6, 9, 14):
        return RateLimited(_MESSAGES.get(code, "VK требует капчу"), key=key, token_id=token_id)
    if code in (1, 10):
        return TransientNetworkError(text, key=key)
    if method != "groups.getById" and code in _COMMUNITY_CODES:
        return _COMMUNITY_CODES[code](text, key=key)
    return RequestRejected(text, key=key)


def _translate(exc: Exception, *, method: str, token_id: int | None) -> NetworkError:
    if isinstance(exc, Captcha):
        return RateLimited("VK требует капчу", key="vk:14", token_id=token_id)
    if isinstance(exc, ApiError):
        message = exc.error.get("error_msg", "")
        return vk_error(int(exc.code), message, method=method, token_id=token_id)
    if isinstance(exc, ApiHttpError):
        status = exc.response.status_code
        return TransientNetworkError(f"сервер VK ответил ошибкой {status}", key=f"http:{status}")
    if isinstance(exc, requests.Timeout):
        return TransientNetworkError("VK не ответил вовремя", key="timeout")
    if isinstance(exc, requests.ConnectionError):
        return TransientNetworkError("нет связи с VK", key="connection")
    if isinstance(exc, ValueError):
        return TransientNetworkError("ответ VK повреждён", key="bad_json")
    return TransientNetworkError(f"ошибка обращения к VK: {exc}", key="vk:other")


# --- transport ------------------------------------------------------------------------------------
class _BaseUrlAdapter(TimedAdapter):
    """Sends VK's hard-coded endpoint to the configured base URL, with our timeout."""

    def __init__(self, *, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout, pool_connections=1, pool_maxsize=4)
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        for origin in VK_ORIGINS:
            if request.url and request.url.startswith(origin):
                request.url = self.base_url + request.url[len(origin):]
        return super().send(request, **kwargs)


def _session(adapter: _BaseUrlAdapter) -> requests.Session:
    session = requests.Session()
    for origin in VK_ORIGINS:
        session.mount(origin, adapter)
    session.headers["User-Agent"] = "gospublic-portal/1.0"
    return session


class VkClient:
    """VK API on behalf of one or more tokens, paced by the shared limiter."""

    def __init__(
        self,
        *,
        credentials: Sequence[Credential],
        limiter: RateLimiter | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        pace: Callable[[], None] | None = None,
    ) -> None:
        self.credentials = list(credentials)
        self.limiter = limiter or get_limiter()
        self.pace = pace  # called with a slot held, right before sending (see posts.WallStream)
        base = base_url or settings.VK_API_BASE_URL
        self.adapter = _BaseUrlAdapter(base_url=base.rstrip("/") + "/",
                                       timeout=timeout or settings.NETWORK_TIMEOUT_SECONDS)
        self.session = _session(self.adapter)
        self.vk = vk_api.VkApi(
            token=None, session=self.session, api_version=settings.VK_API_VERSION,
            config=MemoryConfig,
        )
        self.vk.RPS_DELAY = 0  # the shared limiter paces requests across processes
        self.vk.error_handlers.pop(TOO_MANY_RPS_CODE, None)
        self.requests_made = 0
        self.last_token_id: int | None = None

    def drop(self, token_id: int | None) -> None:
        """Stop using a token for the rest of this client's life (invalid or resting)."""
        self.credentials = [c for c in self.credentials if c.token_id != token_id]

    def request(self, method: str, params: dict[str, Any], *, raw: bool = False) -> Any:
        """One HTTP request: wait for a token's slot, send, map errors to the portal's types."""
        if not self.credentials:
            raise TokenInvalid("нет действующего токена VK", key="no_token")
        keys = [c.limit_key for c in self.credentials]
        with self.limiter.slot(keys) as slot:
            if self.pace:
                self.pace()
            credential = self.credentials[slot.index]
            self.requests_made += 1
            self.last_token_id = credential.token_id
            try:
                values = {**params, "access_token": credential.secret}
                return self.vk.method(method, values, raw=raw)
            except (VkApiError, requests.RequestException, ValueError) as exc:
                raise _translate(exc, method=method, token_id=credential.token_id) from exc
            finally:
                slot.answer_age = self.adapter.answer_age()

    def run(self, calls: Sequence[VkCall]) -> list[Any]:
        """Run calls with the fewest requests: alone, or 25 to an ``execute``.

        Each result is the call's parsed answer or its ``CommunityError``.
        """
        out: list[Any] = []
        for start in range(0, len(calls), EXECUTE_MAX_CALLS):
            chunk = calls[start:start + EXECUTE_MAX_CALLS]
            out += self._run_one(chunk[0]) if len(chunk) == 1 else self.execute(chunk)
        return out

    def _run_one(self, call: VkCall) -> list[Any]:
        try:
            return [call.parse(self.request(call.method, call.params))]
        except CommunityError as exc:
            return [exc]

    def execute(self, calls: Sequence[VkCall]) -> list[Any]:
        """One ``execute`` request of up to 25 calls; per-call failures come back in place."""
        if len(calls) > EXECUTE_MAX_CALLS:
            raise ValueError(f"execute takes at most {EXECUTE_MAX_CALLS} calls")
        answer = self.request("execute", {"code": execute_code(calls)}, raw=True)
        try:
            results, errors = answer["response"], list(answer.get("execute_errors", []))
        except (KeyError, TypeError) as exc:
            raise TransientNetworkError("ответ VK повреждён", key="bad_json") from exc
        return [self._one_result(call, result, errors) for call, result in
                zip(calls, results, strict=True)]

    def _one_result(self, call: VkCall, result: Any, errors: list[dict[str, Any]]) -> Any:
        if not call.failed(result):
            try:
                return call.read(result)
            except (KeyError, TypeError, ValueError) as exc:
                raise TransientNetworkError("ответ VK повреждён", key="bad_json") from exc
        error = errors.pop(0) if errors else {"error_code": 1, "error_msg": "unknown"}
        exc = vk_error(int(error["error_code"]), error.get("error_msg", ""), method=call.method,
                       token_id=None)
        if isinstance(exc, CommunityError):
            return exc
        if isinstance(exc, (TokenInvalid, DailyLimitReached, RateLimited)):
            exc.token_id = self.last_token_id
        raise exc

    # Typed conveniences for single calls -----------------------------------------------------
    def groups_by_id(self, ids: Sequence[int], *, with_admin: bool = False) -> list[VkGroup]:
        return parse_groups(self.request("groups.getById", groups_by_id_call(
            ids, with_admin=with_admin).params))

    def wall_get(self, group_id: int, *, offset: int = 0) -> VkWallPage:
        call = wall_call(group_id, offset=offset)
        return parse_wall(self.request(call.method, call.params))

    def resolve_screen_name(self, screen_name: str) -> VkResolved | None:
        return parse_resolved(self.request("utils.resolveScreenName",
                                           {"screen_name": screen_name}))

    def stats_get(self, group_id: int, *, start: dt.datetime, end: dt.datetime) -> list[VkStats]:
        call = stats_call(group_id, start=start, end=end)
        return parse_stats(self.request(call.method, call.params))
