"""Each checklist rule, from emulator communities built to pass it and to fail it.

The communities are collected as the schedule collects them (members daily, posts monthly) and
scored by the one SQL statement of the index; a rule's column is 1 (passed), 0 (failed) or NULL
(not applicable).
"""

from __future__ import annotations

import pytest

from emulator import data as emu_data
from emulator import keeping as emu_keeping
from institutions.choices import CommunityKind, Network
from institutions.models import Community
from metrics.choices import PostFormat
from metrics.collect.choices import RunKind
from metrics.collect.runs import collection_run_start
from metrics.models import Post, PostHashtag
from reports.quality.methodology import methodology_current, methodology_save
from reports.quality.query import QualityParams, quality_rows
from reports.quality.rules import RULES
from tests.factories import CommunityFactory, InstitutionFactory
from tests.reports.quality.conftest import (
    FEBRUARY,
    FEBRUARY_END,
    SEED,
    collect,
    community_of,
    february_posts,
    vk_posts_where,
    vk_where,
)

pytestmark = pytest.mark.django_db


def scored() -> dict[int, dict]:
    rows = quality_rows(QualityParams(FEBRUARY, FEBRUARY_END), methodology_current())
    return {row["id"]: row for row in rows}


def tags_of(post: dict) -> int:
    return post["text"].count("#")


def youtube(post: dict) -> bool:
    return any("youtube" in (a.get("link") or {}).get("url", "")
               for a in post.get("attachments", []))


def photo_share(posts: list[dict]) -> float:
    return sum(any(a["type"] == "photo" for a in p["attachments"]) for p in posts) / len(posts)


def verified(gid: int) -> bool:
    return bool(emu_data.vk_groups(SEED, [gid], FEBRUARY)[0]["verified"])


def by_habit(test):
    return lambda start: community_of(vk_where(test, start=start)[0])


def by_posts(test):
    return lambda start: community_of(vk_posts_where(test, start=start))


def closed(start: int):
    return community_of(emu_data.ids_with_fate(SEED, "vk", "closed", 1, start)[0])


def named_otherwise(start: int):
    return community_of(vk_where(lambda k: True, start=start)[0], institution=InstitutionFactory(
        short_name="Библиотека имени Пушкина", full_name="МБУК «Библиотека имени Пушкина»"))


def verified_community(wanted: bool, start: int):
    gid = start
    for _ in range(100):
        gid = vk_where(lambda k: k.kind != "event", start=gid)[0]
        if verified(gid) == wanted:
            return community_of(gid)
        gid += 1
    raise LookupError("no such emulated community")


CASES = {
    "open": (by_habit(lambda k: True), closed),
    "kind": (by_habit(lambda k: k.kind in ("group", "page")),
             by_habit(lambda k: k.kind == "event")),
    "name_short": (by_habit(lambda k: not k.official_name),
                   by_habit(lambda k: k.official_name)),
    "name_matches": (by_habit(lambda k: True), named_otherwise),
    "description_filled": (by_habit(lambda k: k.description == "full"),
                           by_habit(lambda k: k.description == "short")),
    "description_contacts": (by_habit(lambda k: k.description == "full" and k.has_site),
                             by_habit(lambda k: k.description == "partial")),
    "avatar": (by_habit(lambda k: k.has_photo), by_habit(lambda k: not k.has_photo)),
    "cover": (by_habit(lambda k: k.has_cover), by_habit(lambda k: not k.has_cover)),
    "wall_limited": (by_habit(lambda k: k.wall == 2), by_habit(lambda k: k.wall == 1)),
    "verified": (lambda start: verified_community(True, start),
                 lambda start: verified_community(False, start)),
    "comments_open": (by_habit(lambda k: k.wall == 1), by_habit(lambda k: k.wall == 3)),
    "own_hashtag": (by_posts(lambda ps: sum("#нашдк" in p["text"] for p in ps) >= len(ps) / 2),
                    by_posts(lambda ps: not any("#нашдк" in p["text"] for p in ps))),
    "hashtags_max": (by_posts(lambda ps: max(map(tags_of, ps)) <= 3),
                     by_posts(lambda ps: max(map(tags_of, ps)) > 3)),
    "videos_uploaded": (by_posts(lambda ps: not any(map(youtube, ps))),
                        by_posts(lambda ps: any(map(youtube, ps)))),
    "images": (by_posts(lambda ps: photo_share(ps) >= 0.75),
               by_posts(lambda ps: photo_share(ps) <= 0.5)),
}


