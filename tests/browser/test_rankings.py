"""In the browser: the methodologist filters a ranking, sees the chart drawn, downloads Excel."""

import datetime as dt

import openpyxl
import pytest
from playwright.sync_api import expect

from institutions.models import Community
from metrics.models import MemberSnapshot
from tests.factories import CommunityFactory

D1, D2 = dt.date(2026, 1, 10), dt.date(2026, 2, 20)


@pytest.fixture
def grown(world):
    """Three communities: two in territory A (growth 50 and 10), one in B (growth 20)."""
    extra = CommunityFactory(institution=world["regional"], title="Областная библиотека ВК")
    growth = {world["a"].pk: 50, world["b"].pk: 20, extra.pk: 10}
    for community in Community.objects.all():
        MemberSnapshot.objects.create(community=community, date=D1, members=700)
        MemberSnapshot.objects.create(community=community, date=D2,
                                      members=700 + growth[community.pk])
    return world


def table_titles(page) -> list[str]:
    return page.locator("#ranking-table tbody td:nth-child(3) a").all_inner_texts()


def test_filter_the_ranking_see_the_chart_and_download_it(logged_in_page, regional, grown,
                                                          tmp_path):
    page = logged_in_page(regional)
    page.get_by_role("link", name="Рейтинги", exact=True).click()
    page.locator("#id_date_from").fill(D1.isoformat())
    page.locator("#id_date_to").fill(D2.isoformat())
    page.get_by_role("button", name="Показать").click()
    expect(page.locator("#ranking-count")).to_have_text("3")
    assert table_titles(page) == ["ДК Алексеевки ВКонтакте", "Библиотека Бора ВКонтакте",
                                  "Областная библиотека ВК"]

    territory = grown["a"].institution.territory
    page.locator("#id_territory").select_option(label=territory.name)
    page.locator("#id_flagship").check()
    page.get_by_role("button", name="Показать").click()
    expect(page.locator("#ranking-count")).to_have_text("2")
    assert table_titles(page) == ["ДК Алексеевки ВКонтакте", "Областная библиотека ВК"]
    expect(page.locator("#ranking-formula")).to_contain_text("Прирост = участники")

    canvas = page.locator("canvas#ranking-chart")
    expect(canvas).to_be_visible()
    drawn = page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('ranking-chart'));"
        " return c ? c.data.datasets[0].data : null; }")
    assert drawn == [50, 10]

    with page.expect_download() as info:
        page.locator("#export-xlsx").click()
    path = tmp_path / "ranking.xlsx"
    info.value.save_as(path)
    rows = list(openpyxl.load_workbook(path)["Рейтинг"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Место")
    community_col = rows[header].index("Сообщество")
    assert [r[community_col] for r in rows[header + 1:]] == ["ДК Алексеевки ВКонтакте",
                                                             "Областная библиотека ВК"]


def test_the_reports_filter_shows_only_for_table1_figures(logged_in_page, regional, grown):
    """Approval does not touch a collected figure, so its filter is not offered for one."""
    page = logged_in_page(regional)
    page.goto(f"/rankings/?metric=growth&date_from={D1.isoformat()}"
              f"&date_to={D2.isoformat()}")
    expect(page.locator("#ranking-count")).to_have_text("3")
    states = page.locator("#id_states")
    expect(states).to_have_count(1)
    expect(states).to_be_hidden()
    page.locator("#id_metric").select_option("t1_visits")
    expect(states).to_be_visible()
    expect(states).to_be_enabled()
    page.locator("#id_states").select_option("approved")
    page.get_by_role("button", name="Показать").click()
    assert "states=approved" in page.url
    expect(page.locator("#id_states")).to_be_visible()

    page.locator("#id_metric").select_option("growth")
    expect(page.locator("#id_states")).to_be_hidden()
    page.get_by_role("button", name="Показать").click()
    assert "states=" not in page.url  # a hidden filter is not sent
