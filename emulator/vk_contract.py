"""VK's own schema of API 5.199 as the emulator reads it: token types, parameters, error texts.

The schema is vendored in ``emulator/vk_schema/`` (MIT, VK's licence beside it): the sections of
the methods the portal calls, ``base/``, ``errors.json`` and every ``objects.json`` their
``$ref``s reach. ``python -m emulator.vk_contract SOURCE`` copies them again from a checkout of
VK's schema (``SOURCE`` is its folder).

The emulator refuses what the schema refuses: a token type a method does not list in
``access_token_type`` (a service token: error 28, a community token: 27), a parameter of the
wrong type, outside its enum or limits (error 100). Error messages start with the description
``errors.json`` gives the code, as VK's own do (``"Access denied: …"``). Limits VK documents
only in words (``wall.get``'s ``count`` up to 100, ``groups.getById`` up to 500 ids) and
``wall.get``'s ``owner_id``, which its parameter list lacks, are ``ADDITIONS`` here; the
contract tests name the same defects of the schema.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent / "vk_schema"
#: The sections whose methods the portal calls (vendored whole).
SECTIONS = ("execute", "groups", "stats", "utils", "wall")
#: The methods the portal calls (the contract tests check each of them).
METHODS_CALLED = ("execute", "groups.getById", "stats.get", "utils.resolveScreenName",
                  "wall.get")
#: The portal's names of token kinds → the schema's ``access_token_type`` values.
KIND_NAMES = {"user": "user", "community": "group", "group": "group", "service": "service"}
#: What VK documents outside the schema's parameter lists (``check_params`` honours it).
ADDITIONS: dict[str, dict[str, dict[str, Any]]] = {
    "wall.get": {
        "owner_id": {"name": "owner_id", "type": "integer", "format": "int64"},
        "count": {"maximum": 100},
    },
    "groups.getById": {"group_ids": {"maxItems": 500}},
}
#: Parameters every method takes (not in any method's list).
GLOBAL_PARAMS = frozenset({"access_token", "v", "lang", "test_mode"})
_WRONG_KIND = {
    "service": (28, "method is unavailable with service token."),
    "group": (27, "method is unavailable with group auth."),
    "user": (27, "method is available only with group auth."),
}


class ParamError(ValueError):
    """A parameter VK would refuse (error 100); the text is what follows VK's description."""


# --- reading --------------------------------------------------------------------------------------
@cache
def _read(relative: str) -> dict[str, Any]:
    """A vendored file, parsed once (never changed by its readers)."""
    return json.loads((SCHEMA_DIR / relative).read_text(encoding="utf-8"))


@cache
def methods() -> dict[str, dict[str, Any]]:
    """Every method of the vendored sections by name."""
    out = {}
    for section in SECTIONS:
        for method in _read(f"{section}/methods.json")["methods"]:
            out[method["name"]] = method
    return out


@cache
def error_descriptions() -> dict[int, str]:
    """``errors.json``: each code's description (the start of VK's ``error_msg``)."""
    return {int(e["code"]): e["description"] for e in _read("errors.json")["errors"].values()}


def error_message(code: int, detail: str = "") -> str:
    """VK's ``error_msg`` for a code: the description of ``errors.json``, then the detail."""
    text = error_descriptions().get(code, f"Error {code}")  # a fault injected with any code
    return f"{text}: {detail}" if detail else text


def token_types(method: str) -> frozenset[str]:
    """The schema's ``access_token_type`` of a method (empty for a method it does not know)."""
    return frozenset(methods().get(method, {}).get("access_token_type", ()))


def wrong_token(method: str, kind: str) -> tuple[int, str] | None:
    """The error VK answers when a token of this kind calls the method, or None if allowed."""
    if method not in methods() or KIND_NAMES[kind] in token_types(method):
        return None
    code, detail = _WRONG_KIND[KIND_NAMES[kind]]
    return code, error_message(code, detail)


@cache
def parameters(method: str) -> dict[str, dict[str, Any]]:
    """A method's parameters by name, with the ``ADDITIONS`` merged in."""
    declared = {p["name"]: dict(p) for p in methods().get(method, {}).get("parameters", [])}
    for name, extra in ADDITIONS.get(method, {}).items():
        declared[name] = {**declared.get(name, {}), **extra}
    return declared


# --- checking -------------------------------------------------------------------------------------
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def _types(spec: dict[str, Any]) -> list[str]:
    kind = spec.get("type", "string")
    return kind if isinstance(kind, list) else [kind]


