"""/api/v1/docs/ reads in Russian wherever the portal writes the text."""

from __future__ import annotations

import re

import pytest

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def _texts(node, found: list) -> list:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary", "title") and isinstance(value, str):
                found.append(value)
            _texts(value, found)
    elif isinstance(node, list):
        for value in node:
            _texts(value, found)
    return found


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_no_description_or_summary_is_english_only(schema):
    english = [t for t in _texts(schema, []) if LATIN_WORD.search(t) and not CYRILLIC.search(t)]
    assert english == []


def test_every_operation_has_a_russian_summary(schema):
    missing = [f"{method} {path}" for path, item in schema["paths"].items()
               for method, operation in item.items()
               if not CYRILLIC.search(operation.get("summary", ""))]
    assert missing == []


def test_the_bulk_and_completeness_endpoints_are_documented(schema):
    assert "/api/v1/reports/bulk/" in schema["paths"]
    assert "/api/v1/completeness/" in schema["paths"]
