"""Typed errors of the VK and OK clients: what went wrong and whose fault it is.

The collection decides from the type alone: retry later (transient, rate), rest the token (daily
limit), disable the token (invalid: only when the network says the token itself is dead), set the
token aside (unsuitable: a kind of token the method does not take), mark the community (closed,
deleted), or give up (rejected).
Each error carries a short Russian message for people and a stable ``key`` for statistics
(``vk:15``, ``ok:102``, ``http:502``, ``timeout``, ``bad_json``).
"""

from __future__ import annotations

from portal.errors import PortalError


class NetworkError(PortalError):
    """Any failure talking to a social network's API."""

    code = "network_error"
    http_status = 502

    def __init__(self, message: str, *, key: str = "", token_id: int | None = None) -> None:
        super().__init__(message, details={"key": key} if key else None)
        self.key = key or self.code
        self.token_id = token_id


class TransientNetworkError(NetworkError):
    """The network failed for a while (5xx, timeout, broken answer): retry with backoff."""

    code = "network_transient"


class RateLimited(TransientNetworkError):
    """Too many requests per second (VK 6/9, OK 8): slow down and retry."""

    code = "network_rate_limited"


class TokenError(NetworkError):
    """The token itself cannot be used any more; another token may go on."""


class DailyLimitReached(TokenError):
    """The token spent a method's daily quota (VK 29, OK 11): it rests until tomorrow."""

    code = "network_daily_limit"


class TokenInvalid(TokenError):
    """The token was revoked, expired or never valid (VK 5, OK 102/103/104): disable it."""

    code = "network_token_invalid"


class TokenUnsuitable(TokenError):
    """The token works, but not for this method (VK 27: a community token, 28: a service
    token where the method takes others): set it aside for the request, never disable it."""

    code = "network_token_unsuitable"


class NoUsableToken(NetworkError):
    """No registered token of the network can be used now (or none of a kind the method
    takes)."""

    code = "network_no_token"


class CommunityError(NetworkError):
    """The failure belongs to one community, not to the token or the network."""

    state = ""


class CommunityClosed(CommunityError):
    """The community is closed or private (VK 15/30/203, OK 10 on content)."""

    code = "community_closed"
    state = "closed"


class CommunityDeleted(CommunityError):
    """The community was deleted, banned or never existed (VK 18, deactivated; OK 300)."""

    code = "community_deleted"
    state = "deleted"


class NoAdminAccess(CommunityError):
    """The token does not administer the community, so its statistics are out of reach."""

    code = "community_no_admin"


class RequestRejected(NetworkError):
    """The API refused the request as malformed (VK 100/12/13): a bug, not worth retrying."""

    code = "network_rejected"


class CollectionBroken(NetworkError):
    """Anything unforeseen that stopped a batch (a bug, an answer nobody expected): the batch
    fails with this reason instead of staying open; the traceback is in the worker's log."""

    code = "internal_error"
