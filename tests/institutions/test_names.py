"""The checklist's name rule: how close a community's name is to its institution's."""

import pytest

from institutions.names import community_names_score, name_similarity
from tests.factories import CommunityFactory, InstitutionFactory


def test_a_familiar_short_name_matches_the_institution_despite_declension_and_legal_form():
    score = name_similarity("Дом культуры села Алексеевка",
                            ["Дом культуры с. Алексеевки", "МБУК «Дом культуры с. Алексеевки»"])
    assert score == 1.0


def test_an_unrelated_name_does_not_match():
    assert name_similarity("Клуб любителей кошек", ["Библиотека имени Пушкина"]) == 0.0


def test_half_the_words_give_half_the_score():
    assert name_similarity("Библиотека Бора", ["Центральная библиотека"]) == 0.5


def test_nothing_to_compare_is_no_score():
    assert name_similarity("", ["Библиотека"]) is None


@pytest.mark.django_db
def test_scores_are_written_for_retitled_and_unscored_communities_only():
    institution = InstitutionFactory(short_name="Библиотека Бора", full_name="МБУК «Библиотека»")
    retitled = CommunityFactory(institution=institution, title="Библиотека Бора")
    unscored = CommunityFactory(institution=institution, title="Бор: новости")
    kept = CommunityFactory(institution=institution, title="Клуб", name_similarity=0.9)

    written = community_names_score(community_ids=[retitled.pk, unscored.pk, kept.pk],
                                    retitled=[retitled.pk])

    assert written == 2
    for community in (retitled, unscored, kept):
        community.refresh_from_db()
    assert retitled.name_similarity == 1.0
    assert unscored.name_similarity == 0.5
    assert kept.name_similarity == 0.9  # its title was not collected again
