"""The API's JSON parser (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES).

A module of its own: DRF imports its parser classes while ``portal.api`` imports DRF's views.
"""

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

from portal.security import INT64_MAX, INT64_MIN, out_of_int64


class IntegerOutOfRange(ValueError):
    pass


def _bounded_int(text: str) -> int:
    if out_of_int64(text):
        raise IntegerOutOfRange(text[:40])
    return int(text)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing in Russian (400) what no field could take: an integer past
    64 bits (before any serializer, lookup or column meets it), nesting past Python's recursion
    limit, text that is not in the request's encoding."""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: dict | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json.loads(text, parse_int=_bounded_int, parse_constant=strict_constant)
        except IntegerOutOfRange as exc:
            raise ParseError(f"Число {exc}… в теле запроса вне допустимого диапазона: "
                             f"допускаются целые от {INT64_MIN} до {INT64_MAX}.") from exc
        except RecursionError as exc:
            raise ParseError("Тело запроса: JSON вложен слишком глубоко.") from exc
        except ValueError as exc:
            raise ParseError(f"Тело запроса — не JSON в кодировке {encoding}: {exc}") from exc
