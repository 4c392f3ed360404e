import pytest


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"openapi" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_municipal_user_sees_only_own_territory(world, municipal_a, api_as):
    body = api_as(municipal_a).get("/api/v1/institutions/").json()
    names = {row["short_name"] for row in body["results"]}
    assert names == {"Дом культуры Алексеевки", "Областная библиотека"}
