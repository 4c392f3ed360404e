"""Reminder e-mails: editors about overdue reports, municipal users about waiting ones.

Nobody gets the same reminder twice a day.
"""

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from institutions.models import Institution
from reports.models import ReminderKind, ReminderLog, ReportState
from reports.tasks import send_report_reminders
from reports.workflow.reminders import (
    SCHEDULE_NAME,
    TASK_NAME,
    reminder_schedule_ensure,
    reminders_send,
)
from tests.factories import CommunityFactory, InstitutionFactory
from tests.reports.helpers_table1 import FEBRUARY, MARCH, report_in

APRIL_10 = dt.date(2026, 4, 10)  # March's deadline (5 April) has passed
JANUARY = dt.date(2026, 1, 1)


@pytest.fixture
def people(world, institution_a, regional_institution, editor_a, municipal_a):
    for user, email in ((editor_a, "editor@example.org"), (municipal_a, "mun@example.org")):
        user.email = email
        user.save()
    report_in(institution_a, FEBRUARY, ReportState.APPROVED)
    report_in(institution_a, JANUARY, ReportState.SUBMITTED)
    neighbour = InstitutionFactory(short_name="Библиотека Алексеевки",
                                   territory=institution_a.territory)
    CommunityFactory(institution=neighbour)
    report_in(neighbour, MARCH, ReportState.SUBMITTED)
    CommunityFactory(institution=regional_institution)
    report_in(regional_institution, MARCH, ReportState.SUBMITTED)  # not the municipality's
    Institution.objects.update(created_at=timezone.make_aware(dt.datetime(2025, 12, 1, 12)))
    return {"editor": editor_a, "municipal": municipal_a}


def test_editors_hear_about_overdue_and_municipal_users_about_waiting(people, mailoutbox):
    summary = reminders_send(today=APRIL_10)
    assert summary.sent == 2
    by_address = {m.to[0]: m for m in mailoutbox}
    overdue = by_address["editor@example.org"]
    assert overdue.subject == "Просрочена сдача отчётов по Таблице 1"
    assert "Дом культуры Алексеевки — март 2026 (не начат)" in overdue.body
    assert "февраль" not in overdue.body and "январь" not in overdue.body
    waiting = by_address["mun@example.org"]
    assert "Библиотека Алексеевки — март 2026 (отправлен)" in waiting.body
    assert "Дом культуры Алексеевки — январь 2026 (отправлен)" in waiting.body
    assert "Областная библиотека" not in waiting.body
    assert set(ReminderLog.objects.values_list("recipient__username", "kind")) == {
        ("editor_a", ReminderKind.OVERDUE), ("municipal_a", ReminderKind.AWAITING_REVIEW)}
    assert ReminderLog.objects.get(kind=ReminderKind.AWAITING_REVIEW).reports.count() == 2


def test_nobody_gets_the_same_reminder_twice_a_day(people, mailoutbox):
    reminders_send(today=APRIL_10)
    again = reminders_send(today=APRIL_10)
    assert (again.sent, again.already_sent) == (0, 2)
    assert len(mailoutbox) == 2
    next_day = reminders_send(today=APRIL_10 + dt.timedelta(days=1))
    assert next_day.sent == 2
    assert len(mailoutbox) == 4
    assert ReminderLog.objects.count() == 4


def test_a_reminder_logged_by_another_worker_is_not_sent_again(people, mailoutbox):
    ReminderLog.objects.create(recipient=people["editor"], kind=ReminderKind.OVERDUE,
                               sent_on=APRIL_10, email="editor@example.org")
    summary = reminders_send(today=APRIL_10)
    assert [m.to for m in mailoutbox] == [["mun@example.org"]]
    assert summary.already_sent == 1


def test_before_the_deadline_march_is_not_overdue(people, mailoutbox):
    reminders_send(today=dt.date(2026, 4, 5))
    assert [m.to for m in mailoutbox] == [["mun@example.org"]]


def test_a_submitted_report_stops_the_overdue_reminder(people, institution_a, mailoutbox):
    report_in(institution_a, MARCH, ReportState.SUBMITTED)
    reminders_send(today=APRIL_10)
    assert "editor@example.org" not in {m.to[0] for m in mailoutbox}


def test_a_returned_report_is_overdue_again(people, institution_a, mailoutbox):
    report_in(institution_a, MARCH, ReportState.RETURNED)
    reminders_send(today=APRIL_10)
    body = next(m.body for m in mailoutbox if m.to == ["editor@example.org"])
    assert "март 2026 (возвращён на доработку)" in body


def test_the_overdue_reminder_repeats_the_return_reason(people, institution_a, municipal_a,
                                                       mailoutbox):
    from reports.models import ReportAction, ReportComment

    report = report_in(institution_a, MARCH, ReportState.RETURNED)
    ReportComment.objects.create(report=report, action=ReportAction.RETURN,
                                 from_state=ReportState.SUBMITTED,
                                 to_state=ReportState.RETURNED,
                                 text="Охват не сходится со статистикой VK.", author=municipal_a)
    reminders_send(today=APRIL_10)
    body = next(m.body for m in mailoutbox if m.to == ["editor@example.org"])
    assert "Причина возврата: Охват не сходится со статистикой VK." in body


def test_months_before_the_institution_joined_are_not_overdue(people, institution_a,
                                                              mailoutbox):
    Institution.objects.filter(pk=institution_a.pk).update(
        created_at=timezone.make_aware(dt.datetime(2026, 4, 2, 12)))  # joined in April
    reminders_send(today=APRIL_10)
    assert "editor@example.org" not in {m.to[0] for m in mailoutbox}


def test_people_without_an_address_are_counted_not_mailed(people, mailoutbox):
    people["editor"].email = ""
    people["editor"].save()
    summary = reminders_send(today=APRIL_10)
    assert summary.without_email == 1 and len(mailoutbox) == 1
    assert not ReminderLog.objects.filter(recipient=people["editor"]).exists()


def test_the_task_runs_the_service(people, mailoutbox):
    result = send_report_reminders.delay().get()
    assert result["sent"] >= 1  # today's overdue months depend on the calendar
    assert ReminderLog.objects.count() == result["sent"]


def test_the_daily_schedule_is_registered_once(db):
    task = PeriodicTask.objects.get(name=SCHEDULE_NAME)
    assert task.task == TASK_NAME and task.enabled
    assert reminder_schedule_ensure() is False
    assert PeriodicTask.objects.filter(task=TASK_NAME).count() == 1
