"""Network tokens: encrypted at rest, checked against the API on save, disabled when dead.

The secret is encrypted with Fernet and never shown again except its last four characters. The
keys are ``settings.TOKEN_ENCRYPTION_KEYS``, newest first: the first encrypts, every one decrypts
(MultiFernet), so a key is rotated by putting the new one first and running ``manage.py
rotate_token_key``. Keys derived from ``SECRET_KEY`` (and ``SECRET_KEY_FALLBACKS``) are used when
none is configured and always decrypt. A keyed fingerprint finds duplicates and names the token's
rate limiter without revealing it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from institutions.choices import Network, Role
from institutions.models import Community, is_regional_methodologist, profile_of
from metrics.collect.choices import TokenKind
from metrics.collect.credentials import Credential
from metrics.collect.errors import (
    DailyLimitReached,
    NetworkError,
    NoAdminAccess,
    TokenInvalid,
    TransientNetworkError,
)
from metrics.models import NetworkToken
from metrics.ratelimit import LimitKey
from portal.errors import NotAllowed, NotFound, ServiceUnavailable, ValidationFailed


# --- secrets --------------------------------------------------------------------------------------
def derived_key(secret_key: str) -> str:
    """The Fernet key used when none is configured, derived from a Django SECRET_KEY."""
    digest = hashlib.sha256(f"network-tokens:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@cache
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encryption_keys() -> tuple[str, ...]:
    """The Fernet keys, the one that encrypts first; every one of them decrypts."""
    derived = [derived_key(key) for key in (settings.SECRET_KEY,
                                            *getattr(settings, "SECRET_KEY_FALLBACKS", []))]
    configured = [key for key in settings.TOKEN_ENCRYPTION_KEYS if key]
    return tuple(dict.fromkeys([*configured, *derived]))


def _cipher() -> MultiFernet:
    return _multi_fernet(encryption_keys())


def secret_encrypt(secret: str) -> str:
    return _cipher().encrypt(secret.encode()).decode()


def secret_decrypt(stored: str) -> str:
    """The plain secret; raises ValidationFailed if no configured key encrypted it."""
    try:
        return _cipher().decrypt(stored.encode()).decode()
    except InvalidToken as exc:
        raise ValidationFailed("Ключ не расшифровывается: сменился ключ шифрования.") from exc


def secret_fingerprint(network: str, secret: str) -> str:
    key = hashlib.sha256(f"token-fingerprint:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{network}:{secret}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class KeyRotation:
    """What ``tokens_reencrypt`` did: tokens re-encrypted, and those no key could decrypt."""

    reencrypted: int
    undecryptable: list[int]


def tokens_reencrypt() -> KeyRotation:
    """Re-encrypt every token under the first key and refresh its fingerprint.

    Run after putting a new key first in TOKEN_ENCRYPTION_KEYS (or after changing SECRET_KEY,
    with the old one in SECRET_KEY_FALLBACKS); afterwards the old key can be removed. Tokens no
    key decrypts are left as they are and listed.
    """
    cipher, done, undecryptable = _cipher(), 0, []
    with transaction.atomic():
        for token in NetworkToken.objects.select_for_update().order_by("pk"):
            try:
                secret = cipher.decrypt(token.secret_encrypted.encode()).decode()
                app_secret = (cipher.rotate(token.app_secret_encrypted.encode()).decode()
                              if token.app_secret_encrypted else "")
            except InvalidToken:
                undecryptable.append(token.pk)
                continue
            token.secret_encrypted = cipher.encrypt(secret.encode()).decode()
            token.app_secret_encrypted = app_secret
            token.fingerprint = secret_fingerprint(token.network, secret)
            token.save(update_fields=["secret_encrypted", "app_secret_encrypted", "fingerprint"])
            done += 1
    return KeyRotation(reencrypted=done, undecryptable=undecryptable)


def limit_key(*, network: str, fingerprint: str, kind: str) -> LimitKey:
    return LimitKey(name=f"{network}:{fingerprint[:24]}",
                    limit=20 if kind == TokenKind.COMMUNITY else 3)


def token_credential(token: NetworkToken) -> Credential:
    """The decrypted credential a client uses (lives only in memory)."""
    return Credential(
        token_id=token.pk, secret=secret_decrypt(token.secret_encrypted),
        limit_key=limit_key(network=token.network, fingerprint=token.fingerprint,
                            kind=token.kind),
        app_key=token.app_key,
        app_secret=secret_decrypt(token.app_secret_encrypted)
        if token.app_secret_encrypted else "",
        kind=token.kind,
    )


# --- reads ----------------------------------------------------------------------------------------
def tokens_visible_to(user) -> QuerySet[NetworkToken]:
    """Regional methodologists see every token; editors theirs and their communities'."""
    tokens = NetworkToken.objects.select_related("owner")
    if is_regional_methodologist(user):
        return tokens
    profile = profile_of(user)
    if profile is None or profile.role != Role.EDITOR:
        return tokens.none()
    mine = Community.objects.visible_to(user).values("pk")
    return tokens.filter(Q(owner=user) | Q(communities__in=mine)).distinct()


