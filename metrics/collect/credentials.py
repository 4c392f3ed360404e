"""What a client needs to call an API on a token's behalf: the secret and its limiter key."""

from __future__ import annotations

from dataclasses import dataclass, field

from metrics.ratelimit import LimitKey


@dataclass(frozen=True)
class Credential:
    """A decrypted token for one client session; never stored, never logged.

    ``kind`` is the token's ``TokenKind`` value (user, community, service): it decides which
    VK methods the token may call (``metrics.vk.calls.TOKEN_KINDS``).
    """

    token_id: int | None
    secret: str = field(repr=False)
    limit_key: LimitKey
    app_key: str = ""
    app_secret: str = field(default="", repr=False)
    kind: str = "user"
