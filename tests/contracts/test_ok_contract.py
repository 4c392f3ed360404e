"""The portal and its emulator speak OK as OK's documentation describes it.

OK publishes no schema: ``emulator/ok_contract.json`` is written from its documentation (the
sources are named in the file). As for VK, every request of the real collector (members, posts,
statistics, a token check) is captured by the emulator's journal and held to the contract —
common parameters, each method's parameters, their types, enums and limits, a signature made
with the session secret — and every answer validates against the method's answer schema or the
error answer, with the error's name from the contract first in its message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
import requests
from jsonschema import Draft7Validator

from emulator.ok_contract import CONTRACT
from institutions.choices import Network
from metrics.collect.choices import RunKind, TokenKind
from metrics.collect.runs import collection_run_start
from metrics.ok.client import signature
from metrics.tokens import token_register
from tests.metrics.conftest import make_communities, ok_ids

FEBRUARY = dt.date(2026, 2, 1)
APPLICATION = {"app_key": "CBAEMULATOR", "app_secret": "emulator-secret"}
contract = json.loads(CONTRACT.read_text(encoding="utf-8"))


def request_problems(method: str, params: dict) -> list[str]:
    """What the contract says is wrong with a request (its token and signature left out)."""
    spec = contract["methods"].get(method)
    if spec is None:
        return [f"{method}: not a method of the contract"]
    problems = [f"{method}: {name} missing" for name in ("application_key", "method", "format")
                if name not in params]
    declared = spec["parameters"]
    for name, param in declared.items():
        if param.get("required") and name not in params:
            problems.append(f"{method}: required {name} missing")
    for name, value in params.items():
        if name in contract["request"]["common_parameters"]:
            continue
        if name not in declared:
            problems.append(f"{method}: {name} is not a parameter of the method")
            continue
        schema = {k: v for k, v in declared[name].items() if k != "required"}
        for error in Draft7Validator(schema).iter_errors(_read(value, schema, name)):
            problems.append(f"{method}: {name}={value!r}: {error.message}")
    return problems


def _read(value: str, schema: dict, name: str):
    """A parameter as sent (a string) read by its declared type; field names in any case."""
    if schema.get("type") == "array":
        return [_read(item, schema.get("items", {}), name) for item in str(value).split(",")]
    if schema.get("type") == "integer" and str(value).lstrip("-").isdigit():
        return int(value)
    if schema.get("type") == "boolean" and str(value) in ("true", "false"):
        return value == "true"
    return str(value).lower() if name == "fields" else str(value)


def answer_problems(method: str, answer) -> list[str]:
    if isinstance(answer, dict) and "error_code" in answer:
        problems = [e.message for e in Draft7Validator(contract["error_answer"])
                    .iter_errors(answer)]
        name = contract["errors"].get(str(answer["error_code"]))
        if name is None:
            return [*problems, f"error {answer['error_code']} is not in the contract"]
        if not str(answer["error_msg"]).startswith(name):
            problems.append(f"error {answer['error_code']} says {answer['error_msg']!r}")
        return problems
    return [f"{method}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in
            Draft7Validator(contract["methods"][method]["response"]).iter_errors(answer)]


@pytest.mark.django_db
def test_every_ok_request_and_answer_of_the_collector_follows_the_contract(emulator, regional):
    emulator.faults(journal=True, today="2026-06-02")
    groups = make_communities(ok_ids("active", 3) + ok_ids("closed", 1) + ok_ids("deleted", 1),
                              network=Network.OK)
    token_register(user=regional, network=Network.OK, kind=TokenKind.USER,
                   secret=f"okemu-adm-{groups[0].network_id}-c", label="Админ OK",
                   community_ids=[groups[0].pk], **APPLICATION)
    collection_run_start(kind=RunKind.MEMBERS, network=Network.OK)
    collection_run_start(kind=RunKind.POSTS, network=Network.OK, period=FEBRUARY)
    collection_run_start(kind=RunKind.STATS, network=Network.OK, period=FEBRUARY)

    entries = [e for e in emulator.journal() if e["network"] == "ok"]
    assert [p for e in entries for p in request_problems(e["method"], e["params"])] == []
    assert [p for e in entries for p in answer_problems(e["method"], e["answer"])] == []
    assert {e["method"] for e in entries} == set(contract["methods"])
    anchored = [e for e in entries if e["params"].get("anchor")]
    assert anchored and all(e["params"]["direction"] == "FORWARD" for e in anchored)


def sign(values: dict, token: str, secret: str = "emulator-secret") -> dict:
    return {**values, "sig": signature(values, access_token=token, secret_key=secret),
            "access_token": token}


def test_every_error_the_ok_emulator_answers_is_in_the_contract(emulator):
    uid = ok_ids("active", 1)[0]
    base = {"application_key": "CBAEMULATOR", "format": "json"}
    info = {**base, "method": "group.getInfo", "uids": str(uid), "fields": "uid"}
    app_only = hashlib.md5(("".join(f"{k}={info[k]}" for k in sorted(info))
                            + "emulator-secret").encode()).hexdigest()
    asked = [
        ({**sign(info, "okemu-usr-e"), "application_key": "UNKNOWN"}, 101),
        ({**info, "sig": app_only, "access_token": "okemu-usr-e"}, 104),  # no session secret
        (sign(info, "okemu-nobody", secret="emulator-secret") | {"access_token": "x"}, 104),
        (sign(info, "notatoken"), 102),
        (sign({**base, "method": "group.getInfo", "uids": str(uid)}, "okemu-usr-e1"), 100),
        (sign({**base, "method": "group.getStatTrends", "gid": str(uid), "fields": "reach"},
              "okemu-usr-e2"), 10),
        (sign({**base, "method": "mediatopic.getTopics", "gid": str(uid), "count": "500"},
              "okemu-usr-e3"), 100),
        (sign({**base, "method": "users.getInfo"}, "okemu-usr-e4"), 3),
    ]
    for values, code in asked:
        answer = requests.post(emulator.ok_url, data=values, timeout=10).json()
        assert answer["error_code"] == code, (values["method"], answer)
        assert answer_problems(values["method"], answer) == []


def test_the_contract_names_its_sources():
    assert all("apiok.ru" in source for source in contract["sources"])
    assert {"group.getInfo", "group.getStatTrends", "mediatopic.getTopics"} == set(
        contract["methods"])
    assert contract["methods"]["group.getStatTrends"]["admins_only"] is True
