"""The scope matrix: every persona against every registry page and endpoint.

Territory A holds "Дом культуры Алексеевки" (with a VK community) and the regional "Областная
библиотека"; territory B holds "Библиотека Бора" (with a VK community). The personas of A must
never see anything of B, by any path; only the regional methodologist writes the registry.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from institutions.choices import Network, Role
from institutions.models import Community, Institution, Territory
from tests.factories import ProfileFactory

PERSONAS = ["anonymous", "outsider", "editor_a", "municipal_a", "viewer", "api_client_user",
            "regional"]
A_PERSONAS = ["editor_a", "municipal_a"]
REGION_WIDE = ["viewer", "api_client_user", "regional"]
B_NAMES = ["Борский", "Библиотека Бора"]

A_INST, B_INST, REG_INST = "Дом культуры Алексеевки", "Библиотека Бора", "Областная библиотека"
A_COMM, B_COMM = "ДК Алексеевки ВКонтакте", "Библиотека Бора ВКонтакте"
A_TERR, B_TERR = "Алексеевский муниципальный район", "Борский муниципальный район"


def persona_user(request, persona: str):
    return None if persona == "anonymous" else request.getfixturevalue(persona)


def page_client(request, persona: str, login) -> Client:
    user = persona_user(request, persona)
    return Client() if user is None else login(user)


def api_client(request, persona: str, api_as) -> APIClient:
    user = persona_user(request, persona)
    return APIClient() if user is None else api_as(user)


def assert_no_b(response) -> None:
    body = response.content.decode()
    for name in B_NAMES:
        assert name not in body, f"{response.request['PATH_INFO']} reveals «{name}»"


# --- Pages ------------------------------------------------------------------------------------

PAGE_STATUS = {
    # persona: (home, registry, detail of A, detail of B, detail of the regional institution)
    "anonymous": (302, 302, 302, 302, 302),
    "outsider": (200, 200, 404, 404, 404),
    "editor_a": (200, 200, 200, 404, 404),
    "municipal_a": (200, 200, 200, 404, 200),
    "viewer": (200, 200, 200, 200, 200),
    "api_client_user": (200, 200, 200, 200, 200),
    "regional": (200, 200, 200, 200, 200),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_registry_pages_answer_each_persona_within_scope(request, world, login, persona):
    client = page_client(request, persona, login)
    a, b, regional_inst = world["a"].institution, world["b"].institution, world["regional"]
    urls = ["/", "/registry/", f"/registry/{a.pk}/", f"/registry/{b.pk}/",
            f"/registry/{regional_inst.pk}/"]
    got = tuple(client.get(url).status_code for url in urls)
    assert got == PAGE_STATUS[persona]


@pytest.mark.parametrize("url", ["/", "/registry/"])
def test_anonymous_visitors_are_sent_to_the_login_form(client, world, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("persona", A_PERSONAS)
def test_pages_of_a_personas_never_name_anything_of_b(request, world, login, persona):
    client = page_client(request, persona, login)
    a, b = world["a"].institution, world["b"].institution
    territory_b = b.territory
    for url in ["/", "/registry/", f"/registry/{a.pk}/", f"/registry/{b.pk}/",
                f"/registry/?territory={territory_b.pk}", "/registry/?q=Бора"]:
        assert_no_b(client.get(url))


def test_registry_of_municipal_a_lists_only_territory_a(world, municipal_a, login):
    body = login(municipal_a).get("/registry/").content.decode()
    assert A_INST in body and REG_INST in body
    assert B_INST not in body


def test_registry_of_the_editor_lists_only_the_editors_institution(world, editor_a, login):
    body = login(editor_a).get("/registry/").content.decode()
    assert A_INST in body
    assert REG_INST not in body and B_INST not in body


def test_registry_of_the_regional_methodologist_lists_the_whole_region(world, regional, login):
    body = login(regional).get("/registry/").content.decode()
    assert all(name in body for name in (A_INST, B_INST, REG_INST))
    assert A_TERR in body and B_TERR in body


def test_a_territory_filter_outside_the_scope_is_an_error_not_a_silent_full_list(
    world, municipal_a, login
):
    territory_b = world["b"].institution.territory
    response = login(municipal_a).get(f"/registry/?territory={territory_b.pk}")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Фильтр задан неверно" in body
    assert A_INST not in body
    assert response.context["page"].paginator.count == 0


def test_the_home_page_tells_the_user_their_role_and_scope(world, municipal_a, login):
    body = login(municipal_a).get("/").content.decode()
    assert "Муниципальный отдел культуры" in body
    assert A_TERR in body


def test_a_user_without_a_role_is_told_so_and_sees_nothing(world, outsider, login):
    response = login(outsider).get("/")
    assert "не назначена роль" in response.content.decode()
    assert response.context["counts"]["institutions"] == 0
    assert login(outsider).get("/registry/").context["page"].paginator.count == 0


def test_an_institution_page_lists_its_communities(world, municipal_a, login):
    a = world["a"].institution
    body = login(municipal_a).get(f"/registry/{a.pk}/").content.decode()
    assert A_COMM in body and world["a"].url in body


def test_only_a_staff_regional_methodologist_gets_the_edit_link(world, regional, login):
    a = world["a"].institution
    edit_url = f"/admin/institutions/institution/{a.pk}/change/"
    assert edit_url not in login(regional).get(f"/registry/{a.pk}/").content.decode()
    admin = type(regional).objects.create_superuser("chief", password="x-pass-1")
    assert edit_url in login(admin).get(f"/registry/{a.pk}/").content.decode()


# --- Admin ------------------------------------------------------------------------------------

ADMIN_PAGES = [
    "/admin/",
    "/admin/institutions/territory/",
    "/admin/institutions/institution/",
    "/admin/institutions/community/",
    "/admin/institutions/userprofile/",
]


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_admin_is_closed_to_every_persona_without_staff_status(
    request, world, login, persona
):
    client = page_client(request, persona, login)
    for url in ADMIN_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("admin", password="x-pass-1")


def test_the_admin_serves_a_superuser_in_russian(world, superuser, login):
    client = login(superuser)
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == 200, url
    assert "Администрирование" in client.get("/admin/").content.decode()


def test_admin_search_and_filters_find_institutions(world, superuser, login):
    client = login(superuser)
    found = client.get("/admin/institutions/institution/", {"q": "Бора"})
    assert B_INST in found.content.decode() and A_INST not in found.content.decode()
    territory_a = world["a"].institution.territory
    filtered = client.get("/admin/institutions/institution/",
                          {"territory__id__exact": territory_a.pk})
    names = {i.short_name for i in filtered.context["cl"].result_list}
    assert names == {A_INST, REG_INST}


def test_admin_institution_page_shows_its_communities_inline(world, superuser, login):
    a = world["a"].institution
    body = login(superuser).get(f"/admin/institutions/institution/{a.pk}/change/")
    assert body.status_code == 200
    assert A_COMM in body.content.decode()
    assert "communities-TOTAL_FORMS" in body.content.decode()


# --- API: reads -------------------------------------------------------------------------------

LIST_NAMES = {
    # persona: (territories, institutions, communities)
    "editor_a": ({A_TERR}, {A_INST}, {A_COMM}),
    "municipal_a": ({A_TERR}, {A_INST, REG_INST}, {A_COMM}),
    "viewer": ({A_TERR, B_TERR}, {A_INST, B_INST, REG_INST}, {A_COMM, B_COMM}),
    "api_client_user": ({A_TERR, B_TERR}, {A_INST, B_INST, REG_INST}, {A_COMM, B_COMM}),
    "regional": ({A_TERR, B_TERR}, {A_INST, B_INST, REG_INST}, {A_COMM, B_COMM}),
}
NAME_FIELD = {"territories": "name", "institutions": "short_name", "communities": "title"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_endpoints_show_each_persona_exactly_its_scope(request, world, api_as, persona):
    client = api_client(request, persona, api_as)
    for position, endpoint in enumerate(["territories", "institutions", "communities"]):
        response = client.get(f"/api/v1/{endpoint}/")
        if persona == "anonymous":
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "not_authenticated"
            continue
        if persona == "outsider":
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "permission_denied"
            continue
        assert response.status_code == 200
        names = {row[NAME_FIELD[endpoint]] for row in response.json()["results"]}
        assert names == LIST_NAMES[persona][position], endpoint


RETRIEVE_STATUS = {
    # persona: status for (A's object, B's object) on every endpoint
    "anonymous": (401, 401),
    "outsider": (403, 403),
    "editor_a": (200, 404),
    "municipal_a": (200, 404),
    "viewer": (200, 200),
    "api_client_user": (200, 200),
    "regional": (200, 200),
}


def objects_of(world) -> dict[str, tuple[int, int]]:
    a, b = world["a"], world["b"]
    return {
        "territories": (a.institution.territory_id, b.institution.territory_id),
        "institutions": (a.institution_id, b.institution_id),
        "communities": (a.pk, b.pk),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_retrieve_endpoints_hide_what_lies_outside_the_scope(request, world, api_as, persona):
    client = api_client(request, persona, api_as)
    for endpoint, (pk_a, pk_b) in objects_of(world).items():
        got = (client.get(f"/api/v1/{endpoint}/{pk_a}/").status_code,
               client.get(f"/api/v1/{endpoint}/{pk_b}/").status_code)
        assert got == RETRIEVE_STATUS[persona], endpoint


@pytest.mark.parametrize("persona", A_PERSONAS)
def test_api_answers_to_a_personas_never_name_anything_of_b(request, world, api_as, login,
                                                           persona):
    client = api_client(request, persona, api_as)
    territory_b = world["b"].institution.territory
    for endpoint, (_, pk_b) in objects_of(world).items():
        assert_no_b(client.get(f"/api/v1/{endpoint}/"))
        assert_no_b(client.get(f"/api/v1/{endpoint}/{pk_b}/"))
        assert_no_b(client.get(f"/api/v1/{endpoint}/", {"territory": territory_b.pk}))
    # The browsable API renders filter forms with choice lists: those must be scoped too.
    browser = login(request.getfixturevalue(persona))
    for endpoint in ("territories", "institutions", "communities"):
        response = browser.get(f"/api/v1/{endpoint}/", HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert_no_b(response)


def test_a_filter_naming_a_territory_outside_the_scope_is_a_validation_error(
    world, municipal_a, api_as
):
    territory_b = world["b"].institution.territory
    response = api_as(municipal_a).get("/api/v1/institutions/", {"territory": territory_b.pk})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert "territory" in response.json()["error"]["details"]


def test_a_viewer_limited_to_territory_a_sees_only_a(world, territory_a, api_as, login):
    viewer_a = ProfileFactory(user__username="viewer_a", role=Role.VIEWER,
                              territories=[territory_a]).user
    names = {r["short_name"] for r in api_as(viewer_a).get("/api/v1/institutions/").json()[
        "results"]}
    assert names == {A_INST, REG_INST}
    assert_no_b(login(viewer_a).get("/registry/"))


def test_session_authentication_serves_the_api_to_logged_in_users(world, municipal_a, login):
    response = login(municipal_a).get("/api/v1/institutions/")
    assert response.status_code == 200
    assert {r["short_name"] for r in response.json()["results"]} == {A_INST, REG_INST}


# --- API: writes ------------------------------------------------------------------------------


def write_attempts(world) -> list[tuple[str, str, dict]]:
    """Writes aimed at territory A's own objects: even in-scope writes are refused."""
    a = world["a"]
    territory_a = a.institution.territory
    return [
        ("post", "/api/v1/territories/", {"name": "Новый", "kind": "urban_okrug",
                                          "oktmo": "36999000"}),
        ("patch", f"/api/v1/territories/{territory_a.pk}/", {"name": "Переименован"}),
        ("delete", f"/api/v1/territories/{territory_a.pk}/", {}),
        ("post", "/api/v1/institutions/", {"full_name": "Новое", "short_name": "Новое",
                                           "type": "museum", "territory": territory_a.pk}),
        ("patch", f"/api/v1/institutions/{a.institution_id}/", {"short_name": "Переименовано"}),
        ("delete", f"/api/v1/institutions/{a.institution_id}/", {}),
        ("post", "/api/v1/communities/", {"institution": a.institution_id,
                                          "url": "https://vk.com/club987654"}),
        ("patch", f"/api/v1/communities/{a.pk}/", {"title": "Переименовано"}),
        ("delete", f"/api/v1/communities/{a.pk}/", {}),
    ]


