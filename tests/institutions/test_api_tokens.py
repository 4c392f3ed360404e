"""Self-service API tokens: made by their owner, shown once, stored hashed, revocable, scoped."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from institutions.models import ApiToken

pytestmark = pytest.mark.django_db


def _token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _all_text_in_database() -> str:
    """Every text column of every row of the token table, as one string."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        return " ".join(str(cell) for row in cursor.fetchall() for cell in row)


def test_the_owner_creates_a_token_on_the_profile_page_and_sees_it_once(login, regional):
    page = login(regional)
    answer = page.post("/profile/", {"name": "Выгрузка в BI"})
    assert answer.status_code == 200
    key = answer.context["new_key"]
    assert key in answer.content.decode()
    assert answer["Cache-Control"] == "no-store"
    again = page.get("/profile/").content.decode()
    assert "Выгрузка в BI" in again and key not in again
    assert _token_client(key).get("/api/v1/territories/").status_code == 200


def test_tokens_are_not_readable_from_the_database(api_as, regional):
    created = api_as(regional).post("/api/v1/tokens/", {"name": "скрипт"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    secret_part = key.partition(".")[2]
    stored = _all_text_in_database()
    assert secret_part not in stored and key not in stored
    token = ApiToken.objects.get(prefix=created.json()["prefix"])
    assert token.hashed_key.startswith("sha512$$") and len(token.hashed_key) > 100


def test_a_token_obtained_with_the_password_works_and_records_its_last_use(regional):
    regional.set_password("s3cret-pass!")
    regional.save()
    answer = APIClient().post("/api/v1/tokens/obtain/", {
        "username": "methodist", "password": "s3cret-pass!", "name": "cron"}, format="json")
    assert answer.status_code == 201, answer.content
    key = answer.json()["key"]
    assert ApiToken.objects.get(prefix=answer.json()["prefix"]).last_used_at is None
    assert _token_client(key).get("/api/v1/communities/").status_code == 200
    listed = _token_client(key).get("/api/v1/tokens/").json()["results"]
    assert [row["name"] for row in listed] == ["cron"] and "key" not in listed[0]
    assert listed[0]["last_used_at"] is not None


def test_a_wrong_password_obtains_no_token_and_answers_json(regional):
    answer = APIClient().post("/api/v1/tokens/obtain/", {
        "username": "methodist", "password": "wrong", "name": "x"}, format="json")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "authentication_failed"
    assert not ApiToken.objects.exists()


def test_a_revoked_token_is_refused(api_as, editor_a):
    owner = api_as(editor_a)
    key = owner.post("/api/v1/tokens/", {"name": "временный"}, format="json").json()["key"]
    prefix = key.partition(".")[0]
    assert _token_client(key).delete(f"/api/v1/tokens/{prefix}/").status_code == 204
    refused = _token_client(key).get("/api/v1/territories/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"
    assert ApiToken.objects.get(prefix=prefix).revoked


def test_a_token_sees_exactly_what_its_owner_sees(api_as, municipal_a, world):
    answer = api_as(municipal_a).get("/api/v1/communities/").json()
    assert [row["id"] for row in answer["results"]] == [world["a"].pk]


def test_nobody_revokes_or_lists_another_persons_tokens(api_as, regional, editor_a, login):
    key = api_as(editor_a).post("/api/v1/tokens/", {"name": "мой"}, format="json").json()["key"]
    prefix = key.partition(".")[0]
    methodologist = api_as(regional)
    assert methodologist.delete(f"/api/v1/tokens/{prefix}/").status_code == 404
    assert all(row["name"] != "мой" for row in
               methodologist.get("/api/v1/tokens/").json()["results"])
    login(regional).post(f"/profile/tokens/{prefix}/revoke/")
    assert not ApiToken.objects.get(prefix=prefix).revoked


def test_a_person_without_a_role_gets_no_token(login, outsider):
    answer = login(outsider).post("/profile/", {"name": "x"})
    assert "new_key" not in answer.context
    assert not ApiToken.objects.exists()


def test_a_deactivated_owner_s_token_stops_working(api_as, viewer):
    _, key = ApiToken.objects.create_key(user=viewer, name="старый")
    viewer.is_active = False
    viewer.save()
    assert _token_client(key).get("/api/v1/territories/").status_code == 401
