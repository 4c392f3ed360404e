"""In the browser: an SMM lead opens a community's quality page and sees its charts drawn and
its failed rules listed with how to fix them."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.reports.quality.kept import NEGLECTED, kept_community


def test_a_community_page_draws_its_charts_and_lists_failed_rules(logged_in_page, regional,
                                                                 institution_a):
    community = kept_community(fields=NEGLECTED, posts=12, members=(900, 960),
                               institution=institution_a, title="ДК Алексеевки")

    page = logged_in_page(regional)
    page.get_by_role("link", name="Качество ведения").click()
    page.locator("#quality-month").fill("2026-03")
    page.get_by_role("button", name="Показать").click()
    page.get_by_role("link", name="ДК Алексеевки").click()

    expect(page.locator("h1")).to_have_text("ДК Алексеевки")
    failed = page.locator("#failed-rules li")
    expect(failed.first).to_be_visible()
    texts = failed.all_inner_texts()
    assert any("Обложка установлена" in t and "Загрузите обложку" in t for t in texts)
    assert any("Есть отметка «Госорганизация»" in t for t in texts)
    drawn = page.evaluate(
        "() => ['weeks-chart', 'audience-chart', 'engagement-chart', 'formats-chart'].map("
        "id => { const c = Chart.getChart(document.getElementById(id));"
        " return c ? c.data.datasets[0].data.length : 0; })")
    assert all(n > 0 for n in drawn), drawn
    # March 2026: Sunday the 1st, four whole weeks, Monday–Tuesday the 30th–31st.
    expect(page.locator("#weeks-table tbody tr")).to_have_count(6)
    posts = page.locator("#weeks-table tbody td:nth-child(2)").all_inner_texts()
    assert sum(map(int, posts)) == community.posts.count()


def test_the_quality_pages_fit_a_phone_screen(logged_in_page, regional, institution_a):
    community = kept_community(fields=NEGLECTED, posts=12, institution=institution_a,
                               title="ДК Алексеевки")
    page = logged_in_page(regional)
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (f"/quality/community/{community.pk}/?month=2026-03", "/quality/?month=2026-03",
                "/quality/methodology/", "/quality/norms/?month=2026-03",
                "/quality/formats/?month=2026-03"):
        page.goto(url)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, url