def registry_snapshot() -> tuple:
    return (
        sorted(Territory.objects.values_list("pk", "name")),
        sorted(Institution.objects.values_list("pk", "short_name")),
        sorted(Community.objects.values_list("pk", "title")),
    )


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "regional"])
def test_only_regional_methodologists_write_the_registry(request, world, api_as, persona):
    client = api_client(request, persona, api_as)
    before = registry_snapshot()
    expected = 401 if persona == "anonymous" else 403
    for method, url, data in write_attempts(world):
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == expected, (method, url)
        assert set(response.json()) == {"error"}
    assert registry_snapshot() == before


def test_refusals_to_write_are_explained_in_russian(world, municipal_a, api_as):
    response = api_as(municipal_a).post("/api/v1/institutions/", {}, format="json")
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "Изменять реестр могут только региональные методисты.",
        "details": None,
    }


def test_the_regional_methodologist_creates_an_institution(world, regional, api_as):
    territory_b = world["b"].institution.territory
    response = api_as(regional).post("/api/v1/institutions/", {
        "full_name": "ГБУК «Борский краеведческий музей»", "short_name": "Музей Бора",
        "type": "museum", "territory": territory_b.pk, "inn": "7707083893",
        "subordination": "regional",
    }, format="json")
    assert response.status_code == 201, response.json()
    created = Institution.objects.get(pk=response.json()["id"])
    assert (created.short_name, created.territory, created.inn) == (
        "Музей Бора", territory_b, "7707083893")
    assert response.json()["territory_name"] == B_TERR


