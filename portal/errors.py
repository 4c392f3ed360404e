"""The portal's own exception types and the single JSON error shape of the API.

Every error the API returns looks like ``{"error": {"code": ..., "message": ..., "details": ...}}``.
Services raise the types below; views never build error responses by hand.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler


class PortalError(Exception):
    """Base of the portal's domain errors; ``message`` is shown to people (Russian)."""

    code = "error"
    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationFailed(PortalError):
    code = "validation_failed"


class RowsRejected(PortalError):
    """An import refused as a whole; ``details["errors"]`` names the sheet, row and column."""

    code = "import_rejected"


class NotAllowed(PortalError):
    code = "forbidden"
    http_status = status.HTTP_403_FORBIDDEN


class NotFound(PortalError):
    code = "not_found"
    http_status = status.HTTP_404_NOT_FOUND


class Conflict(PortalError):
    """Someone else changed the object since it was read (optimistic locking)."""

    code = "conflict"
    http_status = status.HTTP_409_CONFLICT


class Locked(PortalError):
    """The period is approved and no path may change it."""

    code = "locked"
    http_status = status.HTTP_423_LOCKED


class ServiceUnavailable(PortalError):
    code = "unavailable"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _render_errors_as_json(request: Any) -> None:
    """An error is JSON even when the client asked for CSV or XLSX (``?format=xlsx``).

    Otherwise the error body would travel labelled as a spreadsheet. The browsable API keeps
    its HTML page.
    """
    renderer = getattr(request, "accepted_renderer", None)
    if request is not None and not isinstance(renderer, JSONRenderer | BrowsableAPIRenderer):
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map portal and DRF errors to one JSON shape."""
    if isinstance(exc, PortalError):
        _render_errors_as_json(context.get("request"))
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    _render_errors_as_json(context.get("request"))
    if isinstance(exc, drf_exceptions.ValidationError):
        code, message, details = "validation_failed", "Данные не прошли проверку.", response.data
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        code = getattr(exc, "default_code", "error")
        message, details = str(detail) or str(exc), None
    response.data = error_body(code, message, details)
    return response


API_PREFIX = "/api/"


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400 (a body or header Django could not take): JSON for the API, else the page."""
    message = "Запрос отклонён: он повреждён или слишком велик."
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("bad_request", message), status=400)
    from django.shortcuts import render

    return render(request, "403.html", {"title": "Неверный запрос", "message": message},
                  status=400)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: the API answers in its JSON error shape, pages with the Russian 404 page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("not_found", "Адрес API не найден."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON for the API, the plain Russian 500 page (no database needed) for pages."""
    if request.path.startswith(API_PREFIX):
        body = error_body("server_error", "Внутренняя ошибка сервера; действие не выполнено.")
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
