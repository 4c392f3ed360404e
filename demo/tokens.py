"""Tokens the offline demo registers so «Собрать сейчас» works against the emulator."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from institutions.apitokens import api_token_create
from institutions.choices import Network
from institutions.models import ApiToken, Community
from metrics.collect.choices import TokenKind
from metrics.models import NetworkToken
from metrics.tokens import secret_fingerprint, token_register

DEMO_EDITOR = "editor"
# Tokens the emulator accepts (their grammar is in emulator/__init__.py); real networks refuse them.
DEMO_VK_SERVICE_TOKEN = "vkemu-svc-demo"
DEMO_VK_ADMIN_TOKEN = "vkemu-adm-all-demo"
DEMO_OK_ACCESS_TOKEN = "okemu-adm-all-demo"
DEMO_OK_APPLICATION_KEY = "CBAEMULATOR"
DEMO_OK_APPLICATION_SECRET = "emulator-secret"


def _editor_communities(network: str) -> list[int]:
    user = get_user_model().objects.filter(username=DEMO_EDITOR).first()
    if user is None:
        return []
    return list(Community.objects.visible_to(user).filter(network=network, network_id__isnull=False)
                .values_list("pk", flat=True))


def demo_tokens_ensure() -> int:
    """Register the emulator's demo tokens that are missing; return how many were added.

    Not checked against the API: the emulator may not be running yet when the demo is seeded.
    The admin tokens administer the demo editor's communities, so their statistics are collected.
    """
    wanted = [
        (Network.VK, TokenKind.SERVICE, DEMO_VK_SERVICE_TOKEN, "Демо: сервисный ключ VK", []),
        (Network.VK, TokenKind.USER, DEMO_VK_ADMIN_TOKEN, "Демо: ключ администратора VK",
         _editor_communities(Network.VK)),
        (Network.OK, TokenKind.USER, DEMO_OK_ACCESS_TOKEN, "Демо: ключ OK",
         _editor_communities(Network.OK)),
    ]
    added = 0
    for network, kind, secret, label, communities in wanted:
        if NetworkToken.objects.filter(network=network,
                                       fingerprint=secret_fingerprint(network, secret)).exists():
            continue
        extra = ({"app_key": DEMO_OK_APPLICATION_KEY, "app_secret": DEMO_OK_APPLICATION_SECRET}
                 if network == Network.OK else {})
        token_register(user=None, network=network, kind=kind, secret=secret, label=label,
                       community_ids=communities, check=False, **extra)
        added += 1
    return added


DEMO_API_USER = "api"
DEMO_API_TOKEN_NAME = "Демо"


def demo_api_token_ensure() -> str | None:
    """Give the demo API client a token when it has none; return the key (shown only now).

    Only a hash is stored, so a later run cannot print it again: a new token is made on the
    profile page or with POST /api/v1/tokens/obtain/.
    """
    user = get_user_model().objects.filter(username=DEMO_API_USER).first()
    if user is None or ApiToken.objects.filter(user=user, revoked=False).exists():
        return None
    _, key = api_token_create(user=user, name=DEMO_API_TOKEN_NAME)
    return key
