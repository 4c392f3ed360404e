"""Every answer of every read operation matches the OpenAPI schema, as every persona.

The fuzz tests (tests/test_fuzz_api.py) draw random cases, which may never meet the rows the
probe found the schema wrong about: a token registered by no one (``owner`` null), a comment
whose author was deleted (``author`` null), the paginated items of a collection run. Here those
rows exist, and schemathesis' not_a_server_error, status_code_conformance and
response_schema_conformance checks run over every GET operation of the served schema, with path
parameters taken from what each persona can list, as each persona of tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from institutions.choices import Role
from institutions.models import ApiToken
from metrics.collect.choices import BatchState, ItemOutcome, RunKind, RunState
from metrics.models import CollectionBatch, CollectionRun, CollectionRunItem, NetworkToken
from reports.models import ReportState
from reports.models.workflow import ReportComment
from tests.factories import MemberSnapshotFactory, MetricValueFactory, ProfileFactory
from tests.reports.helpers_table1 import MARCH, report_in
from tests.test_fuzz_api import known_path_values, served_schema, wsgi_keeps_test_connection

PERSONAS = ["regional", "municipal_a", "editor_a", "viewer", "api_client_user", "outsider"]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def rows_the_schema_got_wrong(world, regional):
    """A token of no one, a comment of a deleted user, a run with failed communities."""
    community = world["a"]
    NetworkToken.objects.create(network="vk", kind="service", label="без владельца", owner=None,
                                secret_encrypted="x", fingerprint="f1", last4="abcd")
    NetworkToken.objects.create(network="vk", kind="community", label="ключ редактора",
                                owner=regional, secret_encrypted="y", fingerprint="f2",
                                last4="wxyz").communities.set([community])
    report = report_in(community.institution, MARCH, ReportState.RETURNED)
    gone = ProfileFactory(user__username="gone", role=Role.MUNICIPAL).user
    ReportComment.objects.create(report=report, author=gone, action="return",
                                 from_state=ReportState.SUBMITTED, to_state=ReportState.RETURNED,
                                 text="Проверьте посещения")
    gone.delete()  # the comment stays, its author is null
    run = CollectionRun.objects.create(kind=RunKind.POSTS, network="vk",
                                       period=dt.date(2026, 2, 1), state=RunState.DONE, total=2,
                                       done=1, failed=1)
    batch = CollectionBatch.objects.create(run=run, index=0, community_ids=[community.pk],
                                           state=BatchState.DONE, done=1, failed=1)
    for side in ("a", "b"):
        CollectionRunItem.objects.create(run=run, batch=batch, community=world[side],
                                         outcome=ItemOutcome.FAILED, error_key="vk:15",
                                         message="сообщество закрыто")
        MetricValueFactory(community=world[side])
        MemberSnapshotFactory(community=world[side])
    assert ReportComment.objects.get().author is None
    return world


def get_operations() -> list[str]:
    return [result.ok().label for result in served_schema().get_all_operations()
            if result.ok().method.upper() == "GET"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_read_answer_matches_the_schema(persona, request, rows_the_schema_got_wrong):
    user = request.getfixturevalue(persona)
    _, key = ApiToken.objects.create_key(user=user, name="тесты")
    headers = {"Authorization": f"Token {key}"}
    checked, failures = [], []
    schema = served_schema()
    labels = get_operations()
    known = {label: known_path_values(Client(), schema.find_operation_by_label(label), headers)
             for label in labels}
    with wsgi_keeps_test_connection():
        for label in labels:
            operation = schema.find_operation_by_label(label)
            if operation.path_parameters and not known[label]:
                continue  # the persona lists nothing to open here
            case = operation.Case(path_parameters=known[label] or None)
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (AssertionError, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
                failures.append(f"{label}: {exc!r}"[:3000])
            checked.append((label, response.status_code))
    assert not failures, "\n\n".join(failures)
    assert len(checked) >= 10, checked


def test_the_run_items_are_declared_a_paginated_list():
    operation = served_schema().find_operation_by_label(
        "GET /api/v1/collection-runs/{id}/items/")
    body = operation.definition.raw["responses"]["200"]["content"]["application/json"]["schema"]
    schemas = served_schema().raw_schema["components"]["schemas"]
    page = schemas[body["$ref"].rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    assert page["properties"]["results"]["type"] == "array"
    names = {p["name"] for p in operation.definition.raw.get("parameters", [])}
    assert {"page", "page_size"} <= names


@pytest.mark.parametrize(("component", "field"), [
    ("NetworkToken", "owner"), ("ReportComment", "author")])
def test_fields_that_may_be_null_are_declared_nullable(component, field):
    schemas = served_schema().raw_schema["components"]["schemas"]
    assert schemas[component]["properties"][field].get("nullable") is True
