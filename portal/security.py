"""Security plumbing: the ``portal.security`` audit log, the client address, the lockout page.

Logins, failed logins, lockouts (django-axes) and every 403 answered by a page or the API are
written to the ``portal.security`` logger, one line per event with who, from where and what, so
that operations can ship that logger to their log store and alert on bursts.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

logger = logging.getLogger("portal.security")

LOCKOUT_TITLE = "Вход временно заблокирован"


class SecurityConfig(AppConfig):
    """Connects the security log receivers; the ``portal`` package has no models."""

    name = "portal"
    label = "portal"
    verbose_name = "Портал"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        register(check_token_encryption_keys, Tags.security)
        register(check_secret_key, Tags.security, deploy=True)
        register(check_trusted_proxies, Tags.security)
        user_logged_in.connect(log_login, dispatch_uid="portal.security.login")
        user_login_failed.connect(log_login_failed, dispatch_uid="portal.security.login_failed")
        user_locked_out.connect(log_locked_out, dispatch_uid="portal.security.locked_out")


def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Deploy check: SECRET_KEY is the deployment's own, and so are the tokens' keys.

    Django's own check (security.W009) passes the built-in development key: it is long enough.
    """
    problems: list[CheckMessage] = []
    if settings.SECRET_KEY in settings.PUBLISHED_SECRET_KEYS or not settings.SECRET_KEY:
        problems.append(Error(
            "SECRET_KEY пуст или опубликован в репозитории портала: им подписаны сессии и из него "
            "выводится ключ шифрования токенов VK/OK.",
            hint='Задайте свой: python -c "import secrets; print(secrets.token_urlsafe(50))" '
                 "(README, «Развёртывание»).",
            id="portal.E002",
        ))
    if not getattr(settings, "TOKEN_ENCRYPTION_KEYS", []):
        problems.append(Warning(
            "TOKEN_ENCRYPTION_KEYS не задан: ключ шифрования токенов VK/OK выводится из "
            "SECRET_KEY, и смена SECRET_KEY без SECRET_KEY_FALLBACKS сделает токены нечитаемыми.",
            hint="Создайте ключ командой `manage.py rotate_token_key --generate` и задайте "
                 "TOKEN_ENCRYPTION_KEYS (README, «Развёртывание»).",
            id="portal.W001",
        ))
    return problems


