"""A reporting month end to end in Chromium, persona by persona, with a screenshot of each step
under test-results/reporting-month/:

the editor sees the task on «Мои задачи», fills the grid (the invalid cell comes into view and
takes the focus), uploads the Excel form and submits; the municipal user accepts three reports at
once and returns one with a reason; the editor sees the reason on the home page and in the grid,
corrects and resubmits; the methodologist approves everything matching in one action.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from metrics.choices import TABLE1_INDICATORS
from portal.lib.months import add_months, month_label
from reports.models import Report, ReportState
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login_through_form
from tests.factories import CommunityFactory, InstitutionFactory
from tests.reports.helpers_table1 import NORMAL, NORMAL_PREV, fill, report_in

SHOTS = Path("test-results") / "reporting-month"
DESKTOP = {"width": 1366, "height": 768}
REASON = "Посещения меньше уникальных посетителей быть не могут — сверьте со «Статистикой» VK."
FIGURES = [1000, 500, 200, 3000, 40]  # NORMAL, in the order of the form's rows


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def tab_for(browser: Browser, browser_context_args: dict, base_url: str):
    """``tab_for(user)``: a separate 1366×768 browser context logged in as that user."""
    contexts = []

    def open_tab(user) -> Page:
        context = browser.new_context(**{**browser_context_args, "base_url": base_url,
                                         "viewport": DESKTOP})
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(DEFAULT_TIMEOUT_MS)
        return login_through_form(tab, user)

    yield open_tab
    for context in contexts:
        context.close()


@pytest.fixture
def month() -> dt.date:
    """The month just ended: the one everybody is working on."""
    return add_months(timezone.localdate().replace(day=1), -1)


@pytest.fixture
def region(month, territory_a, institution_a, community_a):
    """The editor's institution (no report yet) and three others already submitted."""
    joined = timezone.make_aware(dt.datetime.combine(add_months(month, -3), dt.time(9)))
    fill(community_a, add_months(month, -1), NORMAL_PREV)
    others = []
    for name in ("Клуб с. Ивановка", "Библиотека с. Покровка", "Музей с. Берёзовка"):
        institution = InstitutionFactory(short_name=name, territory=territory_a)
        community = CommunityFactory(institution=institution, title=f"{name} ВКонтакте")
        fill(community, add_months(month, -1), NORMAL_PREV)
        fill(community, month, NORMAL)
        others.append(report_in(institution, month, ReportState.SUBMITTED,
                                submitted_at=timezone.now()))
    for model in (type(institution_a), type(community_a)):
        model.objects.update(created_at=joined)
    return others


def cell(page: Page, community, month: dt.date, indicator: str):
    return page.locator(f'input[name="v-{community.pk}-{month:%Y-%m}-{indicator}"]')


def _editor_fills_uploads_and_submits(editor: Page, month, institution, community) -> str:
    task = editor.locator(f"#task-{institution.pk}-{month:%Y-%m}")
    expect(task).to_contain_text("не начат")
    expect(task).to_contain_text("Заполните недостающие показатели")
    shot(editor, "01-editor-home")

    task.get_by_role("link", name=re.compile("Открыть Таблицу 1")).click()
    expect(editor.locator(f'th.month.focus[data-month="{month:%Y-%m}"]')).to_have_count(1)
    members = cell(editor, community, month, "members")
    expect(members).to_be_focused()
    for indicator, value in zip(TABLE1_INDICATORS, FIGURES, strict=True):
        cell(editor, community, month, indicator).fill(str(value))
    cell(editor, community, month, "feedback").fill("40 шт")  # not a number
    editor.get_by_role("button", name="Сохранить").click()
    expect(editor.locator("#entry-error")).to_contain_text(month_label(month))
    invalid = cell(editor, community, month, "feedback")
    expect(invalid).to_be_focused()
    expect(invalid).to_be_in_viewport()
    shot(editor, "02-grid-invalid-cell-in-view")

    with editor.expect_download() as download:
        editor.locator("#download-form").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    column = 1 + month.month
    for row, value in enumerate(FIGURES, start=9):
        book.worksheets[0].cell(row, column).value = value
    SHOTS.mkdir(parents=True, exist_ok=True)
    filled = SHOTS / "form.xlsx"
    book.save(filled)
    editor.get_by_role("link", name="Загрузить заполненную").click()
    editor.locator('input[type="file"]').set_input_files(str(filled))
    editor.get_by_role("button", name="Загрузить").click()
    expect(editor.locator(".messages")).to_contain_text("Загружено")
    shot(editor, "03-excel-uploaded")

    editor.goto(f"/reports/{institution.pk}/{month:%Y-%m}/")
    editor.locator("#action-submit button").click()
    expect(editor.locator("#report-state")).to_have_text("отправлен")
    expect(editor.locator(".messages")).to_contain_text("Отчёт отправлен на проверку.")
    shot(editor, "04-editor-submitted")
    return re.sub(r"^https?://[^/]+", "", editor.url)