def can_manage_tokens(user) -> bool:
    profile = profile_of(user)
    return is_regional_methodologist(user) or (profile is not None
                                               and profile.role == Role.EDITOR)


def tokens_usable(*, network: str, for_stats: bool = False) -> QuerySet[NetworkToken]:
    """Active tokens not resting after a daily limit, of every kind (each client call takes
    the kinds its method allows); for stats, user tokens of community admins.

    Statistics: VK's stats.get takes user tokens only (its schema's ``access_token_type``), so a
    community token answers error 27 and a service token 28; OK registers user tokens only.
    """
    now = timezone.now()
    tokens = NetworkToken.objects.filter(network=network, is_active=True).filter(
        Q(rests_until__isnull=True) | Q(rests_until__lte=now)).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now))  # a connected token past its time
    if for_stats:
        return tokens.filter(kind=TokenKind.USER, communities__isnull=False).distinct()
    return tokens


# --- writes ---------------------------------------------------------------------------------------
COMMUNITIES_NOT_FOUND = "Некоторые из указанных сообществ не найдены среди доступных вам."


def _communities(user, community_ids: Sequence[int]) -> list[Community]:
    """The communities named, looked up only among those the user may name.

    A foreign id and a missing one get the same answer: the answer must not tell an editor
    which ids exist outside their institution.
    """
    if user is not None and not is_regional_methodologist(user):
        profile = profile_of(user)
        if profile is None or profile.role != Role.EDITOR:
            raise NotAllowed("Регистрировать ключи могут региональные методисты и редакторы "
                             "учреждений.")
        scope = Community.objects.visible_to(user)
    else:
        scope = Community.objects.all()
    wanted = set(community_ids)
    communities = list(scope.filter(pk__in=wanted))
    if len(communities) != len(wanted):
        raise ValidationFailed(COMMUNITIES_NOT_FOUND)
    return communities


def _authorize(user, communities: Sequence[Community]) -> None:
    """Editors register tokens for communities of their own institution (``_communities``
    found them among those alone)."""
    if is_regional_methodologist(user):
        return
    if not communities:
        raise NotAllowed("Редактор учреждения регистрирует ключ для сообществ своего "
                         "учреждения: выберите их.")


def _validate(*, network: str, kind: str, secret: str, app_key: str, app_secret: str,
              communities: Sequence[Community]) -> None:
    if not secret:
        raise ValidationFailed("Укажите ключ доступа.")
    if network == Network.OK and not (app_key and app_secret):
        raise ValidationFailed("Для OK укажите ключ приложения и секретный ключ приложения.")
    if network == Network.OK and kind != TokenKind.USER:
        raise ValidationFailed("Для OK используется ключ пользователя (access_token).")
    if kind == TokenKind.COMMUNITY and len(communities) != 1:
        raise ValidationFailed("Ключ сообщества относится ровно к одному сообществу.")
    if kind == TokenKind.SERVICE and communities:
        raise ValidationFailed("Сервисный ключ не даёт доступа к статистике сообществ; "
                               "для статистики нужен ключ администратора.")
    wrong = [str(c) for c in communities if c.network != network]
    if wrong:
        raise ValidationFailed(f"Сообщества другой соцсети: {', '.join(wrong)}.")
    unresolved = [str(c) for c in communities if not c.network_id]
    if unresolved:
        raise ValidationFailed(
            f"У сообществ ещё нет id в соцсети (дождитесь сбора): {', '.join(unresolved)}.")


def token_register(
    *,
    user,
    network: str,
    kind: str,
    secret: str,
    label: str,
    community_ids: Sequence[int] = (),
    app_key: str = "",
    app_secret: str = "",
    check: bool = True,
) -> NetworkToken:
    """Register a token after checking it against the network (unless ``check=False``)."""
    secret, app_key, app_secret = secret.strip(), app_key.strip(), app_secret.strip()
    communities = _communities(user, community_ids)
    if user is not None:
        _authorize(user, communities)
    _validate(network=network, kind=kind, secret=secret, app_key=app_key,
              app_secret=app_secret, communities=communities)
    fingerprint = secret_fingerprint(network, secret)
    if NetworkToken.objects.filter(network=network, fingerprint=fingerprint).exists():
        raise ValidationFailed("Этот ключ уже зарегистрирован.")
    rests_until = None
    if check:
        rests_until = token_check(network=network, kind=kind, secret=secret, app_key=app_key,
                                  app_secret=app_secret, communities=communities,
                                  fingerprint=fingerprint)
    return token_store(
        user=user, network=network, kind=kind, secret=secret, label=label.strip() or kind,
        communities=communities, app_key=app_key, app_secret=app_secret,
        fingerprint=fingerprint, checked=check, rests_until=rests_until,
    )


