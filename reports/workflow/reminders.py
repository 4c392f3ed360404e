"""Daily reminder e-mails: editors about overdue reports, municipal users about reports waiting.

Each reminder is a ``ReminderLog`` row, unique per (recipient, kind, day): the row is inserted
before the e-mail is sent, in one transaction, so a second run the same day — or a second worker
running at the same moment — finds it and sends nothing.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from institutions.choices import Role
from institutions.models import Institution, UserProfile
from portal.lib.beat import PeriodicEntry, periodic_tasks_ensure
from portal.lib.months import add_months, month_label
from reports.models import (
    ReminderKind,
    ReminderLog,
    Report,
    ReportAction,
    ReportComment,
    ReportState,
)
from reports.summaries.completeness import NOT_YET_SENT, deadline_for

LOOKBACK_MONTHS = 3  # older gaps are the methodologists' business, not a daily e-mail
TASK_NAME = "reports.tasks.send_report_reminders"
SCHEDULE_NAME = "Напоминания о сдаче и проверке отчётов (ежедневно)"


@dataclass
class Item:
    """One report a reminder is about (``report`` is None when nothing was started)."""

    institution: Institution
    month: dt.date
    report: Report | None
    reason: str = ""  # why a returned report came back, said where the editor reads

    @property
    def line(self) -> str:
        state = self.report.get_state_display() if self.report else "не начат"
        line = f"• {self.institution.short_name} — {month_label(self.month)} ({state})"
        return line + (f"\n  Причина возврата: {self.reason}" if self.reason else "")


@dataclass
class ReminderSummary:
    sent: int = 0
    already_sent: int = 0
    without_email: int = 0
    recipients: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "already_sent": self.already_sent,
                "without_email": self.without_email}


def overdue_months(today: dt.date) -> list[dt.date]:
    """Recent months whose deadline has passed."""
    last = add_months(today.replace(day=1), -1)
    months = [add_months(last, -n) for n in range(LOOKBACK_MONTHS)]
    return [m for m in months if today > deadline_for(m)]


def _overdue_by_editor(today: dt.date) -> dict[int, list[Item]]:
    months = overdue_months(today)
    if not months:
        return {}
    profiles = list(UserProfile.objects.filter(role=Role.EDITOR, user__is_active=True)
                    .prefetch_related("institutions"))
    institutions = {i.pk: i for p in profiles for i in p.institutions.all()
                    if i.is_active}
    with_communities = set(Institution.objects.filter(
        pk__in=institutions, communities__isnull=False).values_list("pk", flat=True))
    reports = {(r.institution_id, r.month): r for r in Report.objects.filter(
        institution__in=with_communities, month__in=months)}
    reasons = _return_reasons([r.pk for r in reports.values()
                               if r.state == ReportState.RETURNED])
    out: dict[int, list[Item]] = defaultdict(list)
    for profile in profiles:
        for institution in profile.institutions.all():
            if institution.pk not in with_communities:
                continue
            joined = timezone.localtime(institution.created_at).date().replace(day=1)
            for month in months:
                report = reports.get((institution.pk, month))
                if report is None and month < joined:
                    continue  # not in the registry yet that month: nothing was due
                if report is None or report.state in NOT_YET_SENT:
                    reason = reasons.get(report.pk, "") if report else ""
                    out[profile.user_id].append(Item(institution, month, report, reason))
    return out


def _return_reasons(report_ids: list[int]) -> dict[int, str]:
    """The latest return or reopen reason of each report, in one query."""
    out: dict[int, str] = {}
    comments = (ReportComment.objects.filter(
        report_id__in=report_ids, action__in=[ReportAction.RETURN, ReportAction.REOPEN])
        .order_by("report_id", "-created_at", "-pk").values_list("report_id", "text"))
    for report_id, text in comments:
        out.setdefault(report_id, text)
    return out


def _waiting_by_municipal() -> dict[int, list[Item]]:
    waiting = list(Report.objects.filter(state=ReportState.SUBMITTED).select_related(
        "institution").order_by("month", "institution__short_name"))
    profiles = (UserProfile.objects.filter(role=Role.MUNICIPAL, user__is_active=True)
                .prefetch_related("territories"))
    out: dict[int, list[Item]] = defaultdict(list)
    for profile in profiles:
        territories = {t.pk for t in profile.territories.all()}
        for report in waiting:
            institution = report.institution
            if institution.territory_id in territories and not (
                    institution.skips_municipal_review):
                out[profile.user_id].append(Item(institution, report.month, report))
    return out


SUBJECTS = {
    ReminderKind.OVERDUE: "Просрочена сдача отчётов по Таблице 1",
    ReminderKind.AWAITING_REVIEW: "Отчёты по Таблице 1 ждут вашей проверки",
}
INTROS = {
    ReminderKind.OVERDUE: "Срок сдачи прошёл, а эти отчёты ещё не отправлены на проверку:",
    ReminderKind.AWAITING_REVIEW: "Эти отчёты отправлены учреждениями и ждут, чтобы вы их "
                                  "приняли или вернули на доработку:",
}


def reminders_send(*, today: dt.date) -> ReminderSummary:
    """Send today's reminders that have not been sent yet; return what happened."""
    from django.contrib.auth import get_user_model

    plan = [(ReminderKind.OVERDUE, _overdue_by_editor(today)),
            (ReminderKind.AWAITING_REVIEW, _waiting_by_municipal())]
    users = get_user_model().objects.in_bulk({uid for _, by_user in plan for uid in by_user})
    summary = ReminderSummary()
    for kind, by_user in plan:
        for user_id, items in sorted(by_user.items()):
            user = users[user_id]
            if not user.email:
                summary.without_email += 1
                continue
            if _send_once(user, kind, items, today):
                summary.sent += 1
                summary.recipients.append(user.email)
            else:
                summary.already_sent += 1
    return summary


def _send_once(user, kind: str, items: list[Item], today: dt.date) -> bool:
    """Log then send in one transaction; False when today's reminder already exists."""
    try:
        with transaction.atomic():
            log = ReminderLog.objects.create(recipient=user, kind=kind, sent_on=today,
                                             email=user.email)
            log.reports.set([i.report for i in items if i.report is not None])
            body = "\n".join([f"Здравствуйте, {user.get_full_name() or user.username}!", "",
                              INTROS[kind], *[i.line for i in items], "",
                              "Портал госпабликов: раздел «Отчёты»."])
            send_mail(SUBJECTS[kind], body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except IntegrityError:
        return False
    return True


def reminder_schedule_ensure(*, periodic_task_model=None, crontab_model=None) -> bool:
    """Register the daily reminder task with django-celery-beat unless it is there already.

    Idempotent and never overwrites a schedule edited in the admin; migrations pass their
    historical models.
    """
    entry = PeriodicEntry(SCHEDULE_NAME, TASK_NAME, hour=str(settings.REPORT_REMINDER_HOUR))
    return periodic_tasks_ensure([entry], periodic_task_model=periodic_task_model,
                                 crontab_model=crontab_model) == 1
