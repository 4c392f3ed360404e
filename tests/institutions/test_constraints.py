"""The registry's invariants hold in the database itself, whatever path writes the rows.

Each story writes with ``objects.create`` (no model validation) so that only PostgreSQL stands in
the way, and checks that the refusal names the constraint that was meant to refuse.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from institutions.choices import Network, Role
from institutions.models import Community, Institution, Territory, UserProfile
from tests.factories import CommunityFactory, InstitutionFactory, TerritoryFactory

pytestmark = pytest.mark.django_db

VALID_INNS = ["7707083893", "6315376946", "500100732259"]
INVALID_INNS = ["7707083894", "500100732258", "631500000001", "12345", "77070838AB", "0" * 11]


def refused_by(constraint: str, create, **fields) -> None:
    """Assert that creating the row fails at the database on the named constraint."""
    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        create(**fields)
    assert constraint in str(refusal.value)


def institution_row(territory: Territory, **fields) -> dict:
    return {
        "full_name": "МБУК «Дом культуры»", "short_name": "Дом культуры", "type": "club",
        "territory": territory, "subordination": "municipal", **fields,
    }


def community_row(institution: Institution, **fields) -> dict:
    return {"institution": institution, "network": Network.VK, "network_id": 1001,
            "url": "https://vk.com/club1001", **fields}


# --- Territory --------------------------------------------------------------------------------


def test_territory_kind_outside_the_choices_is_refused():
    refused_by("territory_kind_valid", Territory.objects.create,
               name="Тестовый район", kind="county", oktmo="36999000")


def test_two_territories_cannot_share_an_oktmo_code(territory_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Territory.objects.create(name="Двойник", kind=territory_a.kind, oktmo=territory_a.oktmo)


# --- Institution ------------------------------------------------------------------------------


def test_an_inn_belongs_to_one_institution_only(territory_a, territory_b):
    Institution.objects.create(**institution_row(territory_a, inn="7707083893"))
    refused_by("institution_inn_unique", Institution.objects.create,
               **institution_row(territory_b, short_name="Другое", inn="7707083893"))


def test_many_institutions_may_have_no_inn(territory_a):
    Institution.objects.create(**institution_row(territory_a, inn=None))
    Institution.objects.create(**institution_row(territory_a, short_name="Ещё", inn=None))
    assert Institution.objects.filter(inn__isnull=True).count() == 2


def test_a_blank_inn_is_impossible_only_null_means_unknown(territory_a):
    refused_by("institution_inn_null_not_blank", Institution.objects.create,
               **institution_row(territory_a, inn=""))


def test_institution_type_outside_the_choices_is_refused(territory_a):
    refused_by("institution_type_valid", Institution.objects.create,
               **institution_row(territory_a, type="zoo"))


def test_institution_subordination_outside_the_choices_is_refused(territory_a):
    refused_by("institution_subordination_valid", Institution.objects.create,
               **institution_row(territory_a, subordination="federal"))


def test_a_territory_with_institutions_cannot_be_deleted(institution_a):
    with pytest.raises(ProtectedError), transaction.atomic():
        institution_a.territory.delete()
    assert Territory.objects.filter(pk=institution_a.territory_id).exists()


# --- Community --------------------------------------------------------------------------------


def test_a_network_id_is_unique_within_its_network(institution_a, institution_b):
    Community.objects.create(**community_row(institution_a, network_id=555))
    refused_by("community_network_id_unique", Community.objects.create,
               **community_row(institution_b, network_id=555, url="https://vk.com/club555"))


def test_the_same_number_in_the_other_network_is_another_community(institution_a):
    Community.objects.create(**community_row(institution_a, network_id=555))
    Community.objects.create(**community_row(
        institution_a, network=Network.OK, network_id=555, url="https://ok.ru/group/555"
    ))
    assert Community.objects.filter(network_id=555).count() == 2


def test_communities_known_only_by_screen_name_do_not_clash_on_the_missing_id(institution_a):
    Community.objects.create(**community_row(institution_a, network_id=None, screen_name="dk1"))
    Community.objects.create(**community_row(institution_a, network_id=None, screen_name="dk2"))
    assert Community.objects.filter(network_id__isnull=True).count() == 2


def test_a_community_needs_an_id_or_a_screen_name(institution_a):
    refused_by("community_has_id_or_screen_name", Community.objects.create,
               **community_row(institution_a, network_id=None, screen_name=""))


def test_community_network_outside_the_choices_is_refused(institution_a):
    refused_by("community_network_valid", Community.objects.create,
               **community_row(institution_a, network="tg"))


def test_community_state_outside_the_choices_is_refused(institution_a):
    refused_by("community_state_valid", Community.objects.create,
               **community_row(institution_a, state="frozen"))


@pytest.mark.parametrize("network_id", [0, -42])
def test_a_network_id_is_positive(institution_a, network_id):
    refused_by("community_network_id_positive", Community.objects.create,
               **community_row(institution_a, network_id=network_id))


# --- Profiles ---------------------------------------------------------------------------------


def test_a_role_outside_the_choices_is_refused():
    user = get_user_model().objects.create_user("someone", password="x-pass-1")
    refused_by("profile_role_valid", UserProfile.objects.create, user=user, role="boss")


def test_a_user_has_one_profile_at_most(regional):
    with pytest.raises(IntegrityError), transaction.atomic():
        UserProfile.objects.create(user=regional, role=Role.VIEWER)


# --- INN checksum (model validation) ----------------------------------------------------------


@pytest.mark.parametrize("inn", VALID_INNS)
def test_a_valid_inn_passes_full_clean(territory_a, inn):
    institution = Institution(**institution_row(territory_a, inn=inn))
    institution.full_clean()


@pytest.mark.parametrize("inn", INVALID_INNS)
def test_an_invalid_inn_is_rejected_in_russian_naming_the_value(territory_a, inn):
    institution = Institution(**institution_row(territory_a, inn=inn))
    with pytest.raises(ValidationError) as rejection:
        institution.full_clean()
    messages = rejection.value.message_dict["inn"]
    assert any(f"ИНН «{inn}» неверен" in m for m in messages)


def test_full_clean_also_reports_a_taken_inn(territory_a):
    InstitutionFactory(territory=territory_a, inn="6315376946")
    duplicate = Institution(**institution_row(territory_a, inn="6315376946"))
    with pytest.raises(ValidationError) as rejection:
        duplicate.full_clean()
    assert any("institution_inn_unique" in m for m in rejection.value.message_dict["__all__"])


def test_full_clean_reports_a_community_without_id_or_screen_name(institution_a):
    community = Community(**community_row(institution_a, network_id=None, screen_name=""))
    with pytest.raises(ValidationError) as rejection:
        community.full_clean()
    assert any(
        "community_has_id_or_screen_name" in m for m in rejection.value.message_dict["__all__"]
    )


def test_factories_build_rows_that_satisfy_every_constraint(db):
    community = CommunityFactory(institution=InstitutionFactory(territory=TerritoryFactory()))
    community.institution.full_clean()
    community.full_clean()
