"""Bad input to the API is a 400 in the portal's JSON error shape, never a 500 or an HTML page.

Every integer the OpenAPI schema declares, found by walking /api/v1/schema/ (query parameters,
path parameters and request-body fields, nested ones included), gets 2^63 and −2^63−1: one past
either end of a 64-bit integer. A body field gets it inside an otherwise valid body (``BODIES``),
so the value travels as far as the code that would store or look it up. Then malformed bodies: a
multipart body without its boundary, broken JSON, JSON nested past the parser's recursion limit.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from demo.registry import make_inn
from institutions.models import ApiToken
from metrics.models import MetricValue, NetworkToken
from reports.models import ReportState
from tests.reports.helpers_table1 import MARCH, report_in

BIG, SMALL = 2**63, -(2**63) - 1
SCHEMA_URL = "/api/v1/schema/"
ERROR_KEYS = {"code", "message", "details"}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return Client().get(SCHEMA_URL, {"format": "json"}).json()


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return resolve(schema, node["allOf"][0])
    return node


def integer_pointers(schema: dict, node: dict, at: tuple = ()) -> Iterator[tuple]:
    """Paths (keys, and 0 for "an item of the list") to every integer in a body schema."""
    node = resolve(schema, node)
    if node.get("readOnly"):
        return
    if node.get("type") == "integer":
        yield at
    elif node.get("type") == "array":
        yield from integer_pointers(schema, node.get("items", {}), (*at, 0))
    for name, child in node.get("properties", {}).items():
        yield from integer_pointers(schema, child, (*at, name))


def operations(schema: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def request_body(schema: dict, operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema")
    return resolve(schema, body) if body else None


@pytest.fixture
def scene(world, regional):
    """Territory A's objects, a report to act on and a token to read: every path resolves."""
    community = world["a"]
    report = report_in(community.institution, MARCH, ReportState.SUBMITTED)
    token = NetworkToken.objects.create(network="vk", kind="service", label="t",
                                        secret_encrypted="x", fingerprint="f", last4="abcd")
    institution = community.institution
    valid_institution = {"full_name": "МБУК «Новый ДК»", "short_name": "Новый ДК",
                         "type": "club", "inn": make_inn(__import__("random").Random(5)),
                         "territory": institution.territory_id, "subordination": "municipal",
                         "is_active": True}
    valid_community = {"institution": institution.pk, "title": "Новое сообщество",
                       "url": "https://vk.com/club987654321", "is_verified": False,
                       "state": "active"}
    action = {"comment": "проверено", "version": report.version}
    return {
        "ids": {"id": None, "number": 1, "slug": "x"},
        "paths": {
            "/api/v1/communities/{id}/": community.pk,
            "/api/v1/institutions/{id}/": institution.pk,
            "/api/v1/territories/{id}/": institution.territory_id,
            "/api/v1/reports/{id}/": report.pk,
            "/api/v1/network-tokens/{id}/": token.pk,
            "/api/v1/report-values/{id}/": None,
            "/api/v1/collection-runs/{id}/": None,
        },
        "bodies": {
            ("post", "/api/v1/communities/"): valid_community,
            ("put", "/api/v1/communities/{id}/"): valid_community,
            ("patch", "/api/v1/communities/{id}/"): valid_community,
            ("post", "/api/v1/institutions/"): valid_institution,
            ("put", "/api/v1/institutions/{id}/"): valid_institution,
            ("patch", "/api/v1/institutions/{id}/"): valid_institution,
            ("post", "/api/v1/network-tokens/"): {
                "network": "vk", "kind": "user", "label": "ключ", "secret": "vkemu-usr-x",
                "community_ids": [community.pk]},
            ("post", "/api/v1/report-values/bulk/"): {"values": [{
                "community": community.pk, "month": "2026-03", "indicator": "members",
                "value": 10, "version": report.version}], "dry_run": True},
            **{("post", f"/api/v1/reports/{{id}}/{name}/"): action
               for name in ("accept", "approve", "reopen", "return", "submit")},
            ("post", "/api/v1/imports/past-members/"): {
                "rows": [{"community": str(community.pk), "date": "2026-03-31", "members": 10}],
                "dry_run": True},
            ("post", "/api/v1/reports/bulk/"): {"action": "accept", "comment": "проверено",
                                                "ids": [report.pk]},
        },
    }


def fill_path(path: str, scene: dict, override: dict[str, Any] | None = None) -> str:
    """The path with its parameters set: to ``override`` where given, else to a real object."""
    values = dict(scene["ids"])
    prefix = path.split("{id}")[0] + "{id}/"
    values["id"] = scene["paths"].get(prefix, 1)
    values.update(override or {})
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value if value is not None else 1))
    return path


def put_at(body: Any, pointer: tuple, value: int) -> Any:
    body = copy.deepcopy(body)
    node = body
    for key in pointer[:-1]:
        node = node[key]
    node[pointer[-1]] = value
    return body


def client_for(user) -> Client:
    _, key = ApiToken.objects.create_key(user=user, name="тесты")
    return Client(HTTP_AUTHORIZATION=f"Token {key}", raise_request_exception=False)


