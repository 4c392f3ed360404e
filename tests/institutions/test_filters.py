"""The registry filters: one FilterSet answers the API and the HTML list alike.

Besides the shared personas' world, territory A gets a museum whose only community is an
unverified OK group, and territory B a closed library branch whose only community was deleted.
"""

import pytest

from institutions.choices import CommunityState, InstitutionType, Network
from tests.factories import CommunityFactory, InstitutionFactory

DK_A, REG_LIB, MUSEUM_A = "Дом культуры Алексеевки", "Областная библиотека", "Музей Алексеевки"
LIB_B, BRANCH_B = "Библиотека Бора", "Филиал библиотеки Бора"
BRANCH_INN = "7707083893"


@pytest.fixture
def region(world):
    territory_a = world["a"].institution.territory
    territory_b = world["b"].institution.territory
    museum = InstitutionFactory(short_name=MUSEUM_A, type=InstitutionType.MUSEUM,
                                territory=territory_a)
    CommunityFactory(institution=museum, network=Network.OK, network_id=53038939046008,
                     url="https://ok.ru/group/53038939046008", is_verified=False)
    branch = InstitutionFactory(short_name=BRANCH_B, full_name="МБУК «Сельская библиотека Бора»",
                                type=InstitutionType.LIBRARY, territory=territory_b,
                                inn=BRANCH_INN, is_active=False)
    CommunityFactory(institution=branch, state=CommunityState.DELETED, is_verified=False)
    return {"a": territory_a, "b": territory_b}


def via_api(client, params: dict) -> set[str]:
    response = client.get("/api/v1/institutions/", params)
    assert response.status_code == 200, response.json()
    return {row["short_name"] for row in response.json()["results"]}


def via_page(client, params: dict) -> set[str]:
    response = client.get("/registry/", params)
    assert response.status_code == 200
    return {institution.short_name for institution in response.context["page"].object_list}


CASES = [
    ({}, {DK_A, REG_LIB, MUSEUM_A, LIB_B, BRANCH_B}),
    ({"territory": "a"}, {DK_A, REG_LIB, MUSEUM_A}),
    ({"territory": "a", "type": "museum"}, {MUSEUM_A}),
    ({"type": "library"}, {BRANCH_B}),
    ({"network": "ok"}, {MUSEUM_A}),
    ({"network": "vk"}, {DK_A, LIB_B}),
    ({"no_community": "true"}, {REG_LIB, BRANCH_B}),
    ({"no_community": "false"}, {DK_A, MUSEUM_A, LIB_B}),
    ({"not_verified": "true"}, {MUSEUM_A}),
    ({"subordination": "regional"}, {REG_LIB}),
    ({"subordination": "municipal", "territory": "b"}, {LIB_B, BRANCH_B}),
    ({"q": "Алексеевки"}, {DK_A, MUSEUM_A}),
    ({"q": "алексеевки"}, {DK_A, MUSEUM_A}),
    ({"q": "Сельская"}, {BRANCH_B}),
    ({"q": BRANCH_INN}, {BRANCH_B}),
    ({"is_active": "false"}, {BRANCH_B}),
    ({"territory": "b", "no_community": "true", "is_active": "false"}, {BRANCH_B}),
]


def resolve(params: dict, region) -> dict:
    """Case tables name territories by letter; the ids exist only once the data is made."""
    return {k: (region[v].pk if k == "territory" else v) for k, v in params.items()}


@pytest.mark.parametrize(("params", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_filters_give_the_same_rows_in_the_api_and_on_the_registry_page(
    region, regional, api_as, login, params, expected
):
    query = resolve(params, region)
    assert via_api(api_as(regional), query) == expected
    assert via_page(login(regional), query) == expected


def test_filters_work_within_the_scope_of_a_municipal_user(region, municipal_a, api_as, login):
    assert via_api(api_as(municipal_a), {"network": "vk"}) == {DK_A}
    assert via_page(login(municipal_a), {"no_community": "true"}) == {REG_LIB}


def test_the_filter_form_offers_only_the_territories_in_scope(region, municipal_a, login):
    form = login(municipal_a).get("/registry/").context["filter"].form
    offered = {str(choice[1]) for choice in form.fields["territory"].choices if choice[0]}
    assert offered == {region["a"].name}


def test_the_registry_page_keeps_the_filter_in_the_pagination_links(region, regional, login):
    territory_a = region["a"]
    for n in range(55):
        InstitutionFactory(short_name=f"Клуб {n:02d}", territory=territory_a)
    response = login(regional).get("/registry/", {"territory": territory_a.pk})
    body = response.content.decode()
    assert response.context["page"].paginator.count == 58
    assert f"?territory={territory_a.pk}&page=2" in body
    second = login(regional).get("/registry/", {"territory": territory_a.pk, "page": 2})
    assert len(second.context["page"].object_list) == 8


def test_a_wrong_filter_value_is_refused_by_the_api_and_explained_on_the_page(
    region, regional, api_as, login
):
    response = api_as(regional).get("/api/v1/institutions/", {"type": "zoo"})
    assert response.status_code == 400
    assert "type" in response.json()["error"]["details"]
    page = login(regional).get("/registry/", {"type": "zoo"})
    assert "Фильтр задан неверно" in page.content.decode()
    assert page.context["page"].paginator.count == 0


def test_home_page_numbers_match_the_lists_they_link_to(region, regional, api_as, login):
    counts = login(regional).get("/").context["counts"]
    client = api_as(regional)
    assert counts["institutions_without_community"] == len(
        via_api(client, {"no_community": "true"}))
    assert counts["institutions_not_verified"] == len(via_api(client, {"not_verified": "true"}))


MUSEUM_GROUP = f"Сообщество {MUSEUM_A}"


@pytest.mark.parametrize(("params", "expected"), [
    ({"network": "ok"}, {MUSEUM_GROUP}),
    ({"territory": "b", "state": "active"}, {"Библиотека Бора ВКонтакте"}),
    ({"institution_type": "museum"}, {MUSEUM_GROUP}),
    ({"is_verified": "false", "state": "deleted"}, {f"Сообщество {BRANCH_B}"}),
    ({"subordination": "regional"}, set()),
    ({"q": "club"}, {"ДК Алексеевки ВКонтакте", "Библиотека Бора ВКонтакте",
                     f"Сообщество {BRANCH_B}"}),
    ({"q": "Алексеевки ВКонтакте"}, {"ДК Алексеевки ВКонтакте"}),
], ids=lambda v: str(v))
def test_community_filters(region, regional, api_as, params, expected):
    response = api_as(regional).get("/api/v1/communities/", resolve(params, region))
    assert response.status_code == 200
    assert {row["title"] for row in response.json()["results"]} == expected


def test_territory_filters(region, viewer, api_as):
    client = api_as(viewer)
    by_name = client.get("/api/v1/territories/", {"q": "Бор"}).json()["results"]
    assert [t["name"] for t in by_name] == [region["b"].name]
    by_code = client.get("/api/v1/territories/", {"q": region["a"].oktmo[:5]}).json()["results"]
    assert [t["name"] for t in by_code] == [region["a"].name]
