"""Communities with their page fields, posts and members written directly (no network)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from institutions.choices import CommunityKind, WallMode
from metrics.choices import PostFormat
from metrics.models import MemberSnapshot, Post, PostHashtag
from tests.factories import CommunityFactory

MARCH = dt.date(2026, 3, 1)
MARCH_END = dt.date(2026, 3, 31)
WELL_KEPT = {
    "kind": CommunityKind.GROUP, "has_avatar": True, "has_cover": True,
    "wall_mode": WallMode.LIMITED, "is_verified": True, "name_similarity": 1.0,
    "site": "https://dk.example.ru",
    "description": ("Дом культуры нашего села: концерты, кружки, мастер-классы, выставки и "
                    "праздники для детей и взрослых. Адрес: ул. "
                    "Ленина, д. 5. Телефон: +7 (846) 200-10-20. Режим работы: 10:00–18:00."),
}
NEGLECTED = {"kind": CommunityKind.EVENT, "has_avatar": False, "has_cover": False,
             "wall_mode": WallMode.OPEN, "is_verified": False, "name_similarity": 0.0,
             "description": "ДК"}


def kept_community(*, fields: dict, posts: int = 0, members: tuple[int, int] = (1000, 1000),
                   image: bool = True, **extra):
    """A community described as ``fields`` with ``posts`` March posts and members on both
    ends of March."""
    community = CommunityFactory(**fields, **extra)
    MemberSnapshot.objects.bulk_create([
        MemberSnapshot(community=community, date=MARCH, members=members[0]),
        MemberSnapshot(community=community, date=MARCH_END, members=members[1])])
    community.members_count = members[1]
    community.save(update_fields=["members_count"])
    add_posts(community, posts, image=image)
    return community


def add_posts(community, count: int, *, image: bool = True, likes: int = 10) -> None:
    formats = [PostFormat.PHOTO, PostFormat.VIDEO, PostFormat.ARTICLE] if image else \
        [PostFormat.TEXT]
    first = Post.objects.filter(community=community).count()
    for i in range(first, first + count):
        day = MARCH + dt.timedelta(days=i % 31)
        post = Post.objects.create(
            community=community, key=f"{community.pk}-{i}", month=MARCH,
            published_at=timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
            format=formats[i % len(formats)], has_image=image, hashtags=1, comments_open=True,
            likes=likes, reposts=1, comments=1, views=100)
        PostHashtag.objects.create(post=post, community=community, month=MARCH, tag="нашдк")
