"""The quality pages: who may open them, what they show, and their query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from institutions.choices import CommunityCategory
from reports.models import PublishedQualityRanking, QualityMethodology
from reports.quality.rules import NORMS, RULES
from tests.reports.quality.kept import NEGLECTED, WELL_KEPT, kept_community

pytestmark = pytest.mark.django_db
MONTH = "?month=2026-03"


@pytest.fixture
def kept(institution_a, institution_b):
    tidy = kept_community(fields=WELL_KEPT, posts=20, institution=institution_a,
                          title="ДК Алексеевки")
    poor = kept_community(fields=NEGLECTED, posts=3, institution=institution_b,
                          title="Библиотека Бора", image=False)
    return tidy, poor


def test_the_ranking_page_lists_points_in_a_fixed_number_of_queries(
        client, regional, kept, django_assert_max_num_queries):
    client.force_login(regional)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("reports:quality") + MONTH)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("ДК Алексеевки") < body.index("Библиотека Бора")
    assert 'id="quality-chart"' in body and 'id="quality-table"' in body
    assert "None" not in body


def test_a_municipal_reader_sees_only_own_territory_and_cannot_publish(client, municipal_a,
                                                                       kept):
    client.force_login(municipal_a)
    body = client.get(reverse("reports:quality") + MONTH).content.decode()
    assert "ДК Алексеевки" in body and "Библиотека Бора" not in body
    assert "quality-publish" not in body
    response = client.post(reverse("reports:quality-publish"), {"month": "2026-03",
                                                                 "title": "Индекс"})
    assert response.status_code == 403 and not PublishedQualityRanking.objects.exists()


def test_people_without_a_role_are_refused(client, outsider, kept):
    client.force_login(outsider)
    assert client.get(reverse("reports:quality") + MONTH).status_code == 403
    assert client.get(reverse("reports:quality-community", args=[kept[0].pk])).status_code \
        == 403


def test_the_methodologist_publishes_and_the_version_is_public(client, regional, kept):
    client.force_login(regional)
    response = client.post(reverse("reports:quality-publish"),
                           {"month": "2026-03", "title": "Индекс качества, март"})
    version = PublishedQualityRanking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:quality-published", args=[version.number])
    client.logout()
    body = client.get(response["Location"]).content.decode()
    assert "Индекс качества, март" in body and "ДК Алексеевки" in body


def test_the_community_page_lists_failed_rules_with_their_fixes(client, regional, kept):
    _, poor = kept
    client.force_login(regional)
    response = client.get(reverse("reports:quality-community", args=[poor.pk]) + MONTH)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="failed-rules"' in body
    assert "Обложка установлена" in body and "Загрузите обложку" in body
    assert "Что поднимет индекс сильнее всего" in body
    for chart in ("weeks-chart", "audience-chart", "engagement-chart", "formats-chart"):
        assert f'id="{chart}"' in body
    assert "None" not in body


def test_another_territorys_community_page_is_not_found(client, municipal_a, kept):
    client.force_login(municipal_a)
    assert client.get(reverse("reports:quality-community", args=[kept[1].pk])).status_code \
        == 404


def test_the_methodology_page_documents_every_rule_with_the_guides_words(client, viewer):
    client.force_login(viewer)
    body = client.get(reverse("reports:quality-methodology")).content.decode()
    for rule in RULES:
        assert f'id="rule-{rule.code}"' in body
        assert rule.formula.split(" (")[0][:40] in body
        assert rule.source[:40] in body
    for norm in NORMS:
        assert f'id="norm-{norm.code}"' in body and norm.source[:40] in body
    assert "methodology-edit" not in body


def test_the_methodologist_saves_a_new_version_and_a_viewer_cannot(client, regional, viewer):
    client.force_login(regional)
    form = client.get(reverse("reports:quality-methodology")).context["form"]
    data = {name: field.initial for name, field in form.fields.items()}
    data = {k: v for k, v in data.items() if v is not False}
    data.update({"text": "Новая методика региона", "weight_checklist": 60,
                 "rule_cover_weight": 3, "norm_active_posts_per_week": 3})
    response = client.post(reverse("reports:quality-methodology"), data)
    assert response.status_code == 302
    saved = QualityMethodology.objects.get()
    assert saved.weights["checklist"] == 60 and saved.rules["cover"]["weight"] == 3
    assert saved.norms[CommunityCategory.ACTIVE]["posts_per_week"] == 3

    client.force_login(viewer)
    assert client.post(reverse("reports:quality-methodology"), data).status_code == 403
    assert QualityMethodology.objects.count() == 1


def test_the_formats_page_counts_posts_by_format_and_hashtag(client, regional, kept):
    tidy, _ = kept
    client.force_login(regional)
    response = client.get(reverse("reports:quality-formats") + MONTH
                          + f"&level=community&id={tidy.pk}")
    totals = {row.key: row.posts for row in response.context["totals"]}
    assert totals == {"photo": 7, "video": 7, "article": 6}
    assert [(h.label, h.posts) for h in response.context["hashtags"]] == [("#нашдк", 20)]


def test_the_norms_page_shows_who_meets_them_week_by_week(client, municipal_a, regional, kept,
                                                         django_assert_max_num_queries):
    tidy, poor = kept
    client.force_login(regional)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("reports:quality-norms") + MONTH)
    rows = {row.community.pk: row for row in response.context["weeks"].rows}
    assert set(rows) == {tidy.pk, poor.pk}
    assert len(response.context["weeks"].weeks) == 6  # March 2026 touches six weeks
    assert rows[poor.pk].met_count < rows[tidy.pk].met_count

    client.force_login(municipal_a)
    body = client.get(reverse("reports:quality-norms") + MONTH).content.decode()
    assert "ДК Алексеевки" in body and "Библиотека Бора" not in body


def test_the_ranking_filtered_by_territory_keeps_regional_places(client, regional, kept,
                                                                  territory_b):
    client.force_login(regional)
    response = client.get(reverse("reports:quality") + MONTH + f"&territory={territory_b.pk}")
    rows = list(response.context["page"])
    assert [(r["title"], r["place"]) for r in rows] == [("Библиотека Бора", 2)]


def test_the_methodologist_sets_a_category_and_returns_it_to_the_rule(client, regional,
                                                                      viewer, kept):
    tidy, _ = kept
    url = reverse("reports:quality-community-category", args=[tidy.pk])
    client.force_login(viewer)
    assert client.post(url, {"category": CommunityCategory.CARD}).status_code == 403

    client.force_login(regional)
    response = client.post(url, {"category": CommunityCategory.CARD, "month": "2026-03"})
    assert response.status_code == 302 and response["Location"].endswith("?month=2026-03")
    tidy.refresh_from_db()
    assert tidy.category == CommunityCategory.CARD
    body = client.get(response["Location"]).content.decode()
    assert "Нормы категории «Визитка»" in body

    client.post(url, {"category": ""})
    tidy.refresh_from_db()
    assert tidy.category == ""


@pytest.mark.parametrize("posts", [3, 30])
def test_the_community_page_costs_the_same_queries_however_many_posts(
        client, regional, institution_a, posts, django_assert_max_num_queries):
    community = kept_community(fields=NEGLECTED, posts=posts, institution=institution_a)
    client.force_login(regional)
    with django_assert_max_num_queries(18):
        response = client.get(reverse("reports:quality-community", args=[community.pk]) + MONTH)
    assert response.status_code == 200
    assert sum(cell.posts for _, cell in response.context["page"].week_cells) == posts
