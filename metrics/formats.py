"""What a post is made of: its format, images, videos and hashtags, from the network's answer.

The format is the first of these the post carries: live broadcast, clip, uploaded video, poll,
article, photo, link, text only (``PostFormat`` in that order). A video with a ``platform``
(YouTube, Rutube…) and a link to a video hosting are *linked* videos, not uploaded ones: the
guide asks for videos to be uploaded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from metrics.choices import PostFormat

HASHTAG = re.compile(r"#([\w@]+)", re.UNICODE)
VIDEO_HOSTS = re.compile(r"(youtube\.com|youtu\.be|rutube\.ru|vimeo\.com|dzen\.ru/video|"
                         r"platform\.ru|ok\.ru/video)", re.IGNORECASE)
ARTICLE_URL = re.compile(r"^https?://(m\.)?vk\.(com|ru)/@", re.IGNORECASE)

# The formats as plain strings, read once: a posts run classifies a hundred thousand posts, and
# an enum member looked up per post (``PostFormat.PHOTO``, ``PostFormat.values``) cost a fifth of
# the run's CPU.
_ORDER = tuple(str(value) for value in PostFormat.values)
_PHOTO, _CLIP, _VIDEO, _LIVE = (str(PostFormat.PHOTO), str(PostFormat.CLIP),
                                str(PostFormat.VIDEO), str(PostFormat.LIVE))
_POLL, _ARTICLE, _LINK, _TEXT = (str(PostFormat.POLL), str(PostFormat.ARTICLE),
                                 str(PostFormat.LINK), str(PostFormat.TEXT))
_VIDEOS = frozenset({_VIDEO, _CLIP, _LIVE})
_SIMPLE_KINDS = {"photo": _PHOTO, "posted_photo": _PHOTO, "album": _PHOTO, "graffiti": _PHOTO,
                 "clip": _CLIP, "poll": _POLL, "article": _ARTICLE, "page": _ARTICLE,
                 "note": _ARTICLE}


@dataclass(frozen=True)
class PostFact:
    """A post as the checklist, the norms and the format report need it."""

    key: str
    date: dt.datetime
    format: str
    has_image: bool = False
    has_video: bool = False
    has_external_video: bool = False
    hashtags: tuple[str, ...] = ()
    comments_open: bool | None = None
    likes: int = 0
    reposts: int = 0
    comments: int = 0
    views: int = 0


@dataclass
class _Found:
    """The formats a post's attachments show."""

    kinds: set[str] = field(default_factory=set)
    external_video: bool = False


def hashtags(text: str) -> tuple[str, ...]:
    """The post's hashtags, lower case, without «#», each once, in order of appearance."""
    seen: dict[str, None] = {}
    for tag in HASHTAG.findall(text or ""):
        seen.setdefault(tag.lower()[:100], None)
    return tuple(seen)


def main_format(kinds: set[str]) -> str:
    for candidate in _ORDER:
        if candidate in kinds:
            return candidate
    return _TEXT


def _vk_attachment(found: _Found, item: dict[str, Any]) -> None:
    kind = item.get("type")
    simple = _SIMPLE_KINDS.get(kind)
    if simple is not None:
        found.kinds.add(simple)
    elif kind == "video":
        video = item.get("video") or {}
        if video.get("live"):
            found.kinds.add(_LIVE)
        elif video.get("platform"):
            found.kinds.add(_LINK)
            found.external_video = True
        elif video.get("type") == "short_video":
            found.kinds.add(_CLIP)
        else:
            found.kinds.add(_VIDEO)
    elif kind == "link":
        url = str((item.get("link") or {}).get("url", ""))
        if ARTICLE_URL.match(url):
            found.kinds.add(_ARTICLE)
        else:
            found.kinds.add(_LINK)
            found.external_video |= bool(VIDEO_HOSTS.search(url))


def vk_post_fact(*, key: int | str, date: int, text: str | None,
                 attachments: Iterable[dict[str, Any]] | None, can_comment: Any,
                 likes: int, reposts: int, comments: int, views: int) -> PostFact:
    """A VK wall post (``wall_wallpost_full``) as a ``PostFact``."""
    found = _Found()
    for item in attachments or ():
        if isinstance(item, dict):
            _vk_attachment(found, item)
    return PostFact(
        key=str(key), date=dt.datetime.fromtimestamp(date, tz=dt.UTC),
        format=main_format(found.kinds), has_image=_PHOTO in found.kinds,
        has_video=not _VIDEOS.isdisjoint(found.kinds),
        has_external_video=found.external_video, hashtags=hashtags(text or ""),
        comments_open=None if can_comment is None else bool(can_comment),
        likes=likes, reposts=reposts, comments=comments, views=views)


OK_MEDIA_FORMATS = {"photo": PostFormat.PHOTO, "movie": PostFormat.VIDEO,
                    "poll": PostFormat.POLL, "link": PostFormat.LINK}


def ok_media_kinds(media: Iterable[dict[str, Any]] | None) -> tuple[set[str], bool, str]:
    """The formats, a linked video, and the text of an OK topic's ``media`` blocks."""
    kinds: set[str] = set()
    external, texts = False, []
    for block in media or ():
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "link":
            url = str(block.get("url", ""))
            external |= bool(VIDEO_HOSTS.search(url))
            kinds.add(PostFormat.LINK)
        elif kind == "movie" and block.get("is_live"):
            kinds.add(PostFormat.LIVE)
        elif kind in OK_MEDIA_FORMATS:
            kinds.add(OK_MEDIA_FORMATS[kind])
    return kinds, external, " ".join(texts)
