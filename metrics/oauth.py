"""«Подключить VK» / «Подключить ОК»: the networks' OAuth authorization-code flows (authlib).

VK ID runs with PKCE (S256) as a public client; OK with its client secret. The access token is
registered like a pasted one (encrypted, as the connecting person's), with its refresh token and
expiry, and with the registered communities the account administers: those are found by asking
the network (VK: groups.getById with is_admin; OK: a statistics call per group).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from requests import RequestException

from institutions.choices import Network
from institutions.models import Community
from metrics.collect.choices import TokenKind
from metrics.collect.credentials import Credential
from metrics.collect.errors import NetworkError, NoAdminAccess
from metrics.models import NetworkToken
from metrics.tokens import (
    limit_key,
    secret_decrypt,
    secret_encrypt,
    secret_fingerprint,
    token_store,
)
from portal.errors import ServiceUnavailable, ValidationFailed

VK_SCOPE = "stats groups wall offline"
OK_SCOPE = "VALUABLE_ACCESS;LONG_ACCESS_TOKEN;GROUP_CONTENT"
VK_BATCH = 500
OK_CHECK_LIMIT = 300  # OK has no admin flag: one statistics call per group, so a cap


@dataclass(frozen=True)
class Provider:
    network: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    scope: str
    pkce: bool


def provider(network: str) -> Provider:
    if network == Network.VK:
        return Provider(Network.VK, settings.VK_OAUTH_CLIENT_ID, "",
                        settings.VK_OAUTH_AUTHORIZE_URL, settings.VK_OAUTH_TOKEN_URL, VK_SCOPE,
                        pkce=True)
    if network == Network.OK:
        return Provider(Network.OK, settings.OK_OAUTH_CLIENT_ID, settings.OK_OAUTH_CLIENT_SECRET,
                        settings.OK_OAUTH_AUTHORIZE_URL, settings.OK_OAUTH_TOKEN_URL, OK_SCOPE,
                        pkce=False)
    raise ValidationFailed("Неизвестная соцсеть.")


def _session(p: Provider, redirect_uri: str) -> OAuth2Session:
    if not p.client_id:
        raise ServiceUnavailable("Подключение не настроено: укажите приложение соцсети "
                                 "(VK_OAUTH_CLIENT_ID / OK_OAUTH_CLIENT_ID).")
    return OAuth2Session(
        p.client_id, p.client_secret or None, scope=p.scope, redirect_uri=redirect_uri,
        code_challenge_method="S256" if p.pkce else None,
        token_endpoint_auth_method="none" if p.pkce else "client_secret_post")


def oauth_start(*, network: str, redirect_uri: str) -> tuple[str, dict]:
    """The network's authorization URL, and what the session keeps until the callback."""
    p = provider(network)
    verifier = generate_token(64) if p.pkce else ""
    url, state = _session(p, redirect_uri).create_authorization_url(
        p.authorize_url, **({"code_verifier": verifier} if p.pkce else {}))
    return url, {"network": network, "state": state, "verifier": verifier,
                 "redirect_uri": redirect_uri}


def _fetch(p: Provider, kept: dict, params: dict) -> dict:
    extra = {"code_verifier": kept["verifier"], "device_id": params.get("device_id", "")} \
        if p.pkce else {}
    try:
        return dict(_session(p, kept["redirect_uri"]).fetch_token(
            p.token_url, grant_type="authorization_code", code=params.get("code", ""),
            **extra))
    except OAuthError as exc:
        raise ValidationFailed(f"Соцсеть не выдала ключ: {exc.description or exc.error}.") \
            from exc
    except RequestException as exc:
        raise ServiceUnavailable("Соцсеть не ответила; попробуйте подключить позже.") from exc


def oauth_finish(*, user, kept: dict | None, params: dict) -> NetworkToken:
    """Exchange the code for a token, find the administered communities, register it."""
    if not kept or not params.get("state") or params["state"] != kept.get("state"):
        raise ValidationFailed("Подключение не удалось: ответ соцсети не относится к этому "
                               "входу. Нажмите «Подключить» ещё раз.")
    if params.get("error"):
        raise ValidationFailed("Доступ не выдан: " + (params.get("error_description")
                                                       or params["error"]) + ".")
    p = provider(kept["network"])
    answer = _fetch(p, kept, params)
    secret = answer.get("access_token", "")
    if not secret:
        raise ValidationFailed("Соцсеть не выдала ключ доступа.")
    administered = administered_communities(user=user, network=p.network, secret=secret)
    return _store(user, p, answer, administered, device_id=params.get("device_id", ""))


def _credential(network: str, secret: str) -> Credential:
    fingerprint = secret_fingerprint(network, secret)
    return Credential(token_id=None, secret=secret,
                      app_key=settings.OK_APPLICATION_KEY if network == Network.OK else "",
                      app_secret=settings.OK_OAUTH_CLIENT_SECRET if network == Network.OK else "",
                      limit_key=limit_key(network=network, fingerprint=fingerprint,
                                          kind=TokenKind.USER))


