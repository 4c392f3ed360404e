"""Schemathesis against the OpenAPI schema served at /api/v1/schema/, as each persona's token.

One test per persona × operation, generated from the schema as it is served when the suite runs,
so new endpoints are fuzzed without touching this file. Every answer must be a non-5xx whose
status, content type, headers and body the schema documents; data the schema calls invalid must
be refused with a 4xx. Path parameters are drawn both at random and from the objects the persona
can list, so detail and action endpoints are reached, not only their 404s.

``FUZZ_EXAMPLES`` bounds the examples per persona and operation, split between valid and
invalid data (small inside ``make test``; ``make fuzz`` sets 500). Inside ``make test`` the run is
the same every time: Hypothesis is derandomized and the ids the database hands out are fixed, so
a failure reproduces with the same data, alone or in the whole suite. ``make fuzz`` explores new
data on every run (``FUZZ_SEED=n`` repeats one). Valid bodies also point their references
(``territory``, ``institution``, ``community``) at territory A's real objects, so writes get past
"no such object" to the code that stores them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache as memoize
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from django.test import Client
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from institutions.models import ApiToken
from tests.factories import MemberSnapshotFactory, MetricValueFactory
from tests.metrics.conftest import start_emulator

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
EXAMPLES_PER_MODE = max(1, FUZZ_EXAMPLES // 2)
FUZZ_SEED = os.environ.get("FUZZ_SEED")
# Bounded runs (make test) repeat the same examples; make fuzz (FUZZ_EXAMPLES set) explores.
DERANDOMIZE = FUZZ_SEED is None and "FUZZ_EXAMPLES" not in os.environ
# Every id the database hands out during a fuzz test starts here, whatever ran before it.
FIXED_FIRST_ID = 1_000_000
PERSONAS = ["regional", "municipal_a", "editor_a", "viewer", "api_client_user", "outsider"]
SCHEMA_URL = "/api/v1/schema/"
POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def invalid_data_is_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """``negative_data_rejection`` for bodies and path parameters.

    Query strings are left out on purpose: list filters (django-filter) and pagination treat an
    empty or unparsable filter value as "no filter", the way the HTML list pages do.
    """
    meta = case.meta
    if meta is not None:
        negated = {loc for loc, info in meta.components.items() if info.mode.is_negative}
        if negated and negated <= {ParameterLocation.QUERY}:
            return None
    return negative_data_rejection(ctx, response, case)


NEGATIVE_CHECKS = [*POSITIVE_CHECKS, invalid_data_is_refused]


@memoize
def served_schema() -> Any:
    """The schema exactly as the portal serves it (no database needed to build it)."""
    response = Client().get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200, response.content[:500]
    loaded = schemathesis.openapi.from_dict(response.json())
    loaded.app = get_wsgi_application()
    return loaded


def operation_labels() -> list[str]:
    labels = [result.ok().label for result in served_schema().get_all_operations()]
    assert labels, "the API schema lists no operations"
    return labels


@contextmanager
def wsgi_keeps_test_connection() -> Iterator[None]:
    """Like Django's test client: a WSGI request must not close the test's connection.

    The test runs inside one transaction; Django closes "old" connections around each request,
    which would drop that transaction. (Django's own test client reconnects these receivers
    after each of its requests, so no test client may be used inside this block.)
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.fixture(scope="module")
def network_emulator():
    """The VK/OK emulator, so token registration gets real answers instead of no network."""
    handle = start_emulator()
    yield handle
    handle.process.terminate()
    handle.process.wait(timeout=10)


@pytest.fixture
def fixed_ids(db) -> None:
    """Restart every sequence at the same value, so the ids of this test's rows (and whether a
    generated number happens to name one of them) never depend on the tests that ran before."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
        for (name,) in cursor.fetchall():
            cursor.execute("SELECT setval(%s, %s, false)", [name, FIXED_FIRST_ID])


@pytest.fixture
def numbers(fixed_ids, world, network_emulator, settings):
    """Both territories have values and snapshots, so lists and details have bodies to check."""
    settings.VK_API_BASE_URL = network_emulator.vk_url
    settings.OK_API_BASE_URL = network_emulator.ok_url
    for community in (world["a"], world["b"]):
        MetricValueFactory(community=community)
        MemberSnapshotFactory(community=community)
    return world


def known_path_values(client: Client, operation: Any, headers: dict[str, str]) -> dict[str, Any]:
    """Values for the operation's path parameters taken from what the persona can list."""
    names = [p.name for p in operation.path_parameters]
    if not names:
        return {}
    list_path = re.sub(r"\{[^}]+\}/.*$", "", operation.path)
    response = client.get(list_path, headers=headers)
    if response.status_code != 200:
        return {}
    body = response.json()
    rows = body.get("results", body) if isinstance(body, dict) else body
    if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
        return {}
    return {name: rows[0][name] for name in names if name in rows[0]}


def with_real_references(references: dict[str, int]) -> Callable[[Any], Any]:
    """A case whose integer ``territory``/``institution``/``community`` fields name real objects
    (anywhere in the body: bulk values nest them in a list)."""

    def point(value: Any) -> Any:
        if isinstance(value, list):
            return [point(item) for item in value]
        if isinstance(value, dict):
            return {key: references[key] if key in references and type(item) is int
                    else point(item) for key, item in value.items()}
        return value

    def apply(case: Any) -> Any:
        if isinstance(case.body, dict | list):
            case.body = point(case.body)
        return case

    return apply


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str], known: dict,
         references: dict[str, int]) -> None:
    strategies = [operation.as_strategy(mode)]
    if mode.is_positive:
        strategies.append(operation.as_strategy(mode).map(with_real_references(references)))
        if known:
            strategies.append(operation.as_strategy(mode, path_parameters=known))
    checks = NEGATIVE_CHECKS if mode.is_negative else POSITIVE_CHECKS

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=EXAMPLES_PER_MODE, deadline=None, database=None,
        derandomize=DERANDOMIZE, suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        # The fuzzer is not a runaway client: throttle counters must not turn answers into 429s.
        cache.clear()
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks, headers=headers)

    if FUZZ_SEED is not None:
        run = seed(int(FUZZ_SEED))(run)
    run()


@pytest.mark.parametrize("label", operation_labels())
@pytest.mark.parametrize("persona", PERSONAS)
def test_api_answers_match_the_schema(request, persona, label, numbers):
    user = request.getfixturevalue(persona)
    _, key = ApiToken.objects.create_key(user=user, name="фаззинг")
    headers = {"Authorization": f"Token {key}"}
    operation = served_schema().find_operation_by_label(label)
    known = known_path_values(Client(), operation, {"Authorization": headers["Authorization"]})
    community = numbers["a"]
    references = {"territory": community.institution.territory_id,
                  "institution": community.institution_id, "community": community.pk}
    with wsgi_keeps_test_connection():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, headers, known, references)


def test_the_fuzzed_world_has_the_same_ids_in_every_run(fixed_ids, world):
    """Whatever ran before, the fuzz tests' rows get the same ids (the sequences restart)."""
    assert world["a"].institution.territory_id == FIXED_FIRST_ID
    assert world["a"].pk == FIXED_FIRST_ID


def test_factory_territory_codes_never_meet_those_tests_name():
    """A run creates thousands of territories: none may take a code a fixture names, or the
    test that meets it fails in the whole suite and passes alone."""
    from tests.factories import TerritoryFactory

    declared = TerritoryFactory._meta.declarations["oktmo"]
    named = {"36602000", "36608000", "36999000"}  # territory A, territory B, tests' own
    assert not {declared.function(n) for n in range(200_000)} & named
