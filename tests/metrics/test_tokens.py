"""Tokens: registered by the right people, checked on save, encrypted, never shown again."""

import pytest
from django.db import connection
from django.urls import reverse

from institutions.choices import Network
from metrics.collect.choices import TokenKind
from metrics.models import NetworkToken
from metrics.tokens import token_credential, token_register
from portal.errors import ValidationFailed
from tests.metrics.conftest import make_communities, register, vk_ids

pytestmark = pytest.mark.django_db
TOKENS = reverse("metrics:collection-tokens")
API = "/api/v1/network-tokens/"


def raw_row(token) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted, app_secret_encrypted FROM metrics_networktoken "
                       "WHERE id = %s", [token.pk])
        return cursor.fetchone()


def test_tokens_are_encrypted_at_rest_and_decrypt_for_the_client(db):
    token = register(Network.OK, "okemu-usr-secret-value-1234")
    stored, app_secret = raw_row(token)
    assert "okemu-usr-secret-value-1234" not in stored and "emulator-secret" not in app_secret
    credential = token_credential(token)
    assert credential.secret == "okemu-usr-secret-value-1234"
    assert credential.app_secret == "emulator-secret"
    assert token.masked == "…1234"


def test_a_valid_token_is_checked_against_the_api_and_saved(emulator, regional):
    token = token_register(user=regional, network=Network.VK, kind=TokenKind.SERVICE,
                           secret="vkemu-svc-checked", label="Сервисный")
    assert token.checked_at is not None and token.owner == regional
    assert emulator.stats()["by_token"] == {"vkemu-svc-checked": 1}


def test_a_token_the_network_refuses_is_not_saved(emulator, regional):
    with pytest.raises(ValidationFailed, match="Ключ не принят: токен недействителен"):
        token_register(user=regional, network=Network.VK, kind=TokenKind.SERVICE,
                       secret="not-a-vk-token", label="Плохой")
    assert not NetworkToken.objects.exists()


def test_an_admin_token_must_administer_its_communities(emulator, regional):
    community = make_communities(vk_ids("active", 1))[0]
    with pytest.raises(ValidationFailed, match="нет прав администратора"):
        token_register(user=regional, network=Network.VK, kind=TokenKind.USER,
                       secret="vkemu-usr-plain", label="Не админ", community_ids=[community.pk])
    token = token_register(user=regional, network=Network.VK, kind=TokenKind.USER,
                           secret=f"vkemu-adm-{community.network_id}-ok", label="Админ",
                           community_ids=[community.pk])
    assert list(token.communities.all()) == [community]


def test_a_community_token_must_belong_to_its_community(emulator, regional):
    community = make_communities(vk_ids("active", 1))[0]
    token = token_register(user=regional, network=Network.VK, kind=TokenKind.COMMUNITY,
                           secret=f"vkemu-grp-{community.network_id}-key", label="Сообщество",
                           community_ids=[community.pk])
    assert token.rate == 20
    with pytest.raises(ValidationFailed, match="другого сообщества"):
        token_register(user=regional, network=Network.VK, kind=TokenKind.COMMUNITY,
                       secret="vkemu-grp-1-key", label="Чужое", community_ids=[community.pk])


def test_an_ok_token_is_checked_with_its_application_keys(emulator, regional):
    with pytest.raises(ValidationFailed, match="подпись запроса неверна"):
        token_register(user=regional, network=Network.OK, kind=TokenKind.USER,
                       secret="okemu-usr-x", label="OK", app_key="CBAEMULATOR",
                       app_secret="wrong")
    token = token_register(user=regional, network=Network.OK, kind=TokenKind.USER,
                           secret="okemu-usr-x", label="OK", app_key="CBAEMULATOR",
                           app_secret="emulator-secret")
    assert token.app_key == "CBAEMULATOR"


def test_the_same_token_twice_is_refused(db):
    register(Network.VK, "vkemu-svc-twice")
    with pytest.raises(ValidationFailed, match="уже зарегистрирован"):
        register(Network.VK, "vkemu-svc-twice")