def test_an_institution_with_a_wrong_inn_is_rejected_with_the_reason(world, regional, api_as):
    territory_a = world["a"].institution.territory
    response = api_as(regional).post("/api/v1/institutions/", {
        "full_name": "Новое", "short_name": "Новое", "type": "museum",
        "territory": territory_a.pk, "inn": "7707083894",
    }, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert "ИНН «7707083894» неверен" in error["details"]["inn"][0]
    assert not Institution.objects.filter(short_name="Новое").exists()


def test_a_taken_inn_is_rejected_naming_its_holder(world, regional, api_as):
    holder = world["a"].institution
    response = api_as(regional).post("/api/v1/institutions/", {
        "full_name": "Двойник", "short_name": "Двойник", "type": "club",
        "territory": holder.territory_id, "inn": holder.inn,
    }, format="json")
    assert response.status_code == 400
    message = response.json()["error"]["details"]["inn"][0]
    assert message == f"ИНН {holder.inn} уже указан у учреждения «{A_INST}»."


def test_an_empty_inn_is_stored_as_unknown(world, regional, api_as):
    response = api_as(regional).post("/api/v1/institutions/", {
        "full_name": "Без ИНН", "short_name": "Без ИНН", "type": "other",
        "territory": world["a"].institution.territory_id, "inn": "",
    }, format="json")
    assert response.status_code == 201
    assert Institution.objects.get(short_name="Без ИНН").inn is None


@pytest.mark.parametrize(("link", "network", "network_id", "screen_name", "url"), [
    ("vk.com/club777001", Network.VK, 777001, "", "https://vk.com/club777001"),
    ("https://m.vk.com/dk_alekseevka?from=search", Network.VK, None, "dk_alekseevka",
     "https://vk.com/dk_alekseevka"),
    ("ok.ru/group/53038939046008/", Network.OK, 53038939046008, "",
     "https://ok.ru/group/53038939046008"),
])
def test_the_regional_methodologist_adds_a_community_by_pasting_its_link(
    world, regional, api_as, link, network, network_id, screen_name, url
):
    a = world["a"].institution
    response = api_as(regional).post(
        "/api/v1/communities/", {"institution": a.pk, "url": link}, format="json"
    )
    assert response.status_code == 201, response.json()
    community = Community.objects.get(pk=response.json()["id"])
    assert (community.network, community.network_id, community.screen_name, community.url) == (
        network, network_id, screen_name, url)


def test_a_link_that_is_no_community_is_rejected_naming_the_input(world, regional, api_as):
    response = api_as(regional).post("/api/v1/communities/", {
        "institution": world["a"].institution_id, "url": "https://example.com/club1",
    }, format="json")
    assert response.status_code == 400
    assert "«https://example.com/club1»" in response.json()["error"]["details"]["url"][0]


def test_a_duplicate_community_is_rejected_in_russian_in_the_one_error_shape(
    world, regional, api_as
):
    existing = world["b"]
    before = Community.objects.count()
    response = api_as(regional).post("/api/v1/communities/", {
        "institution": world["a"].institution_id, "url": f"vk.com/public{existing.network_id}",
    }, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": {
        "code": "validation_failed",
        "message": "Данные не прошли проверку.",
        "details": {"url": [
            f"Сообщество «https://vk.com/club{existing.network_id}» уже есть в реестре "
            f"(учреждение «{B_INST}»)."
        ]},
    }}
    assert Community.objects.count() == before


