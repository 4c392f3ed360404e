"""Accessible to everyone who reports: every page each persona reaches passes axe-core's WCAG
2.0/2.1 A and AA rules and fits a 390-pixel phone; the keyboard reaches and sees everything.

The crawl (tests/browser/a11y.py) starts where the persona starts and follows the links it is
shown, so a page added to the navigation is checked without a change here. The region is small
but full: a year of daily members, two years of Table 1 with reports in every state, VK and OK
communities, a collection run with failures, a published ranking, a finished export.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from demo.members import seed_member_history
from demo.table1 import seed_table1_history
from demo.tokens import demo_tokens_ensure
from institutions.choices import Network
from metrics.collect.choices import ItemOutcome, RunKind, RunState
from metrics.collect.runs import collection_run_create
from metrics.models import CollectionRun, CollectionRunItem
from portal.lib.months import add_months
from reports.exports.jobs import export_job_execute
from reports.models import ExportJob, ExportKind, Report, ReportState
from reports.rankings import RankingParams
from reports.rankings.publishing import ranking_publish
from tests.browser.a11y import DESKTOP, PHONE, axe_violations, crawl
from tests.browser.conftest import DEFAULT_TIMEOUT_MS, login_through_form
from tests.factories import CommunityFactory, InstitutionFactory

# Issue 17 added the people, past-data, profile and connection pages to the regional crawl.
PAGES_PER_PERSONA = 60  # the quality index's pages are shapes of their own


@pytest.fixture
def region(world, regional, settings, tmp_path):
    """The personas' region with every kind of figure a page can show."""
    settings.MEDIA_ROOT = tmp_path / "media"
    a, b = world["a"], world["b"]
    CommunityFactory(institution=a.institution, network=Network.OK, network_id=560_000_000_001,
                     url="https://ok.ru/group/560000000001", title="ДК Алексеевки в ОК")
    CommunityFactory(institution=world["regional"], title="Областная библиотека ВКонтакте",
                     is_verified=False)
    InstitutionFactory(short_name="Клуб без сообществ", territory=b.institution.territory)
    seed_member_history()
    seed_table1_history()
    # The editor's last month is still open, so the grid has cells to type in.
    last_month = add_months(timezone.localdate().replace(day=1), -1)
    Report.objects.filter(institution=a.institution, month=last_month).update(
        state=ReportState.DRAFT, submitted_at=None, accepted_at=None, approved_at=None)
    demo_tokens_ensure()
    _a_run_with_failures(world)
    _a_published_ranking(regional)
    _a_finished_export(regional)
    return world


def _a_run_with_failures(world) -> None:
    run = collection_run_create(kind=RunKind.MEMBERS, network=Network.VK)
    batch = run.batches.get()
    for community in (world["a"], world["b"]):
        CollectionRunItem.objects.create(run=run, batch=batch, community=community,
                                         outcome=ItemOutcome.SKIPPED,
                                         message="сообщество закрыто")
    CollectionRun.objects.filter(pk=run.pk).update(state=RunState.DONE, done=0, skipped=2)


def _a_published_ranking(methodologist) -> None:
    end = timezone.localdate() - dt.timedelta(days=1)
    params = RankingParams(metric="growth", date_from=end - dt.timedelta(days=30), date_to=end)
    ranking_publish(user=methodologist, params=params,
                    title="ТОП госпабликов по приросту аудитории", slug="top-growth",
                    methodology="Прирост участников за 30 дней.")


def _a_finished_export(methodologist) -> None:
    end = timezone.localdate() - dt.timedelta(days=1)
    job = ExportJob.objects.create(
        kind=ExportKind.SUMMARY_ALL,
        params={"date_from": (end - dt.timedelta(days=60)).isoformat(),
                "date_to": end.isoformat()},
        requested_by=methodologist)
    export_job_execute(job_id=job.pk)


def _tab(browser, browser_context_args, base_url) -> Page:
    context = browser.new_context(**{**browser_context_args, "base_url": base_url,
                                     "viewport": DESKTOP})
    tab = context.new_page()
    tab.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return tab