def check_trusted_proxies(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every TRUSTED_PROXIES entry must be an address or a network (CIDR)."""
    problems: list[CheckMessage] = []
    for entry in getattr(settings, "TRUSTED_PROXIES", []):
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            problems.append(Error(
                f"TRUSTED_PROXIES: «{entry}» не адрес и не сеть (например, 172.30.0.10 или "
                "172.30.0.0/24).", id="portal.E003"))
    return problems


def check_token_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every TOKEN_ENCRYPTION_KEYS entry must be a Fernet key, or no token could be read."""
    from cryptography.fernet import Fernet

    problems: list[CheckMessage] = []
    for number, key in enumerate(getattr(settings, "TOKEN_ENCRYPTION_KEYS", []), start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            problems.append(Error(
                f"TOKEN_ENCRYPTION_KEYS: ключ № {number} не является ключом Fernet.",
                hint="Создайте ключ командой `manage.py rotate_token_key --generate`.",
                id="portal.E001",
            ))
    return problems


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """TRUSTED_PROXIES as networks (a single address is a network of one)."""
    networks = []
    for entry in getattr(settings, "TRUSTED_PROXIES", []):
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue  # reported by check_trusted_proxies
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def from_trusted_proxy(request: HttpRequest | None) -> bool:
    """Whether the request came straight from one of our reverse proxies (TRUSTED_PROXIES)."""
    meta = getattr(request, "META", None) or {}
    peer = _address(meta.get("REMOTE_ADDR", ""))
    return peer is not None and any(peer in network for network in trusted_proxies())


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address, for the login lockout and the logs.

    ``X-Forwarded-For`` is read only when the request comes from a trusted proxy: walking it
    from the right (each proxy appends the address it saw), the first hop that is not one of
    our proxies is the client. From anyone else the header is ignored, or a locked-out guesser
    would only have to send a new address with every try.
    """
    meta = getattr(request, "META", None) or {}
    # Stored in an inet column by django-axes: anything unparsable must not reach it.
    peer = _address(meta.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    proxies = trusted_proxies()
    if not any(peer in network for network in proxies):
        return str(peer)
    for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:
            break  # not written by a proxy of ours: nothing left of it can be believed
        if not any(address in network for network in proxies):
            return str(address)
    return str(peer)


def _ip(request: HttpRequest | None) -> str:
    return client_ip(request) or "-"


def _who(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return f"{user.get_username()}#{user.pk}"


def log_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    logger.info("login user=%s ip=%s", _who(user), _ip(request))


def log_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the password in ``credentials``; only the name is logged.
    username = str(credentials.get("username", ""))[:150]
    logger.warning("login_failed username=%r ip=%s", username, _ip(request))


def log_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, ip_address: str | None,
    **kwargs: Any,
) -> None:
    logger.warning("locked_out username=%r ip=%s", username or "", ip_address or "-")


class SecurityLogMiddleware:
    """Logs every permission denial (HTTP 403) answered by a page or the API."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 403:
            # DRF writes the token-authenticated user back onto the Django request.
            logger.warning(
                "permission_denied user=%s ip=%s method=%s path=%s",
                _who(getattr(request, "user", None)), _ip(request), request.method,
                request.get_full_path()[:500],
            )
        return response


class ProxyHeadersMiddleware:
    """Drops the X-Forwarded-* headers of a request that did not come from a trusted proxy.

    Django believes ``X-Forwarded-Proto`` (SECURE_PROXY_SSL_HEADER) from anyone; with
    TRUSTED_PROXIES set, only our proxies may say a request came over HTTPS.
    """

    HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
               "HTTP_X_FORWARDED_PORT", "HTTP_X_REAL_IP")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.TRUSTED_PROXIES and not from_trusted_proxy(request):
            for header in self.HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuses a request whose declared body exceeds REQUEST_MAX_BYTES (413), unread.

    Django caps form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams files to disk and lets the
    API read JSON bodies of any size; this is the one limit for all of them. (Bodies without
    Content-Length must be capped by the proxy in front.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = settings.REQUEST_MAX_BYTES
        if declared > limit:
            logger.warning("request_too_large bytes=%s ip=%s path=%s", declared, _ip(request),
                           request.path[:500])
            return too_large_response(request, limit)
        return self.get_response(request)


NUL_MESSAGE = ("Запрос отклонён: в тексте есть недопустимый нулевой символ (NUL). Уберите его "
               "(обычно он попадает при копировании из другой программы) и повторите.")
BAD_BODY_MESSAGE = "Запрос отклонён: тело запроса повреждено и не читается ({error})."
#: An integer literal: a sign and digits, nothing else.
_INTEGER = re.compile(r"[+-]?[0-9]+")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def out_of_int64(text: str) -> bool:
    """Whether ``text`` is an integer literal a 64-bit signed integer cannot hold."""
    if not _INTEGER.fullmatch(text):
        return False
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 19:  # decided without converting a thousand digits
        return True
    return not INT64_MIN <= int(text) <= INT64_MAX


def out_of_range_message(name: str) -> str:
    return (f"Число в параметре «{name[:100]}» вне допустимого диапазона: допускаются целые "
            f"от {INT64_MIN} до {INT64_MAX}.")


def _carries_nul(data: Any) -> bool:
    return any("\x00" in key or any("\x00" in value for value in data.getlist(key))
               for key in data)


def _out_of_range(data: Any) -> str | None:
    """The first field of ``data`` that holds an integer no 64-bit column could store."""
    return next((key for key in data if any(out_of_int64(v) for v in data.getlist(key))), None)


class InputGuardMiddleware:
    """Refuses, with 400, a request no view should have to read: an unparsable body, a NUL
    character, and (API) an integer literal past 64 bits.

    - A body Django cannot parse (multipart without its boundary, cut short) would raise from
      the first ``request.POST``; here it is a 400 in the API's JSON error shape or the plain
      Russian page.
    - PostgreSQL cannot store NUL in text: Django's form fields and DRF refuse it, but a value
      a view reads straight from ``request.POST`` (a comment, a title) would fail in the
      database as a 500. JSON bodies are checked by the serializers.
    - Every integer of the API is a 64-bit one at most (ids, pages, years, figures): one past
      that, in the query string or a form body, is refused here for every parameter at once
      (JSON bodies: ``portal.api.JSONParser``) instead of reaching a lookup or a column.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            form = request.POST if request.method == "POST" else None
        except (MultiPartParserError, BadRequest, SuspiciousOperation, UnicodeDecodeError) as exc:
            logger.warning("bad_body ip=%s path=%s error=%s", _ip(request), request.path[:500],
                           exc.__class__.__name__)
            return refusal_response(request, status=400, code="parse_error",
                                    title="Неверный запрос",
                                    message=BAD_BODY_MESSAGE.format(error=str(exc)[:200]))
        if _carries_nul(request.GET) or (form is not None and _carries_nul(form)):
            logger.warning("nul_refused ip=%s path=%s", _ip(request), request.path[:500])
            return refusal_response(request, status=400, code="validation_failed",
                                    title="Недопустимый символ", message=NUL_MESSAGE)
        if request.path.startswith("/api/"):
            name = _out_of_range(request.GET) or (form is not None and _out_of_range(form))
            if name:
                return refusal_response(request, status=400, code="validation_failed",
                                        title="Неверный запрос",
                                        message=out_of_range_message(name))
        return self.get_response(request)


def refusal_response(request: HttpRequest, *, status: int, code: str, title: str,
                     message: str) -> HttpResponse:
    """The API's JSON error shape under /api/, the plain Russian error page elsewhere."""
    if request.path.startswith("/api/"):
        from portal.errors import error_body

        return JsonResponse(error_body(code, message), status=status)
    return render(request, "403.html", {"title": title, "message": message}, status=status)


def too_large_response(request: HttpRequest, limit: int) -> HttpResponse:
    message = (f"Запрос слишком велик: допускается не более {limit // (1024 * 1024)} МБ. "
               "Загрузите файлы меньшего размера или по частям.")
    return refusal_response(request, status=413, code="too_large",
                            title="Слишком большой запрос", message=message)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page django-axes shows a locked-out login: Russian, status 429, when it lifts."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        f"Слишком много неудачных попыток входа. Вход для этой учётной записи с вашего адреса "
        f"заблокирован на {minutes} мин. Попробуйте позже или обратитесь к администратору портала."
    )
    return render(
        request, "403.html", {"title": LOCKOUT_TITLE, "message": message}, status=429
    )
