"""Security plumbing: the ``portal.security`` audit log, the client address, the lockout page.

Logins, failed logins, lockouts (django-axes) and every 403 answered by a page or the API are
written to the ``portal.security`` logger, one line per event with who, from where and what, so
that operations can ship that logger to their log store and alert on bursts.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.http import HttpRequest, HttpResponse, JsonResponse
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
        user_logged_in.connect(log_login, dispatch_uid="portal.security.login")
        user_login_failed.connect(log_login_failed, dispatch_uid="portal.security.login_failed")
        user_locked_out.connect(log_locked_out, dispatch_uid="portal.security.locked_out")


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


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address: the proxy's last X-Forwarded-For hop when behind our proxy."""
    meta = getattr(request, "META", None) or {}
    candidates = [meta.get("REMOTE_ADDR", "")]
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        candidates.insert(0, meta.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1])
    for candidate in candidates:
        # Stored in an inet column by django-axes: anything unparsable must not reach it.
        try:
            return str(ipaddress.ip_address(candidate.strip()))
        except ValueError:
            continue
    return None


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


def _carries_nul(data: Any) -> bool:
    return any("\x00" in key or any("\x00" in value for value in data.getlist(key))
               for key in data)


class NulCharacterGuardMiddleware:
    """Refuses a request whose query string or form fields carry a NUL character (400).

    PostgreSQL cannot store NUL in text: Django's form fields and DRF refuse it, but a value a
    view reads straight from ``request.POST`` (a comment, a title) would fail in the database as
    a 500. This is the one check for all of them; JSON bodies are checked by the serializers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _carries_nul(request.GET) or (request.method == "POST"
                                         and _carries_nul(request.POST)):
            logger.warning("nul_refused ip=%s path=%s", _ip(request), request.path[:500])
            return refusal_response(request, status=400, code="validation_failed",
                                    title="Недопустимый символ", message=NUL_MESSAGE)
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
