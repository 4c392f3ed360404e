"""In a real browser: «Подключить VK», allow on the network's page, see the administered
communities, and collect their statistics with the new token (the emulator plays VK ID)."""

import pytest
from playwright.sync_api import expect

from metrics.models import MetricValue, NetworkToken
from tests.browser import conftest as browser_fixtures
from tests.metrics.conftest import make_communities, vk_ids
from tests.metrics.test_oauth import oauth  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser
base_url = browser_fixtures.base_url
browser_context_args = browser_fixtures.browser_context_args
browser_type_launch_args = browser_fixtures.browser_type_launch_args
page = browser_fixtures.page
logged_in_page = browser_fixtures.logged_in_page


def test_connect_vk_see_the_communities_and_collect_statistics(oauth, logged_in_page,  # noqa: F811
                                                               regional):
    administered, other = make_communities(vk_ids("active", 2))
    tab = logged_in_page(regional)
    tab.goto("/collection/tokens/")
    tab.get_by_role("link", name="Подключить VK").click()
    expect(tab.get_by_role("heading", name="VK ID (эмулятор): разрешить доступ")).to_be_visible()
    tab.fill("#admin_ids", str(administered.network_id))
    tab.get_by_role("button", name="Разрешить").click()

    expect(tab.get_by_role("heading", name="Аккаунт ВКонтакте подключён")).to_be_visible()
    expect(tab.locator("#administered li")).to_have_count(1)
    expect(tab.locator("#administered")).to_contain_text(administered.institution.short_name)
    token = NetworkToken.objects.get()
    assert list(token.communities.all()) == [administered]

    tab.get_by_role("link", name="К сбору данных").click()
    tab.select_option("#id_kind", "stats")
    tab.select_option("#id_network", "vk")
    tab.get_by_role("button", name="Собрать сейчас").click()
    expect(tab.locator("#run-state")).to_have_text("Завершён")
    assert MetricValue.objects.filter(community=administered, source="vk_api").exists()
    assert not MetricValue.objects.filter(community=other).exists()
