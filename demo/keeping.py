"""How the demo's communities are kept, and their posts of the last three months, so the
quality index, the checklist and the format report have something to show on ``make run``.

Idempotent: page fields are only filled where the network has not described the page yet
(``kind`` empty), and a month's posts only where the community has none for it.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from institutions.choices import CommunityKind, CommunityState, Network, WallMode
from institutions.models import Community
from institutions.names import community_names_score
from metrics.choices import PostFormat
from metrics.models import Post, PostHashtag
from portal.lib.months import add_months, month_start

FORMATS = [PostFormat.PHOTO] * 5 + [PostFormat.VIDEO, PostFormat.CLIP, PostFormat.ARTICLE,
                                    PostFormat.POLL, PostFormat.LINK, PostFormat.TEXT,
                                    PostFormat.TEXT, PostFormat.LIVE]
FULL = ("{name}: концерты, кружки, выставки и праздники для детей и взрослых. Адрес: ул. "
        "Ленина, д. {n}. Телефон: +7 (846) 200-{n:02d}-{n:02d}. Режим работы: 10:00–18:00. "
        "Мы в OK: ok.ru/group{n}")


def _page_fields(community: Community, rng: random.Random) -> dict:
    vk = community.network == Network.VK
    name = community.institution.short_name
    description = (FULL.format(name=name, n=community.pk % 90 + 10) if rng.random() < 0.6
                   else f"{name}." if rng.random() < 0.5 else "")
    return {
        "kind": CommunityKind.EVENT if rng.random() < 0.03 else CommunityKind.GROUP,
        "description": description,
        "site": "https://culture.example.ru" if rng.random() < 0.7 else "",
        "has_avatar": rng.random() < 0.9, "has_cover": (rng.random() < 0.7) if vk else None,
        "wall_mode": rng.choice([WallMode.LIMITED] * 6 + [WallMode.OPEN, WallMode.RESTRICTED])
        if vk else None,
        "has_addresses": rng.random() < 0.7,
    }


def _posts(community: Community, month: dt.date, rng: random.Random) -> list[Post]:
    tz = timezone.get_current_timezone()
    posts = []
    for i in range(rng.randrange(0, 30)):
        fmt = rng.choice(FORMATS)
        likes = rng.randrange(0, 60)
        posts.append(Post(
            community=community, key=f"demo-{month:%Y%m}-{i}", month=month,
            published_at=dt.datetime.combine(month + dt.timedelta(days=i % 28),
                                             dt.time(9 + i % 9), tz),
            format=fmt, has_image=fmt == PostFormat.PHOTO or rng.random() < 0.2,
            has_video=fmt in (PostFormat.VIDEO, PostFormat.CLIP, PostFormat.LIVE),
            has_external_video=fmt == PostFormat.LINK and rng.random() < 0.3,
            hashtags=rng.choice([0, 1, 1, 2, 5]), comments_open=True, likes=likes,
            reposts=likes // 8, comments=likes // 5, views=likes * 14 + rng.randrange(50)))
    return posts


@transaction.atomic
def seed_keeping(*, months: int = 3) -> dict[str, int]:
    """Page fields of undescribed communities and posts of months without any."""
    last = add_months(month_start(timezone.localdate()), -1)
    active = (Community.objects.filter(state=CommunityState.ACTIVE)
              .select_related("institution").order_by("pk"))
    described, added = 0, 0
    for community in active:
        rng = random.Random(community.pk)
        if not community.kind:
            Community.objects.filter(pk=community.pk).update(**_page_fields(community, rng))
            described += 1
        for n in range(months):
            month = add_months(last, -n)
            if Post.objects.filter(community=community, month=month).exists():
                continue
            posts = Post.objects.bulk_create(_posts(community, month, rng))
            PostHashtag.objects.bulk_create(
                [PostHashtag(post=p, community=community, month=month, tag="нашдк")
                 for p in posts if p.hashtags])
            added += len(posts)
    community_names_score(community_ids=active.values_list("pk", flat=True))
    return {"described": described, "posts": added}