@transaction.atomic
def token_store(*, user, network: str, kind: str, secret: str, label: str,
                 communities: Sequence[Community], app_key: str, app_secret: str,
                 fingerprint: str, checked: bool, rests_until: dt.datetime | None
                 ) -> NetworkToken:
    token = NetworkToken.objects.create(
        network=network, kind=kind, label=label[:200], owner=user,
        secret_encrypted=secret_encrypt(secret), fingerprint=fingerprint, last4=secret[-4:],
        app_key=app_key, app_secret_encrypted=secret_encrypt(app_secret) if app_secret else "",
        checked_at=timezone.now() if checked else None, rests_until=rests_until,
    )
    token.communities.set(communities)
    return token


def token_check(*, network: str, kind: str, secret: str, app_key: str, app_secret: str,
                communities: Sequence[Community], fingerprint: str) -> dt.datetime | None:
    """Ask the network whether the token works (and administers the communities).

    Returns when the token rests if it is valid but out of today's quota; raises
    ValidationFailed when the network refuses it, ServiceUnavailable when it cannot be asked.
    """
    credential = Credential(
        token_id=None, secret=secret, app_key=app_key, app_secret=app_secret,
        limit_key=limit_key(network=network, fingerprint=fingerprint, kind=kind), kind=kind,
    )
    try:
        if network == Network.VK:
            _check_vk(credential, kind, communities)
        else:
            _check_ok(credential, communities)
    except DailyLimitReached:
        return next_day_start()
    except TokenInvalid as exc:
        raise ValidationFailed(f"Ключ не принят: {exc.message}.") from exc
    except NoAdminAccess as exc:
        raise ValidationFailed(f"Ключ не принят: {exc.message}.") from exc
    except TransientNetworkError as exc:
        raise ServiceUnavailable(
            f"Проверить ключ не удалось ({exc.message}); попробуйте позже.") from exc
    except NetworkError as exc:
        raise ValidationFailed(f"Ключ не принят: {exc.message}.") from exc
    return None


def _check_vk(credential: Credential, kind: str, communities: Sequence[Community]) -> None:
    from metrics.vk.client import VkClient

    client = VkClient(credentials=[credential])
    if kind == TokenKind.COMMUNITY:
        groups = client.groups_by_id([])
        if not groups or groups[0].id != communities[0].network_id:
            raise NoAdminAccess("это ключ другого сообщества")
        return
    ids = [c.network_id for c in communities if c.network_id] or [1]
    groups = client.groups_by_id(ids[:500], with_admin=bool(communities))
    not_admin = [g.name or str(g.id) for g in groups if communities and not g.is_admin]
    if not_admin:
        raise NoAdminAccess(f"нет прав администратора сообществ: {', '.join(not_admin)}")


def _check_ok(credential: Credential, communities: Sequence[Community]) -> None:
    from metrics.ok.client import OkClient

    client = OkClient(credentials=[credential])
    ids = [c.network_id for c in communities if c.network_id]
    client.groups_info(ids[:100] or [1])
    now = timezone.now()
    for community in communities:  # OK has no admin flag: one statistics call per group
        try:
            client.group_stats(community.network_id, start=now - dt.timedelta(days=1), end=now)
        except NoAdminAccess as exc:
            raise NoAdminAccess(f"нет прав администратора группы {community}") from exc


def next_day_start() -> dt.datetime:
    """Local midnight after today: when networks renew daily quotas."""
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(tomorrow, dt.time()))


def token_disable(*, token_id: int, reason: str) -> None:
    """Switch a dead token off, saying why (regional methodologists see the reason)."""
    NetworkToken.objects.filter(pk=token_id, is_active=True).update(
        is_active=False, disabled_reason=reason[:300], disabled_at=timezone.now())


def token_rest(*, token_id: int, until: dt.datetime | None = None) -> None:
    """Let a token that spent its daily quota rest until tomorrow."""
    NetworkToken.objects.filter(pk=token_id).update(rests_until=until or next_day_start())


def token_delete(*, user, token_id: int) -> None:
    """Delete a token: regional methodologists any, editors their own."""
    token = tokens_visible_to(user).filter(pk=token_id).first()
    if token is None:
        raise NotFound("Ключ не найден.")
    if not is_regional_methodologist(user) and token.owner_id != user.pk:
        raise NotAllowed("Удалить ключ может тот, кто его зарегистрировал, или региональный "
                         "методист.")
    token.delete()
