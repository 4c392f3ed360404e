"""The run page's progress bar follows a running collection in a real browser.

Reuses the browser fixtures of tests/browser/ (Debian's Chromium through Playwright).
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from institutions.choices import Network
from metrics.collect.choices import RunKind, RunState
from metrics.collect.runs import collection_run_create
from metrics.models import CollectionRun
from tests.browser import conftest as browser_fixtures

pytestmark = pytest.mark.browser
# The browser fixtures live in tests/browser/conftest.py; make them visible to this module.
base_url = browser_fixtures.base_url
browser_context_args = browser_fixtures.browser_context_args
browser_type_launch_args = browser_fixtures.browser_type_launch_args
page = browser_fixtures.page
logged_in_page = browser_fixtures.logged_in_page


def test_the_progress_bar_follows_a_running_run(logged_in_page, regional, world):
    run = collection_run_create(kind=RunKind.MEMBERS, network=Network.VK)
    CollectionRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING,
                                                   started_at=timezone.now())
    tab = logged_in_page(regional)
    tab.goto(f"/collection/runs/{run.pk}/")
    expect(tab.locator("#run-state")).to_have_text("Идёт")

    CollectionRun.objects.filter(pk=run.pk).update(done=1)
    expect(tab.locator("#run-done")).to_have_text("1")
    expect(tab.locator("#run-progress")).to_have_attribute("value", "50")

    CollectionRun.objects.filter(pk=run.pk).update(done=2, state=RunState.DONE,
                                                   finished_at=timezone.now())
    expect(tab.locator("#run-state")).to_have_text("Завершён")
    expect(tab.locator("#run-items")).to_contain_text("Ошибок нет")
