"""VK's own schema of API 5.199 (vendored in emulator/vk_schema/) as the contract tests read it.

Every file is a resource of one ``referencing`` Registry under ``https://vk-schema.test/<path>``,
so the schema's relative ``$ref``s (``../base/objects.json#/definitions/base_error``) resolve
across files. Validation uses ``jsonschema``'s Draft 7 validator, the draft the schema names.

This reading is independent of the emulator's (emulator/vk_contract.py, hand-written checks): the
tests hold the emulator and the portal's client to the schema through ``jsonschema``.

Where the schema itself is wrong, ``DEFECTS`` names the exception and why, one line each; the
code below applies exactly those and nothing else.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "emulator" / "vk_schema"
BASE = "https://vk-schema.test/"

DEFECTS = {
    "draft-03 required": "properties say `\"required\": true` (draft 03) inside draft-07 "
                         "documents: read as the parent object's `required` list",
    "inner_type": "`inner_type` is a code generator's tag marked required; VK never sends it",
    "wall.get owner_id": "wall.get's parameters lack owner_id, which the method takes (its page "
                         "on dev.vk.com, and every other wall method, list it)",
    "wall.get count maximum": "wall.get's count is «maximum 100» in its description only",
    "groups.getById 500 ids": "groups.getById takes at most 500 ids (dev.vk.com); the schema "
                              "has no maxItems",
    "execute parameters": "execute lists no parameters; it takes `code`, the VKScript to run",
    "execute response": "execute's response is typed an object; it is whatever the code "
                        "returns (an array for the portal's code)",
    "execute_errors": "execute's answer may carry `execute_errors`, which the schema does not "
                      "describe: each is checked as base_error with the failed call's method",
    "resolveScreenName []": "utils.resolveScreenName answers `[]` for a name VK does not know; "
                            "the schema allows only an object",
    "groups_group closed": "groups_group says additionalProperties: false, yet groups_group_full "
                           "extends it through allOf (members_count, verified…): not closed",
    "errors.json subcodes": "errors.json refers to subcodes error_request_try_again and "
                            "error_access_try_again that it never defines",
}
#: References that lead nowhere, each a named defect.
DANGLING = {"errors.json#/definitions/subcodes/error_request_try_again": "errors.json subcodes",
            "errors.json#/definitions/subcodes/error_access_try_again": "errors.json subcodes"}
#: What ``DEFECTS`` adds to the methods' parameter lists.
PARAMETER_FIXES = {
    "wall.get": {"owner_id": {"type": "integer", "format": "int64"},
                 "count": {"maximum": 100}},
    "groups.getById": {"group_ids": {"maxItems": 500}},
}
#: Parameters of every request, in no method's list (VK's documentation of requests).
GLOBAL_PARAMS = {"access_token", "v", "lang", "test_mode"}


def normalised(node: Any) -> Any:
    """A schema document with the named defects «draft-03 required» and «inner_type» read."""
    if isinstance(node, list):
        return [normalised(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    flagged: list[str] = []
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            properties = {}
            for name, sub in value.items():
                if isinstance(sub, dict) and sub.get("required") is True:
                    if name != "inner_type":
                        flagged.append(name)
                    sub = {k: v for k, v in sub.items() if k != "required"}
                properties[name] = normalised(sub)
            out[key] = properties
        elif key != "required" or not isinstance(value, bool):
            out[key] = normalised(value)
    listed = node.get("required") if isinstance(node.get("required"), list) else []
    if flagged or listed:
        out["required"] = sorted({*flagged, *listed} - {"inner_type"})
    return out


def _documents() -> dict[str, Any]:
    return {path.relative_to(SCHEMA_DIR).as_posix(): json.loads(path.read_text("utf-8"))
            for path in sorted(SCHEMA_DIR.rglob("*.json"))}


@cache
def raw_documents() -> dict[str, Any]:
    return _documents()


def _fixed(name: str, document: Any) -> Any:
    """A document with the named defects of single definitions read («groups_group closed»)."""
    document = normalised(document)
    if name == "groups/objects.json":
        document["definitions"]["groups_group"].pop("additionalProperties")
    return document


@cache
def registry() -> Registry:
    return Registry().with_resources(
        (BASE + name, DRAFT7.create_resource(_fixed(name, document)))
        for name, document in raw_documents().items())


def validator(ref: str) -> Draft7Validator:
    """A validator of the schema a ``$ref`` (relative to the vendored folder) names."""
    return Draft7Validator({"$ref": BASE + ref}, registry=registry())


@cache
def methods() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every method of the vendored sections: its file and its description."""
    out = {}
    for name, document in raw_documents().items():
        if name.endswith("methods.json"):
            for method in document["methods"]:
                out[method["name"]] = (name, method)
    return out


@cache
def error_descriptions() -> dict[int, str]:
    return {e["code"]: e["description"] for e in raw_documents()["errors.json"]["errors"].values()}


