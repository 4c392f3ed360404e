"""An institution editor cannot tell a community of another institution from one that does not
exist: every place that takes community ids gives both the same answer.

The probe found the token registration answering 403 «только своего учреждения» for a foreign
id and 400 «не найдены» for a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db.models import Max

from institutions.models import Community

ENDPOINTS: dict[str, tuple[str, str, Callable[[int], dict]]] = {
    "token registration": ("post", "/api/v1/network-tokens/", lambda community: {
        "network": "vk", "kind": "community", "label": "ключ сообщества",
        "secret": "vkemu-com-probe", "community_ids": [community]}),
    "token registration with an own community too": ("post", "/api/v1/network-tokens/",
                                                     lambda community: {
        "network": "vk", "kind": "user", "label": "ключ", "secret": "vkemu-usr-probe",
        "community_ids": [community, "OWN"]}),
    "bulk values": ("post", "/api/v1/report-values/bulk/", lambda community: {
        "values": [{"community": community, "month": "2026-03", "indicator": "members",
                    "value": 5}]}),
    "ranking explanation": ("get", "/api/v1/rankings/why/", lambda community: {
        "community": community, "metric": "growth", "date_from": "2026-01-01",
        "date_to": "2026-01-31"}),
}


def answer(client, method: str, url: str, data: dict, ids: dict[str, int]) -> tuple[int, str]:
    def own(value):
        if isinstance(value, list):
            return [own(v) for v in value]
        if isinstance(value, dict):
            return {k: own(v) for k, v in value.items()}
        return ids["own"] if value == "OWN" else value

    data = own(data)
    response = (client.get(url, data) if method == "get"
                else client.post(url, data, format="json"))
    body = response.json()
    message = body.get("error", {}).get("message", "") if isinstance(body, dict) else ""
    for name in ("foreign", "missing"):
        message = re.sub(rf"\b{ids[name]}\b", "<id>", message)
    return response.status_code, message


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_foreign_and_a_missing_community_get_the_same_answer(endpoint, world, editor_a,
                                                               api_as):
    method, url, body = ENDPOINTS[endpoint]
    ids = {"own": world["a"].pk, "foreign": world["b"].pk,
           "missing": Community.objects.aggregate(top=Max("pk"))["top"] + 1000}
    client = api_as(editor_a)
    foreign = answer(client, method, url, body(ids["foreign"]), ids)
    missing = answer(client, method, url, body(ids["missing"]), ids)
    assert foreign == missing
    assert foreign[0] in (400, 404) and foreign[1]


def test_the_token_page_names_foreign_and_missing_communities_alike(world, editor_a, login):
    client = login(editor_a)
    answers = []
    for line in (world["b"].url, "https://vk.com/club999999999"):
        response = client.post("/collection/tokens/", {
            "network": "vk", "kind": "community", "label": "ключ", "secret": "vkemu-com-page",
            "communities": line})
        text = response.content.decode()
        answers.append((response.status_code, text.replace(line, "<line>").count("<line>")))
    assert answers[0] == answers[1]
