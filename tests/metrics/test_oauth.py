"""«Подключить VK/ОК»: the OAuth code flows against the emulator, coverage, token refresh."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from institutions.choices import Network
from metrics.collect.choices import RunKind, TokenKind
from metrics.collect.runs import collection_run_start
from metrics.models import MetricValue, NetworkToken
from metrics.oauth import token_refresh, tokens_refresh_due
from metrics.tokens import secret_decrypt, secret_encrypt
from tests.metrics.conftest import make_communities, ok_ids, register, vk_ids

FEBRUARY = dt.date(2026, 2, 1)


@pytest.fixture
def oauth(emulator, settings):
    """The portal's OAuth settings pointed at the emulator's VK ID and OK endpoints."""
    settings.VK_OAUTH_AUTHORIZE_URL = f"{emulator.url}/vkid/authorize"
    settings.VK_OAUTH_TOKEN_URL = f"{emulator.url}/vkid/oauth2/auth"
    settings.VK_OAUTH_CLIENT_ID = "51234567"
    settings.OK_OAUTH_AUTHORIZE_URL = f"{emulator.url}/ok/oauth/authorize"
    settings.OK_OAUTH_TOKEN_URL = f"{emulator.url}/ok/oauth/token.do"
    settings.OK_OAUTH_CLIENT_ID = "512000000001"
    settings.OK_OAUTH_CLIENT_SECRET = "emulator-secret"
    settings.OK_APPLICATION_KEY = "CBAEMULATOR"
    return emulator


def _allow(authorize_url: str, admin_ids: list[int]) -> dict[str, str]:
    """What the person does on the network's page: allow, as an admin of these groups."""
    parts = urlsplit(authorize_url)
    params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    shown = requests.get(authorize_url, timeout=5)
    assert shown.status_code == 200 and "Разрешить" in shown.text
    answer = requests.post(f"{parts.scheme}://{parts.netloc}{parts.path}",
                           data={**params, "admin_ids": ",".join(map(str, admin_ids))},
                           allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    return {k: v[-1] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def _connect(page, network: str, admin_ids: list[int]):
    start = page.get(f"/collection/connect/{network}/")
    assert start.status_code == 302
    back = _allow(start["Location"], admin_ids)
    return start["Location"], page.get(f"/collection/connect/{network}/done/", back)


def test_vk_id_with_pkce_registers_the_token_of_the_administered_communities(
        oauth, login, regional):
    mine = make_communities(vk_ids("active", 3))
    authorize, done = _connect(login(regional), "vk", [mine[0].network_id, mine[2].network_id,
                                                       999_999_999])
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["scope"] == ["stats groups wall offline"]
    token = NetworkToken.objects.get()
    assert done.status_code == 302 and done["Location"] == \
        f"/collection/tokens/{token.pk}/connected/"
    assert (token.kind, token.owner, token.device_id) == (TokenKind.USER, regional,
                                                          "emulator-device")
    assert set(token.communities.all()) == {mine[0], mine[2]}
    assert token.expires_at > timezone.now() and token.refresh_encrypted
    result = login(regional).get(done["Location"])
    assert [c.pk for c in result.context["communities"]] == sorted([mine[0].pk, mine[2].pk])
    assert "управляет зарегистрированными в портале сообществами" in result.content.decode()


def test_a_callback_with_another_state_registers_nothing(oauth, login, regional):
    page = login(regional)
    start = page.get("/collection/connect/vk/")
    back = _allow(start["Location"], [])
    back["state"] = "forged"
    answer = page.get("/collection/connect/vk/done/", back, follow=True)
    assert "не относится к этому входу" in answer.content.decode()
    assert not NetworkToken.objects.exists()


def test_the_emulator_refuses_a_wrong_code_verifier(oauth):
    token = requests.post(f"{oauth.url}/vkid/oauth2/auth", data={
        "grant_type": "authorization_code", "code": "nope", "code_verifier": "x",
        "client_id": "51234567", "device_id": "d", "redirect_uri": "http://x/"}, timeout=5)
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"


def test_ok_oauth_connects_and_the_token_collects_statistics(oauth, login, regional):
    groups = make_communities(ok_ids("active", 2), network=Network.OK)
    _connect(login(regional), "ok", [groups[1].network_id])
    token = NetworkToken.objects.get()
    assert list(token.communities.all()) == [groups[1]]
    assert token.app_key == "CBAEMULATOR"
    run = collection_run_start(kind=RunKind.STATS, network=Network.OK, period=FEBRUARY)
    run.refresh_from_db()
    assert run.done == 1
    assert MetricValue.objects.filter(community=groups[1], month=FEBRUARY).exists()
    assert not MetricValue.objects.filter(community=groups[0], month=FEBRUARY).exists()


def test_a_connected_token_is_refreshed(oauth, login, regional):
    mine = make_communities(vk_ids("active", 1))
    _connect(login(regional), "vk", [mine[0].network_id])
    token = NetworkToken.objects.get()
    old_secret, old_refresh = secret_decrypt(token.secret_encrypted), token.refresh_encrypted
    token_refresh(token=token)
    token.refresh_from_db()
    assert secret_decrypt(token.secret_encrypted) != old_secret
    assert token.refresh_encrypted != old_refresh
    reused = requests.post(f"{oauth.url}/vkid/oauth2/auth", data={
        "grant_type": "refresh_token", "refresh_token": secret_decrypt(old_refresh),
        "client_id": "51234567", "device_id": "emulator-device"}, timeout=5)
    assert reused.json()["error"] == "invalid_grant"


def test_coverage_shows_covered_missing_and_expiring(oauth, login, regional):
    communities = make_communities(vk_ids("active", 4))
    register(Network.VK, "vkemu-adm-all-forever", kind=TokenKind.USER,
             communities=communities[:1])
    soon = register(Network.VK, "vkemu-adm-all-soon", kind=TokenKind.USER,
                    communities=communities[1:2])
    NetworkToken.objects.filter(pk=soon.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=2))
    gone = register(Network.VK, "vkemu-adm-all-gone", kind=TokenKind.USER,
                    communities=communities[2:3])
    NetworkToken.objects.filter(pk=gone.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1))
    page = login(regional).get("/collection/coverage/")
    summary = page.context["summary"]
    assert (summary.total, summary.covered, summary.missing, summary.expiring) == (4, 2, 2, 1)
    assert {c.pk for c in page.context["page"]} == {communities[2].pk, communities[3].pk}
    expiring = login(regional).get("/collection/coverage/?show=expiring").context["page"]
    assert [c.pk for c in expiring] == [communities[1].pk]


def test_coverage_is_for_methodologists(login, editor_a):
    assert login(editor_a).get("/collection/coverage/").status_code == 403


def test_due_tokens_are_refreshed_and_refused_ones_switched_off(oauth, login, regional):
    mine = make_communities(vk_ids("active", 1))
    _connect(login(regional), "vk", [mine[0].network_id])
    token = NetworkToken.objects.get()
    NetworkToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert tokens_refresh_due() == {"refreshed": 1, "failed": 0}
    token.refresh_from_db()
    assert token.expires_at > timezone.now() + dt.timedelta(minutes=30)
    NetworkToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now(), refresh_encrypted=secret_encrypt("vkemu-refresh-unknown"))
    assert tokens_refresh_due() == {"refreshed": 0, "failed": 1}
    token.refresh_from_db()
    assert not token.is_active and "Подключите аккаунт заново" in token.disabled_reason
