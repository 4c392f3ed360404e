"""VK's answers as typed dataclasses, and the parsers that build them.

Wall pages and the communities of a members run are kept as columns, not an object per post or
community: a run reads hundreds of thousands of them only to count, sum and write a few fields.
Inside ``execute`` a call may return only those columns (``GROUP_COLUMNS``, ``WALL_COLUMNS``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from metrics.formats import PostFact, vk_post_fact


@dataclass(frozen=True)
class VkGroup:
    """A community as groups.getById describes it."""

    id: int
    name: str
    screen_name: str
    members_count: int | None
    is_closed: int
    deactivated: str
    verified: bool
    is_admin: bool

    @property
    def state(self) -> str:
        """The portal's community state: active, closed or deleted."""
        return group_state(self.is_closed, self.deactivated)


def group_state(is_closed: Any, deactivated: Any) -> str:
    """A community's state from groups.getById's ``is_closed`` and ``deactivated``."""
    if deactivated:
        return "deleted"
    return "closed" if is_closed else "active"


#: A community as ``VkGroups.by_id`` gives it: name, screen name, members, state, verified.
GroupRow = tuple[str, str, int | None, str, bool]


@dataclass(frozen=True)
class VkGroups:
    """Communities of groups.getById as columns, what the members run reads of them.

    A members run reads thousands of communities to write a few fields of each; an object per
    community would cost more than the rest of reading them (as posts in ``VkWallPage``).
    """

    ids: list[int]
    names: list[str]
    screen_names: list[str]
    members: list[int | None]
    states: list[str]
    verified: list[bool]
    # How each community is kept (``groups_group_full``), the checklist's facts.
    profiles: list[dict[str, Any]] = field(default_factory=list)

    def by_id(self) -> dict[int, GroupRow]:
        return dict(zip(self.ids, zip(self.names, self.screen_names, self.members, self.states,
                                      self.verified, strict=True), strict=True))

    def profiles_by_id(self) -> dict[int, dict[str, Any]]:
        return dict(zip(self.ids, self.profiles, strict=True)) if self.profiles else {}


@dataclass(frozen=True)
class VkPost:
    """One wall post with its counters."""

    id: int
    date: dt.datetime
    likes: int
    reposts: int
    comments: int
    views: int
    is_pinned: bool


@dataclass(frozen=True)
class VkWallPage:
    """A page of wall.get: the wall's total post count and up to 100 posts, newest first.

    The posts are kept as columns (unix dates, pinned flags, counters): a run reads a quarter
    of a million posts only to count and sum them, and an object per post would cost more than
    the rest of reading them.
    """

    count: int
    dates: list[int]
    pinned: list[bool]
    likes: list[int]
    reposts: list[int]
    comments: list[int]
    views: list[int]
    # What the checklist and the format report read (empty when not asked for).
    ids: list[int] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)
    attachments: list[list[dict[str, Any]] | None] = field(default_factory=list)
    can_comment: list[Any] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.dates)

    @property
    def posts(self) -> list[VkPost]:
        """The page as post objects (for callers that want one post at a time)."""
        return [VkPost(id=0, date=dt.datetime.fromtimestamp(date, tz=dt.UTC), likes=likes,
                       reposts=reposts, comments=comments, views=views, is_pinned=pinned)
                for date, pinned, likes, reposts, comments, views in zip(
                    self.dates, self.pinned, self.likes, self.reposts, self.comments,
                    self.views, strict=True)]

    def oldest_regular(self) -> int | None:
        """The date of the page's oldest post that is not pinned (None: there is none)."""
        for date, pinned in zip(reversed(self.dates), reversed(self.pinned), strict=True):
            if not pinned:
                return date
        return None

    def totals(self, start: int, end: int) -> tuple[int, int, int, int, int]:
        """Posts, likes, reposts, comments and views of the page's posts in [start, end)."""
        posts = likes = reposts = comments = views = 0
        for i, date in enumerate(self.dates):
            if start <= date < end:
                posts += 1
                likes += self.likes[i]
                reposts += self.reposts[i]
                comments += self.comments[i]
                views += self.views[i]
        return posts, likes, reposts, comments, views

    def facts(self, start: int, end: int) -> list[PostFact]:
        """The format facts of the page's posts in [start, end) (none without their ids)."""
        if len(self.ids) != self.size:
            return []
        texts = self.texts or [None] * self.size
        attachments = self.attachments or [None] * self.size
        can_comment = self.can_comment or [None] * self.size
        return [vk_post_fact(key=self.ids[i], date=date, text=texts[i],
                             attachments=attachments[i], can_comment=can_comment[i],
                             likes=self.likes[i], reposts=self.reposts[i],
                             comments=self.comments[i], views=self.views[i])
                for i, date in enumerate(self.dates) if start <= date < end]


