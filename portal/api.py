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
