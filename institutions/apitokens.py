"""Self-service API tokens: create (the key is shown once), list, revoke, authenticate.

Only a hash of each key is stored (djangorestframework-api-key's SHA-512 of a high-entropy key).
A token authenticates as its owner, so every ``visible_to(user)`` scopes it exactly as the owner.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from institutions.models import ApiToken, profile_of
from portal.errors import NotAllowed, NotFound, ValidationFailed

TOKEN_NAME_MAX = 50
# The last-use time is a hint for people, not an audit log: one write per token per minute at most.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def can_have_api_tokens(user) -> bool:
    """Anyone with a role in the portal (or a superuser) may hold tokens scoped as themselves."""
    return bool(user.is_active and (user.is_superuser or profile_of(user)))


def api_token_list(*, user) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they show as revoked)."""
    return ApiToken.objects.filter(user=user).order_by("-created")


@transaction.atomic
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a named token for the user; return it and its key, which is never shown again."""
    if not can_have_api_tokens(user):
        raise NotAllowed("Токены API выдаются только пользователям с ролью в портале.")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Укажите название токена, например «Выгрузка в BI».",
                               details={"name": ["Обязательное поле."]})
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationFailed(f"Название токена — не длиннее {TOKEN_NAME_MAX} символов.",
                               details={"name": [f"Не длиннее {TOKEN_NAME_MAX} символов."]})
    return ApiToken.objects.create_key(user=user, name=name)


@transaction.atomic
def api_token_revoke(*, user, prefix: str) -> ApiToken:
    """Revoke one of the user's tokens for good; revoking twice is harmless."""
    token = ApiToken.objects.select_for_update().filter(user=user, prefix=prefix).first()
    if token is None:
        raise NotFound("Токен не найден среди ваших токенов.")
    if not token.revoked:
        token.revoked = True
        token.save(update_fields=["revoked"])
    return token


def api_token_authenticate(key: str) -> ApiToken | None:
    """The live token of this key, its use recorded; None when unknown, revoked or expired."""
    try:
        token = ApiToken.objects.get_from_key(key)
    except ApiToken.DoesNotExist:
        return None
    if token.has_expired or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests of one client write the time once.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ApiToken.objects.filter(pk=token.pk).filter(stale).update(last_used_at=now)
    return token
