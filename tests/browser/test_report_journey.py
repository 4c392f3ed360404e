"""The whole Table-1 journey in Chromium: the editor fills and submits, the municipal user
accepts, the regional methodologist approves, and the editor can no longer edit the month."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from reports.models import Report, ReportState
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login_through_form
from tests.reports.helpers_table1 import FEBRUARY, MARCH, NORMAL, NORMAL_PREV, fill, stored


@pytest.fixture
def tab_for(browser: Browser, browser_context_args: dict, base_url: str):
    """``tab_for(user)``: a separate browser context logged in as that user."""
    contexts = []

    def open_tab(user) -> Page:
        context = browser.new_context(**{**browser_context_args, "base_url": base_url})
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(DEFAULT_TIMEOUT_MS)
        return login_through_form(tab, user)

    yield open_tab
    for context in contexts:
        context.close()


def cell(page: Page, community, month, indicator: str):
    return page.locator(f'input[name="v-{community.pk}-{month:%Y-%m}-{indicator}"]')


def paste(page: Page, target, text: str) -> None:
    """Fire the paste event a browser fires for Ctrl+V with ``text`` on the clipboard."""
    target.focus()
    target.evaluate(
        """(el, text) => {
            const data = new DataTransfer();
            data.setData('text/plain', text);
            el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                          cancelable: true}));
        }""",
        text,
    )


def test_report_journey(tab_for, community_a, institution_a, editor_a, municipal_a, regional):
    fill(community_a, FEBRUARY, NORMAL_PREV)
    editor = tab_for(editor_a)
    editor.get_by_role("link", name="Таблица 1").first.click()
    editor.get_by_role("link", name="открыть 2026").click()
    expect(editor.locator("h1")).to_contain_text("Дом культуры Алексеевки")
    # The heading can be parsed before the grid's script has run; a key pressed then would
    # reach the browser's own Enter (submit the form), not the grid's handler.
    editor.wait_for_load_state()

    # Enter moves down to the next indicator, like in Excel.
    cell(editor, community_a, MARCH, "members").focus()
    editor.keyboard.press("Enter")
    expect(cell(editor, community_a, MARCH, "visits")).to_be_focused()

    # A column copied from Excel fills five cells at once.
    column = "\n".join(str(NORMAL[i]) for i in NORMAL) + "\n"
    paste(editor, cell(editor, community_a, MARCH, "members"), column.replace("1000", "1 000"))
    expect(cell(editor, community_a, MARCH, "feedback")).to_have_value("40")
    expect(cell(editor, community_a, MARCH, "members")).to_have_value("1000")
    editor.get_by_role("button", name="Сохранить").click()
    expect(editor.locator(".messages")).to_contain_text("изменено значений: 5")
    assert stored(community_a, MARCH) == NORMAL

    editor.locator(f'thead a.state[href$="/{MARCH:%Y-%m}/"]').first.click()  # «черновик»
    expect(editor.locator("#report-state")).to_have_text("черновик")
    editor.locator("#action-submit button").click()
    expect(editor.locator("#report-state")).to_have_text("отправлен")
    report_path = re.sub(r"^https?://[^/]+", "", editor.url)

    municipal = tab_for(municipal_a)
    municipal.goto(report_path)
    municipal.locator("#action-accept textarea").fill("Цифры сверены со статистикой VK")
    municipal.locator("#action-accept button").click()
    expect(municipal.locator("#report-state")).to_have_text("принят муниципалитетом")

    methodologist = tab_for(regional)
    methodologist.goto(report_path)
    expect(methodologist.locator("#report-trail")).to_contain_text("Цифры сверены")
    methodologist.locator("#action-approve button").click()
    expect(methodologist.locator("#report-state")).to_have_text("утверждён")
    assert Report.objects.get(institution=institution_a, month=MARCH).state == (
        ReportState.APPROVED)

    # The editor can no longer edit March: no inputs, no actions; February stays editable.
    editor.goto(report_path)
    expect(editor.locator("#report-actions")).to_have_count(0)
    editor.get_by_role("link", name="Таблица 1 за 2026").click()
    expect(cell(editor, community_a, MARCH, "members")).to_have_count(0)
    expect(cell(editor, community_a, FEBRUARY, "members")).to_have_count(1)
    expect(editor.locator("table.table1 tbody")).to_contain_text("1000")