def _bulk(page: Page, action: str, comment: str = "", *, pick: list[str] | None = None,
          all_matching: bool = False) -> None:
    if all_matching:
        page.locator("#bulk-scope-filter").check()
    for name in pick or []:
        page.get_by_role("checkbox", name=re.compile(f"Выбрать: {name}")).check()
    page.locator("#bulk-action").select_option(action)
    page.locator("#bulk-comment").fill(comment)
    page.locator("#bulk-submit").click()


def test_a_reporting_month_end_to_end(tab_for, month, region, institution_a, community_a,
                                      editor_a, municipal_a, regional):
    editor = tab_for(editor_a)
    report_path = _editor_fills_uploads_and_submits(editor, month, institution_a, community_a)

    municipal = tab_for(municipal_a)
    expect(municipal.locator("#waiting-title")).to_contain_text("Ждут вашего принятия: 4")
    municipal.locator("#waiting-bulk").click()
    expect(municipal.locator("#report-count")).to_have_text("4")
    _bulk(municipal, "accept", "Сверено со статистикой",
          pick=["Клуб с. Ивановка", "Библиотека с. Покровка", "Музей с. Берёзовка"])
    expect(municipal.locator("#bulk-changed-count")).to_have_text("3")
    expect(municipal.locator("#bulk-refused-count")).to_have_text("0")
    shot(municipal, "05-municipal-accepts-three")
    municipal.get_by_role("link", name="← К списку отчётов").click()
    _bulk(municipal, "return", REASON, pick=[institution_a.short_name])
    expect(municipal.locator("#bulk-changed")).to_contain_text("возвращён на доработку")
    shot(municipal, "06-municipal-returns-one")

    editor.goto("/")
    expect(editor.locator(f"#task-{institution_a.pk}-{month:%Y-%m}")).to_contain_text(
        "возвращён на доработку")
    expect(editor.locator(".return-reason")).to_contain_text(REASON)
    shot(editor, "07-editor-home-shows-the-reason")
    editor.get_by_role("link", name=f"Открыть Таблицу 1 за {month_label(month)}").click()
    expect(editor.locator("#grid-reasons")).to_contain_text(REASON)
    shot(editor, "08-grid-shows-the-reason")
    cell(editor, community_a, month, "unique_visitors").fill("190")
    editor.get_by_role("button", name="Сохранить").click()
    expect(editor.locator(".messages")).to_contain_text("изменено значений: 1")
    editor.goto(report_path)
    expect(editor.locator("#return-reason")).to_contain_text(REASON)
    editor.locator("#action-submit textarea").fill("Исправлено по «Статистике».")
    editor.locator("#action-submit button").click()
    expect(editor.locator("#report-state")).to_have_text("отправлен")
    shot(editor, "09-editor-resubmitted")

    municipal.goto("/")
    municipal.locator("#waiting-bulk").click()
    _bulk(municipal, "accept", all_matching=True)
    expect(municipal.locator("#bulk-changed-count")).to_have_text("1")

    methodologist = tab_for(regional)
    expect(methodologist.locator("#waiting-title")).to_contain_text("Ждут вашего утверждения: 4")
    methodologist.locator("#waiting-bulk").click()
    _bulk(methodologist, "approve", all_matching=True)
    expect(methodologist.locator("#bulk-changed-count")).to_have_text("4")
    shot(methodologist, "10-methodologist-approves-all-matching")
    assert set(Report.objects.filter(month=month).values_list("state", flat=True)) == {
        ReportState.APPROVED}
    methodologist.goto(report_path)
    expect(methodologist.locator("#report-trail")).to_contain_text(REASON)
    expect(methodologist.locator("#report-trail")).to_contain_text("municipal_a")


def test_the_grid_fits_a_phone(mobile_page: Page, month, region, institution_a, community_a,
                               editor_a):
    page = login_through_form(mobile_page, editor_a)
    page.goto(f"/table1/{institution_a.pk}/{month.year}/?month={month:%Y-%m}")
    label = page.locator("table.table1 tbody th").first
    box = label.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    expect(cell(page, community_a, month, "members")).to_be_in_viewport()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # the grid scrolls inside its box, the page does not
    shot(page, "11-grid-on-a-phone")
