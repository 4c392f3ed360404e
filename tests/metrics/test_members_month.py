"""Table 1's «Количество участников» is filled from the daily snapshots of the month's end."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from institutions.choices import Network
from metrics.choices import Indicator, ValueSource
from metrics.collect.members_month import members_month_record, previous_month
from metrics.collect.schedule import DEFAULT_SCHEDULE
from metrics.models import MemberSnapshot, MetricValue
from metrics.tasks import members_month_fill
from portal.errors import ValidationFailed
from portal.lib.months import add_months, month_end
from reports.models import Report, ReportState
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)


def snap(community, day: str, members: int) -> None:
    MemberSnapshot.objects.create(community=community, date=dt.date.fromisoformat(day),
                                  members=members)


@pytest.fixture
def march(world):
    """Three communities with March snapshots, one without; April and February around them."""
    a, b = world["a"], world["b"]
    ok = CommunityFactory(institution=b.institution, network=Network.OK,
                          network_id=54_000_000_000_001, url="https://ok.ru/group/54000000000001")
    silent = CommunityFactory(institution=world["regional"])
    snap(a, "2026-02-28", 1100)
    snap(a, "2026-03-30", 1200)
    snap(a, "2026-03-31", 1234)
    snap(a, "2026-04-01", 1300)
    snap(b, "2026-03-15", 500)
    snap(b, "2026-03-20", 520)  # the last day was not collected: the latest earlier one counts
    snap(b, "2026-04-01", 999)
    snap(ok, "2026-03-31", 77)
    snap(silent, "2026-02-28", 40)  # nothing in March: no figure is invented
    return {"a": a, "b": b, "ok": ok, "silent": silent}


def members(community) -> MetricValue | None:
    return MetricValue.objects.filter(community=community, month=MARCH,
                                      indicator=Indicator.MEMBERS).first()


def test_the_month_end_snapshot_becomes_the_collected_members_figure(march):
    result = members_month_record(month=MARCH)

    assert result.as_dict() == {"month": "2026-03", "communities": 3, "rows_changed": 3}
    a, b, ok = members(march["a"]), members(march["b"]), members(march["ok"])
    assert (a.value, a.source, a.api_value, a.api_source) == (
        1234, ValueSource.VK_API, 1234, ValueSource.VK_API)
    assert (b.value, b.source) == (520, ValueSource.VK_API)
    assert (ok.value, ok.source, ok.api_source) == (77, ValueSource.OK_API, ValueSource.OK_API)
    assert not a.is_confirmed and a.api_collected_at is not None
    assert members(march["silent"]) is None
    assert MetricValue.objects.count() == 3  # no other indicator, no other month


def test_filling_again_changes_nothing_and_writes_no_history(march):
    members_month_record(month=MARCH)
    history = MetricValue.history.count()
    assert members_month_record(month=MARCH).rows_changed == 0
    assert MetricValue.history.count() == history


def test_a_recollected_last_day_updates_the_figure(march):
    members_month_record(month=MARCH)
    MemberSnapshot.objects.filter(community=march["a"], date="2026-03-31").update(members=1240)
    assert members_month_record(month=MARCH).rows_changed == 1
    assert members(march["a"]).value == 1240


def test_an_approved_month_is_left_exactly_as_it_is(march):
    MetricValue.objects.create(community=march["a"], month=MARCH, indicator=Indicator.MEMBERS,
                               value=1000, source=ValueSource.MANUAL)
    Report.objects.create(institution=march["a"].institution, month=MARCH,
                          state=ReportState.APPROVED)
    members_month_record(month=MARCH)
    row = members(march["a"])
    assert (row.value, row.source, row.api_value) == (1000, ValueSource.MANUAL, None)


def test_a_sent_report_keeps_its_figure_and_records_the_collected_one_beside_it(march):
    MetricValue.objects.create(community=march["a"], month=MARCH, indicator=Indicator.MEMBERS,
                               value=None, source=ValueSource.VK_API)
    Report.objects.create(institution=march["a"].institution, month=MARCH,
                          state=ReportState.SUBMITTED)
    members_month_record(month=MARCH)
    row = members(march["a"])
    assert (row.value, row.api_value) == (None, 1234)


def test_a_figure_a_person_typed_is_not_overwritten(march):
    MetricValue.objects.create(community=march["b"], month=MARCH, indicator=Indicator.MEMBERS,
                               value=515, source=ValueSource.MANUAL)
    members_month_record(month=MARCH)
    row = members(march["b"])
    assert (row.value, row.source, row.api_value) == (515, ValueSource.MANUAL, 520)


def test_an_open_report_gets_the_figure_and_its_entry_page_goes_stale(march):
    MetricValue.objects.create(community=march["a"], month=MARCH, indicator=Indicator.MEMBERS,
                               value=1100, source=ValueSource.VK_API, api_value=1100,
                               api_source=ValueSource.VK_API)
    report = Report.objects.create(institution=march["a"].institution, month=MARCH,
                                   state=ReportState.RETURNED)
    members_month_record(month=MARCH)
    report.refresh_from_db()
    assert members(march["a"]).value == 1234 and report.version == 2


def test_a_month_that_has_not_begun_is_refused(world):
    next_month = add_months(timezone.localdate().replace(day=1), 1)
    with pytest.raises(ValidationFailed, match="ещё не начался"):
        members_month_record(month=next_month)


# --- interfaces ---------------------------------------------------------------------------------
def test_the_task_fills_the_month_it_is_given(march):
    assert members_month_fill.apply(kwargs={"month": "2026-03"}).get() == {
        "month": "2026-03", "communities": 3, "rows_changed": 3}


def test_the_task_fills_the_previous_month_by_default(world):
    last = month_end(previous_month())
    snap(world["a"], last.isoformat(), 321)
    assert members_month_fill.apply().get()["rows_changed"] == 1
    row = MetricValue.objects.get(community=world["a"], indicator=Indicator.MEMBERS)
    assert (row.month, row.value) == (previous_month(), 321)


def test_the_command_fills_a_month_on_demand(march):
    out = io.StringIO()
    call_command("fill_month_members", "--month", "2026-03", stdout=out)
    assert out.getvalue().strip() == ("Март 2026: сообществ с записями участников — 3, "
                                      "изменено значений — 3.")
    assert members(march["a"]).value == 1234


def test_the_beat_schedule_fills_last_month_on_the_first(db):
    (entry,) = [e for e in DEFAULT_SCHEDULE if e.task == "metrics.tasks.members_month_fill"]
    task = PeriodicTask.objects.select_related("crontab").get(name=entry.name)
    assert task.task == members_month_fill.name
    assert (task.crontab.day_of_month, task.crontab.hour, task.crontab.minute) == ("1", "5", "0")