PERSONAS = ["anonymous", "regional", "municipal_a", "editor_a", "viewer"]
# Kinds of page the crawl must have reached, so a crawl that stopped following links (or a menu
# that lost them) fails instead of passing on a handful of pages.
MUST_REACH = {
    "anonymous": [r"^/login/", r"^/rankings/p/$", r"^/rankings/p/top-growth/"],
    "regional": [r"^/registry/$", r"^/registry/\d+/$", r"^/table1/$", r"^/table1/\d+/\d{4}/$",
                 r"^/reports/$", r"^/reports/\d+/\d{4}-\d\d/$", r"^/rankings/\?",
                 r"^/rankings/why/", r"^/rankings/p/", r"^/summaries/", r"^/completeness/",
                 r"^/collection/$", r"^/collection/runs/\d+/$", r"^/collection/tokens/$",
                 r"^/charts/audience/", r"^/help/collection/$", r"^/api/v1/docs/$",
                 r"^/exports/$", r"^/exports/\d+/$", r"^/values/\d+/history/$",
                 r"^/people/$", r"^/past-data/$", r"^/profile/$",
                 r"^/quality/", r"^/quality/community/\d+/", r"^/quality/methodology/$"],
    "editor_a": [r"^/table1/\d+/\d{4}/$", r"^/reports/\d+/\d{4}-\d\d/$", r"^/registry/\d+/$"],
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_a_persona_reaches_passes_axe_and_fits_a_phone(
        request, persona, region, browser, browser_context_args, base_url):
    tab = _tab(browser, browser_context_args, base_url)
    try:
        start = ["/"]
        if persona == "anonymous":
            # Published rankings are public: their address is what people are given.
            start.append("/rankings/p/")
        else:
            login_through_form(tab, request.getfixturevalue(persona))
        result = crawl(tab, start, origin=base_url, limit=PAGES_PER_PERSONA)
    finally:
        tab.context.close()
    problems = result.problems()
    assert not problems, (f"{persona}: {len(problems)} problem(s) on {len(result.pages)} pages:\n"
                          + "\n".join(problems))
    for kind in MUST_REACH.get(persona, []):
        assert any(re.search(kind, path) for path in result.paths), (kind, result.paths)


# --- the keyboard, the Table-1 grid, the phone ---------------------------------------------------

GRID_CELLS_SCRIPT = """table => {
  // Lay the header rows out on a grid (rowspan, colspan) to find each column's own header.
  const heads = Array.from(table.tHead.rows), layout = heads.map(() => []);
  heads.forEach((row, r) => {
    let c = 0;
    for (const cell of row.cells) {
      while (layout[r][c]) c++;
      for (let i = 0; i < cell.rowSpan; i++)
        for (let j = 0; j < cell.colSpan; j++) layout[r + i][c + j] = cell;
      c += cell.colSpan;
    }
  });
  const columnHeads = layout[heads.length - 1], cells = [];
  for (const row of table.tBodies[0].rows) {
    const rowHead = row.querySelector('th[scope=row]');
    let c = 0;
    for (const cell of row.cells) {
      const head = columnHeads[c];
      if (cell.matches('td.cell')) cells.push({
        row: rowHead ? rowHead.textContent.trim() : null,
        column: head && head.getAttribute('scope') === 'col' ? head.textContent.trim() : null,
      });
      c += cell.colSpan;
    }
  }
  return {caption: table.caption ? table.caption.textContent.trim() : '', cells};
}"""

INDICATORS = ["Количество участников", "Посещения", "уникальные посетители",
              "Просмотр стены", "Обратная связь"]
MONTHS = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
          "октябрь", "ноябрь", "декабрь"]


def test_table1_grid_cells_are_named_by_community_indicator_and_month(
        logged_in_page, editor_a, region):
    a = region["a"]
    page = logged_in_page(editor_a)
    year = timezone.localdate().year
    page.goto(f"/table1/{a.institution.pk}/{year}/")
    inputs = page.locator("table.table1 input[data-row]")
    expect(inputs.first).to_be_visible()
    assert inputs.count() >= 10  # two communities, at least one open month each
    names = set()
    for i in range(inputs.count()):
        box = inputs.nth(i)
        community = box.evaluate("el => el.closest('section').querySelector('h2').firstChild"
                                 ".textContent.trim()")
        indicator = INDICATORS[int(box.get_attribute("data-row"))]
        month = "|".join(MONTHS)
        for part in (re.escape(community), re.escape(indicator), rf"({month}) {year}"):
            expect(box).to_have_accessible_name(re.compile(part, re.IGNORECASE))
        names.add(box.evaluate("el => el.getAttribute('aria-label')"))
    assert len(names) == inputs.count(), "every cell has a name of its own"