def administered_communities(*, user, network: str, secret: str) -> list[Community]:
    """The registered communities, within the user's scope, that this account administers."""
    candidates = list(Community.objects.visible_to(user).filter(
        network=network, network_id__isnull=False).order_by("pk"))
    credential = _credential(network, secret)
    try:
        if network == Network.VK:
            return _vk_admin(credential, candidates)
        return _ok_admin(credential, candidates[:OK_CHECK_LIMIT])
    except NetworkError as exc:
        raise ValidationFailed(f"Ключ не принят: {exc.message}.") from exc


def _vk_admin(credential: Credential, candidates: Sequence[Community]) -> list[Community]:
    from metrics.vk.client import VkClient

    client, by_id, admin = VkClient(credentials=[credential]), {}, set()
    for community in candidates:
        by_id[community.network_id] = community
    ids = list(by_id)
    for start in range(0, len(ids), VK_BATCH):
        groups = client.groups_by_id(ids[start:start + VK_BATCH], with_admin=True)
        admin.update(g.id for g in groups if g.is_admin)
    return [by_id[i] for i in ids if i in admin]


def _ok_admin(credential: Credential, candidates: Sequence[Community]) -> list[Community]:
    from metrics.ok.client import OkClient

    client, now, found = OkClient(credentials=[credential]), timezone.now(), []
    for community in candidates:
        try:
            client.group_stats(community.network_id, start=now - dt.timedelta(days=1), end=now)
        except NoAdminAccess:
            continue
        found.append(community)
    return found


def _expiry(answer: dict) -> dt.datetime | None:
    seconds = answer.get("expires_in")
    return timezone.now() + dt.timedelta(seconds=int(seconds)) if seconds else None


@transaction.atomic
def _store(user, p: Provider, answer: dict, communities: list[Community], *,
           device_id: str) -> NetworkToken:
    secret = answer["access_token"]
    fingerprint = secret_fingerprint(p.network, secret)
    label = f"Подключён {timezone.localtime():%d.%m.%Y}: {user.get_full_name() or user.username}"
    token = token_store(
        user=user, network=p.network, kind=TokenKind.USER, secret=secret, label=label,
        communities=communities,
        app_key=settings.OK_APPLICATION_KEY if p.network == Network.OK else "",
        app_secret=p.client_secret, fingerprint=fingerprint, checked=True, rests_until=None)
    token.expires_at = _expiry(answer)
    token.refresh_encrypted = secret_encrypt(answer.get("refresh_token", "")) \
        if answer.get("refresh_token") else ""
    token.device_id = device_id[:100]
    token.save(update_fields=["expires_at", "refresh_encrypted", "device_id"])
    return token


def token_refresh(*, token: NetworkToken) -> NetworkToken:
    """Renew a connected token with its refresh token before it expires."""
    if not token.refresh_encrypted:
        raise ValidationFailed("Этот ключ вставлен вручную: обновить его может только человек.")
    p = provider(token.network)
    extra = {"device_id": token.device_id} if p.pkce else {}
    try:
        answer = dict(_session(p, "").refresh_token(
            p.token_url, refresh_token=secret_decrypt(token.refresh_encrypted), **extra))
    except OAuthError as exc:
        raise ValidationFailed(f"Ключ не обновлён: {exc.description or exc.error}.") from exc
    except RequestException as exc:
        raise ServiceUnavailable("Соцсеть не ответила; ключ будет обновлён позже.") from exc
    secret = answer["access_token"]
    token.secret_encrypted, token.last4 = secret_encrypt(secret), secret[-4:]
    token.fingerprint = secret_fingerprint(token.network, secret)
    token.expires_at = _expiry(answer)
    if answer.get("refresh_token"):
        token.refresh_encrypted = secret_encrypt(answer["refresh_token"])
    token.save(update_fields=["secret_encrypted", "last4", "fingerprint", "expires_at",
                              "refresh_encrypted"])
    return token


REFRESH_AHEAD = dt.timedelta(hours=12)


def tokens_refresh_due() -> dict[str, int]:
    """Renew every connected token that expires within REFRESH_AHEAD; switch off refused ones."""
    from metrics.tokens import token_disable

    due = NetworkToken.objects.filter(is_active=True, expires_at__lte=timezone.now()
                                      + REFRESH_AHEAD).exclude(refresh_encrypted="")
    done = failed = 0
    for token in due:
        try:
            token_refresh(token=token)
            done += 1
        except ValidationFailed as exc:
            token_disable(token_id=token.pk, reason=exc.message + " Подключите аккаунт заново.")
            failed += 1
        except (ServiceUnavailable, RequestException):
            failed += 1  # the network did not answer: the next run tries again
    return {"refreshed": done, "failed": failed}
