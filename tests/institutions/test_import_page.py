"""Stories of the registry import page: preview first, «Применить» second, methodologists only."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from institutions.models import Community, Institution
from tests.factories import CommunityFactory
from tests.institutions.test_import import inn, registry_snapshot, xlsx

UPLOAD_URL = reverse("registry-import")
APPLY_URL = reverse("registry-import-apply")


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path) -> Path:
    settings.IMPORT_UPLOAD_DIR = str(tmp_path)
    return tmp_path / "portal-registry-imports"


def upload(data: bytes, name: str = "реестр.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def new_institution_file(territory, *, rows: int = 1) -> bytes:
    return xlsx([
        [territory.name, f"Сельский клуб № {n}", "", "клуб", inn(100 + n), f"club{560_000 + n}", ""]
        for n in range(rows)
    ])


def preview(client: Client, data: bytes, name: str = "реестр.xlsx"):
    return client.post(UPLOAD_URL, {"file": upload(data, name)})


# --- who may use it -------------------------------------------------------------------------------


def test_regional_methodologist_opens_the_upload_page(login, regional):
    response = login(regional).get(UPLOAD_URL)

    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()


@pytest.mark.parametrize(
    "persona", ["municipal_a", "editor_a", "viewer", "api_client_user", "outsider"]
)
def test_everyone_else_is_refused_the_page_and_both_steps(request, login, persona, territory_a):
    client = login(request.getfixturevalue(persona))
    before = registry_snapshot()

    assert client.get(UPLOAD_URL).status_code == 403
    assert preview(client, new_institution_file(territory_a)).status_code == 403
    assert client.post(APPLY_URL, {"token": "x" * 43}).status_code == 403
    assert registry_snapshot() == before


def test_anonymous_visitor_is_sent_to_login(client):
    for response in (client.get(UPLOAD_URL), client.post(APPLY_URL, {"token": "x"})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_apply_accepts_only_post(login, regional):
    assert login(regional).get(APPLY_URL).status_code == 405


def test_registry_page_links_to_the_import_for_methodologists_only(login, regional, municipal_a):
    assert UPLOAD_URL in login(regional).get(reverse("registry")).content.decode()
    assert UPLOAD_URL not in login(municipal_a).get(reverse("registry")).content.decode()


# --- preview, then apply --------------------------------------------------------------------------


def test_preview_shows_the_plan_and_apply_writes_it(login, regional, territory_a, upload_dir):
    client = login(regional)
    before = Institution.objects.count()

    response = preview(client, new_institution_file(territory_a, rows=2))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Учреждений будет создано: 2" in page
    assert "Сельский клуб № 1" in page and "Применить" in page
    assert Institution.objects.count() == before
    token = response.context["token"]
    assert (upload_dir / f"{token}.xlsx").is_file()

    applied = client.post(APPLY_URL, {"token": token}, follow=True)

    assert applied.redirect_chain == [(reverse("registry"), 302)]
    assert "Импорт реестра выполнен" in applied.content.decode()
    assert Institution.objects.count() == before + 2
    assert Community.objects.filter(network_id__in=[560_000, 560_001]).count() == 2
    assert not (upload_dir / f"{token}.xlsx").exists()


def test_applying_the_same_upload_twice_writes_once(login, regional, territory_a):
    client = login(regional)
    token = preview(client, new_institution_file(territory_a)).context["token"]
    client.post(APPLY_URL, {"token": token})
    after_first = registry_snapshot()

    again = client.post(APPLY_URL, {"token": token}, follow=True)

    assert "не найден или устарел" in again.content.decode()
    assert registry_snapshot() == after_first


def test_another_session_cannot_apply_someone_elses_upload(login, regional, territory_a):
    token = preview(login(regional), new_institution_file(territory_a)).context["token"]
    before = registry_snapshot()

    response = login(regional).post(APPLY_URL, {"token": token}, follow=True)

    assert "не найден или устарел" in response.content.decode()
    assert registry_snapshot() == before


def test_apply_plans_again_and_rejects_what_changed_since_the_preview(
    login, regional, territory_a, institution_b
):
    client = login(regional)
    token = preview(client, new_institution_file(territory_a)).context["token"]
    CommunityFactory(institution=institution_b, network_id=560_000)
    before = registry_snapshot()

    response = client.post(APPLY_URL, {"token": token})

    page = response.content.decode()
    assert response.status_code == 200
    assert "уже принадлежит другому учреждению" in page
    assert "Импорт невозможен" in page
    assert registry_snapshot() == before


def test_rejected_file_shows_row_reasons_and_offers_no_apply(
    login, regional, territory_a, upload_dir
):
    data = xlsx([
        [territory_a.name, "Хороший ДК", "", "ДК", "", "", ""],
        ["Нигдейский район", "ДК", "", "ДК", "", "", ""],
    ])

    response = preview(login(regional), data)

    page = response.content.decode()
    assert ("Территория «Нигдейский район» не найдена в реестре; чтобы создать её, "
            "укажите код ОКТМО") in page
    assert "Импорт невозможен" in page
    assert 'id="import-apply"' not in page
    assert response.context["token"] is None
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


def test_file_already_in_the_registry_has_nothing_to_apply(login, regional, territory_a):
    client = login(regional)
    token = preview(client, new_institution_file(territory_a)).context["token"]
    client.post(APPLY_URL, {"token": token})

    response = preview(client, new_institution_file(territory_a))

    assert "применять нечего" in response.content.decode()
    assert response.context["token"] is None


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"just text", "реестр.xlsx", "не является книгой Excel"),
        (b"a;b;c\n", "реестр.csv", "Нужен файл Excel в формате .xlsx."),
    ],
)
def test_wrong_file_is_refused_on_the_form(login, regional, data, name, message):
    response = preview(login(regional), data, name)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["plan"] is None


def test_file_over_the_limit_is_refused_on_the_form(login, regional, territory_a, settings):
    settings.UPLOAD_MAX_BYTES = 1000

    response = preview(login(regional), new_institution_file(territory_a))

    assert "Файл больше допустимых" in response.content.decode()
    assert response.context["plan"] is None


def test_preview_query_count_does_not_grow_with_the_file(
    login, regional, territory_a, world, django_assert_num_queries
):
    client = login(regional)
    client.get(UPLOAD_URL)  # the session row exists from here on

    # session, user, profile; territories, institutions, communities; the session save (3 queries
    # inside the test's transaction: savepoint, update, release).
    with django_assert_num_queries(9):
        preview(client, new_institution_file(territory_a, rows=3))
    with django_assert_num_queries(9):
        preview(client, new_institution_file(territory_a, rows=60))
