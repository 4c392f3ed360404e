"""What the emulated VK and OK share: the error an answer carries, the messages, the tokens.

Tokens (documented in emulator/__init__.py) decide the rate: VK community tokens
``vkemu-grp-<id>-…`` get 20 requests a second, every other token 3; beyond, VK error 6 / OK 8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

VK_RATE, VK_COMMUNITY_RATE, OK_RATE = 3, 20, 3
EXECUTE_MAX_CALLS = 25
OK_TOPICS_MAX = 100
OK_APPLICATIONS = {"CBAEMULATOR": "emulator-secret"}
VK_MESSAGES = {
    3: "Unknown method passed", 5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second", 7: "Permission to perform this action is denied",
    9: "Flood control", 10: "Internal server error", 12: "Unable to compile code",
    13: "Runtime error occurred during code invocation: Too many API calls",
    15: "Access denied", 18: "Page deleted or blocked", 29: "Rate limit reached",
    30: "This profile is private", 100: "One of the parameters specified was missing or invalid",
    203: "Access to group denied",
}
OK_MESSAGES = {
    2: "SERVICE : Service temporarily unavailable", 3: "METHOD : Method not found",
    8: "FLOOD_BLOCKED : Too many requests", 10: "PERMISSION_DENIED : Permission denied",
    11: "LIMIT_REACHED : Daily limit reached", 100: "PARAM : Invalid parameter",
    101: "PARAM_API_KEY : Application key is invalid",
    102: "PARAM_SESSION_EXPIRED : Session expired", 104: "PARAM_SIGNATURE : Invalid signature",
    300: "NOT_FOUND : Group not found",
}


class ApiFailure(Exception):
    """An API error answer (VK or OK code)."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class TokenInfo:
    """What the emulator knows about a token: its rate and the communities it administers."""

    token: str
    rate: int
    admin_all: bool = False
    admin_of: frozenset[int] = frozenset()
    community_id: int | None = None

    def administers(self, gid: int) -> bool:
        return self.admin_all or gid in self.admin_of or gid == self.community_id


_ADMIN = re.compile(r"^(?:vk|ok)emu-adm-(all|[\d_]+)(?:-.*)?$")
_COMMUNITY = re.compile(r"^vkemu-grp-(\d+)(?:-.*)?$")


def token_info(network: str, token: str) -> TokenInfo | None:
    """Recognise an emulator token (``vkemu-…``/``okemu-…``; ``…-revoked…`` never works)."""
    if not token.startswith(f"{network}emu-") or "revoked" in token:
        return None
    if match := _COMMUNITY.match(token):
        return TokenInfo(token, VK_COMMUNITY_RATE, community_id=int(match.group(1)))
    rate = VK_RATE if network == "vk" else OK_RATE
    if match := _ADMIN.match(token):
        ids = match.group(1)
        if ids == "all":
            return TokenInfo(token, rate, admin_all=True)
        return TokenInfo(token, rate, admin_of=frozenset(int(i) for i in ids.split("_") if i))
    return TokenInfo(token, rate)


def parse_ids(text: Any, *, limit: int) -> list[int]:
    parts = [p for p in str(text or "").split(",") if p.strip()]
    if len(parts) > limit:
        raise ApiFailure(100, f"{VK_MESSAGES[100]}: too many ids")
    try:
        return [int(p) for p in parts]
    except ValueError as exc:
        raise ApiFailure(100, VK_MESSAGES[100]) from exc
