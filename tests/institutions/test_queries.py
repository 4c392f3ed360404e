"""Query-count guards: the registry's lists cost the same whether they show 3 rows or 30.

Each guard runs twice, with 3 and with 30 institutions (each with a VK and an OK community), and
expects the same number of queries; an N+1 anywhere in a list makes the larger run fail.
"""

import pytest

from institutions.choices import Network
from tests.factories import CommunityFactory, InstitutionFactory

SIZES = [3, 30]

# Token auth (token + user), the caller's profile, the page count, the rows.
API_LIST_QUERIES = {"territories": 4, "institutions": 5, "communities": 4}
# Scoped personas spend one more query: the ids of their territories or institutions.
SCOPED_EXTRA = 1
# Session, user, profile, the count, the territory choices of the filter form, the rows.
REGISTRY_PAGE_QUERIES = 6
# The methodologist's «Мои задачи»: session, user, profile, three registry aggregates, the
# profile's territories and institutions, the reports waiting for approval and those sent
# with warnings (anomalies), the month's
# completeness (lines, silent and overdue institutions) and collection health (runs,
# disabled tokens, communities without a statistics token: examples and count).
HOME_PAGE_QUERIES = 17


@pytest.fixture(params=SIZES, ids=lambda n: f"{n}-institutions")
def populated(request, world):
    """Territory A grown by N institutions, each with a VK and an OK community."""
    territory_a = world["a"].institution.territory
    for _ in range(request.param):
        institution = InstitutionFactory(territory=territory_a)
        CommunityFactory(institution=institution)
        CommunityFactory(institution=institution, network=Network.OK,
                         url="https://ok.ru/group/1", is_verified=False)
    return request.param


@pytest.mark.parametrize("endpoint", sorted(API_LIST_QUERIES))
def test_api_lists_of_the_regional_methodologist_cost_a_constant_number_of_queries(
    populated, regional, api_as, django_assert_num_queries, endpoint
):
    client = api_as(regional)
    with django_assert_num_queries(API_LIST_QUERIES[endpoint]):
        response = client.get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    assert response.json()["count"] >= (populated if endpoint != "territories" else 2)


@pytest.mark.parametrize("persona", ["municipal_a", "editor_a"])
@pytest.mark.parametrize("endpoint", sorted(API_LIST_QUERIES))
def test_api_lists_of_scoped_personas_cost_a_constant_number_of_queries(
    request, populated, api_as, django_assert_num_queries, endpoint, persona
):
    client = api_as(request.getfixturevalue(persona))
    with django_assert_num_queries(API_LIST_QUERIES[endpoint] + SCOPED_EXTRA):
        response = client.get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200


def test_institution_rows_carry_their_communities_without_extra_queries(
    populated, regional, api_as, django_assert_num_queries
):
    client = api_as(regional)
    with django_assert_num_queries(API_LIST_QUERIES["institutions"]):
        rows = client.get("/api/v1/institutions/", {"page_size": 100}).json()["results"]
    grown = [row for row in rows if len(row["communities"]) == 2]
    assert len(grown) == populated


@pytest.mark.parametrize("query", [
    "",
    "?type=club&network=vk&no_community=false&not_verified=true&q=Дом&subordination=municipal",
])
def test_the_registry_page_costs_a_constant_number_of_queries(
    populated, regional, login, django_assert_num_queries, query
):
    client = login(regional)
    with django_assert_num_queries(REGISTRY_PAGE_QUERIES):
        response = client.get(f"/registry/{query}")
    assert response.status_code == 200
    assert response.context["page"].paginator.count >= populated


def test_the_registry_page_of_a_municipal_user_costs_a_constant_number_of_queries(
    populated, municipal_a, login, django_assert_num_queries
):
    client = login(municipal_a)
    with django_assert_num_queries(REGISTRY_PAGE_QUERIES + SCOPED_EXTRA):
        response = client.get("/registry/")
    assert response.context["page"].paginator.count == populated + 2


def test_the_home_page_costs_a_constant_number_of_queries(
    populated, regional, login, django_assert_num_queries
):
    client = login(regional)
    with django_assert_num_queries(HOME_PAGE_QUERIES):
        response = client.get("/")
    assert response.context["counts"]["institutions"] == populated + 3
