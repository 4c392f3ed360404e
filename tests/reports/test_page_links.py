"""The registry and institution pages lead to "why this place", the summary and the exports."""

import re

import pytest

from reports.exports.xlsx import XLSX_CONTENT_TYPE

pytestmark = pytest.mark.django_db

READERS = ["regional", "municipal_a", "editor_a", "viewer"]


def hrefs(body: str, pattern: str) -> list[str]:
    """Every link target in ``body`` whose path matches ``pattern`` (HTML-unescaped)."""
    found = re.findall(r'href="([^"]+)"', body)
    return [h.replace("&amp;", "&") for h in found if re.match(pattern, h)]


def get_ok(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


@pytest.mark.parametrize("persona", READERS)
def test_the_registry_links_to_its_excel_export_and_each_why_page(request, world, login,
                                                                  persona):
    client = login(request.getfixturevalue(persona))
    body = get_ok(client, "/registry/").content.decode()

    assert hrefs(body, r"^/exports/registry\.xlsx$") == ["/exports/registry.xlsx"]
    export = get_ok(client, "/exports/registry.xlsx")
    assert export["Content-Type"] == XLSX_CONTENT_TYPE
    why = hrefs(body, r"^/rankings/why/institution/\d+/$")
    listed = set(re.findall(r'href="/registry/(\d+)/"', body))
    assert why and {w.split("/")[-2] for w in why} == listed
    for url in why:
        assert "Почему это место" in get_ok(client, url).content.decode()
    for url in set(hrefs(body, r"^/summaries/\?territory=\d+$")):
        get_ok(client, url)


@pytest.mark.parametrize("persona", READERS)
def test_the_institution_page_links_to_why_and_to_its_territory_summary(request, world, login,
                                                                        persona):
    user = request.getfixturevalue(persona)
    institution = world["a"].institution
    client = login(user)
    body = get_ok(client, f"/registry/{institution.pk}/").content.decode()

    why = f"/rankings/why/institution/{institution.pk}/"
    assert why in hrefs(body, r"^/rankings/why/")
    page = get_ok(client, why).content.decode()
    assert "Почему это место: Дом культуры Алексеевки" in page
    summary_url = f"/summaries/?territory={institution.territory_id}"
    assert hrefs(body, r"^/summaries/\?") == [summary_url]
    summary = get_ok(client, summary_url).content.decode()
    assert "Сводный отчёт: Алексеевский муниципальный район" in summary
    (export_url,) = hrefs(summary, r"^/summaries/export\.xlsx\?")
    assert get_ok(client, export_url)["Content-Type"] == XLSX_CONTENT_TYPE
    assert f'href="/registry/{institution.pk}/"' in summary  # and back to the institution


def test_the_home_page_links_a_municipal_users_territories_to_their_summaries(
        world, login, municipal_a, territory_a):
    client = login(municipal_a)
    body = get_ok(client, "/").content.decode()
    # Linked from the scope line and from «Мои задачи»: only their own territory's summary.
    assert set(hrefs(body, r"^/summaries/\?")) == {f"/summaries/?territory={territory_a.pk}"}
    get_ok(client, f"/summaries/?territory={territory_a.pk}")


def test_a_user_without_a_role_gets_no_links_that_would_be_refused(world, login, outsider):
    client = login(outsider)
    body = get_ok(client, "/registry/").content.decode()
    assert not hrefs(body, r"^/(exports/registry|rankings/why|summaries/\?)")
    assert client.get("/exports/registry.xlsx").status_code == 403
    why = f"/rankings/why/institution/{world['a'].institution_id}/"
    assert client.get(why).status_code == 403