def test_an_editor_registers_tokens_only_for_own_communities(emulator, editor_a, world):
    world["a"].network_id = vk_ids("active", 1)[0]
    world["a"].save()
    # Refused as a missing one would be: the answer does not tell that the id exists.
    with pytest.raises(ValidationFailed, match="не найдены среди доступных вам"):
        token_register(user=editor_a, network=Network.VK, kind=TokenKind.USER,
                       secret="vkemu-adm-all-e", label="Чужое", community_ids=[world["b"].pk])
    token = token_register(user=editor_a, network=Network.VK, kind=TokenKind.USER,
                           secret="vkemu-adm-all-e", label="Своё", community_ids=[world["a"].pk])
    assert token.owner == editor_a


@pytest.mark.parametrize(("persona", "status"), [
    ("regional", 200), ("editor_a", 200), ("municipal_a", 403), ("viewer", 403),
    ("outsider", 403),
])
def test_who_may_open_the_tokens_page(request, login, persona, status):
    assert login(request.getfixturevalue(persona)).get(TOKENS).status_code == status


def test_the_tokens_page_registers_a_token_and_shows_it_masked(login, regional, emulator):
    client = login(regional)
    response = client.post(TOKENS, {"network": "vk", "kind": "service", "label": "Основной",
                                    "secret": "vkemu-svc-page-9876"}, follow=True)
    html = response.content.decode()
    assert "проверен и сохранён" in html and "…9876" in html
    assert "vkemu-svc-page-9876" not in html


def test_the_tokens_page_explains_a_refused_token(login, regional, emulator):
    response = login(regional).post(TOKENS, {"network": "vk", "kind": "service",
                                             "label": "Плохой", "secret": "garbage"})
    assert "Ключ не принят: токен недействителен" in response.content.decode()
    assert not NetworkToken.objects.exists()


def test_a_disabled_token_shows_its_reason_to_the_regional_methodologist(login, regional):
    token = register(Network.VK, "vkemu-svc-dead")
    NetworkToken.objects.filter(pk=token.pk).update(
        is_active=False, disabled_reason="токен недействителен (vk:5)")
    assert "токен недействителен (vk:5)" in login(regional).get(TOKENS).content.decode()


def test_an_editor_does_not_see_tokens_of_others(login, editor_a, regional):
    register(Network.VK, "vkemu-svc-regional-only", label="Региональный ключ")
    assert "Региональный ключ" not in login(editor_a).get(TOKENS).content.decode()


def test_the_api_registers_a_token_and_never_returns_it(api_as, regional, emulator):
    response = api_as(regional).post(API, {"network": "vk", "kind": "service", "label": "API",
                                           "secret": "vkemu-svc-api-5555"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["masked"] == "…5555"
    assert "vkemu-svc-api-5555" not in response.content.decode()
    listed = api_as(regional).get(API)
    assert "vkemu-svc-api-5555" not in listed.content.decode()
    assert listed.json()["count"] == 1


def test_the_api_says_why_a_token_is_refused(api_as, regional, emulator):
    response = api_as(regional).post(API, {"network": "vk", "kind": "service", "label": "x",
                                           "secret": "garbage"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Ключ не принят: токен недействителен."


@pytest.mark.parametrize("persona", ["municipal_a", "viewer", "api_client_user", "outsider"])
def test_other_roles_cannot_use_the_tokens_api(request, api_as, persona):
    client = api_as(request.getfixturevalue(persona))
    assert client.get(API).status_code == 403
    assert client.post(API, {"network": "vk", "kind": "service", "label": "x",
                             "secret": "vkemu-svc-x"}, format="json").status_code == 403


def test_an_editor_cannot_delete_someone_elses_token(api_as, editor_a, world):
    world["a"].network_id = 777
    world["a"].save()
    token = register(Network.VK, "vkemu-adm-all-z", kind=TokenKind.USER,
                     communities=[world["a"]])
    assert api_as(editor_a).delete(f"{API}{token.pk}/").status_code == 403
    assert NetworkToken.objects.filter(pk=token.pk).exists()


def test_the_tokens_api_list_is_guarded_against_n_plus_one(api_as, regional,
                                                          django_assert_num_queries):
    client = api_as(regional)
    register(Network.VK, "vkemu-svc-q1")
    client.get(API)
    with django_assert_num_queries(5) as few:
        client.get(API)
    for i in range(10):
        register(Network.VK, f"vkemu-svc-q{i + 2}")
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(API).json()["count"] == 11
