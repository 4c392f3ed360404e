"""What the emulated VK and OK share: the error an answer carries, the messages, the tokens.

Tokens (documented in emulator/__init__.py) decide the rate and the kind: VK community tokens
``vkemu-grp-<id>-…`` get 20 requests a second, every other token 3; beyond, VK error 6 / OK 8.
A VK token's kind (user, group, service) decides which methods it may call (``vk_contract``).
VK's error messages are those of its ``errors.json`` (``vk_contract.error_message``); OK's are
those of the contract file (``ok_contract``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from emulator import vk_contract

VK_RATE, VK_COMMUNITY_RATE, OK_RATE = 3, 20, 3
EXECUTE_MAX_CALLS = 25
OK_TOPICS_MAX = 100
OK_APPLICATIONS = {"CBAEMULATOR": "emulator-secret"}
#: Details VK adds to the description of ``errors.json`` for some codes.
VK_DETAILS = {5: "invalid access_token (4).", 13: "Too many API calls"}


class ApiFailure(Exception):
    """An API error answer (VK or OK code)."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code, self.message = code, message


def vk_failure(code: int, detail: str = "") -> ApiFailure:
    """VK's error ``code`` with the message VK gives it (``errors.json``'s description first)."""
    return ApiFailure(code, vk_contract.error_message(code, detail or VK_DETAILS.get(code, "")))


@dataclass(frozen=True)
class TokenInfo:
    """What the emulator knows about a token: its kind, rate and the communities it
    administers (VK kinds as the schema names them: user, group, service)."""

    token: str
    rate: int
    kind: str = "user"
    admin_all: bool = False
    admin_of: frozenset[int] = frozenset()
    community_id: int | None = None

    def administers(self, gid: int) -> bool:
        return self.admin_all or gid in self.admin_of or gid == self.community_id


_ADMIN = re.compile(r"^(?:vk|ok)emu-adm-(all|[\d_]+)(?:-.*)?$")
_COMMUNITY = re.compile(r"^vkemu-grp-(\d+)(?:-.*)?$")
_VK_KINDS = {"svc": "service", "usr": "user", "adm": "user"}


def token_info(network: str, token: str) -> TokenInfo | None:
    """Recognise an emulator token (``vkemu-…``/``okemu-…``; ``…-revoked…`` never works).

    A VK token names its kind: ``vkemu-svc-`` service, ``vkemu-usr-``/``vkemu-adm-`` user,
    ``vkemu-grp-<id>-`` community; any other ``vkemu-`` token is unknown, as a made-up one is.
    """
    if not token.startswith(f"{network}emu-") or "revoked" in token:
        return None
    if match := _COMMUNITY.match(token):
        return TokenInfo(token, VK_COMMUNITY_RATE, kind="group",
                         community_id=int(match.group(1)))
    kind = "user"
    if network == "vk":
        kind = _VK_KINDS.get(token[len("vkemu-"):].split("-", 1)[0], "")
        if not kind:
            return None
    rate = VK_RATE if network == "vk" else OK_RATE
    if match := _ADMIN.match(token):
        ids = match.group(1)
        if ids == "all":
            return TokenInfo(token, rate, kind, admin_all=True)
        return TokenInfo(token, rate, kind,
                         admin_of=frozenset(int(i) for i in ids.split("_") if i))
    return TokenInfo(token, rate, kind)


def parse_ids(text: Any, *, limit: int, failure: Any) -> list[int]:
    """Comma-separated ids (a list inside ``execute``); ``failure(detail)`` makes the error."""
    parts = text if isinstance(text, list) else [p for p in str(text or "").split(",")
                                                 if p.strip()]
    if len(parts) > limit:
        raise failure("too many ids")
    try:
        return [int(p) for p in parts]
    except ValueError as exc:
        raise failure("ids must be numbers") from exc
