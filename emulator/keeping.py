"""How the emulated communities are kept: profile fields and what their posts are made of.

Every community rolls a fixed set of habits (``Keeping``) from its id, so tests can pick one that
passes or fails each checklist rule (``ids_where``). The fields come in VK's official shapes
(``groups_group_full``: ``type``, ``description``, ``site``, ``has_photo``, ``cover``, ``wall``,
``addresses``; wall posts' ``attachments`` as ``wall_wallpost_attachment``) and OK's
(``group.getInfo``: ``description``, ``pic_avatar``, ``homepage``, ``phone``;
a topic's ``media`` blocks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

#: Unix time every emulated photo, poll and video says it was made (2024-01-01).
MADE = 1_704_067_200


class Keeping(NamedTuple):
    """A community's habits: its page's settings and how it writes posts."""

    kind: str  # group | page | event
    description: str  # full | partial | short
    has_site: bool
    has_photo: bool
    has_cover: bool
    wall: int  # VK's wall: 0 off, 1 open, 2 limited, 3 restricted
    has_addresses: bool
    own_tag: bool  # puts its own hashtag in nearly every post
    many_tags: bool  # every fourth post carries five hashtags
    links_videos: bool  # posts YouTube links instead of uploading videos
    photo_share: int  # posts with a photo, out of 16
    plain: bool  # a «visiting card»: text notices only, nothing attached
    official_name: bool  # named by the institution's full official name, not a short one


def _bits(seed: int, network: str, gid: int) -> int:
    text = f"{seed}|{network}|keeping|{gid}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=16).digest(), "big")


@lru_cache(maxsize=262_144)
def keeping(seed: int, network: str, gid: int) -> Keeping:
    """The community's habits (mostly well kept: each rule fails for 10–40% of communities)."""
    b = _bits(seed, network, gid)

    def roll(shift: int, sides: int) -> int:
        return (b >> shift) % sides

    kind = "event" if roll(0, 100) < 4 else ("page" if roll(7, 2) else "group")
    description = ("full", "full", "full", "full", "full", "full", "partial", "short")[roll(8, 8)]
    wall = (2, 2, 2, 2, 2, 2, 1, 1, 3, 0)[roll(11, 10)]
    return Keeping(
        kind=kind, description=description, has_site=roll(15, 5) > 0,
        has_photo=roll(18, 10) > 0, has_cover=roll(22, 4) > 0, wall=wall,
        has_addresses=roll(25, 10) < 7, own_tag=roll(29, 10) < 6, many_tags=roll(33, 5) == 0,
        links_videos=roll(36, 7) == 0, photo_share=(13, 13, 13, 4)[roll(40, 4)],
        plain=roll(43, 20) == 0, official_name=roll(48, 20) == 0)


def ids_where(seed: int, network: str, test: Callable[[Keeping], bool], *, count: int = 1,
              start: int = 1, fate: Callable[[int], str] | None = None) -> list[int]:
    """The first ``count`` active ids from ``start`` whose habits pass ``test`` (tests, demos).

    Bounded: the habits are common enough that 20,000 ids always hold what a test asks for.
    """
    out = []
    for gid in range(start, start + 20_000):
        if (fate is None or fate(gid) == "active") and test(keeping(seed, network, gid)):
            out.append(gid)
            if len(out) == count:
                return out
    raise LookupError("no emulated community has these habits")


def page_name(k: Keeping, name: str) -> str:
    """The name the page shows: the short one, or the full official one (over 60 letters)."""
    if k.official_name:
        return f"Муниципальное бюджетное учреждение культуры «{name}» муниципального района"
    return name


def vk_name(seed: int, gid: int, name: str) -> str:
    return page_name(keeping(seed, "vk", gid), name)


def vk_page(seed: int, gid: int, name: str, asked: set[str]) -> dict[str, Any]:
    """The community's ``type`` and, of its other kept fields, those the request asked for."""
    profile = vk_profile(seed, gid, name)
    return {"type": profile.pop("type"),
            **{field: value for field, value in profile.items() if field in asked}}


def description_text(name: str, gid: int, kind: str) -> str:
    """The description a community's habits write: with contacts, without hours, or a line."""
    if kind == "short":
        return f"{name}."
    text = (f"{name} — учреждение культуры нашего района: концерты, выставки, кружки и "
            f"мастер-классы для детей и взрослых. Адрес: ул. Ленина, д. {gid % 90 + 1}. "
            f"Телефон: +7 (846) 200-{gid % 90 + 10:02d}-{gid % 80 + 10:02d}.")
    if kind == "full":
        text += " Режим работы: вт–вс 10:00–18:00, пн — выходной. Мы в OK: ok.ru/group" \
                f"{gid}."
    return text


def vk_profile(seed: int, gid: int, name: str) -> dict[str, Any]:
    """The ``groups_group_full`` fields of how a VK community is kept (its ``photo_*`` are
    always there, as VK's placeholder when ``has_photo`` is 0)."""
    k = keeping(seed, "vk", gid)
    cover: dict[str, Any] = {"enabled": int(k.has_cover)}
    if k.has_cover:
        cover["images"] = [{"url": f"https://sun.userapi.com/cover{gid}_1590.jpg",
                            "width": 1590, "height": 400}]
    profile: dict[str, Any] = {
        "type": k.kind, "description": description_text(name, gid, k.description),
        "site": f"https://culture{gid}.ru" if k.has_site else "",
        "has_photo": int(k.has_photo), "cover": cover, "wall": k.wall,
        "addresses": {"is_enabled": k.has_addresses},
    }
    if k.has_addresses:
        profile["addresses"] |= {"main_address_id": gid, "count": 1}
    return profile


