"""The part of VKScript (the language of VK's ``execute``) the emulator understands.

Statements ``var NAME = EXPR;`` and ``return EXPR;``. Expressions: an API call
``API.section.method({...})``, a variable, array ``[…]`` and object ``{"key": …}`` literals, JSON
strings, numbers, ``true``/``false``/``null``, and the postfixes ``.field`` (a field of an object)
and ``@.field`` (that field of every object of an array), which may be chained:
``w.items@.likes@.count``. As in VK, a call that fails is ``false`` (its error goes to
``execute_errors``), and a field of something that is not an object is ``null``.

No loops or conditions: the number of API calls is known before running, and more than 25 is
VK's error 13. Anything else is error 12.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_CALLS = 25
_TOKEN = re.compile(r"""\s*(?:
    (?P<api>API\.[A-Za-z]+\.[A-Za-z]+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>")
  | (?P<at>@\.)
  | (?P<punct>[\[\]{}(),:;=.])
)""", re.VERBOSE)
_METHOD = re.compile(r"API\.([A-Za-z]+\.[A-Za-z]+)\s*\(")
_JSON = json.JSONDecoder()


class ScriptError(Exception):
    """The script is not VKScript we understand (VK error 12) or calls too much (13)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def methods(code: str) -> list[str]:
    """The API methods a script calls, in order (for fault injection and counters)."""
    return _METHOD.findall(code)


@dataclass(frozen=True)
class _Call:
    method: str
    params: Any


@dataclass(frozen=True)
class _Var:
    name: str


@dataclass(frozen=True)
class _Get:
    target: Any
    field: str
    each: bool  # ``@.``: the field of every element


@dataclass(frozen=True)
class _List:
    items: tuple


@dataclass(frozen=True)
class _Object:
    items: tuple  # (key, expression) pairs


@dataclass(frozen=True)
class _Literal:
    value: Any


class _Parser:
    def __init__(self, code: str) -> None:
        self.code, self.pos, self.calls = code, 0, 0

    def peek(self) -> tuple[str, str] | None:
        match = _TOKEN.match(self.code, self.pos)
        if not match:
            if self.code[self.pos:].strip():
                raise ScriptError(12)
            return None
        kind = match.lastgroup or ""
        return kind, match.group(kind)

    def take(self, expected: str | None = None) -> tuple[str, str]:
        match = _TOKEN.match(self.code, self.pos)
        if not match:
            raise ScriptError(12)
        kind = match.lastgroup or ""
        value = match.group(kind)
        if expected is not None and value != expected:
            raise ScriptError(12)
        if kind == "string":
            try:
                text, end = _JSON.raw_decode(self.code, match.start(kind))
            except ValueError as exc:
                raise ScriptError(12) from exc
            self.pos = end
            return kind, text
        self.pos = match.end()
        return kind, value

    def script(self) -> list[tuple[str, str | None, Any]]:
        statements = []
        while self.peek() is not None:
            _, word = self.take()
            if word == "var":
                _, name = self.take()
                self.take("=")
                statements.append(("var", name, self.expression()))
            elif word == "return":
                statements.append(("return", None, self.expression()))
            else:
                raise ScriptError(12)
            if self.peek() == ("punct", ";"):
                self.take(";")
        if self.calls > MAX_CALLS:
            raise ScriptError(13)
        return statements

    def expression(self) -> Any:
        node = self.primary()
        while True:
            token = self.peek()
            if token == ("punct", "."):
                self.take(".")
                node = _Get(node, self.take()[1], each=False)
            elif token == ("at", "@."):
                self.take("@.")
                node = _Get(node, self.take()[1], each=True)
            else:
                return node

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "api":
            self.take("(")
            params = self.json_object() or (
                _Object(()) if self.peek() == ("punct", ")") else self.expression())
            self.take(")")
            self.calls += 1
            return _Call(value[len("API."):], params)
        if kind == "string":
            return _Literal(value)
        if kind == "number":
            return _Literal(float(value) if "." in value else int(value))
        if kind == "name":
            constants = {"true": True, "false": False, "null": None}
            return _Literal(constants[value]) if value in constants else _Var(value)
        if value == "[":
            return _List(tuple(self.sequence("]", self.expression)))
        if value == "{":
            return _Object(tuple(self.sequence("}", self.pair)))
        raise ScriptError(12)

    def json_object(self) -> _Literal | None:
        """Parameters written as plain JSON (as the portal writes them), read in one go."""
        start = self.code.find("{", self.pos)
        if start < 0 or self.code[self.pos:start].strip():
            return None
        try:
            params, end = _JSON.raw_decode(self.code, start)
        except ValueError:
            return None
        self.pos = end
        return _Literal(params)

    def pair(self) -> tuple[str, Any]:
        kind, key = self.take()
        if kind not in ("string", "name"):
            raise ScriptError(12)
        self.take(":")
        return key, self.expression()

    def sequence(self, closing: str, item: Callable[[], Any]) -> list[Any]:
        out: list[Any] = []
        if self.peek() == ("punct", closing):
            self.take(closing)
            return out
        while True:
            out.append(item())
            _, value = self.take()
            if value == closing:
                return out
            if value != ",":
                raise ScriptError(12)


def run(code: str, call: Callable[[str, dict], Any]) -> Any:
    """Run a script; ``call(method, params)`` answers an API call (``False`` when it failed)."""
    statements = _Parser(code).script()
    variables: dict[str, Any] = {}

    def value(node: Any) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _Var):
            if node.name not in variables:
                raise ScriptError(12)
            return variables[node.name]
        if isinstance(node, _List):
            return [value(item) for item in node.items]
        if isinstance(node, _Object):
            return {key: value(item) for key, item in node.items}
        if isinstance(node, _Call):
            params = value(node.params)
            return call(node.method, params if isinstance(params, dict) else {})
        target = value(node.target)
        if not node.each:
            return target.get(node.field) if isinstance(target, dict) else None
        if not isinstance(target, list):
            return None
        try:
            return [item.get(node.field) for item in target]
        except AttributeError:  # not every element is an object
            return [item.get(node.field) if isinstance(item, dict) else None for item in target]

    for kind, name, node in statements:
        if kind == "return":
            return value(node)
        variables[name] = value(node)
    return None
