"""Each VK error code has one consequence, and a token is disabled only when VK says the token
itself is dead (the codes are those of VK's errors.json)."""

import pytest

from institutions.choices import Network
from metrics.collect.errors import (
    CommunityClosed,
    CommunityDeleted,
    DailyLimitReached,
    NoAdminAccess,
    RateLimited,
    RequestRejected,
    TokenInvalid,
    TokenUnsuitable,
    TransientNetworkError,
)
from metrics.collect.fetch import token_trouble
from metrics.models import NetworkToken
from metrics.vk.client import vk_error
from tests.metrics.conftest import register

DISABLED, RESTS, ASIDE, NONE = "disabled", "rests", "set aside", "token untouched"


@pytest.mark.parametrize(("code", "message", "method", "kind", "token"), [
    (1, "Unknown error occurred", "wall.get", TransientNetworkError, NONE),
    (5, "User authorization failed: invalid access_token (4).", "execute", TokenInvalid,
     DISABLED),
    (6, "Too many requests per second", "wall.get", RateLimited, NONE),
    (7, "Permission to perform this action is denied", "stats.get", NoAdminAccess, NONE),
    (7, "Permission to perform this action is denied", "wall.get", RequestRejected, NONE),
    (9, "Flood control", "wall.get", RateLimited, NONE),
    (10, "Internal server error", "groups.getById", TransientNetworkError, NONE),
    (12, "Unable to compile code", "execute", RequestRejected, NONE),
    (13, "Runtime error occurred during code invocation", "execute", RequestRejected, NONE),
    (14, "Captcha needed", "wall.get", RateLimited, NONE),
    (15, "Access denied", "wall.get", CommunityClosed, NONE),
    (15, "Access denied", "stats.get", NoAdminAccess, NONE),
    (17, "Validation required", "wall.get", TokenInvalid, DISABLED),
    (18, "User was deleted or banned", "wall.get", CommunityDeleted, NONE),
    (18, "User was deleted or banned", "groups.getById", RequestRejected, NONE),
    (27, "Group authorization failed: method is unavailable with group auth.", "stats.get",
     TokenUnsuitable, ASIDE),
    (28, "Application authorization failed: method is unavailable with service token.",
     "execute", TokenUnsuitable, ASIDE),
    (28, "Application authorization failed: refresh service token", "wall.get", TokenInvalid,
     DISABLED),
    (29, "Rate limit reached", "wall.get", DailyLimitReached, RESTS),
    (30, "This profile is private", "wall.get", CommunityClosed, NONE),
    (100, "One of the parameters specified was missing or invalid", "wall.get",
     CommunityDeleted, NONE),
    (100, "One of the parameters specified was missing or invalid", "execute",
     RequestRejected, NONE),
    (104, "Not found", "utils.resolveScreenName", CommunityDeleted, NONE),
    (113, "Invalid user id", "wall.get", RequestRejected, NONE),
    (125, "Invalid group id", "stats.get", CommunityDeleted, NONE),
    (203, "Access to group denied", "wall.get", CommunityClosed, NONE),
    (203, "Access to group denied", "stats.get", NoAdminAccess, NONE),
])
@pytest.mark.django_db
def test_each_vk_error_code_has_its_consequence(code, message, method, kind, token):
    registered = register(Network.VK, "vkemu-svc-codes")
    error = vk_error(code, message, method=method, token_id=registered.pk)

    assert type(error) is kind and error.key == f"vk:{code}"
    if hasattr(error, "token_id") and isinstance(error, TokenInvalid | TokenUnsuitable
                                                  | DailyLimitReached):
        token_trouble(error)
    registered = NetworkToken.objects.get(pk=registered.pk)
    outcome = (DISABLED if not registered.is_active else RESTS if registered.rests_until
               else ASIDE if isinstance(error, TokenUnsuitable) else NONE)
    assert outcome == token
