"""The Content-Security-Policy in a real browser: Swagger UI, the charts and the run's progress
bar still run their scripts, and Chromium reports no refused resource.

It lives here, with the other Playwright tests, because pytest-playwright keeps one session-wide
event loop: a second ``sync_playwright()`` elsewhere in the run would collide with it.
"""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import ConsoleMessage, Page, expect

from metrics.collect.choices import RunKind
from metrics.models import CollectionRun


def test_swagger_ui_charts_and_progress_run_in_chromium_without_csp_violations(
        logged_in_page, regional, world):
    run = CollectionRun.objects.create(kind=RunKind.MEMBERS, network="vk",
                                       period=dt.date(2026, 1, 1))
    violations: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page: Page = logged_in_page(regional)
    page.on("console", note)
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Портал госпабликов")
    expect(page.locator(".opblock").first).to_be_visible()
    page.goto("/charts/audience/")
    page.wait_for_load_state("networkidle")
    page.goto(f"/collection/runs/{run.pk}/")
    page.wait_for_load_state("networkidle")
    assert not violations, violations