@dataclass(frozen=True)
class VkResolved:
    """What utils.resolveScreenName found for a short name."""

    type: str
    object_id: int


@dataclass(frozen=True)
class VkStats:
    """One interval of stats.get (a community's statistics, admins only)."""

    period_from: int
    period_to: int
    views: int
    visitors: int
    reach: int
    reach_subscribers: int
    likes: int
    comments: int
    copies: int
    subscribed: int
    unsubscribed: int



def _group(raw: dict[str, Any]) -> VkGroup:
    return VkGroup(
        id=int(raw["id"]), name=raw.get("name", ""), screen_name=raw.get("screen_name", ""),
        members_count=raw.get("members_count"), is_closed=int(raw.get("is_closed", 0)),
        deactivated=raw.get("deactivated", ""), verified=bool(raw.get("verified", 0)),
        is_admin=bool(raw.get("is_admin", 0)),
    )


def parse_groups(raw: Any) -> list[VkGroup]:
    return [_group(item) for item in _group_items(raw)]


def _group_items(raw: Any) -> list[dict[str, Any]]:
    """The communities of an answer: ``{"groups": […]}`` since API 5.194, a list before."""
    return raw.get("groups", []) if isinstance(raw, dict) else raw


#: What groups.getById returns inside execute: its communities' fields as columns.
GROUP_COLUMNS = (
    *((name, f".groups@.{name}") for name in (
        "id", "name", "screen_name", "members_count", "is_closed", "deactivated", "verified",
        "type", "description", "site", "has_photo", "wall")),
    ("cover", ".groups@.cover@.enabled"), ("addresses", ".groups@.addresses@.is_enabled"))


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def group_profile(kind: Any, description: Any, site: Any, has_photo: Any, wall: Any,
                  cover: Any, addresses: Any) -> dict[str, Any]:
    """The registry's fields of how a community is kept; a field VK did not say is None."""
    return {"kind": kind if kind in ("group", "page", "event") else None,
            "description": description, "site": None if site is None else str(site)[:300],
            "has_avatar": _flag(has_photo), "has_cover": _flag(cover),
            "wall_mode": wall if wall in (0, 1, 2, 3) else None,
            "has_addresses": _flag(addresses)}


def parse_group_columns(raw: Any) -> VkGroups:
    """Communities from their projected columns (``GROUP_COLUMNS``)."""
    ids = [int(i) for i in raw["id"]]

    def column(name: str) -> list[Any]:
        values = raw.get(name)
        if values is None:  # no community has the field
            return [None] * len(ids)
        if len(values) != len(ids):
            raise ValueError("group columns of different lengths")
        return values

    return VkGroups(
        ids=ids, names=[n or "" for n in column("name")],
        screen_names=[n or "" for n in column("screen_name")], members=column("members_count"),
        states=list(map(group_state, column("is_closed"), column("deactivated"))),
        verified=[bool(v) for v in column("verified")],
        profiles=list(map(group_profile, column("type"), column("description"), column("site"),
                          column("has_photo"), column("wall"), column("cover"),
                          column("addresses"))))