def test_every_rule_of_the_guide_has_its_pass_and_fail_case():
    assert set(CASES) == {rule.code for rule in RULES}


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_passes_and_fails_on_communities_built_for_it(february, vk_user_token, code):
    make_passing, make_failing = CASES[code]
    passing, failing = make_passing(1000), make_failing(30_000)

    collect()

    rows = scored()
    assert rows[passing.pk][f"r_{code}"] == 1
    assert rows[failing.pk][f"r_{code}"] == 0


def test_a_long_name_fails_the_short_name_rule_at_the_methodologists_limit(february, vk_user_token,
                                                                           regional):
    community = community_of(vk_where(lambda k: True)[0])
    collect()
    assert scored()[community.pk]["r_name_short"] == 1
    limit = len(Community.objects.get(pk=community.pk).title) - 1
    current = methodology_current().as_json()
    current["rules"]["name_short"]["threshold"] = limit
    methodology_save(user=regional, **current)

    assert scored()[community.pk]["r_name_short"] == 0


def test_a_personal_profile_is_marked_and_fails_the_kind_rule(february, vk_user_token):
    community = CommunityFactory(network=Network.VK, network_id=None, screen_name="id777",
                                 url="https://vk.com/id777")

    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    community.refresh_from_db()
    assert community.kind == CommunityKind.PROFILE
    assert "личный профиль" in community.last_error
    assert scored()[community.pk]["r_kind"] == 0


def test_posts_are_stored_with_their_format_once_however_often_collected(february, vk_user_token):
    community = community_of(vk_posts_where(lambda ps: any(map(youtube, ps))))
    collect()
    collect()

    posts = Post.objects.filter(community=community, month=FEBRUARY)
    assert posts.count() == len(february_posts(community.network_id))
    assert posts.filter(has_external_video=True).count() == sum(
        map(youtube, february_posts(community.network_id)))
    assert set(posts.values_list("format", flat=True)) <= set(PostFormat.values)
    expected_tags = sum(len(set(p["text"].lower().split("#")[1:]))
                        for p in february_posts(community.network_id))
    assert PostHashtag.objects.filter(community=community, month=FEBRUARY).count() \
        == expected_tags


def ok_where(test) -> int:
    return emu_keeping.ids_where(SEED, "ok", test, start=50_000_000_000_000,
                                 fate=lambda uid: emu_data.ok_fate(SEED, uid))[0]


def test_ok_groups_are_checked_where_ok_says_and_skip_the_rest(february, ok_token):
    kept = community_of(ok_where(lambda k: k.has_photo and k.description == "full"
                                 and k.has_site), network=Network.OK)
    bare = community_of(ok_where(lambda k: not k.has_photo and k.description == "short"),
                        network=Network.OK)

    collect(Network.OK)

    rows = scored()
    for community in (kept, bare):
        row = rows[community.pk]
        assert row["r_wall_limited"] is None and row["r_verified"] is None
        assert row["r_cover"] is None and row["r_comments_open"] is None
        assert row["r_kind"] == 1
        assert Post.objects.filter(community=community).exists()
    assert rows[kept.pk]["r_avatar"] == 1 and rows[bare.pk]["r_avatar"] == 0
    assert rows[kept.pk]["r_description_contacts"] == 1
    assert rows[bare.pk]["r_description_contacts"] == 0
