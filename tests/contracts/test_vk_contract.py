"""The portal and its emulator speak VK as VK's own schema (5.199, vendored) describes it.

(a) Every request the real collector sends — members, posts and statistics runs, token checks,
with service, user, admin and community tokens — is captured by the emulator's journal and
held to the schema: the method, each parameter's name, type, enum and limits, and the token's
kind in the method's ``access_token_type`` (calls inside ``execute`` too).
(b) Every answer the emulator gave them, success or error, validates against the method's
``responses.json`` or the error object, with ``$ref``s resolved across files; error codes and
messages are those of ``errors.json``. The schema's known defects are named in ``vk_schema``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import requests

from emulator import vk_contract
from institutions.choices import Network
from metrics.collect.choices import RunKind, RunState, TokenKind
from metrics.collect.runs import collection_run_start
from metrics.models import NetworkToken
from metrics.tokens import token_credential, token_register
from metrics.vk.calls import TOKEN_KINDS, groups_by_id_call
from metrics.vk.client import VkClient
from tests.contracts import vk_schema
from tests.factories import CommunityFactory
from tests.metrics.conftest import make_communities, vk_ids

FEBRUARY = dt.date(2026, 2, 1)
KIND_IN_SCHEMA = {"user": "user", "community": "group", "service": "service"}
SHARED_COPY = Path(__file__).resolve().parents[3] / "shared" / "vk-api-schema"


def vk_entries(emulator) -> list[dict]:
    return [e for e in emulator.journal() if e["network"] == "vk"]


def collect_everything(emulator, regional) -> None:
    """Every kind of run and token check the portal has, as the region would run them."""
    active = make_communities(vk_ids("active", 12))
    make_communities(vk_ids("closed", 2, start=5000) + vk_ids("deleted", 1, start=5000))
    CommunityFactory(network_id=None, screen_name="club4242", url="https://vk.com/club4242")
    CommunityFactory(network_id=None, screen_name="nosuchname-xyz",
                     url="https://vk.com/nosuchname-xyz")
    # service token only: one call a request
    token_register(user=regional, network=Network.VK, kind=TokenKind.SERVICE,
                   secret="vkemu-svc-contract", label="Сервисный")
    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)
    emulator.faults("wall.get:15*1")  # closed since the members run: VK refuses one wall
    collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)
    # a user token (execute), an admin (statistics), a community token (members)
    token_register(user=regional, network=Network.VK, kind=TokenKind.USER,
                   secret=f"vkemu-adm-{active[0].network_id}_{active[1].network_id}-c",
                   label="Админ", community_ids=[active[0].pk, active[1].pk])
    token_register(user=regional, network=Network.VK, kind=TokenKind.COMMUNITY,
                   secret=f"vkemu-grp-{active[2].network_id}-c", label="Сообщество",
                   community_ids=[active[2].pk])
    CommunityFactory(network_id=None, screen_name="public4343", url="https://vk.com/public4343")
    CommunityFactory(network_id=None, screen_name="club4444", url="https://vk.com/club4444")
    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)
    emulator.faults("wall.get:15*1")
    collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY)
    collection_run_start(kind=RunKind.STATS, network=Network.VK, period=FEBRUARY)
    # a members batch of more than 500 communities: groups.getById inside execute
    user = token_credential(NetworkToken.objects.get(kind=TokenKind.USER))
    ids = [c.network_id for c in active]
    VkClient(credentials=[user]).run([groups_by_id_call(ids[:6]), groups_by_id_call(ids[6:])])


@pytest.fixture
def journal_of_everything(emulator, regional) -> list[dict]:
    emulator.faults(journal=True, today="2026-03-02")
    collect_everything(emulator, regional)
    return vk_entries(emulator)


@pytest.mark.django_db
def test_every_request_the_collector_sends_is_one_vk_takes(journal_of_everything):
    entries = journal_of_everything
    problems = [problem for e in entries for problem in vk_schema.request_problems(
        e["method"], e["params"], token_kind=e["token_kind"], inside_execute=e["inside_execute"])]
    assert problems == []
    seen = {(e["method"], e["inside_execute"], e["token_kind"]) for e in entries}
    assert seen >= {
        ("groups.getById", False, "service"), ("utils.resolveScreenName", False, "service"),
        ("wall.get", False, "service"), ("wall.get", True, "user"), ("stats.get", True, "user"),
        ("groups.getById", False, "group"), ("groups.getById", False, "user"),
    }
    batched = {(e["method"], e["token_kind"]) for e in entries if e["inside_execute"]}
    for method in ("groups.getById", "utils.resolveScreenName"):  # a user or community token
        assert batched & {(method, "user"), (method, "group")}, method
    assert not [e for e in entries if "error" in e["answer"]
                and e["answer"]["error"]["error_code"] in (27, 28)]


@pytest.mark.django_db
def test_every_answer_the_emulator_gave_them_validates_against_the_schema(journal_of_everything):
    entries = journal_of_everything
    problems = [p for e in entries for p in vk_schema.answer_problems(e["method"], e["answer"])]
    assert problems == []
    answered = {(e["method"], "error" in e["answer"]) for e in entries}
    assert {("wall.get", True), ("groups.getById", False), ("wall.get", False),
            ("stats.get", False), ("utils.resolveScreenName", False)} <= answered


@pytest.mark.django_db
def test_a_posts_and_a_members_run_with_only_a_service_token_complete_without_error_28(
        emulator, regional):
    emulator.faults(journal=True, today="2026-03-02")
    make_communities(vk_ids("active", 30))
    token_register(user=regional, network=Network.VK, kind=TokenKind.SERVICE,
                   secret="vkemu-svc-only", label="Сервисный")

    runs = [collection_run_start(kind=RunKind.POSTS, network=Network.VK, period=FEBRUARY),
            collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)]

    for run in runs:
        run.refresh_from_db()
        assert (run.state, run.done) == (RunState.DONE, 30)
    assert "vk:28" not in emulator.stats()["errors_by_code"]
    assert NetworkToken.objects.get().is_active
    assert {e["method"] for e in vk_entries(emulator)} == {"wall.get", "groups.getById"}


def call(emulator, method: str, token: str, **params) -> dict:
    return requests.post(emulator.vk_url + method, data={"access_token": token, "v": "5.199",
                                                         **params}, timeout=10).json()


def test_every_error_the_emulator_answers_is_one_of_errors_json(emulator):
    active, closed, gone = vk_ids("active", 1)[0], vk_ids("closed", 1)[0], vk_ids("deleted", 1)[0]
    emulator.faults(daily_limits={"utils.resolveScreenName": 0})
    asked = [
        ("groups.getById", "nope", {"group_ids": active}, 5),
        ("execute", "vkemu-svc-e", {"code": "return 1;"}, 28),
        ("stats.get", f"vkemu-grp-{active}-e", {"group_id": active}, 27),
        ("stats.get", "vkemu-usr-e", {"group_id": active}, 7),
        ("stats.get", "vkemu-usr-e", {"group_id": closed}, 15),
        ("wall.get", "vkemu-usr-e", {"owner_id": -closed}, 15),
        ("wall.get", "vkemu-usr-e", {"owner_id": -gone}, 18),
        ("wall.get", "vkemu-usr-e", {"owner_id": -active, "count": 500}, 100),
        ("utils.resolveScreenName", "vkemu-usr-e", {"screen_name": "a"}, 29),
        ("execute", "vkemu-usr-e", {"code": "while(1){}"}, 12),
        ("execute", "vkemu-usr-e", {"code": "return [" + ",".join(
            ['API.groups.getById({"group_ids": 1})'] * 26) + "];"}, 13),
        ("wall.post", "vkemu-usr-e", {}, 3),
    ]
    for i, (method, token, params, code) in enumerate(asked):
        token = token if token == "nope" else f"{token}{i}"  # each its own rate window
        answer = call(emulator, method, token, **params)
        assert answer["error"]["error_code"] == code, (method, answer)
        assert vk_schema.answer_problems(method, answer) == []
    inner = call(emulator, "execute", f"vkemu-grp-{active}-e", code=(
        f'return [API.wall.get({{"owner_id": -{active}}}), '
        f'API.stats.get({{"group_id": {active}}})];'))
    assert [e["error_code"] for e in inner["execute_errors"]] == [27, 27]
    assert vk_schema.answer_problems("execute", inner) == []


# --- the vendored schema and the portal's own table of token kinds ------------------------------
def test_the_client_sends_each_method_with_the_token_kinds_the_schema_allows():
    for method in vk_contract.METHODS_CALLED:
        _, description = vk_schema.methods()[method]
        schema_kinds = set(description["access_token_type"])
        assert {KIND_IN_SCHEMA[kind] for kind in TOKEN_KINDS[method]} == schema_kinds, method
    assert set(TOKEN_KINDS) == set(vk_contract.METHODS_CALLED)


def test_the_vendored_schema_carries_vks_licence_and_names_its_source():
    licence = (vk_schema.SCHEMA_DIR / "LICENSE").read_text()
    assert "MIT License" in licence and "Copyright (c) 2016 VK.com" in licence
    readme = (vk_schema.SCHEMA_DIR / "README.md").read_text()
    assert "github.com/VKCOM/vk-api-schema" in readme and "5.199" in readme


def test_every_reference_the_portals_methods_reach_resolves_inside_the_vendored_files():
    reached = vk_contract.reached_files(vk_schema.SCHEMA_DIR)
    assert reached <= set(vk_schema.raw_documents())
    for name in reached:
        for ref in vk_contract._refs(vk_schema.raw_documents()[name]):
            target = vk_schema.urljoin(vk_schema.BASE + name, ref)
            if target.removeprefix(vk_schema.BASE) in vk_schema.DANGLING:
                continue
            vk_schema.registry().resolver().lookup(target)  # raises when it does not resolve


@pytest.mark.skipif(not SHARED_COPY.exists(), reason="no copy of VK's schema beside the project")
def test_the_vendored_files_are_vks_unchanged():
    for name, document in vk_schema.raw_documents().items():
        assert document == json.loads((SHARED_COPY / name).read_text("utf-8")), name


def test_each_known_defect_of_the_schema_is_named_with_a_reason():
    assert all(reason.strip() and "\n" not in reason for reason in vk_schema.DEFECTS.values())
    _, wall_get = vk_schema.methods()["wall.get"]
    assert "owner_id" not in {p["name"] for p in wall_get["parameters"]}  # still a defect
    _, execute = vk_schema.methods()["execute"]
    assert "parameters" not in execute
