"""The one DRF router of the portal and shared API pieces."""

from typing import Any

from rest_framework.pagination import PageNumberPagination
from rest_framework.routers import DefaultRouter


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


router = DefaultRouter()


ERROR_RESPONSES = {
    "400": "Данные запроса не прошли проверку.",
    "401": "Нужна аутентификация: токен или сессия.",
    "403": "Недостаточно прав.",
    "404": "Не найдено или вне вашей области видимости.",
    "429": "Слишком много запросов; повторите позже.",
}
WRITE_ERROR_RESPONSES = {
    "409": "Объект изменён другим пользователем.",
    "423": "Период утверждён и заблокирован.",
    "503": "Сервис временно недоступен (например, очередь задач).",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"nullable": True},
            },
        },
    },
}


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular hook: every operation documents the portal's one error shape.

    The exception handler (portal.errors) answers every failure with that shape, so a client and
    the schema fuzzer may rely on it for each status below.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            statuses = dict(ERROR_RESPONSES)
            if method in ("post", "put", "patch", "delete"):
                statuses.update(WRITE_ERROR_RESPONSES)
            responses = operation.setdefault("responses", {})
            for status_code, text in statuses.items():
                responses.setdefault(status_code, {"description": text, "content": content})
    return result


def _drop_titles(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("title"), str):
            del node["title"]  # a property *named* "title" maps to a dict and stays
        for value in node.values():
            _drop_titles(value)
    elif isinstance(node, list):
        for value in node:
            _drop_titles(value)


def english_identifiers(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular hook: no schema titles, so generated code names things in English.

    Filter fields carry Russian labels, which drf-spectacular writes as ``title``; client
    generators turn titles into class names («CommunitiesListСостояние»). Descriptions keep
    the Russian text for people.
    """
    _drop_titles(result.get("paths", {}))
    _drop_titles(result.get("components", {}))
    return result


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def json_request_bodies(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular hook: a body that may be JSON is documented as JSON only.

    DRF also parses the same fields as a form (the browsable API posts forms), but listing three
    content types for one body makes generated clients take a union of three identical models.
    File uploads keep their one ``multipart/form-data``.
    """
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(
                operation, dict) else {}
            if "application/json" in content:
                for form_type in FORM_TYPES:
                    content.pop(form_type, None)
    return result
