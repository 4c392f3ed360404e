"""Writes of Table-1 values: provenance, audit, locking, conflicts, all-or-nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from metrics.choices import Indicator, ValueSource
from metrics.models import MetricValue
from metrics.services import api_values_record, values_write
from portal.errors import Conflict, Locked, NotAllowed, ValidationFailed
from portal.lib.months import add_months
from reports.models import Report, ReportState
from reports.workflow.services import report_values_save
from tests.reports.helpers_table1 import MARCH, NORMAL, cells_for, fill, report_in, stored


def test_editor_saves_figures_with_provenance_and_an_audit_entry(community_a, institution_a,
                                                                 editor_a):
    result = report_values_save(user=editor_a, institution=institution_a,
                                cells=cells_for(community_a, MARCH, NORMAL))
    assert stored(community_a, MARCH) == NORMAL
    row = MetricValue.objects.get(community=community_a, month=MARCH, indicator="visits")
    assert (row.source, row.updated_by) == (ValueSource.MANUAL, editor_a)
    entry = row.history.get()
    assert entry.history_user == editor_a
    assert entry.history_change_reason == "страница ввода; отчёт: нет отчёта"
    assert len(result.changes) == 5
    report = Report.objects.get(institution=institution_a, month=MARCH)
    assert report.state == ReportState.DRAFT and result.versions[MARCH] == report.version


def test_history_records_old_new_and_the_report_state(community_a, institution_a, editor_a):
    fill(community_a, MARCH)
    report_in(institution_a, MARCH, ReportState.RETURNED)
    report_values_save(user=editor_a, institution=institution_a,
                       cells={(community_a.pk, MARCH, "visits"): "650"})
    row = MetricValue.objects.get(community=community_a, month=MARCH, indicator="visits")
    newest, older = row.history.order_by("-history_date")[:2]
    assert (older.value, newest.value) == (500, 650)
    assert newest.history_change_reason == "страница ввода; отчёт: возвращён на доработку"
    assert newest.source == ValueSource.MANUAL


def test_an_unchanged_cell_is_not_a_change(community_a, institution_a, editor_a):
    fill(community_a, MARCH)
    result = report_values_save(user=editor_a, institution=institution_a,
                                cells=cells_for(community_a, MARCH, NORMAL))
    assert result.changes == []
    assert not Report.objects.exists()


def test_a_person_overriding_an_api_figure_keeps_the_api_value(community_a, institution_a,
                                                              editor_a):
    api_values_record(community_id=community_a.pk, month=MARCH, values={"visits": 480},
                      source=ValueSource.VK_API)
    report_values_save(user=editor_a, institution=institution_a,
                       cells={(community_a.pk, MARCH, "visits"): 500})
    row = MetricValue.objects.get(community=community_a, month=MARCH, indicator="visits")
    assert (row.value, row.source, row.api_value, row.api_source) == (
        500, ValueSource.MANUAL, 480, ValueSource.VK_API)
    api_values_record(community_id=community_a.pk, month=MARCH, values={"visits": 490},
                      source=ValueSource.VK_API)
    row.refresh_from_db()
    assert (row.value, row.api_value) == (500, 490)


def test_confirming_api_figures(community_a, institution_a, editor_a):
    api_values_record(community_id=community_a.pk, month=MARCH, values={"visits": 480,
                      "members": 900}, source=ValueSource.VK_API)
    result = report_values_save(user=editor_a, institution=institution_a, cells={},
                                confirm=[(community_a.pk, MARCH)])
    assert result.confirmed == 2
    assert set(MetricValue.objects.values_list("is_confirmed", "updated_by")) == {
        (True, editor_a.pk)}


@pytest.mark.parametrize(("raw", "message"), [
    ("-5", "отрицательное"), ("12,5", "не целое"), ("много", "не число"), (3.7, "не целое"),
])
def test_bad_figures_block_the_whole_save(raw, message, community_a, institution_a, editor_a):
    cells = cells_for(community_a, MARCH, NORMAL)
    cells[(community_a.pk, MARCH, "feedback")] = raw
    with pytest.raises(ValidationFailed, match=message) as caught:
        report_values_save(user=editor_a, institution=institution_a, cells=cells)
    assert caught.value.details[0]["indicator"] == "feedback"
    assert not MetricValue.objects.exists()


def test_unique_visitors_above_visits_blocks_saving(community_a, institution_a, editor_a):
    fill(community_a, MARCH)
    with pytest.raises(ValidationFailed, match="больше, чем посещений"):
        report_values_save(user=editor_a, institution=institution_a,
                           cells={(community_a.pk, MARCH, "unique_visitors"): 501})
    assert stored(community_a, MARCH)["unique_visitors"] == 200


def test_a_future_month_cannot_be_filled(community_a, institution_a, editor_a):
    future = add_months(timezone.localdate().replace(day=1), 1)
    with pytest.raises(ValidationFailed, match="ещё не наступил"):
        report_values_save(user=editor_a, institution=institution_a,
                           cells={(community_a.pk, future, "members"): 10})
    assert not MetricValue.objects.exists()


@pytest.mark.parametrize("state", [ReportState.APPROVED, ReportState.SUBMITTED,
                                   ReportState.ACCEPTED])
def test_a_closed_month_refuses_the_service(state, community_a, institution_a, editor_a,
                                            regional):
    fill(community_a, MARCH)
    report_in(institution_a, MARCH, state)
    for user in (editor_a, regional):
        with pytest.raises(Locked):
            report_values_save(user=user, institution=institution_a,
                               cells={(community_a.pk, MARCH, "visits"): 1})
    assert stored(community_a, MARCH) == NORMAL


def test_the_lowest_write_refuses_an_approved_month_too(community_a, institution_a, editor_a):
    fill(community_a, MARCH)
    report_in(institution_a, MARCH, ReportState.APPROVED)
    with pytest.raises(Locked, match="утверждён"):
        values_write(cells={(community_a.pk, MARCH, "visits"): 1}, source=ValueSource.MANUAL,
                     user=editor_a, channel="test")
    assert stored(community_a, MARCH) == NORMAL


def test_the_collector_records_nothing_for_an_approved_month(community_a, institution_a):
    fill(community_a, MARCH, source=ValueSource.VK_API)
    report = report_in(institution_a, MARCH, ReportState.APPROVED)
    changed = api_values_record(community_id=community_a.pk, month=MARCH,
                                values={"visits": 999, "reach": 5}, source=ValueSource.VK_API)
    assert changed == 0
    assert stored(community_a, MARCH) == NORMAL
    assert not MetricValue.objects.filter(indicator="reach").exists()
    assert Report.objects.get(pk=report.pk).version == report.version


def test_the_collector_leaves_a_report_under_review_unchanged(community_a, institution_a):
    fill(community_a, MARCH, source=ValueSource.VK_API)
    report_in(institution_a, MARCH, ReportState.SUBMITTED)
    api_values_record(community_id=community_a.pk, month=MARCH, values={"visits": 999},
                      source=ValueSource.VK_API)
    row = MetricValue.objects.get(community=community_a, month=MARCH, indicator="visits")
    assert (row.value, row.api_value) == (500, 999)


def test_the_collector_updates_an_open_report_and_makes_pages_stale(community_a,
                                                                   institution_a):
    fill(community_a, MARCH, source=ValueSource.VK_API)
    report = report_in(institution_a, MARCH, ReportState.DRAFT)
    api_values_record(community_id=community_a.pk, month=MARCH, values={"visits": 520},
                      source=ValueSource.VK_API)
    row = MetricValue.objects.get(community=community_a, month=MARCH, indicator="visits")
    assert row.value == 520
    assert row.history.order_by("-history_date")[0].history_change_reason == (
        "VK API; отчёт: черновик")
    assert Report.objects.get(pk=report.pk).version == report.version + 1


def test_the_second_saver_of_a_stale_version_gets_a_conflict(community_a, institution_a,
                                                             editor_a, regional):
    fill(community_a, MARCH)
    report = report_in(institution_a, MARCH, ReportState.DRAFT)
    seen = {MARCH: report.version}
    report_values_save(user=editor_a, institution=institution_a, versions=seen,
                       cells={(community_a.pk, MARCH, "visits"): 510})
    with pytest.raises(Conflict, match="данные изменил другой пользователь"):
        report_values_save(user=regional, institution=institution_a, versions=seen,
                           cells={(community_a.pk, MARCH, "visits"): 520})
    assert stored(community_a, MARCH)["visits"] == 510


def test_a_report_created_meanwhile_is_a_conflict_too(community_a, institution_a, editor_a,
                                                      regional):
    report_values_save(user=editor_a, institution=institution_a, versions={MARCH: 0},
                       cells={(community_a.pk, MARCH, "visits"): 510})
    with pytest.raises(Conflict):
        report_values_save(user=regional, institution=institution_a, versions={MARCH: 0},
                           cells={(community_a.pk, MARCH, "visits"): 520})


def test_dry_run_answers_without_writing(community_a, institution_a, editor_a):
    fill(community_a, MARCH)
    result = report_values_save(user=editor_a, institution=institution_a, dry_run=True,
                                cells={(community_a.pk, MARCH, "visits"): 600,
                                       (community_a.pk, MARCH, "members"): 1000})
    assert [(c.indicator, c.old, c.new) for c in result.changes] == [("visits", 500, 600)]
    assert stored(community_a, MARCH) == NORMAL
    assert not Report.objects.exists()


@pytest.mark.parametrize("who", ["municipal_a", "viewer", "outsider"])
def test_only_editors_and_methodologists_write(who, community_a, institution_a, request):
    user = request.getfixturevalue(who)
    with pytest.raises(NotAllowed):
        report_values_save(user=user, institution=institution_a,
                           cells={(community_a.pk, MARCH, "visits"): 1})
    assert not MetricValue.objects.exists()


def test_an_editor_cannot_write_another_institutions_community(community_a, community_b,
                                                               institution_a, editor_a):
    with pytest.raises(ValidationFailed, match="не принадлежит"):
        report_values_save(user=editor_a, institution=institution_a,
                           cells={(community_b.pk, MARCH, "visits"): 1})


def test_clearing_a_cell_means_not_reported(community_a, institution_a, editor_a):
    fill(community_a, MARCH)
    report_values_save(user=editor_a, institution=institution_a,
                       cells={(community_a.pk, MARCH, "feedback"): ""})
    assert stored(community_a, MARCH)["feedback"] is None


def test_month_is_normalised_to_the_first_day(community_a, institution_a, editor_a):
    report_values_save(user=editor_a, institution=institution_a,
                       cells={(community_a.pk, dt.date(2026, 3, 15), Indicator.MEMBERS): 5})
    assert stored(community_a, MARCH) == {"members": 5}