def test_read_only_grid_cells_have_row_and_column_headers(logged_in_page, viewer, region):
    """The viewer reads figures, not boxes: each figure is announced with its indicator (row
    header) and month (column header), in a table whose caption names the community."""
    a = region["a"]
    page = logged_in_page(viewer)
    page.goto(f"/table1/{a.institution.pk}/{timezone.localdate().year}/")
    grids = page.locator("table.table1")
    expect(grids.first).to_be_attached()
    assert grids.count() == 2
    for i in range(grids.count()):
        layout = grids.nth(i).evaluate(GRID_CELLS_SCRIPT)
        assert any(c.title in layout["caption"] for c in a.institution.communities.all())
        assert len(layout["cells"]) == 5 * 12
        for cell in layout["cells"]:
            assert any(label in cell["row"] for label in INDICATORS), cell
            assert any(m in cell["column"].lower()[:10] for m in
                       ["янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт",
                        "ноя", "дек"]), cell


def _focus_ring(page: Page) -> dict:
    return page.evaluate("""() => {
      const el = document.activeElement, style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      return {tag: el.tagName, text: (el.textContent || el.name || '').trim().slice(0, 40),
              outline: style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0,
              visible: box.width > 0 && box.height > 0 && box.bottom > 0
                       && box.top < window.innerHeight};
    }""")


def test_the_keyboard_focus_is_always_visible_and_skips_to_the_content(
        logged_in_page, regional, region):
    page = logged_in_page(regional)
    page.set_viewport_size(DESKTOP)
    for path in ("/", "/registry/", "/table1/", "/rankings/", "/reports/"):
        page.goto(path)
        for _ in range(25):
            page.keyboard.press("Tab")
            ring = _focus_ring(page)
            if ring["tag"] == "BODY":
                break
            assert ring["outline"] >= 2 and ring["visible"], (path, ring)

    page.goto("/registry/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Перейти к содержимому")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


@pytest.fixture
def phone(browser, browser_context_args, base_url):
    context = browser.new_context(**{**browser_context_args, "base_url": base_url,
                                     "viewport": PHONE}, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield tab
    context.close()


def test_on_a_phone_the_menu_folds_and_opens_from_the_keyboard(phone, municipal_a, region):
    login_through_form(phone, municipal_a)
    registry = phone.get_by_role("link", name="Реестр", exact=True)
    expect(registry).to_be_hidden()
    toggle = phone.get_by_role("button", name="Меню")
    for _ in range(3):  # the skip link, the brand, the menu button
        phone.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    phone.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(registry).to_be_visible()
    expect(phone.get_by_role("button", name="Выйти")).to_be_visible()
    assert not axe_violations(phone), "the open menu passes axe too"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.keyboard.press("Tab")
    expect(phone.locator(".nav a").first).to_be_focused()
    phone.keyboard.press("Escape")
    expect(toggle).to_be_focused()
    expect(registry).to_be_hidden()
    phone.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    registry.click()
    expect(phone.get_by_role("heading", name="Реестр учреждений")).to_be_visible()


def test_on_a_phone_wide_tables_scroll_in_their_frame_and_charts_keep_their_table(
        phone, regional, region):
    login_through_form(phone, regional)
    phone.goto("/completeness/")
    frame = phone.locator(".table-wrap").first
    # A frame that scrolls is a named region the keyboard can enter and scroll with arrows.
    expect(frame).to_have_attribute("tabindex", "0")
    expect(frame).to_have_attribute("role", "region")
    expect(frame).to_have_accessible_name(re.compile("прокручивается"))
    first_cell = frame.locator("tbody tr").first.locator("th, td").first
    second_cell = frame.locator("tbody tr").first.locator("th, td").nth(1)
    left, second_left = first_cell.bounding_box()["x"], second_cell.bounding_box()["x"]
    frame.focus()
    for _ in range(8):
        phone.keyboard.press("ArrowRight")
    phone.wait_for_function("el => el.scrollLeft >= 100", arg=frame.element_handle())
    assert second_cell.bounding_box()["x"] < second_left - 50, "the rest scrolls"
    assert abs(first_cell.bounding_box()["x"] - left) < 1, "the first column stays in view"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    for path, table in (("/charts/audience/", "#audience-table"), ("/rankings/", "#ranking-table")):
        phone.goto(path)
        chart = phone.locator("canvas[data-chart]")
        expect(chart).to_have_attribute("role", "img")
        expect(chart).to_have_accessible_name(re.compile(r"\S"))
        assert chart.bounding_box()["width"] <= PHONE["width"]
        assert phone.locator(f"{table} tbody tr").count() > 1


def test_pages_outside_the_crawl_pass_axe(page, region):
    """The error page and the login form with its error, which no link leads to."""
    page.goto("/no-such-page/")
    assert not axe_violations(page)
    page.goto("/login/")
    page.get_by_label("Имя пользователя").fill("nobody")
    page.get_by_label("Пароль").fill("wrong-password")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert not axe_violations(page)