def _scalar(name: str, value: Any, spec: dict[str, Any]) -> Any:
    """The value as the declared type reads it; ParamError when it cannot."""
    text = str(value).strip() if not isinstance(value, bool) else str(int(value))
    types = _types(spec)
    if "integer" in types and _INTEGER.match(text):
        return int(text)
    if "number" in types and _NUMBER.match(text):
        return float(text)
    if "boolean" in types and text in ("0", "1", "true", "false"):
        return text in ("1", "true")
    if "string" in types:
        return text
    raise ParamError(f"{name} not {types[0]}: {text}")


def _limits(name: str, value: Any, spec: dict[str, Any]) -> None:
    enum = spec.get("enum")
    if enum is not None and value not in enum:
        raise ParamError(f"{name} should be one of {', '.join(map(str, enum))}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in spec and value < spec["minimum"]:
            raise ParamError(f"{name} should be not less than {spec['minimum']}")
        if "maximum" in spec and value > spec["maximum"]:
            raise ParamError(f"{name} should be not more than {spec['maximum']}")


def _enum_of(spec: dict[str, Any]) -> dict[str, Any]:
    """An item or parameter spec with the enum its ``$ref`` names (one level, within the
    vendored files: the ``…_fields`` and ``…_filter`` enums)."""
    ref = spec.get("$ref")
    if not ref:
        return spec
    path, _, pointer = ref.partition("#")
    # Every reference of a parameter climbs out of its section ("../wall/objects.json"), so any
    # section folder is a base for it.
    node: Any = _read(os.path.normpath(os.path.join("groups", path)))
    for part in pointer.strip("/").split("/"):
        node = node[part]
    return {**node, **{k: v for k, v in spec.items() if k != "$ref"}}


def check_value(name: str, value: Any, spec: dict[str, Any], *,
                unknown_fields: bool = True) -> None:
    """Raise ParamError if VK would refuse this value of the parameter.

    VK skips a ``fields`` value it does not know (``unknown_fields``; the contract tests do not).
    """
    spec = _enum_of(spec)
    if "array" in _types(spec):
        items = value if isinstance(value, list) else [p for p in str(value).split(",") if p]
        if "maxItems" in spec and len(items) > spec["maxItems"]:
            raise ParamError(f"{name} should contain not more than {spec['maxItems']} items")
        item_spec = _enum_of(spec.get("items", {}))
        if name == "fields" and unknown_fields:
            item_spec = {k: v for k, v in item_spec.items() if k != "enum"}
        if "string" in _types(item_spec) and "enum" not in item_spec:
            return  # any item reads as a string (ids or screen names: 12,500 an execute)
        for item in items:
            _limits(name, _scalar(name, item, item_spec), item_spec)
        return
    _limits(name, _scalar(name, value, spec), spec)


def check_params(method: str, params: dict[str, Any]) -> None:
    """Raise ParamError for the first parameter VK would refuse (unknown ones VK ignores)."""
    declared = parameters(method)
    for name, spec in declared.items():
        if spec.get("required") and name not in params:
            raise ParamError(f"{name} is undefined")
    for name, value in params.items():
        if name in declared:
            check_value(name, value, declared[name])


# --- vendoring ------------------------------------------------------------------------------------
def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def reached_files(source: Path) -> set[str]:
    """The files of a schema checkout that the portal's methods reach through ``$ref``s."""
    wanted = {f"{s}/{name}" for s in SECTIONS for name in ("methods.json", "responses.json",
                                                           "objects.json")
              if (source / s / name).exists()} | {"errors.json", "base/objects.json",
                                                   "base/responses.json"}
    todo = list(wanted)
    while todo:
        relative = todo.pop()
        document = json.loads((source / relative).read_text(encoding="utf-8"))
        for ref in _refs(document):
            path = ref.partition("#")[0]
            if path and not path.startswith(("http:", "https:")):
                target = os.path.normpath(os.path.join(os.path.dirname(relative), path))
                if target not in wanted and (source / target).exists():
                    wanted.add(target)
                    todo.append(target)
    return wanted


def vendor(source: Path, target: Path = SCHEMA_DIR) -> list[str]:
    """Copy the reached files and VK's LICENSE from a schema checkout; return what was copied."""
    files = [*sorted(reached_files(source)), "LICENSE"]
    for relative in files:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, target / relative)
    return files


if __name__ == "__main__":
    copied = vendor(Path(sys.argv[1]))
    sys.stdout.write("\n".join(copied) + "\n")