def test_a_duplicate_screen_name_is_rejected_too(world, regional, api_as):
    client = api_as(regional)
    a = world["a"].institution_id
    first = client.post("/api/v1/communities/", {"institution": a, "url": "vk.com/dk_alex"},
                        format="json")
    assert first.status_code == 201
    again = client.post("/api/v1/communities/", {"institution": a, "url": "https://vk.ru/DK_Alex/"},
                        format="json")
    assert again.status_code == 400
    assert "уже есть в реестре" in again.json()["error"]["details"]["url"][0]


def test_the_regional_methodologist_edits_and_deletes(world, regional, api_as):
    client = api_as(regional)
    a = world["a"]
    renamed = client.patch(f"/api/v1/institutions/{a.institution_id}/",
                           {"short_name": "ДК «Юность»"}, format="json")
    assert renamed.status_code == 200
    assert Institution.objects.get(pk=a.institution_id).short_name == "ДК «Юность»"
    assert client.delete(f"/api/v1/communities/{a.pk}/").status_code == 204
    assert not Community.objects.filter(pk=a.pk).exists()


def test_a_territory_with_institutions_cannot_be_deleted_through_the_api(world, regional, api_as):
    territory_a = world["a"].institution.territory
    response = api_as(regional).delete(f"/api/v1/territories/{territory_a.pk}/")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "Нельзя удалить территорию, пока к ней относятся учреждения.",
        "details": None,
    }
    assert Territory.objects.filter(pk=territory_a.pk).exists()


def test_admin_is_only_for_regional_methodologists_even_when_staff(municipal_a, regional, login):
    """The admin is unscoped: a municipal user made staff by mistake still cannot enter it."""
    municipal_a.is_staff = True
    municipal_a.save()
    assert login(municipal_a).get("/admin/").status_code == 302
    regional.is_staff = True
    regional.save()
    assert login(regional).get("/admin/").status_code == 200