def _resolved(spec: dict[str, Any], base: str) -> dict[str, Any]:
    """A parameter's schema with its ``$ref`` followed (for its declared type)."""
    if "$ref" not in spec:
        return spec
    target = registry().resolver().lookup(urljoin(base, spec["$ref"])).contents
    return {**target, **{k: v for k, v in spec.items() if k != "$ref"}}


def _coerced(value: Any, spec: dict[str, Any], base: str) -> Any:
    """A value as sent (a string on the wire, JSON inside ``execute``) read by its type."""
    spec = _resolved(spec, base)
    types = spec.get("type", "string")
    types = types if isinstance(types, list) else [types]
    if "array" in types:
        items = value if isinstance(value, list) else str(value).split(",")
        return [_coerced(item, spec.get("items", {}), base) for item in items]
    if isinstance(value, bool | int | float) and not isinstance(value, str):
        return value
    text = str(value)
    if "integer" in types and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in types and re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    if "boolean" in types and text in ("0", "1"):
        return text == "1"
    return text


def _parameter_schema(spec: dict[str, Any], base: str) -> dict[str, Any]:
    """A parameter's description as a schema whose ``$ref``s resolve from its methods.json."""
    schema = {k: v for k, v in spec.items() if k not in ("name", "description", "required")}
    if "$ref" in schema:
        schema = {"allOf": [{"$ref": schema.pop("$ref")}, schema]}
    return {"$id": base, **schema}


def request_problems(method: str, params: dict[str, Any], *, token_kind: str,
                     inside_execute: bool) -> list[str]:
    """What VK's schema says is wrong with a request (empty: nothing)."""
    if method not in methods():
        return [f"{method}: no such method in the schema"]
    file, description = methods()[method]
    base = BASE + file
    problems = []
    if token_kind not in description.get("access_token_type", []):
        problems.append(f"{method}: a {token_kind} token, the schema allows "
                        f"{description.get('access_token_type')}")
    declared = {p["name"]: p for p in description.get("parameters", [])}
    for name, fix in PARAMETER_FIXES.get(method, {}).items():
        declared[name] = {**declared.get(name, {"name": name}), **fix}
    for spec in declared.values():
        if spec.get("required") and spec["name"] not in params:
            problems.append(f"{method}: required {spec['name']} missing")
    for name, value in params.items():
        if not inside_execute and name in GLOBAL_PARAMS:
            continue
        if method == "execute" and name == "code":  # DEFECTS["execute parameters"]
            continue
        if name not in declared:
            problems.append(f"{method}: {name} is not a parameter of the method")
            continue
        checker = Draft7Validator(_parameter_schema(declared[name], base), registry=registry())
        for error in checker.iter_errors(_coerced(value, declared[name], base)):
            problems.append(f"{method}: {name}={value!r}: {error.message}")
    return problems


ERROR_ANSWER = {"type": "object", "required": ["error"],
                "properties": {"error": {"$ref": BASE + "base/objects.json#/definitions/"
                                                        "base_error"}}}
EXECUTE_ERROR = {"allOf": [{"$ref": BASE + "base/objects.json#/definitions/base_error"},
                           {"required": ["method"], "properties": {"method": {"type": "string"}}}]}


def _error_problems(error: dict[str, Any], where: str) -> list[str]:
    code, message = error.get("error_code"), str(error.get("error_msg", ""))
    if code not in error_descriptions():
        return [f"{where}: error {code} is not in errors.json"]
    if not message.startswith(error_descriptions()[code]):
        return [f"{where}: error {code} says {message!r}, errors.json "
                f"{error_descriptions()[code]!r}"]
    return []


def answer_problems(method: str, answer: Any) -> list[str]:
    """What VK's schema says is wrong with an answer body (``{"response"}`` or ``{"error"}``)."""
    if isinstance(answer, dict) and "error" in answer:
        problems = [f"{method}: {e.message}" for e in
                    Draft7Validator(ERROR_ANSWER, registry=registry()).iter_errors(answer)]
        return problems + _error_problems(answer["error"], method)
    if method == "execute":  # DEFECTS["execute response"], DEFECTS["execute_errors"]
        problems = [] if "response" in answer else ["execute: no response"]
        for entry in answer.get("execute_errors", []):
            problems += [f"execute_errors: {e.message}" for e in Draft7Validator(
                EXECUTE_ERROR, registry=registry()).iter_errors(entry)]
            problems += _error_problems(entry, f"execute_errors of {entry.get('method')}")
        return problems
    if method == "utils.resolveScreenName" and answer == {"response": []}:
        return []  # DEFECTS["resolveScreenName []"]
    file, description = methods()[method]
    ref = description["responses"]["response"]["$ref"]
    schema = {"$ref": urljoin(BASE + file, ref)}
    return [f"{method}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in Draft7Validator(schema, registry=registry()).iter_errors(answer)]
