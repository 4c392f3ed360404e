"""Territory summaries: figures, totals, averages, growth and completeness from the raw rows."""

import datetime as dt
import io
import random

import openpyxl
import pytest
from django.utils import timezone

from institutions.models import Institution
from metrics.models import MemberSnapshot, MetricValue
from reports.models import Report, ReportState
from reports.summaries.selectors import FIGURES, territory_summary
from tests.factories import CommunityFactory, InstitutionFactory

MONTHS = [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
Q1 = "period=quarter&year=2026&number=1"


@pytest.fixture
def territory_data(world, territory_a):
    """Territory A: three institutions, four communities, Q1 values with holes, reports."""
    rng = random.Random(5)
    museum = InstitutionFactory(short_name="Музей Алексеевки", territory=territory_a)
    empty = InstitutionFactory(short_name="Библиотека без сообществ", territory=territory_a)
    communities = [world["a"], CommunityFactory(institution=world["a"].institution),
                   CommunityFactory(institution=museum),
                   CommunityFactory(institution=world["regional"])]
    raw = {}
    for community in communities:
        for month in [dt.date(2025, 12, 1), *MONTHS, dt.date(2026, 4, 1)]:
            for indicator in FIGURES:
                if rng.random() < 0.2:
                    continue
                value = rng.randrange(0, 500)
                MetricValue.objects.create(community=community, month=month,
                                           indicator=indicator, value=value)
                raw[(community.pk, month, indicator)] = value
        MemberSnapshot.objects.create(community=community, date=dt.date(2025, 12, 30),
                                      members=100)
        MemberSnapshot.objects.create(community=community, date=dt.date(2026, 3, 31),
                                      members=100 + community.pk % 7)
    MetricValue.objects.create(community=world["b"], month=MONTHS[0], indicator="visits",
                               value=99999)  # another territory: must not count
    # In the registry long before the period, so every month of it is due.
    Institution.objects.update(created_at=timezone.make_aware(dt.datetime(2025, 6, 1, 12)))
    states = [ReportState.APPROVED, ReportState.SUBMITTED, ReportState.DRAFT]
    for month, state in zip(MONTHS, states, strict=True):
        Report.objects.create(institution=world["a"].institution, month=month, state=state)
    Report.objects.create(institution=museum, month=MONTHS[0], state=ReportState.ACCEPTED)
    Report.objects.create(institution=museum, month=dt.date(2026, 4, 1),
                          state=ReportState.APPROVED)  # outside the period
    return {"communities": communities, "raw": raw, "museum": museum, "empty": empty}


def _expected_figures(raw, pk):
    out = {}
    for indicator in FIGURES:
        values = [raw[(pk, m, indicator)] for m in MONTHS if (pk, m, indicator) in raw]
        if indicator == "members":
            present = [m for m in MONTHS if (pk, m, indicator) in raw]
            out[indicator] = raw[(pk, max(present), indicator)] if present else None
        else:
            out[indicator] = sum(values) if values else None
    return out


def test_summary_figures_totals_and_averages_match_the_rows(regional, territory_a,
                                                             territory_data):
    # The arithmetic over every value; which reports count is tested on its own.
    summary = territory_summary(user=regional, territory=territory_a,
                                date_from=MONTHS[0], date_to=dt.date(2026, 3, 31),
                                counting="all")
    raw = territory_data["raw"]
    expected = {c.pk: _expected_figures(raw, c.pk) for c in territory_data["communities"]}
    got = {c.community_id: c.figures for i in summary.institutions for c in i.communities}
    assert got == expected
    for indicator in FIGURES:
        values = [f[indicator] for f in expected.values() if f[indicator] is not None]
        assert summary.totals[indicator] == (sum(values) if values else None)
        assert summary.averages[indicator] == pytest.approx(
            round(sum(values) / len(values), 1) if values else None)
    growth = {c.pk: c.pk % 7 for c in territory_data["communities"]}
    assert {c.community_id: c.growth for i in summary.institutions
            for c in i.communities} == growth
    assert summary.totals["growth"] == sum(growth.values())
    names = [i.name for i in summary.institutions]
    assert names == sorted(names) and "Библиотека без сообществ" in names


def test_completeness_counts_sent_reports_of_the_period(regional, territory_a, territory_data):
    summary = territory_summary(user=regional, territory=territory_a,
                                date_from=MONTHS[0], date_to=dt.date(2026, 3, 31))
    sent = {i.name: (i.reports_sent, i.months) for i in summary.institutions}
    assert sent["Дом культуры Алексеевки"] == (2, 3)  # approved + submitted; draft does not
    assert sent["Музей Алексеевки"] == (1, 3)
    assert sent["Библиотека без сообществ"] == (0, 3)
    assert (summary.reports_sent, summary.reports_expected) == (3, 4 * 3)
    assert summary.completeness_pct == 25.0


def test_completeness_expects_months_only_from_joining_and_after_the_deadline(
        regional, territory_a, territory_data):
    museum = Institution.objects.get(short_name="Музей Алексеевки")
    Institution.objects.filter(pk=museum.pk).update(
        created_at=timezone.make_aware(dt.datetime(2026, 2, 20, 12)))  # joined in February
    summary = territory_summary(user=regional, territory=territory_a,
                                date_from=MONTHS[0], date_to=dt.date(2026, 3, 31))
    months = {i.name: i.months for i in summary.institutions}
    assert months["Музей Алексеевки"] == 2  # February and March, not January
    assert summary.reports_expected == 3 + 3 + 3 + 2


def test_the_summary_page_and_its_query_count(login, regional, territory_a, territory_data,
                                              django_assert_num_queries):
    client = login(regional)
    url = f"/summaries/?territory={territory_a.pk}&{Q1}"
    client.get(url)
    # session, user, profile, territory (form), institutions, communities, totals, values
    # awaiting approval, territories for rendering the form
    with django_assert_num_queries(9):
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Полнота сдачи отчётов" in body and "Музей Алексеевки" in body
    for _ in range(5):
        CommunityFactory(institution=territory_data["museum"])
    with django_assert_num_queries(9):
        client.get(url)


def test_people_see_summaries_only_within_their_scope(login, municipal_a, editor_a, outsider,
                                                      territory_a, territory_b,
                                                      territory_data, client):
    ok = login(municipal_a).get(f"/summaries/?territory={territory_a.pk}&{Q1}")
    assert ok.status_code == 200
    assert login(municipal_a).get(f"/summaries/?territory={territory_b.pk}&{Q1}"
                                  ).status_code == 400
    editor_view = login(editor_a).get(f"/summaries/?territory={territory_a.pk}&{Q1}")
    assert [i.name for i in editor_view.context["summary"].institutions] == [
        "Дом культуры Алексеевки"]
    assert login(outsider).get("/summaries/").status_code == 403
    assert client.get("/summaries/").status_code == 302


def test_the_summary_workbook_has_totals_and_averages(login, regional, territory_a,
                                                      territory_data):
    response = login(regional).get(f"/summaries/export.xlsx?territory={territory_a.pk}&{Q1}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book[territory_a.name[:31]]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Учреждение")
    total = next(r for r in rows if r[0] == "ВСЕГО по территории")
    visits_col = rows[header].index("Посещения")
    summary = territory_summary(user=regional, territory=territory_a, date_from=MONTHS[0],
                                date_to=dt.date(2026, 3, 31))
    assert total[visits_col] == summary.totals["visits"]
    assert any(r[0] == "В среднем на сообщество" for r in rows)
    assert sheet.freeze_panes == f"A{header + 2}"
