"""The only code that speaks HTTP to VK.

Built on the ``vk-api`` package: its ``requests.Session`` goes through a transport adapter that
sends ``https://api.vk.com/method/…`` (and ``api.vk.ru``) to ``settings.VK_API_BASE_URL``, so an
emulator can stand in. vk-api's own per-process delay and its sleep-and-retry on error 6 are off:
the shared limiter (metrics.ratelimit) paces every request, and errors go up as the portal's types.

Calls are described as ``VkCall`` (method, params, parser; ``calls.py``) so the same call runs
alone or inside ``execute`` (up to 25 per request). Inside ``execute`` a call may return only the
fields it needs (``VkCall.project``): a page of ``wall.get`` comes back as columns — ids, dates,
counters — instead of whole posts with their texts and attachments, a fraction of the JSON to
build, send and parse; ``groups.getById`` likewise, as columns of the fields the members run
reads. Results are typed dataclasses (``answers.py``); a call that failed for one community comes
back as its ``CommunityError`` in place of the result, while errors of the token or the network
are raised for the whole request.

Tokens are sent only where VK takes them (``calls.TOKEN_KINDS``, from VK's schema): a request
waits for a slot among the credentials whose kind its method allows, and calls go to an
``execute`` only when a credential may send it and every call in it (user or community tokens;
a service token never sends ``execute``, so with service tokens alone each call is a request).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
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
    NoUsableToken,
    RateLimited,
    RequestRejected,
    TokenInvalid,
    TokenUnsuitable,
    TransientNetworkError,
)
from metrics.collect.transport import TimedAdapter
from metrics.quota import quota_counter
from metrics.ratelimit import RateLimiter, get_limiter
from metrics.vk.answers import (
    VkGroup,
    VkResolved,
    VkStats,
    VkWallPage,
    parse_groups,
    parse_resolved,
    parse_stats,
    parse_wall,
)
from metrics.vk.calls import (
    EXECUTE_MAX_CALLS,
    TOKEN_KINDS,
    VkCall,
    batch_kinds,
    execute_code,
    groups_by_id_call,
    stats_call,
    wall_call,
)

VK_ORIGINS = ("https://api.vk.com/method/", "https://api.vk.ru/method/")


# --- errors ---------------------------------------------------------------------------------------
# What each VK error code (errors.json) means for the portal; ``vk_error`` decides, a test per code.
_CLOSED_CODES = {15, 30, 203}  # access denied, private, access to the community denied
_GONE_CODES = {18, 100, 104, 125}  # deleted or banned, no such owner, not found, bad group id
#: Methods whose per-community errors belong to that community, not to the request.
_COMMUNITY_METHODS = {"wall.get", "stats.get", "utils.resolveScreenName"}
_MESSAGES = {
    5: "токен недействителен", 6: "превышена частота запросов к VK",
    9: "VK ограничил однотипные запросы", 10: "внутренняя ошибка сервера VK",
    15: "сообщество закрыто", 17: "VK требует подтвердить вход владельца ключа",
    18: "сообщество удалено или заблокировано",
    27: "ключ сообщества не подходит для этого метода VK",
    28: "сервисный ключ не подходит для этого метода VK",
    29: "дневной лимит запросов токена исчерпан", 30: "сообщество закрыто (приватное)",
    100: "сообщество не найдено", 104: "не найдено", 125: "сообщество не найдено",
    203: "доступ к сообществу закрыт",
}


def vk_error(code: int, message: str, *, method: str, token_id: int | None) -> NetworkError:
    """Map a VK error code to the portal's error type, judging by the method where it matters.

    A token is called dead (TokenInvalid, then disabled) only when VK says so: 5 (authorization
    failed), 17 (the owner must validate the login), 28 asking to refresh a service token. 27
    and 28 otherwise say the method does not take this kind of token: the token is set aside,
    not disabled.
    """
    key, text = f"vk:{code}", _MESSAGES.get(code, f"ошибка VK {code}: {message}")
    if method == "stats.get" and code in (7, *_CLOSED_CODES):
        return NoAdminAccess("у токена нет прав администратора сообщества", key=key)
    if code in (5, 17) or (code == 28 and "refresh" in message.lower()):
        return TokenInvalid(text, key=key, token_id=token_id)
    if code in (27, 28):
        return TokenUnsuitable(text, key=key, token_id=token_id)
    if code == 29:
        return DailyLimitReached(_MESSAGES[29], key=key, token_id=token_id)
    if code in (6, 9, 14):
        return RateLimited(_MESSAGES.get(code, "VK требует капчу"), key=key, token_id=token_id)
    if code in (1, 10):
        return TransientNetworkError(text, key=key)
    if method in _COMMUNITY_METHODS and code in _CLOSED_CODES:
        return CommunityClosed(text, key=key)
    if method in _COMMUNITY_METHODS and code in _GONE_CODES:
        return CommunityDeleted(text, key=key)
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

    def usable(self, kinds: frozenset[str]) -> list[Credential]:
        """The credentials of these kinds."""
        return [c for c in self.credentials if c.kind in kinds]

    def request(self, method: str, params: dict[str, Any], *, raw: bool = False,
                kinds: frozenset[str] | None = None,
                calls: Mapping[str, int] | None = None) -> Any:
        """One HTTP request: wait for the slot of a token the method takes (``kinds``, by
        default the method's), send, map errors to the portal's types.

        ``calls`` are the method calls the request spends of the token's daily allowances
        (an ``execute``: its inner calls; otherwise the method once). A token that would pass
        one is refused here, as VK would refuse it (29), without sending.
        """
        credentials = self.usable(kinds if kinds is not None else TOKEN_KINDS[method])
        if not credentials:
            raise NoUsableToken("нет действующего ключа VK" if not self.credentials else
                                f"нет ключа VK того вида, что принимает {method}",
                                key="no_token")
        keys = [c.limit_key for c in credentials]
        spends = calls or {method: 1}
        with self.limiter.slot(keys) as slot:
            credential = credentials[slot.index]
            quota = quota_counter()
            if quota.would_exceed(credential.limit_key.name, spends):
                raise DailyLimitReached(f"{_MESSAGES[29]} (по счёту портала)",
                                        key="daily_quota", token_id=credential.token_id)
            if self.pace:
                self.pace()
            quota.spend(credential.limit_key.name, spends)
            self.requests_made += 1
            self.last_token_id = credential.token_id
            try:
                values = {**params, "access_token": credential.secret}
                return self.vk.method(method, values, raw=raw)
            except (VkApiError, requests.RequestException, ValueError) as exc:
                raise _translate(exc, method=method, token_id=credential.token_id) from exc
            finally:
                slot.answer_age = self.adapter.answer_age()

    def can_batch(self, calls: Sequence[VkCall]) -> bool:
        """Whether some credential may send these calls in one ``execute``."""
        return bool(self.usable(batch_kinds({call.method for call in calls})))

    def run(self, calls: Sequence[VkCall]) -> list[Any]:
        """Run calls with the fewest requests the tokens allow: 25 to an ``execute``, or each
        alone when no token may send them together (service tokens).

        Each result is the call's parsed answer or its ``CommunityError``.
        """
        out: list[Any] = []
        for start in range(0, len(calls), EXECUTE_MAX_CALLS):
            chunk = calls[start:start + EXECUTE_MAX_CALLS]
            if len(chunk) > 1 and self.can_batch(chunk):
                out += self.execute(chunk)
            else:
                for call in chunk:
                    out += self._run_one(call)
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
        answer = self.request("execute", {"code": execute_code(calls)}, raw=True,
                              kinds=batch_kinds({call.method for call in calls}),
                              calls=Counter(call.method for call in calls))
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
        if isinstance(exc, (TokenInvalid, TokenUnsuitable, DailyLimitReached, RateLimited)):
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

    def stats_get(self, group_id: int, *, month: dt.date) -> list[VkStats]:
        call = stats_call(group_id, month=month)
        return parse_stats(self.request(call.method, call.params))
