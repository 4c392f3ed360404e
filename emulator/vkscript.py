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
from functools import lru_cache
from typing import Any

MAX_CALLS = 25
_TOKEN = re.compile(r"""\s*(?:
    (?P<api>API\.[A-Za-z]+\.[A-Za-z]+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>-?\d+(?:\.\d+)?)
  | "(?P<plain>[^"\\\x00-\x1f]*)"
  | (?P<string>")
  | (?P<at>@\.)
  | (?P<punct>[\[\]{}(),:;=.])
)""", re.VERBOSE)
# ``plain`` is a string that JSON would read as it is written (no escapes, no control
# characters); any other string starts at ``string`` and is left to the JSON decoder.

# Shortcuts for the commonest token runs (the parser reads them token by token otherwise): a
# postfix ``.name`` or ``@.name`` whose field is a name (not an API method), and ``"key":``.
_FIELD = re.compile(r"""\s*(?P<op>\.|@\.)
                        \s*(?!API\.[A-Za-z]+\.[A-Za-z]+)(?P<field>[A-Za-z_][A-Za-z0-9_]*)""",
                    re.VERBOSE)
_KEY = re.compile(r'\s*"(?P<key>[^"\\\x00-\x1f]*)"\s*:')
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


# The syntax tree. Not frozen: a frozen dataclass is slow to make, and a script of 25 calls makes
# hundreds of nodes. Nothing changes a node once parsed (trees are cached, see ``_parse``).
@dataclass(slots=True)
class _Call:
    method: str
    params: Any


@dataclass(slots=True)
class _Var:
    name: str


@dataclass(slots=True)
class _Get:
    target: Any
    field: str
    each: bool  # ``@.``: the field of every element


@dataclass(slots=True)
class _List:
    items: tuple


@dataclass(slots=True)
class _Object:
    items: tuple  # (key, expression) pairs


@dataclass(slots=True)
class _Literal:
    value: Any


_Token = tuple[str, Any]  # kind and value; a string's value is its text
_CONSTANTS = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, code: str) -> None:
        self.code, self.pos, self.calls = code, 0, 0
        self.scanned: tuple[int, _Token | None, int] = (-1, None, 0)

    def scan(self) -> tuple[_Token | None, int]:
        """The token at ``pos`` (None at the end) and where it ends, read once per position.

        ``peek`` and then ``take`` look at every token twice; this reads it once. An ill-formed
        string fails here already, which is error 12 all the same: parsing reads the whole code.
        """
        at, token, end = self.scanned
        if at == self.pos:
            return token, end
        match = _TOKEN.match(self.code, self.pos)
        if not match:
            if self.code[self.pos:].strip():
                raise ScriptError(12)
            token, end = None, self.pos
        elif match.lastgroup == "plain":
            token, end = ("string", match.group("plain")), match.end()
        elif match.lastgroup == "string":
            try:
                text, end = _JSON.raw_decode(self.code, match.start("string"))
            except ValueError as exc:
                raise ScriptError(12) from exc
            token = ("string", text)
        else:
            kind = match.lastgroup or ""
            token, end = (kind, match.group(kind)), match.end()
        self.scanned = (self.pos, token, end)
        return token, end

    def peek(self) -> _Token | None:
        return self.scan()[0]

    def take(self, expected: str | None = None) -> _Token:
        token, end = self.scan()
        if token is None:
            raise ScriptError(12)
        if expected is not None and (token[0] == "string" or token[1] != expected):
            raise ScriptError(12)  # a string's text never stands for punctuation
        self.pos = end
        return token

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
            if match := _FIELD.match(self.code, self.pos):  # the usual postfix, read in one go
                field, each = match["field"], match["op"] == "@."
                self.pos = match.end()
            elif (token := self.peek()) in (("punct", "."), ("at", "@.")):
                self.take()
                field, each = self.take()[1], token == ("at", "@.")
            else:
                return node
            node = _Get(node, field, each)

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
            return _Literal(_CONSTANTS[value]) if value in _CONSTANTS else _Var(value)
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
        if match := _KEY.match(self.code, self.pos):  # the usual ``"key":``, read in one go
            self.pos = match.end()
            return match["key"], self.expression()
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


@lru_cache(maxsize=8)
def _parse(code: str) -> tuple[tuple[str, str | None, Any], ...]:
    """A script's statements, parsed once for the same code sent again (a retry, a repeat).

    Nothing changes a tree once parsed, and the parameter objects in it are only read. Few are
    kept: a tree of 25 calls is thousands of objects for every full garbage collection to walk.
    """
    return tuple(_Parser(code).script())


def run(code: str, call: Callable[[str, dict], Any]) -> Any:
    """Run a script; ``call(method, params)`` answers an API call (``False`` when it failed)."""
    machine = _Machine(call)
    for kind, name, node in _parse(code):
        if kind == "return":
            return machine.value(node)
        machine.variables[name] = machine.value(node)
    return None


class _Machine:
    """One run's variables and its API.

    A class rather than a closure: a recursive nested function refers to itself, and that
    cycle kept every run's variables — 2,500 posts of an ``execute`` — alive until the cyclic
    garbage collector came by, whose collections of them then stalled every request for
    ~0.1 s. Without the cycle a run's answers are freed as soon as it is sent.
    """

    def __init__(self, call: Callable[[str, dict], Any]) -> None:
        self.call = call
        self.variables: dict[str, Any] = {}

    def value(self, node: Any) -> Any:
        if isinstance(node, _Literal):
            return node.value
        if isinstance(node, _Var):
            if node.name not in self.variables:
                raise ScriptError(12)
            return self.variables[node.name]
        if isinstance(node, _List):
            return [self.value(item) for item in node.items]
        if isinstance(node, _Object):
            return {key: self.value(item) for key, item in node.items}
        if isinstance(node, _Call):
            params = self.value(node.params)
            return self.call(node.method, params if isinstance(params, dict) else {})
        target = self.value(node.target)
        if not node.each:
            return target.get(node.field) if isinstance(target, dict) else None
        if not isinstance(target, list):
            return None
        try:
            return [item.get(node.field) for item in target]
        except AttributeError:  # not every element is an object
            return [item.get(node.field) if isinstance(item, dict) else None for item in target]
