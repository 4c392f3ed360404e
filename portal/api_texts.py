"""The API documentation in Russian where the portal writes it.

drf-spectacular fills descriptions from DRF's English defaults and from the viewsets' docstrings
(written for developers). This hook puts a Russian text in their place; an English-only text it
does not know is dropped rather than shown, so /api/v1/docs/ never mixes languages in what the
portal controls. Swagger UI's own buttons belong to the vendored viewer.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.functional import Promise

RUSSIAN = {
    "A page number within the paginated result set.": "Номер страницы.",
    "Number of results to return per page.": "Сколько записей на странице.",
    "Which field to use when ordering the results.":
        "Поле сортировки; «-» перед именем — по убыванию.",
    "A search term.": "Строка поиска.",
    "No response body": "Без тела ответа.",
    'Token-based authentication with required prefix "Token"':
        "Вход по токену: заголовок «Authorization: Token <ключ>».",
    "range (date_from/date_to), month, quarter, year (year/number)":
        "Период: range (даты date_from и date_to), month, quarter или year (year и number).",
}
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
TEXT_KEYS = ("description", "summary")


def _russian(text: str) -> str | None:
    """The Russian text for ``text``; None when it is English we have no translation for."""
    if CYRILLIC.search(text) or not LATIN_WORD.search(text):
        return text
    return RUSSIAN.get(text.strip())


TAG_NOUNS = {
    "territories": "территории", "institutions": "учреждения", "communities": "сообщества",
    "reports": "отчёты по Таблице 1", "report-values": "значения Таблицы 1",
    "collection-runs": "сборы из VK и OK", "network-tokens": "ключи доступа VK и OK",
}
OPERATION_VERBS = {
    "list": "Список", "retrieve": "Одна запись", "create": "Добавить", "update": "Изменить",
    "partial_update": "Изменить часть полей", "destroy": "Удалить",
    "items_retrieve": "Несобранные сообщества сбора",
}


def _summary(operation: dict[str, Any]) -> str | None:
    """«Список — учреждения» for the generated operations that have no summary of their own."""
    tags = operation.get("tags") or []
    noun = TAG_NOUNS.get(tags[0]) if tags else None
    operation_id = operation.get("operationId", "")
    for suffix, verb in sorted(OPERATION_VERBS.items(), key=lambda kv: -len(kv[0])):
        if noun and operation_id.endswith("_" + suffix):
            return f"{verb} — {noun}"
    return None


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        if "operationId" in node and "summary" not in node:
            summary = _summary(node)
            if summary:
                node["summary"] = summary
        for key in TEXT_KEYS:
            if isinstance(node.get(key), Promise):
                node[key] = str(node[key])
            if isinstance(node.get(key), str):
                text = _russian(node[key])
                if text is None:
                    del node[key]
                else:
                    node[key] = text
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def russian_descriptions(result: dict[str, Any], generator: Any, request: Any,
                         public: bool) -> dict[str, Any]:
    """drf-spectacular hook: Russian descriptions and summaries only."""
    _walk(result)
    return result