def is_json_error(response, *statuses: int) -> bool:
    if response.status_code not in statuses:
        return False
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    error = response.json().get("error", {})
    return set(error) == ERROR_KEYS and bool(error["message"])


def test_every_integer_of_the_schema_one_past_64_bits_is_a_400(schema, scene, regional):
    client = client_for(regional)
    checked, failures = [], []

    def expect(label: str, response, *statuses: int) -> None:
        checked.append(label)
        if not is_json_error(response, *statuses):
            failures.append(f"{label}: {response.status_code} "
                            f"{response.content[:200].decode(errors='replace')}")

    for method, path, operation in operations(schema):
        for number in (BIG, SMALL):
            for parameter in operation.get("parameters", []):
                if parameter.get("schema", {}).get("type") != "integer":
                    continue
                name = f"{method.upper()} {path} {parameter['in']} {parameter['name']}={number}"
                if parameter["in"] == "path":
                    url = fill_path(path, scene, {parameter["name"]: number})
                    # No such object, or no such number at all: either is the client's mistake.
                    expect(name, getattr(client, method)(url, content_type="application/json"),
                           400, 404)
                elif parameter["in"] == "query" and method == "get":
                    url = fill_path(path, scene)
                    expect(name, client.get(url, {parameter["name"]: number}), 400)
            body_schema = request_body(schema, operation)
            if body_schema is None:
                continue
            base = scene["bodies"].get((method, path))
            pointers = list(integer_pointers(schema, body_schema))
            assert base is not None or not pointers, f"BODIES needs a valid body for {path}"
            for pointer in pointers:
                body = put_at(base, pointer, number)
                url = fill_path(path, scene)
                response = getattr(client, method)(url, json.dumps(body),
                                                   content_type="application/json")
                expect(f"{method.upper()} {path} body {pointer}={number}", response, 400)
    assert not failures, "\n".join(failures)
    assert len(checked) >= 80, checked  # the walk reached the schema's integers


@pytest.mark.parametrize("value", [BIG, 9_000_000_000_001, 10**30, -1])
def test_a_figure_out_of_range_is_a_400_and_stores_nothing(value, world, editor_a):
    community = world["a"]
    body = {"values": [{"community": community.pk, "month": "2026-03", "indicator": "members",
                        "value": value}]}
    response = client_for(editor_a).post("/api/v1/report-values/bulk/", json.dumps(body),
                                         content_type="application/json")
    assert is_json_error(response, 400), response.content[:300]
    assert not MetricValue.objects.exists()


# --- malformed bodies ---------------------------------------------------------------------------
BAD_BODIES = {
    "multipart without a boundary": ("multipart/form-data", b"--x\r\n\r\nvalue\r\n--x--"),
    "multipart cut short": ("multipart/form-data; boundary=xyz",
                            b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nval'),
    "multipart with a broken header": ("multipart/form-data; boundary=xyz",
                                       b"--xyz\r\nContent-Disposition\r\n\r\nv\r\n--xyz--\r\n"),
    "broken json": ("application/json", b'{"values": [{"community": 1,'),
    "json nested past the recursion limit": ("application/json", b"[" * 100_000 + b"]" * 100_000),
    "json that is not utf-8": ("application/json", '{"label": "Дом"}'.encode("cp1251")),
    "json with an integer of a thousand digits": ("application/json",
                                                  b'{"values": [{"community": 1' + b"0" * 1000
                                                  + b', "month": "2026-03"}]}'),
    "a form with an integer past 64 bits": ("application/x-www-form-urlencoded",
                                            f"community_ids={BIG}&network=vk".encode()),
}
WRITE_URLS = ["/api/v1/report-values/bulk/", "/api/v1/network-tokens/", "/api/v1/territories/",
              "/api/v1/communities/"]


@pytest.mark.parametrize("kind", BAD_BODIES)
@pytest.mark.parametrize("url", WRITE_URLS)
def test_a_malformed_body_is_a_400_in_the_error_shape(url, kind, world, regional):
    content_type, body = BAD_BODIES[kind]
    response = client_for(regional).generic("POST", url, body, content_type=content_type)
    assert is_json_error(response, 400), (response.status_code, response.content[:300])


def test_a_page_still_answers_a_bad_multipart_body_with_its_own_page(world, login, regional):
    response = login(regional).generic("POST", "/table1/upload/", b"--x\r\n\r\nv\r\n--x--",
                                       content_type="multipart/form-data")
    assert response.status_code == 400
    assert "<html" in response.content.decode() and "Неверный запрос" in response.content.decode()


def test_honest_numbers_still_go_through(world, editor_a):
    """The bounded JSON parser changes nothing for numbers within range."""
    community = world["a"]
    body = {"values": [{"community": community.pk, "month": "2026-03", "indicator": "members",
                        "value": 9_000_000}], "dry_run": True}
    response = client_for(editor_a).post("/api/v1/report-values/bulk/", json.dumps(body),
                                         content_type="application/json")
    assert response.status_code == 200, response.content[:300]
    assert response.json()["changed"] == 1
