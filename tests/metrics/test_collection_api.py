"""The runs API: read-only, for every role; per-community errors scoped like the registry."""

import pytest

from institutions.choices import Network
from metrics.collect.choices import RunKind
from metrics.collect.runs import collection_run_create
from tests.metrics.test_collection_pages import a_run_with_problems

pytestmark = pytest.mark.django_db
API = "/api/v1/collection-runs/"


@pytest.mark.parametrize(("persona", "status"), [
    ("regional", 200), ("municipal_a", 200), ("editor_a", 200), ("viewer", 200),
    ("api_client_user", 200), ("outsider", 403),
])
def test_who_may_read_runs(request, api_as, world, persona, status):
    run = a_run_with_problems(world)
    client = api_as(request.getfixturevalue(persona))
    assert client.get(API).status_code == status
    assert client.get(f"{API}{run.pk}/").status_code == status
    assert client.get(f"{API}{run.pk}/items/").status_code == status


def test_runs_cannot_be_written_through_the_api(api_as, regional, world):
    run = a_run_with_problems(world)
    assert api_as(regional).post(API, {"kind": "members"}, format="json").status_code == 405
    assert api_as(regional).delete(f"{API}{run.pk}/").status_code == 405


def test_a_run_reads_with_its_counts(api_as, viewer, world):
    run = a_run_with_problems(world)
    body = api_as(viewer).get(f"{API}{run.pk}/").json()
    assert (body["kind"], body["state"], body["skipped"], body["percent"]) == (
        "members", "done", 2, 100)


def test_items_are_scoped_to_the_users_territory(api_as, municipal_a, regional, world):
    run = a_run_with_problems(world)
    mine = api_as(municipal_a).get(f"{API}{run.pk}/items/").json()["results"]
    assert [i["community"] for i in mine] == [world["a"].pk]
    assert mine[0]["message"] == "сообщество закрыто"
    everything = api_as(regional).get(f"{API}{run.pk}/items/").json()["results"]
    assert {i["community"] for i in everything} == {world["a"].pk, world["b"].pk}


def test_the_runs_list_is_guarded_against_n_plus_one(api_as, regional, django_assert_num_queries):
    client = api_as(regional)
    collection_run_create(kind=RunKind.MEMBERS, network=Network.VK, user=regional)
    client.get(API)
    with django_assert_num_queries(4) as few:
        client.get(API)
    for _ in range(10):
        collection_run_create(kind=RunKind.MEMBERS, network=Network.OK, user=regional)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(API).json()["count"] == 11
