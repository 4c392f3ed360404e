"""Published rankings: frozen versions under stable addresses, public, immutable."""

import datetime as dt
import io

import openpyxl
import pytest

from institutions.models import Community
from metrics.models import MemberSnapshot
from portal.errors import NotAllowed, ValidationFailed
from reports.models import PublishedRanking, PublishedRankingVersion
from reports.rankings import RankingParams
from reports.rankings.publishing import ranking_publish

D1, D2 = dt.date(2026, 7, 5), dt.date(2026, 8, 7)
QUERY = f"metric=growth&date_from={D1}&date_to={D2}&flagship=on&top=10"
FORM = {"title": "ТОП-10 флагманских госпабликов по приросту аудитории",
        "slug": "top-flagship-growth", "methodology": "Прирост подписчиков за период."}


@pytest.fixture
def grown(world):
    growth = {world["a"].pk: 120, world["b"].pk: 60}
    for community in Community.objects.all():
        MemberSnapshot.objects.create(community=community, date=D1, members=600)
        MemberSnapshot.objects.create(community=community, date=D2,
                                      members=600 + growth.get(community.pk, 0))
    return world


def _publish(client):
    return client.post(f"/rankings/publish/?{QUERY}", FORM)


def test_the_methodologist_publishes_a_public_version(login, regional, grown, client):
    response = _publish(login(regional))
    assert response.status_code == 302
    assert response["Location"] == "/rankings/p/top-flagship-growth/v1/"
    version = PublishedRankingVersion.objects.get()
    assert [(r["place"], r["community"], r["value"]) for r in version.rows] == [
        (1, "ДК Алексеевки ВКонтакте", 120), (2, "Библиотека Бора ВКонтакте", 60)
    ]
    assert "community_id" not in version.rows[0]
    assert version.data_as_of == D2
    assert "Только флагманские сообщества (более 500 участников)" in version.params["description"]
    page = client.get("/rankings/p/top-flagship-growth/v1/")  # anonymous
    assert page.status_code == 200
    body = page.content.decode()
    assert "ДК Алексеевки ВКонтакте" in body and "Прирост подписчиков за период." in body
    assert client.get("/rankings/p/top-flagship-growth/").status_code == 302


def test_a_published_version_does_not_change_when_the_data_does(login, regional, grown, client):
    _publish(login(regional))
    before_page = client.get("/rankings/p/top-flagship-growth/v1/").content
    before_api = client.get("/api/v1/published-rankings/top-flagship-growth/versions/1/").json()
    MemberSnapshot.objects.filter(date=D2).update(members=5000)
    Community.objects.filter(pk=grown["a"].pk).update(title="Переименовано")
    assert client.get("/rankings/p/top-flagship-growth/v1/").content == before_page
    after_api = client.get("/api/v1/published-rankings/top-flagship-growth/versions/1/").json()
    assert after_api == before_api
    assert after_api["results"][0]["community"] == "ДК Алексеевки ВКонтакте"


def test_publishing_again_makes_a_new_version(login, regional, grown):
    client = login(regional)
    _publish(client)
    MemberSnapshot.objects.filter(community=grown["b"], date=D2).update(members=900)
    response = _publish(client)
    assert response["Location"] == "/rankings/p/top-flagship-growth/v2/"
    v1, v2 = PublishedRankingVersion.objects.order_by("number")
    assert v1.rows[0]["community"] == "ДК Алексеевки ВКонтакте"
    assert v2.rows[0]["community"] == "Библиотека Бора ВКонтакте"
    assert PublishedRanking.objects.count() == 1


def test_only_the_regional_methodologist_may_publish(login, municipal_a, viewer, grown):
    for user in (municipal_a, viewer):
        assert _publish(login(user)).status_code == 403
    params = RankingParams(metric="growth", date_from=D1, date_to=D2)
    with pytest.raises(NotAllowed):
        ranking_publish(user=municipal_a, params=params, **FORM)
    assert not PublishedRankingVersion.objects.exists()


def test_a_bad_address_is_refused_and_nothing_is_saved(regional, grown):
    params = RankingParams(metric="growth", date_from=D1, date_to=D2)
    with pytest.raises(ValidationFailed, match="латинские строчные буквы"):
        ranking_publish(user=regional, params=params, **{**FORM, "slug": "Рейтинг 1"})
    assert not PublishedRanking.objects.exists()


def test_published_exports_come_from_the_frozen_rows(login, regional, grown, client):
    _publish(login(regional))
    MemberSnapshot.objects.filter(date=D2).update(members=1)
    response = client.get("/rankings/p/top-flagship-growth/v1/export.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book["Рейтинг"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Место")
    growth_col = rows[header].index("Прирост, чел.")
    assert [r[growth_col] for r in rows[header + 1:]] == [120, 60]
    csv_response = client.get("/api/v1/published-rankings/top-flagship-growth/?format=csv")
    assert csv_response.status_code == 200
    assert "ДК Алексеевки ВКонтакте" in b"".join(csv_response.streaming_content).decode()


def test_unknown_published_rankings_are_not_found(client, db):
    assert client.get("/rankings/p/nothing/v1/").status_code == 404
    assert client.get("/api/v1/published-rankings/nothing/").status_code == 404
    assert client.get("/rankings/p/nothing/v1/export.pdf").status_code == 404


def test_published_list_query_count(login, regional, grown, client, django_assert_num_queries):
    _publish(login(regional))
    _publish(login(regional))
    with django_assert_num_queries(2):  # rankings, their versions
        page = client.get("/rankings/p/")
    assert "v1" in page.content.decode() and "v2" in page.content.decode()
    with django_assert_num_queries(2):
        body = client.get("/api/v1/published-rankings/").json()
    assert [v["number"] for v in body[0]["versions"]] == [2, 1]


def test_the_methodology_and_its_notes_are_printed_once(regional, world, login):
    """The notes (formula first) are stored with the version; a methodology that already quotes
    them — as the publish form used to prefill it — does not print them a second time."""
    from django.http import QueryDict

    from reports.rankings.forms import parse_ranking_params
    from reports.rankings.publishing import ranking_publish
    from reports.rankings.results import ranking_notes

    params = parse_ranking_params(
        QueryDict("metric=growth&date_from=2026-01-01&date_to=2026-01-31"), user=regional)
    notes = ranking_notes(params)
    version = ranking_publish(user=regional, params=params, title="Рейтинг прироста",
                              slug="once", methodology=f"{notes[0]}. " + " ".join(notes))
    text = login(regional).get(f"/rankings/p/once/v{version.number}/").content.decode()
    assert all(text.count(note) == 1 for note in notes[1:])
    page = login(regional).get("/rankings/?metric=growth&date_from=2026-01-01"
                               "&date_to=2026-01-31").content.decode()
    form = page[page.index('name="methodology"'):]
    prefilled = form[:form.index("</textarea>")]
    assert notes[0] in prefilled and not any(n in prefilled for n in notes[1:])