def ok_profile(seed: int, uid: int, name: str) -> dict[str, Any]:
    """group.getInfo's fields of how an OK group is kept (its phone apart, as OK keeps it)."""
    k = keeping(seed, "ok", uid)
    profile: dict[str, Any] = {"description": description_text(name, uid, "short")}
    if k.description != "short":
        profile["phone"] = f"+7 (846) 200-{uid % 90 + 10:02d}-{uid % 80 + 10:02d}"
        profile["description"] += (f" Концерты, выставки, кружки и мастер-классы. Адрес: ул. "
                                   f"Ленина, д. {uid % 90 + 1}.")
    if k.description == "full":
        profile["description"] += " Режим работы: вт–вс 10:00–18:00."
    if k.has_photo:
        profile["pic_avatar"] = f"https://i.mycdn.me/group{uid}_avatar.jpg"
    if k.has_site:
        profile["homepage"] = f"https://culture{uid}.ru"
    return profile


# --- posts -------------------------------------------------------------------------------------
def post_text(k: Keeping, post_id: int, roll: int) -> str:
    text = f"Новость №{post_id}"
    if k.own_tag and roll % 16 != 0:
        text += " #нашдк"
    if k.many_tags and post_id % 4 == 0:
        text += " #культура #афиша #события #выходные"
    return text


def _photo(gid: int, post_id: int) -> dict[str, Any]:
    return {"type": "photo", "photo": {
        "id": post_id, "album_id": -7, "owner_id": -gid, "date": MADE, "has_tags": False,
        "sizes": [{"type": "x", "url": f"https://sun.userapi.com/p{gid}_{post_id}.jpg",
                   "width": 604, "height": 403}]}}


def _video(gid: int, post_id: int, **extra: Any) -> dict[str, Any]:
    video = {"id": post_id, "owner_id": -gid, "title": f"Видео №{post_id}", "date": MADE,
             "duration": 95, **extra}
    return {"type": "video", "video": video}


def _poll(gid: int, post_id: int) -> dict[str, Any]:
    return {"type": "poll", "poll": {
        "id": post_id, "owner_id": -gid, "created": MADE, "question": "Что вам интереснее?",
        "votes": 12, "answers": [{"id": 1, "text": "Концерты", "votes": 7, "rate": 58.33},
                                 {"id": 2, "text": "Выставки", "votes": 5, "rate": 41.67}],
        "anonymous": True, "multiple": False, "end_date": 0, "closed": False,
        "is_board": False, "can_edit": False, "can_vote": True, "can_report": True,
        "can_share": True, "disable_unvote": False}}


def _link(url: str, title: str) -> dict[str, Any]:
    return {"type": "link", "link": {"url": url, "title": title}}


def vk_attachments(k: Keeping, gid: int, post_id: int, roll: int) -> list[dict[str, Any]]:
    """A post's attachments: a photo for ``photo_share``/16 posts, and now and then a video,
    clip, live broadcast, poll, article or link (a YouTube link for a community that links
    its videos)."""
    if k.plain:
        return []
    out = [_photo(gid, post_id)] if roll % 16 < k.photo_share else []
    extra = roll // 16 % 20
    if extra in (0, 1):
        out.append(_link(f"https://www.youtube.com/watch?v=v{post_id}", "Видео")
                   if k.links_videos else _video(gid, post_id))
    elif extra == 2:
        out.append({"type": "clip", "clip": {"id": post_id, "owner_id": -gid,
                                             "type": "short_video", "duration": 30}})
    elif extra == 3 and post_id % 3 == 0:
        out.append(_video(gid, post_id, live=1, type="live"))
    elif extra == 4:
        out.append(_poll(gid, post_id))
    elif extra == 5:
        out.append(_link(f"https://vk.com/@club{gid}-anons-{post_id}", "Статья"))
    elif extra == 6:
        out.append(_link(f"https://culture{gid}.ru/news/{post_id}", "Подробнее на сайте"))
    return out


def ok_media(k: Keeping, uid: int, topic_id: int, roll: int) -> list[dict[str, Any]]:
    """An OK topic's ``media`` blocks: its text first, then a photo, movie, poll or link."""
    media: list[dict[str, Any]] = [{"type": "text", "text": post_text(k, topic_id, roll)}]
    if k.plain:
        return media
    if roll % 16 < k.photo_share:
        media.append({"type": "photo", "photo_refs": [f"photo:{uid}{topic_id}"]})
    extra = roll // 16 % 20
    if extra in (0, 1):
        media.append({"type": "link", "url": f"https://www.youtube.com/watch?v=v{topic_id}"}
                     if k.links_videos else {"type": "movie", "movie_refs": [f"movie:{topic_id}"]})
    elif extra == 4:
        media.append({"type": "poll", "poll_ref": f"poll:{topic_id}"})
    return media
