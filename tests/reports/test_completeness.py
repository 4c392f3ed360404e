"""Completeness: counts by state per territory, overdue after the deadline, the heatmap."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from institutions.models import Institution
from reports.models import ReportState
from reports.summaries.completeness import completeness_heatmap, completeness_month, deadline_for
from tests.factories import InstitutionFactory
from tests.reports.helpers_table1 import FEBRUARY, MARCH, report_in


@pytest.fixture
def region(world, institution_a, institution_b, regional_institution, territory_a):
    extra = InstitutionFactory(short_name="Клуб Алексеевки", territory=territory_a)
    InstitutionFactory(short_name="Закрытый клуб", territory=territory_a, is_active=False)
    report_in(institution_a, MARCH, ReportState.APPROVED)
    report_in(regional_institution, MARCH, ReportState.DRAFT)
    report_in(extra, MARCH, ReportState.RETURNED)
    report_in(institution_b, MARCH, ReportState.SUBMITTED)
    report_in(institution_a, FEBRUARY, ReportState.SUBMITTED)
    joined = timezone.make_aware(dt.datetime(2025, 12, 1, 12))
    Institution.objects.update(created_at=joined)  # all in the registry long before
    return {"extra": extra}


def by_name(lines):
    return {line.name: line for line in lines}


def test_counts_by_state_and_who_sent_nothing(region, regional):
    lines = by_name(completeness_month(user=regional, month=MARCH, today=dt.date(2026, 4, 1)))
    a = lines["Алексеевский муниципальный район"]
    assert a.total == 3  # the closed club is not counted
    assert (a.by_state["approved"], a.by_state["draft"], a.by_state["returned"]) == (1, 1, 1)
    assert a.not_started == 0 and a.overdue == 0  # before the deadline
    assert [i.short_name for i in a.silent] == ["Областная библиотека"]
    b = lines["Борский муниципальный район"]
    assert (b.total, b.by_state["submitted"], b.silent) == (1, 1, [])


def test_after_the_deadline_unsent_reports_are_overdue(region, regional, settings):
    settings.REPORT_DEADLINE_DAY = 10
    assert deadline_for(MARCH) == dt.date(2026, 4, 10)
    on_time = by_name(completeness_month(user=regional, month=MARCH, today=dt.date(2026, 4, 10)))
    assert on_time["Алексеевский муниципальный район"].overdue == 0
    late = by_name(completeness_month(user=regional, month=MARCH, today=dt.date(2026, 4, 11)))
    assert late["Алексеевский муниципальный район"].overdue == 2  # the draft and the returned
    assert late["Борский муниципальный район"].overdue == 0


def test_an_institution_with_no_report_is_not_started(region, regional):
    lines = by_name(completeness_month(user=regional, month=FEBRUARY, today=dt.date(2026, 4, 1)))
    a = lines["Алексеевский муниципальный район"]
    assert (a.not_started, a.sent, a.overdue) == (2, 1, 2)
    assert {i.short_name for i in a.silent} == {"Клуб Алексеевки", "Областная библиотека"}


def test_the_heatmap_counts_sent_reports_per_territory_and_month(region, regional):
    months, rows = completeness_heatmap(user=regional, year=2026, today=dt.date(2026, 4, 20))
    assert months[2] == "март"
    heat = {row.name: row.cells for row in rows}
    a = heat["Алексеевский муниципальный район"]
    assert (a[1].sent, a[1].total) == (1, 3) and (a[2].sent, a[2].total) == (1, 3)
    assert a[0].sent == 0 and a[0].colour == "hsl(0 70% 80%)"
    assert heat["Борский муниципальный район"][2].colour == "hsl(120 70% 80%)"
    assert a[4].future and not a[3].future


def test_a_municipal_user_sees_only_their_territory(region, municipal_a, login):
    page = login(municipal_a).get(reverse("reports:completeness"), {"month": "2026-03"})
    text = page.content.decode()
    assert "Алексеевский муниципальный район" in text
    assert "Борский муниципальный район" not in text
    assert "Областная библиотека" in text


def test_the_page_shows_the_month_and_the_heatmap(region, regional, login):
    text = login(regional).get(reverse("reports:completeness"), {"month": "2026-03"}
                               ).content.decode()
    assert "март 2026" in text and 'id="heatmap"' in text
    assert "1/3" in text and "hsl(" in text


def test_a_bad_month_falls_back_with_a_message(region, regional, login):
    text = login(regional).get(reverse("reports:completeness"), {"month": "весна"}
                               ).content.decode()
    assert "не распознан" in text


# --- fairness: due only from joining the registry and after the deadline; timeliness -------


def test_an_institution_that_joined_later_is_not_due_for_earlier_months(region, regional,
                                                                        territory_b):
    newcomer = InstitutionFactory(short_name="Новый клуб", territory=territory_b)
    Institution.objects.filter(pk=newcomer.pk).update(
        created_at=timezone.make_aware(dt.datetime(2026, 4, 15, 12)))
    march = by_name(completeness_month(user=regional, month=MARCH, today=dt.date(2026, 5, 1)))
    assert march["Борский муниципальный район"].total == 1  # the newcomer is not counted
    april = by_name(completeness_month(user=regional, month=dt.date(2026, 4, 1),
                                       today=dt.date(2026, 5, 10)))
    assert april["Борский муниципальный район"].total == 2  # it joined in April
    _, rows = completeness_heatmap(user=regional, year=2026, today=dt.date(2026, 5, 10))
    bor = {row.name: row.cells for row in rows}["Борский муниципальный район"]
    assert (bor[2].total, bor[3].total) == (1, 2)


def test_a_month_not_yet_due_is_neutral_and_has_no_timeliness(region, regional):
    lines = by_name(completeness_month(user=regional, month=MARCH, today=dt.date(2026, 4, 2)))
    assert lines["Алексеевский муниципальный район"].timeliness_pct is None
    _, rows = completeness_heatmap(user=regional, year=2026, today=dt.date(2026, 4, 2))
    march = {row.name: row.cells for row in rows}["Алексеевский муниципальный район"][2]
    assert march.neutral and not march.future


def test_timeliness_counts_reports_sent_by_the_deadline(region, regional, institution_a,
                                                       institution_b, settings):
    settings.REPORT_DEADLINE_DAY = 5
    on_time = timezone.make_aware(dt.datetime(2026, 4, 5, 23, 0))
    late = timezone.make_aware(dt.datetime(2026, 4, 6, 9, 0))
    report_in(institution_a, MARCH, ReportState.APPROVED, submitted_at=on_time)
    report_in(institution_b, MARCH, ReportState.SUBMITTED, submitted_at=late)
    lines = by_name(completeness_month(user=regional, month=MARCH, today=dt.date(2026, 5, 1)))
    a, b = lines["Алексеевский муниципальный район"], lines["Борский муниципальный район"]
    assert (a.timely, a.total, a.timeliness_pct) == (1, 3, 33.3)
    assert (b.timely, b.sent, b.timeliness_pct) == (0, 1, 0.0)


def test_timeliness_is_in_the_page_its_excel_and_the_api(region, regional, login, api_as,
                                                         institution_a):
    import io

    import openpyxl

    report_in(institution_a, MARCH, ReportState.APPROVED,
              submitted_at=timezone.make_aware(dt.datetime(2026, 4, 2, 10)))
    page = login(regional).get(reverse("reports:completeness"), {"month": "2026-03"})
    assert "Своевре" in page.content.decode() and page.context["totals"].timely == 1
    workbook = login(regional).get(reverse("reports:completeness-export"), {"month": "2026-03"})
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    rows = [r for r in sheet.iter_rows(values_only=True) if r and r[0]]
    header = next(r for r in rows if r[0] == "Территория")
    total = next(r for r in rows if r[0] == "Итого")
    assert total[header.index("Вовремя")] == 1
    answer = api_as(regional).get("/api/v1/completeness/", {"month": "2026-03"}).json()
    assert answer["total"]["timely"] == 1 and answer["deadline"] == "2026-04-05"
    assert {t["territory"] for t in answer["territories"]} == {
        "Алексеевский муниципальный район", "Борский муниципальный район"}


def test_the_completeness_page_costs_a_constant_number_of_queries(
        region, regional, territory_b, login, django_assert_num_queries):
    client = login(regional)
    client.get(reverse("reports:completeness"), {"month": "2026-03"})
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("reports:completeness"), {"month": "2026-03"})
    for index in range(5):
        report_in(InstitutionFactory(short_name=f"Клуб {index}", territory=territory_b),
                  MARCH, ReportState.SUBMITTED)
    Institution.objects.update(created_at=timezone.make_aware(dt.datetime(2025, 12, 1, 12)))
    with django_assert_num_queries(len(few)):
        page = client.get(reverse("reports:completeness"), {"month": "2026-03"})
    assert page.context["totals"].total == 9
