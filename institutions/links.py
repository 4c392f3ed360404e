"""Parsing of community links as people paste them into forms and spreadsheets."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from institutions.choices import Network

VK_HOSTS = {"vk.com", "vk.ru", "m.vk.com", "m.vk.ru", "www.vk.com", "www.vk.ru", "new.vk.com"}
OK_HOSTS = {"ok.ru", "m.ok.ru", "www.ok.ru", "odnoklassniki.ru", "www.odnoklassniki.ru"}
_VK_NUMERIC = re.compile(r"^(?:club|public|event)(\d{1,12})$", re.IGNORECASE)
_VK_WALL = re.compile(r"^wall-(\d{1,12})(?:_\d+)?$", re.IGNORECASE)
_SCREEN_NAME = re.compile(r"^[a-z0-9_.]{2,64}$", re.IGNORECASE)
_VK_USER = re.compile(r"^id\d+$", re.IGNORECASE)
OK_GROUP_MAX_DIGITS = 18
_HOST_LIKE = re.compile(r"^[a-z0-9.-]+\.[a-z]{2,}(?::\d+)?(?:/|$)", re.IGNORECASE)


class LinkError(ValueError):
    """A pasted link that names no VK or OK community."""


@dataclass(frozen=True)
class ParsedLink:
    network: str
    network_id: int | None
    screen_name: str

    @property
    def url(self) -> str:
        if self.network == Network.VK:
            return f"https://vk.com/{self.screen_name or f'club{self.network_id}'}"
        if self.network_id is not None and not self.screen_name:
            return f"https://ok.ru/group/{self.network_id}"
        return f"https://ok.ru/{self.screen_name}"


def parse_community_link(raw: str) -> ParsedLink:
    """Return the network and id or screen name a link points at, or raise LinkError."""
    text = (raw or "").strip().strip("\"'«»<>").strip()
    if not text:
        raise LinkError("Пустая ссылка на сообщество.")
    bare = _VK_NUMERIC.match(text)
    if bare:
        return ParsedLink(Network.VK, int(bare.group(1)), "")
    if "://" not in text and _HOST_LIKE.match(text):
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if host in VK_HOSTS:
        return _parse_vk(raw, segments)
    if host in OK_HOSTS:
        return _parse_ok(raw, segments)
    raise LinkError(f"«{raw}» — не ссылка на сообщество ВКонтакте или Одноклассников.")


def _parse_vk(raw: str, segments: list[str]) -> ParsedLink:
    if len(segments) != 1:
        raise LinkError(f"«{raw}»: в ссылке ВКонтакте нет имени сообщества.")
    name = segments[0]
    numeric = _VK_NUMERIC.match(name) or _VK_WALL.match(name)
    if numeric:
        return ParsedLink(Network.VK, int(numeric.group(1)), "")
    if _VK_USER.match(name):
        raise LinkError(f"«{raw}» — ссылка на личную страницу, а не на сообщество.")
    if not _SCREEN_NAME.match(name):
        raise LinkError(f"«{raw}»: недопустимое короткое имя сообщества «{name}».")
    return ParsedLink(Network.VK, None, name.lower())


def _ok_group(raw: str, digits: str) -> ParsedLink:
    # Group numbers are stored in a 64-bit column; OK's own are 14 digits.
    if len(digits) > OK_GROUP_MAX_DIGITS:
        raise LinkError(f"«{raw}»: слишком длинный номер группы Одноклассников.")
    return ParsedLink(Network.OK, int(digits), "")


def _parse_ok(raw: str, segments: list[str]) -> ParsedLink:
    if segments and segments[0].lower() == "group":
        if len(segments) >= 2 and segments[1].isdecimal():
            return _ok_group(raw, segments[1])
        raise LinkError(f"«{raw}»: в ссылке Одноклассников нет номера группы.")
    single = segments[0] if len(segments) == 1 else ""
    if single.lower().startswith("group") and single[5:].isdecimal():
        return _ok_group(raw, single[5:])
    if len(segments) == 1 and _SCREEN_NAME.match(segments[0]) and segments[0].lower() != "profile":
        return ParsedLink(Network.OK, None, segments[0].lower())
    raise LinkError(f"«{raw}»: не удалось найти группу в ссылке Одноклассников.")
