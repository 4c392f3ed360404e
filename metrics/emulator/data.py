"""Deterministic data of the emulated networks: any id gives the same community for a seed.

Members grow plausibly day by day; posts follow a weekly pattern per community (0–3 a day); a
few communities are closed, deleted, banned or renamed by a fixed rule (``vk_fate``/``ok_fate``),
which tests use to pick ids of each kind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

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
    roll = _traits(seed, network, gid)[0] % 1000
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


def members_on(seed: int, network: str, gid: int, day: dt.date) -> int:
    """Members on a day: a base, a steady per-community growth and a small daily wobble."""
    traits = _traits(seed, network, gid)
    base = 80 + traits[1] % 20_000
    growth = base * (0.0002 + (traits[2] % 1000) / 1_000_000)
    days = (day - EPOCH).days
    wobble = h(seed, network, "wobble", gid, days) % 7 - 2
    return max(0, int(base + growth * days) + wobble)


def display_name(seed: int, network: str, gid: int) -> str:
    return f"{_NAMES[_traits(seed, network, gid)[3] % len(_NAMES)]} №{gid % 10_000}"


def vk_group(seed: int, gid: int, today: dt.date, *, is_admin: bool | None = None) -> dict:
    """groups.getById's object for a community id."""
    what = vk_fate(seed, gid)
    group: dict[str, Any] = {
        "id": gid, "name": display_name(seed, "vk", gid), "screen_name": f"club{gid}",
        "is_closed": 0, "type": "group",
        "verified": int(_traits(seed, "vk", gid)[4] % 10 < 7),
    }
    if what == "renamed":
        group["screen_name"] = f"renamed{gid}"
        group["name"] += " (новое название)"
    if what in ("deleted", "banned"):
        group.update(name="DELETED", deactivated=what)
        return group
    group["is_closed"] = int(what == "closed")
    group["members_count"] = members_on(seed, "vk", gid, today)
    if is_admin is not None:
        group["is_admin"] = int(is_admin)
    return group


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
@lru_cache(maxsize=65_536)
def _pattern(seed: int, gid: int) -> tuple[int, ...]:
    return tuple(h(seed, "vk", "posts", gid, i) % 4 for i in range(7))


@lru_cache(maxsize=65_536)
def _created(seed: int, gid: int) -> dt.date:
    return EPOCH + dt.timedelta(days=h(seed, "vk", "created", gid) % 1500)


def posts_on(seed: int, gid: int, day: dt.date) -> int:
    return _pattern(seed, gid)[day.toordinal() % 7]


@lru_cache(maxsize=262_144)
def posts_before(seed: int, gid: int, day: dt.date) -> int:
    """How many posts the wall had before ``day`` (closed form over the weekly pattern)."""
    created = _created(seed, gid)
    days = max(0, (day - created).days)
    pattern = _pattern(seed, gid)
    start = created.toordinal()
    return days // 7 * sum(pattern) + sum(pattern[(start + k) % 7] for k in range(days % 7))


def _post(seed: int, gid: int, day: dt.date, j: int, pinned: bool = False) -> dict:
    post_id = posts_before(seed, gid, day) + j + 1
    moment = dt.datetime.combine(day, dt.time(6 + 3 * j), tzinfo=dt.UTC)
    roll = h(seed, "vk", "post", gid, post_id)
    likes = roll % 60
    post = {
        "id": post_id, "owner_id": -gid, "from_id": -gid, "date": int(moment.timestamp()),
        "text": f"Новость №{post_id}", "likes": {"count": likes},
        "reposts": {"count": roll // 60 % 6}, "comments": {"count": roll // 360 % 9},
        "views": {"count": likes * 12 + roll // 3240 % 300},
    }
    if pinned:
        post["is_pinned"] = 1
    return post


def _has_pinned(seed: int, gid: int) -> bool:
    return h(seed, "vk", "pinned", gid) % 5 == 0


def _first_post(seed: int, gid: int) -> dict | None:
    day = _created(seed, gid)
    for _ in range(7):
        if posts_on(seed, gid, day):
            return _post(seed, gid, day, 0, pinned=True)
        day += dt.timedelta(days=1)
    return None


def _newest_first(seed: int, gid: int, today: dt.date) -> Iterator[dict]:
    created, day = _created(seed, gid), today - dt.timedelta(days=1)
    while day >= created:
        for j in reversed(range(posts_on(seed, gid, day))):
            yield _post(seed, gid, day, j)
        day -= dt.timedelta(days=1)


def wall(seed: int, gid: int, today: dt.date, *, offset: int, count: int) -> dict:
    """wall.get: the pinned post first (for some walls), then every post newest first."""
    total = posts_before(seed, gid, today)
    pinned = _first_post(seed, gid) if _has_pinned(seed, gid) and total else None
    items: list[dict] = []
    if pinned and offset == 0:
        items.append(pinned)
    skip = max(0, offset - (1 if pinned else 0))
    for post in _newest_first(seed, gid, today):
        if len(items) >= count:
            break
        if pinned and post["id"] == pinned["id"]:
            continue
        if skip:
            skip -= 1
            continue
        items.append(post)
    return {"count": total, "items": items}


def month_posts(seed: int, gid: int, month: dt.date) -> list[dict]:
    """Every post of a month (tests compare the collected sums with this)."""
    out, day = [], month
    while day.month == month.month:
        out += [_post(seed, gid, day, j) for j in range(posts_on(seed, gid, day))]
        day += dt.timedelta(days=1)
    return out


# --- statistics ----------------------------------------------------------------------------------
def vk_stats(seed: int, gid: int, period_from: int, period_to: int) -> dict:
    """One stats.get interval, scaled to the community's size."""
    day = dt.datetime.fromtimestamp(period_from, tz=dt.UTC).date()
    size = members_on(seed, "vk", gid, day)
    roll = h(seed, "vk", "stats", gid, period_from)
    visitors = size // 4 + roll % 200
    return {
        "period_from": period_from, "period_to": period_to,
        "visitors": {"views": visitors * 3 + roll // 200 % 500, "visitors": visitors},
        "reach": {"reach": size + roll // 100_000 % 3000,
                  "reach_subscribers": size // 2 + roll // 10 % 100},
        "activity": {"likes": roll // 1000 % 900, "comments": roll // 7 % 120,
                     "copies": roll // 13 % 80, "subscribed": roll // 17 % 60,
                     "unsubscribed": roll // 19 % 20},
    }


OK_STAT_FIELDS = ("page_visits", "reach", "content_opens", "likes", "comments", "reshares",
                  "members_count")


def ok_group(seed: int, uid: int, today: dt.date) -> dict | None:
    """group.getInfo's object for a group id; None when the group was deleted or banned."""
    what = ok_fate(seed, uid)
    if what in ("deleted", "banned"):
        return None
    return {
        "uid": str(uid), "name": display_name(seed, "ok", uid)
        + (" (новое название)" if what == "renamed" else ""),
        "shortname": f"renamed{uid}" if what == "renamed" else f"group{uid}",
        "members_count": members_on(seed, "ok", uid, today), "private": what == "closed",
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