def parse_groups_as_columns(raw: Any) -> VkGroups:
    """A whole groups.getById answer (the call sent alone) read as ``parse_group_columns``."""
    items = _group_items(raw)
    nested = {"cover": "enabled", "addresses": "is_enabled"}
    return parse_group_columns({
        name: [(item.get(name) or {}).get(nested[name]) if name in nested else item.get(name)
               for item in items] for name, _ in GROUP_COLUMNS})


def _post(raw: dict[str, Any]) -> VkPost:
    def count(name: str) -> int:
        return int((raw.get(name) or {}).get("count", 0))

    return VkPost(
        id=int(raw["id"]), date=dt.datetime.fromtimestamp(int(raw["date"]), tz=dt.UTC),
        likes=count("likes"), reposts=count("reposts"), comments=count("comments"),
        views=count("views"), is_pinned=bool(raw.get("is_pinned", 0)),
    )


def parse_wall(raw: Any) -> VkWallPage:
    items = raw["items"]
    posts = [_post(p) for p in items]
    return VkWallPage(
        count=int(raw.get("count", 0)), dates=[int(p.date.timestamp()) for p in posts],
        pinned=[p.is_pinned for p in posts], likes=[p.likes for p in posts],
        reposts=[p.reposts for p in posts], comments=[p.comments for p in posts],
        views=[p.views for p in posts], ids=[p.id for p in posts],
        texts=[item.get("text") for item in items],
        attachments=[item.get("attachments") for item in items],
        can_comment=[(item.get("comments") or {}).get("can_post") for item in items])


#: What a wall page returns inside execute: the wall's count and its posts as columns.
WALL_COLUMNS = (("count", ".count"), ("date", ".items@.date"), ("pinned", ".items@.is_pinned"),
                ("likes", ".items@.likes@.count"), ("reposts", ".items@.reposts@.count"),
                ("comments", ".items@.comments@.count"), ("views", ".items@.views@.count"),
                ("id", ".items@.id"), ("text", ".items@.text"),
                ("attachments", ".items@.attachments"),
                ("can_comment", ".items@.comments@.can_post"))


def parse_wall_columns(raw: Any) -> VkWallPage:
    """A wall page from its projected columns (``WALL_COLUMNS``); a missing counter is 0."""
    def numbers(name: str) -> list[int]:
        return [int(n or 0) for n in raw.get(name) or []]

    dates = numbers("date")
    page = VkWallPage(count=int(raw["count"]), dates=dates,
                      pinned=[bool(p) for p in raw.get("pinned") or []], likes=numbers("likes"),
                      reposts=numbers("reposts"), comments=numbers("comments"),
                      views=numbers("views"), ids=numbers("id"),
                      texts=list(raw.get("text") or []),
                      attachments=list(raw.get("attachments") or []),
                      can_comment=list(raw.get("can_comment") or []))
    if any(len(column) != len(dates) for column in (page.pinned, page.likes, page.reposts,
                                                     page.comments, page.views)):
        raise ValueError("wall columns of different lengths")
    return page


def parse_resolved(raw: Any) -> VkResolved | None:
    if not raw:
        return None
    return VkResolved(type=raw["type"], object_id=int(raw["object_id"]))


def parse_stats(raw: Any) -> list[VkStats]:
    out = []
    for item in raw:
        visitors, reach = item.get("visitors", {}), item.get("reach", {})
        activity = item.get("activity", {})
        out.append(VkStats(
            period_from=int(item["period_from"]), period_to=int(item["period_to"]),
            views=int(visitors.get("views", 0)), visitors=int(visitors.get("visitors", 0)),
            reach=int(reach.get("reach", 0)),
            reach_subscribers=int(reach.get("reach_subscribers", 0)),
            likes=int(activity.get("likes", 0)), comments=int(activity.get("comments", 0)),
            copies=int(activity.get("copies", 0)),
            subscribed=int(activity.get("subscribed", 0)),
            unsubscribed=int(activity.get("unsubscribed", 0)),
        ))
    return out

