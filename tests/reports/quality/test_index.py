"""The quality index ranking: weights, publishing frozen versions, query count, what raises it."""

from __future__ import annotations

import pytest
from django.db import connection

from institutions.choices import CommunityCategory
from metrics.models import Post
from portal.errors import NotAllowed
from reports.models import PublishedQualityRanking
from reports.quality.methodology import methodology_current, methodology_save
from reports.quality.query import QualityParams
from reports.quality.ranking import community_quality, quality_publish, quality_ranking
from tests.reports.quality.kept import (
    MARCH,
    MARCH_END,
    NEGLECTED,
    WELL_KEPT,
    add_posts,
    kept_community,
)

pytestmark = pytest.mark.django_db
PARAMS = QualityParams(MARCH, MARCH_END)


@pytest.fixture
def tidy_and_busy():
    """A tidy page that posts little, and a neglected one that posts a lot and grows."""
    tidy = kept_community(fields=WELL_KEPT, posts=4, title="ДК Тихий")
    busy = kept_community(fields=NEGLECTED, posts=40, members=(1000, 1300), title="ДК Шумный")
    return tidy, busy


def weigh(user, **weights: int) -> None:
    current = methodology_current().as_json()
    current["weights"] = {**current["weights"], **weights}
    methodology_save(user=user, **current)


def order(user) -> list[int]:
    return [row["id"] for row in quality_ranking(user=user, params=PARAMS)]


def test_changing_a_weight_reorders_the_live_ranking(regional, tidy_and_busy):
    tidy, busy = tidy_and_busy
    assert order(regional) == [tidy.pk, busy.pk]  # the checklist weighs most by default

    weigh(regional, checklist=0, norms=0, publications=100)

    assert order(regional) == [busy.pk, tidy.pk]
    rows = quality_ranking(user=regional, params=PARAMS)
    assert rows[0]["p_publications"] == pytest.approx(100)
    assert rows[1]["p_checklist"] == 0


def test_each_component_scores_its_weight_times_its_share(regional, tidy_and_busy):
    tidy, _ = tidy_and_busy
    row = next(r for r in quality_ranking(user=regional, params=PARAMS) if r["id"] == tidy.pk)
    weights = methodology_current().weights

    assert row["checklist_share"] == pytest.approx(1.0)  # every applicable rule passes
    assert row["p_checklist"] == pytest.approx(weights["checklist"])
    assert row["quality_index"] == pytest.approx(sum(row[f"p_{c}"] for c in weights))


def test_a_published_index_ranking_stays_as_it_was(regional, tidy_and_busy):
    tidy, busy = tidy_and_busy
    published = quality_publish(user=regional, params=PARAMS, title="Индекс качества, март")
    frozen = list(published.rows)

    weigh(regional, checklist=0, norms=0, publications=100)
    Post.objects.filter(community=tidy).delete()
    add_posts(busy, 10)

    published.refresh_from_db()
    assert published.rows == frozen
    assert [r["id"] for r in frozen] == [tidy.pk, busy.pk]
    assert published.methodology_number == 0 and published.weights["checklist"] == 40
    assert order(regional) == [busy.pk, tidy.pk]
    again = quality_publish(user=regional, params=PARAMS, title="Индекс качества, март")
    assert again.number == published.number + 1 and again.methodology_number == 1


def test_only_the_regional_methodologist_publishes_and_edits(municipal_a, tidy_and_busy):
    with pytest.raises(NotAllowed):
        quality_publish(user=municipal_a, params=PARAMS, title="Индекс")
    with pytest.raises(NotAllowed):
        weigh(municipal_a, checklist=10)
    assert not PublishedQualityRanking.objects.exists()


@pytest.mark.parametrize("communities", [3, 30])
def test_the_ranking_is_one_query_however_many_communities(regional, communities,
                                                           django_assert_num_queries):
    for i in range(communities):
        kept_community(fields=WELL_KEPT if i % 2 else NEGLECTED, posts=i % 5)

    # The methodology in force, then the ranking: a savepoint, the planner settings (PostgreSQL),
    # the statement, the release.
    with django_assert_num_queries(5 - int(connection.vendor != "postgresql")):
        rows = quality_ranking(user=regional, params=PARAMS)

    assert len(rows) == communities
    assert [r["place"] for r in rows] == sorted(r["place"] for r in rows)


def test_a_municipal_reader_sees_own_rows_with_their_regional_places(
        municipal_a, regional, institution_a, institution_b):
    ours = kept_community(fields=NEGLECTED, posts=2, institution=institution_a)
    kept_community(fields=WELL_KEPT, posts=20, institution=institution_b)

    rows = quality_ranking(user=municipal_a, params=PARAMS)

    assert [r["id"] for r in rows] == [ours.pk]
    assert rows[0]["place"] == 2


def test_what_would_raise_it_most_is_ordered_by_the_points_it_adds(regional):
    community = kept_community(fields={**WELL_KEPT, "is_verified": False, "has_cover": False},
                               posts=2)
    card = community_quality(community=community, date_from=MARCH, date_to=MARCH_END)

    assert [r.label for r in card.failed] == ["Обложка установлена",
                                              "Есть отметка «Госорганизация»"]
    points = [r.points for r in card.raises]
    assert points == sorted(points, reverse=True)
    verified = next(r for r in card.raises if r.label == "Есть отметка «Госорганизация»")
    cover = next(r for r in card.raises if r.label == "Обложка установлена")
    assert verified.points == pytest.approx(2 * cover.points)  # the mark weighs 2, the cover 1

    community.is_verified = True
    community.save(update_fields=["is_verified"])
    after = community_quality(community=community, date_from=MARCH, date_to=MARCH_END)
    assert after.row["p_checklist"] - card.row["p_checklist"] == pytest.approx(verified.points)


def test_a_community_without_posts_has_no_formats_and_misses_even_the_card_norms(regional):
    silent = kept_community(fields={**WELL_KEPT, "category": CommunityCategory.CARD}, posts=0)

    row = next(r for r in quality_ranking(user=regional, params=PARAMS) if r["id"] == silent.pk)

    assert (row["n_posts"], row["formats"], row["top_tag_posts"]) == (0, 0, 0)
    assert row["m_formats"] == row["m_posts_per_week"] == row["m_media_share"] == 0
    assert row["r_images"] is None and row["r_own_hashtag"] is None  # nothing to judge
