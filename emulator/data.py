"""Deterministic data of the emulated networks: any id gives the same community for a seed.

Members grow plausibly day by day; posts (VK wall posts, OK group topics) follow a weekly
pattern per community (0–3 a day); a
few communities are closed, deleted, banned or renamed by a fixed rule (``vk_fate``/``ok_fate``),
which tests use to pick ids of each kind.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from itertools import islice
from typing import Any, NamedTuple

from emulator import keeping as kept

EPOCH = dt.date(2020, 1, 1)
FATES = ("active", "closed", "deleted", "banned", "renamed")
_NAMES = ("Дом культуры", "Библиотека", "Музей", "Школа искусств", "Культурный центр",
          "Театр", "Парк", "Клуб")


def h(seed: int, *parts: object) -> int:
    """A stable 64-bit hash of the seed and parts (Python's hash() is salted per process)."""
    text = "|".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


@lru_cache(maxsize=262_144)
def _traits(seed: int, network: str, gid: int) -> tuple[int, int, int, int, int]:
    """One digest per community: fate roll, base size, growth, name and verified rolls."""
    text = f"{seed}|{network}|traits|{gid}".encode()
    raw = hashlib.blake2b(text, digest_size=20).digest()
    return tuple(int.from_bytes(raw[i:i + 4], "big") for i in range(0, 20, 4))  # type: ignore


def fate(seed: int, network: str, gid: int) -> str:
    """What became of a community: mostly active; 1% deleted, 0.5% banned, 2.5% closed…"""
    return _fate(_traits(seed, network, gid))


def _fate(traits: tuple[int, ...]) -> str:
    roll = traits[0] % 1000
    if roll < 10:
        return "deleted"
    if roll < 15:
        return "banned"
    if roll < 40:
        return "closed"
    if roll < 55:
        return "renamed"
    return "active"


def vk_fate(seed: int, gid: int) -> str:
    return fate(seed, "vk", gid)


def ok_fate(seed: int, uid: int) -> str:
    return fate(seed, "ok", uid)


def ids_with_fate(seed: int, network: str, wanted: str, count: int, start: int = 1) -> list[int]:
    """The first ``count`` ids from ``start`` whose fate is ``wanted`` (for tests and demos)."""
    out, gid = [], start
    while len(out) < count:
        if fate(seed, network, gid) == wanted:
            out.append(gid)
        gid += 1
    return out


class _Community(NamedTuple):
    """What never changes about a community, worked out from its traits once (cached)."""

    fate: str
    name: str  # the name it was created with
    verified: int
    base: int  # members on EPOCH
    growth: float  # members gained a day


@lru_cache(maxsize=262_144)
def _community(seed: int, network: str, gid: int) -> _Community:
    traits = _traits(seed, network, gid)
    base = 80 + traits[1] % 20_000
    return _Community(fate=_fate(traits), name=f"{_NAMES[traits[3] % len(_NAMES)]} №{gid % 10_000}",
                      verified=int(traits[4] % 10 < 7), base=base,
                      growth=base * (0.0002 + (traits[2] % 1000) / 1_000_000))


@lru_cache(maxsize=64)
def _hash_head(seed: int, *parts: object) -> Any:
    """A blake2b already fed ``seed|parts|``: ``h`` of these parts and more goes on from a copy.

    Cheaper than ``h`` anew: members_on runs for every group of a groups.getById, thousands in
    an execute.
    """
    return hashlib.blake2b("|".join([str(seed), *map(str, parts), ""]).encode(), digest_size=8)


def members_on(seed: int, network: str, gid: int, day: dt.date) -> int:
    """Members on a day: a base, a steady per-community growth and a small daily wobble."""
    return _members(_community(seed, network, gid), gid, (day - EPOCH).days,
                    _hash_head(seed, network, "wobble"))


def _members(community: _Community, gid: int, days: int, wobble_head: Any) -> int:
    """``members_on`` ``days`` after EPOCH; ``wobble_head`` is ``_hash_head(seed, network,
    "wobble")`` (groups.getById works it and ``days`` out once for all its groups)."""
    hasher = wobble_head.copy()
    hasher.update(f"{gid}|{days}".encode())  # h(seed, network, "wobble", gid, days)
    wobble = int.from_bytes(hasher.digest(), "big") % 7 - 2
    members = int(community.base + community.growth * days) + wobble
    return members if members > 0 else 0


def display_name(seed: int, network: str, gid: int) -> str:
    """The name the network shows (some communities go by their full official name)."""
    return kept.page_name(kept.keeping(seed, network, gid), _community(seed, network, gid).name)


#: What groups.getById returns of every community, asked or not (VK's defaults).
VK_GROUP_DEFAULTS = frozenset({"id", "name", "screen_name", "is_closed", "type", "photo_50",
                               "photo_100", "photo_200"})


def vk_groups(seed: int, gids: Iterable[int], today: dt.date, *,
              admin: Callable[[int], bool] | None = None,
              fields: Iterable[str] = ("members_count", "verified")) -> list[dict]:
    """groups.getById's objects for community ids: VK's default fields and those asked
    (``members_count``, ``verified``; ``is_admin`` from ``admin``); a deactivated community
    has ``deactivated`` and no counters."""
    days, wobble_head = (today - EPOCH).days, _hash_head(seed, "vk", "wobble")
    asked = set(fields)
    groups = []
    for gid in gids:
        community = _community(seed, "vk", gid)
        what, name, verified, _, _ = community
        gone = what in ("deleted", "banned")
        renamed = what == "renamed"
        photo = f"https://sun.userapi.invalid/c{gid % 1000}/club{gid}"
        group: dict[str, Any] = {
            "id": gid, "name": "DELETED" if gone else kept.vk_name(seed, gid, name),
            "screen_name": f"renamed{gid}" if renamed else f"club{gid}",
            "is_closed": int(what == "closed"), "type": "group",
            "photo_50": f"{photo}_50.jpg", "photo_100": f"{photo}_100.jpg",
            "photo_200": f"{photo}_200.jpg",
        }
        if "verified" in asked:
            group["verified"] = verified
        groups.append(group)
        if renamed:
            group["name"] += " (новое название)"
        if gone:
            group["deactivated"] = what
            continue
        if "members_count" in asked:
            group["members_count"] = _members(community, gid, days, wobble_head)
        group |= kept.vk_page(seed, gid, group["name"], asked)
        if admin is not None:
            group["is_admin"] = int(admin(gid))
    return groups


_GROUP_NAME = re.compile(r"^(?:club|public|event|renamed)(\d+)$")


def resolve_screen_name(seed: int, name: str) -> dict | list:
    """utils.resolveScreenName: clubNNN → NNN; other names → a stable id, 1 in 20 not found."""
    match = _GROUP_NAME.match(name)
    if match:
        return {"type": "group", "object_id": int(match.group(1))}
    if re.match(r"^id\d+$", name):
        return {"type": "user", "object_id": int(name[2:])}
    roll = h(seed, "vk", "sn", name.lower())
    if roll % 20 == 0:
        return []
    return {"type": "group", "object_id": 1 + roll % 900_000_000}


# --- posts ---------------------------------------------------------------------------------------
# VK wall posts and OK group topics come from the same generator, keyed by the network: posts
# follow a weekly pattern of 0–3 a day, ids count up from 1 (so a post's id is its position in
# the wall's history), and some VK walls pin their first post.
ONE_DAY = dt.timedelta(days=1)
_UNIX_DAY = dt.date(1970, 1, 1).toordinal()


@lru_cache(maxsize=65_536)
def _pattern(seed: int, gid: int, network: str = "vk") -> tuple[int, ...]:
    return tuple(h(seed, network, "posts", gid, i) % 4 for i in range(7))


@lru_cache(maxsize=65_536)
def _created(seed: int, gid: int, network: str = "vk") -> dt.date:
    return EPOCH + dt.timedelta(days=h(seed, network, "created", gid) % 1500)


def posts_on(seed: int, gid: int, day: dt.date, network: str = "vk") -> int:
    return _pattern(seed, gid, network)[day.toordinal() % 7]


@lru_cache(maxsize=262_144)
def posts_before(seed: int, gid: int, day: dt.date, network: str = "vk") -> int:
    """How many posts the wall had before ``day`` (closed form over the weekly pattern)."""
    created = _created(seed, gid, network)
    days = max(0, (day - created).days)
    pattern = _pattern(seed, gid, network)
    start = created.toordinal()
    return days // 7 * sum(pattern) + sum(pattern[(start + k) % 7] for k in range(days % 7))


def _moment(day: dt.date, j: int) -> int:
    """Unix time of a day's ``j``-th post: 06:00, 09:00, 12:00 UTC."""
    return _morning(day.toordinal()) + j * _HOURS_APART


_HOURS_APART = 3 * 3600


def _morning(ordinal: int) -> int:
    """Unix time of the first post (06:00 UTC) of the day with this ordinal."""
    return (ordinal - _UNIX_DAY) * 86_400 + 6 * 3600


_MASK = (1 << 64) - 1


def _mix(x: int, n: int) -> int:
    """One splitmix64 step: ``n`` stirred into the 64-bit state ``x``."""
    x = ((x ^ n) * 0xBF58476D1CE4E5B9) & _MASK
    return ((x ^ (x >> 31)) * 0x94D049BB133111EB) & _MASK


def _wall_dice(seed: int, gid: int) -> int:
    """The seed and the wall stirred in: what every post of the wall rolls its dice from."""
    return _mix(_mix(0x9E3779B97F4A7C15, seed), gid)


def _post(seed: int, gid: int, day: dt.date, j: int, pinned: bool = False) -> dict:
    """The ``j``-th post of a day."""
    post_id = posts_before(seed, gid, day) + j + 1
    post = _make_post(_wall_dice(seed, gid), gid, _moment(day, j), post_id,
                      kept.keeping(seed, "vk", gid))
    if pinned:
        post["is_pinned"] = 1
    return post


def _make_post(dice: int, gid: int, moment: int, post_id: int, habits: kept.Keeping) -> dict:
    """A post of the wall whose ``_wall_dice`` is ``dice`` (a page computes that once).

    The post's dice (``roll``) is a stable 64-bit mix of the seed, the wall and the post id
    (splitmix64 steps): cheaper than ``h`` — a wall page is a hundred posts, and the emulator
    makes every one.
    """
    x = _mix(dice, post_id)
    roll = x ^ (x >> 29)
    likes = roll % 60
    looks = roll >> 40
    return {
        "id": post_id, "owner_id": -gid, "from_id": -gid, "date": moment,
        "post_type": "post", "text": kept.post_text(habits, post_id, looks),
        "attachments": kept.vk_attachments(habits, gid, post_id, looks),
        "post_source": {"type": "vk"},
        "comments": {"can_post": int(habits.wall in (1, 2)), "count": roll // 360 % 9,
                     "groups_can_post": True},
        "likes": {"can_like": 1, "count": likes, "user_likes": 0, "can_publish": 1},
        "reposts": {"count": roll // 60 % 6, "user_reposted": 0},
        "views": {"count": likes * 12 + roll // 3240 % 300},
        "is_favorite": False, "hash": f"h{post_id:x}",
    }


def _has_pinned(seed: int, gid: int) -> bool:
    return h(seed, "vk", "pinned", gid) % 5 == 0


def _first_post(seed: int, gid: int) -> dict | None:
    day = _created(seed, gid)
    for _ in range(7):
        if posts_on(seed, gid, day):
            return _post(seed, gid, day, 0, pinned=True)
        day += ONE_DAY
    return None


def _newest_first(seed: int, gid: int, today: dt.date, *, skip: int = 0,
                  exclude: int | None = None,
                  network: str = "vk") -> Iterator[tuple[int, int]]:
    """``(unix time, id)`` of every post before today, newest first, after skipping ``skip``.

    Whole days are skipped by their count, so a deep page costs what it returns. ``exclude`` (a
    post id, the pinned one) is left out of the sequence. Ids count down from the newest. Days
    are ordinals here, not dates: a page walks a hundred of them.
    """
    pattern = _pattern(seed, gid, network)  # posts_on, looked up once
    created, day = _created(seed, gid, network).toordinal(), today.toordinal() - 1
    last = posts_before(seed, gid, today, network)  # the newest post's id
    while day >= created:
        n = pattern[day % 7]
        first = last - n + 1
        holds_excluded = exclude is not None and first <= exclude <= last
        if skip >= n and not holds_excluded:
            skip -= n
        else:
            morning = _morning(day)
            for j in reversed(range(n)):
                if first + j == exclude:
                    continue
                if skip:
                    skip -= 1
                    continue
                yield morning + j * _HOURS_APART, first + j
        last = first - 1
        day -= 1


def wall(seed: int, gid: int, today: dt.date, *, offset: int, count: int) -> dict:
    """wall.get: the pinned post first (for some walls), then every post newest first."""
    total = posts_before(seed, gid, today)
    pinned = _first_post(seed, gid) if _has_pinned(seed, gid) and total else None
    items: list[dict] = []
    if pinned and offset == 0:
        items.append(pinned)
    skip = max(0, offset - (1 if pinned else 0))
    posts = _newest_first(seed, gid, today, skip=skip, exclude=pinned["id"] if pinned else None)
    dice = _wall_dice(seed, gid)
    habits = kept.keeping(seed, "vk", gid)
    items += [_make_post(dice, gid, moment, post_id, habits)
              for moment, post_id in islice(posts, max(0, count - len(items)))]
    return {"count": total, "items": items}


def month_posts(seed: int, gid: int, month: dt.date) -> list[dict]:
    """Every post of a month (tests compare the collected sums with this)."""
    out, day = [], month
    while day.month == month.month:
        out += [_post(seed, gid, day, j) for j in range(posts_on(seed, gid, day))]
        day += ONE_DAY
    return out


def wall_pages(seed: int, gid: int, today: dt.date, month: dt.date, *, page: int = 100) -> int:
    """How many ``wall.get`` pages a reader needs to count a month's posts of a VK wall.

    The wall is newest first, so the reader pages down from the top until a page's oldest
    regular post is older than the month (or the wall ends): with ``total`` posts, ``p`` pinned
    (0 or 1) and ``before`` posts older than the month, that is ⌈min(total, total + p + 1 −
    before) ÷ page⌉ pages, at least one. A closed or deleted wall answers its one call with an
    error. Benchmarks take the minimum number of requests from this (tests check it against
    paging the emulator's walls).
    """
    if vk_fate(seed, gid) in ("closed", "deleted", "banned"):
        return 1
    total = posts_before(seed, gid, today)
    pinned = int(bool(total) and _has_pinned(seed, gid))
    reach = min(total, total + pinned + 1 - posts_before(seed, gid, month.replace(day=1)))
    return max(1, -(-reach // page))


# --- OK group topics ------------------------------------------------------------------------------
OK_TOPIC_FIELDS = {"media_topic.like_summary": "like_summary",
                   "media_topic.reshare_summary": "reshare_summary",
                   "media_topic.discussion_summary": "discussion_summary",
                   "media_topic.views_count": "views_count"}  # asked in any case


def _ok_topic(seed: int, uid: int, moment: int, topic_id: int) -> dict:
    """A group topic (mediatopic) as mediatopic.getTopics describes it, every summary included."""
    roll = h(seed, "ok", "topic", uid, topic_id)
    likes = roll % 40
    return {
        "id": str(uid % 10**9 * 10**6 + topic_id), "created_ms": moment * 1000,
        "author_ref": f"group:{uid}", "owner_ref": f"group:{uid}",
        "media": kept.ok_media(kept.keeping(seed, "ok", uid), uid, topic_id, roll >> 40),
        "like_summary": {"count": likes, "self": False},
        "reshare_summary": {"count": roll // 40 % 5, "self": False},
        "discussion_summary": {"comments_count": roll // 200 % 7},
        "views_count": likes * 15 + roll // 1400 % 400,
    }


def ok_topics(seed: int, uid: int, today: dt.date, *, offset: int, count: int,
              fields: set[str]) -> tuple[list[dict], bool]:
    """A page of a group's topics, newest first, and whether older ones remain.

    The summaries (likes, reshares, comments, views) are in a topic only when ``fields`` asks
    for them (``media_topic.*`` asks for all), as OK answers.
    """
    fields = {f.lower() for f in fields}
    wanted = set(OK_TOPIC_FIELDS.values()) if "media_topic.*" in fields else {
        OK_TOPIC_FIELDS[f] for f in fields if f in OK_TOPIC_FIELDS}
    topics = []
    newest = _newest_first(seed, uid, today, skip=offset, network="ok")
    for moment, topic_id in islice(newest, max(0, count)):
        topic = _ok_topic(seed, uid, moment, topic_id)
        topics.append({k: v for k, v in topic.items()
                       if k not in OK_TOPIC_FIELDS.values() or k in wanted})
    return topics, offset + len(topics) < posts_before(seed, uid, today, "ok")


def offset_anchor(offset: int) -> str:
    """OK's anchors are opaque strings; the emulator's carry the position in the feed."""
    return base64.urlsafe_b64encode(f"feed:{offset}".encode()).decode().rstrip("=")


def anchor_offset(anchor: str) -> int:
    """The feed position of an anchor (0 for none); ValueError for one the emulator never gave."""
    if not anchor:
        return 0
    try:
        text = base64.urlsafe_b64decode(anchor + "=" * (-len(anchor) % 4)).decode()
        kind, offset = text.split(":")  # anything but two parts is a ValueError too
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(anchor) from exc
    if kind != "feed" or not offset.isdigit():
        raise ValueError(anchor)
    return int(offset)


def ok_month_topics(seed: int, uid: int, month: dt.date) -> list[dict]:
    """Every topic of a month of an OK group (tests compare the collected sums with this)."""
    out, day = [], month
    while day.month == month.month:
        first = posts_before(seed, uid, day, "ok") + 1
        out += [_ok_topic(seed, uid, _moment(day, j), first + j)
                for j in range(posts_on(seed, uid, day, "ok"))]
        day += ONE_DAY
    return out


# --- statistics ----------------------------------------------------------------------------------
def vk_stats(seed: int, gid: int, period_from: int, period_to: int) -> dict:
    """One stats.get interval, scaled to the community's size and the interval's length.

    Counts (views, likes …) grow with the days; unique people (visitors, reach) grow slower:
    a month's unique visitors are fewer than the sum of its days' (people come back).
    """
    day = dt.datetime.fromtimestamp(period_from, tz=dt.UTC).date()
    size = members_on(seed, "vk", gid, day)
    days = max(1, round((period_to - period_from) / 86_400))
    roll = h(seed, "vk", "stats", gid, period_from, days)
    unique = days ** 0.6  # how many more people than a day's come over the interval
    visitors = int((size // 40 + roll % 50) * unique)
    reach = int((size // 3 + roll // 100_000 % 300) * days ** 0.4)

    def count(per_day: int) -> int:
        return per_day * days

    return {
        "period_from": period_from, "period_to": period_to,
        "visitors": {"views": visitors * 2 + count(roll // 200 % 40), "visitors": visitors,
                     "mobile_views": visitors},
        "reach": {"reach": reach, "reach_subscribers": min(reach, reach // 2 + roll // 10 % 100),
                  "mobile_reach": reach // 2},
        "activity": {"likes": count(roll // 1000 % 30), "comments": count(roll // 7 % 4),
                     "copies": count(roll // 13 % 3), "hidden": count(roll // 23 % 2),
                     "subscribed": count(roll // 17 % 3), "unsubscribed": count(roll // 19 % 2)},
    }


OK_STAT_FIELDS = ("page_visits", "reach", "renderings", "content_opens", "likes", "comments",
                  "reshares", "members_count")


def ok_group(seed: int, uid: int, today: dt.date) -> dict | None:
    """group.getInfo's object for a group id; None when the group was deleted or banned."""
    what = ok_fate(seed, uid)
    if what in ("deleted", "banned"):
        return None
    name = display_name(seed, "ok", uid) + (" (новое название)" if what == "renamed" else "")
    return {
        "uid": str(uid), "name": name,
        "shortname": f"renamed{uid}" if what == "renamed" else f"group{uid}",
        "members_count": members_on(seed, "ok", uid, today), "private": what == "closed",
        **kept.ok_profile(seed, uid, name),
    }


def ok_stat_trends(seed: int, uid: int, start_ms: int, end_ms: int, fields: list[str]) -> dict:
    """group.getStatTrends: one point a day per field over [start, end)."""
    out: dict[str, list[dict]] = {name: [] for name in fields}
    moment = start_ms
    while moment < end_ms:
        day = dt.datetime.fromtimestamp(moment / 1000, tz=dt.UTC).date()
        size = members_on(seed, "ok", uid, day)
        for name in fields:
            value = (size if name == "members_count"
                     else h(seed, "ok", name, uid, moment) % max(10, size // 10))
            out[name].append({"time": moment, "value": value})
        moment += 86_400_000
    return out
