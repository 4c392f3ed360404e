"""The categories' activity norms, from emulator walls built to meet and to miss each, and the
category itself: by the flagship threshold, or as the methodologist set it."""

from __future__ import annotations

import pytest

from institutions.choices import CommunityCategory
from reports.quality.methodology import methodology_current
from reports.quality.query import QualityParams, quality_rows
from reports.quality.rules import DEFAULT_NORMS
from reports.quality.weekly import norms_by_week
from tests.reports.quality.conftest import (
    FEBRUARY,
    FEBRUARY_END,
    collect,
    community_of,
    vk_posts_where,
    vk_where,
)

pytestmark = pytest.mark.django_db
ACTIVE = DEFAULT_NORMS[CommunityCategory.ACTIVE]


def media(post: dict) -> bool:
    return any(a["type"] in ("photo", "clip") or (a["type"] == "video"
                                                  and not a["video"].get("platform"))
               for a in post["attachments"])


def kinds(posts: list[dict]) -> int:
    found = set()
    for post in posts:
        types = {a["type"] for a in post["attachments"]}
        found.add(frozenset(types) if types else "text")
    return len(found)


def per_week(posts: list[dict]) -> float:
    return len(posts) / 4  # February 2026: 28 days


CASES = {
    "posts_per_week": (lambda ps: per_week(ps) >= ACTIVE["posts_per_week"] + 1,
                       lambda ps: per_week(ps) < ACTIVE["posts_per_week"] - 1),
    "media_share": (lambda ps: sum(map(media, ps)) / len(ps) >= ACTIVE["media_share"] + 0.1,
                    lambda ps: sum(map(media, ps)) / len(ps) < ACTIVE["media_share"] - 0.1),
}


def scored() -> dict[int, dict]:
    rows = quality_rows(QualityParams(FEBRUARY, FEBRUARY_END), methodology_current())
    return {row["id"]: row for row in rows}


@pytest.mark.parametrize("code", sorted(CASES))
def test_norm_is_met_and_missed_by_walls_built_for_it(february, vk_user_token, code):
    meets, misses = CASES[code]
    good = community_of(vk_posts_where(meets), category=CommunityCategory.ACTIVE)
    poor = community_of(vk_posts_where(misses, start=30_000),
                        category=CommunityCategory.ACTIVE)

    collect()

    rows = scored()
    assert rows[good.pk][f"m_{code}"] == 1
    assert rows[poor.pk][f"m_{code}"] == 0


def test_a_visiting_card_posting_text_only_misses_the_formats_norm(february, vk_user_token):
    varied = community_of(vk_where(lambda k: not k.plain)[0], category=CommunityCategory.ACTIVE)
    plain = community_of(vk_where(lambda k: k.plain, start=30_000)[0],
                         category=CommunityCategory.ACTIVE)

    collect()

    rows = scored()
    assert rows[varied.pk]["m_formats"] == 1 and rows[varied.pk]["formats"] >= 2
    assert rows[plain.pk]["m_formats"] == 0 and rows[plain.pk]["formats"] == 1
    assert rows[plain.pk]["r_images"] == 0


def test_the_category_follows_the_flagship_threshold_unless_the_methodologist_set_it(
        february, vk_user_token, settings):
    big, small, card = (community_of(gid) for gid in vk_where(lambda k: True, count=3))
    card.category = CommunityCategory.CARD
    card.save(update_fields=["category"])
    collect()
    big.refresh_from_db()
    settings.FLAGSHIP_MEMBERS_THRESHOLD = big.members_count - 1
    small.refresh_from_db()
    small_is_flagship = small.members_count > settings.FLAGSHIP_MEMBERS_THRESHOLD

    rows = scored()

    assert rows[big.pk]["effective_category"] == CommunityCategory.FLAGSHIP
    assert rows[small.pk]["effective_category"] == (
        CommunityCategory.FLAGSHIP if small_is_flagship else CommunityCategory.ACTIVE)
    assert rows[card.pk]["effective_category"] == CommunityCategory.CARD


def test_weeks_show_who_met_the_posts_norm_week_by_week(february, vk_user_token):
    busy = community_of(vk_posts_where(CASES["posts_per_week"][0]),
                        category=CommunityCategory.ACTIVE)
    quiet = community_of(vk_posts_where(CASES["posts_per_week"][1], start=30_000),
                         category=CommunityCategory.ACTIVE)
    collect()

    weeks = norms_by_week(community_ids=[busy.pk, quiet.pk], date_from=FEBRUARY,
                          date_to=FEBRUARY_END, methodology=methodology_current())

    assert [w.start.isoformat() for w in weeks.weeks][:2] == ["2026-02-01", "2026-02-02"]
    busy_row, quiet_row = weeks.row(busy.pk), weeks.row(quiet.pk)
    assert sum(cell.posts for cell in busy_row.cells) == busy.posts.count()
    full_weeks = busy_row.cells[1:-1]  # the first and last weeks are cut by the month
    assert all(cell.met for cell in full_weeks)
    assert not any(cell.met for cell in quiet_row.cells[1:-1])
