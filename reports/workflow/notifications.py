"""The e-mail an institution's editors get when a report comes back to them, with the reason."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from institutions.choices import Role
from portal.errors import ServiceUnavailable
from portal.lib.months import month_label
from portal.queue import enqueue
from reports.models import ReportAction, ReportComment

RETURN_NOTICE_TASK = "reports.tasks.send_return_notice"
NOTICE_ACTIONS = (ReportAction.RETURN, ReportAction.REOPEN)
log = logging.getLogger(__name__)


def return_notice_schedule(*, comment: ReportComment) -> None:
    """After the transition commits, queue the e-mail; a queue that is down loses only the
    e-mail (the reason stays on the report page and the editor's home), never the return."""

    def send() -> None:
        try:
            enqueue(RETURN_NOTICE_TASK, comment.pk)
        except ServiceUnavailable:
            log.warning("return notice for comment %s not queued: queue unavailable", comment.pk)

    transaction.on_commit(send)


def _editor_addresses(institution_id: int) -> list[str]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(
        is_active=True, profile__role=Role.EDITOR, profile__institutions=institution_id,
    ).exclude(email="").order_by("pk")
    return [u.email for u in users]


def return_notice_send(*, comment_id: int) -> int:
    """Tell the institution's editors that a report was returned or reopened and why."""
    comment = (ReportComment.objects.select_related("report__institution", "author")
               .filter(pk=comment_id, action__in=NOTICE_ACTIONS).first())
    if comment is None:
        return 0
    recipients = _editor_addresses(comment.report.institution_id)
    if not recipients:
        return 0
    report = comment.report
    month = month_label(report.month)
    who = comment.author.get_full_name() or comment.author.username if comment.author else ""
    body = "\n".join([
        "Здравствуйте!", "",
        f"Отчёт учреждения «{report.institution.short_name}» за {month} возвращён на доработку"
        + (f" ({who}, {comment.created_at:%d.%m.%Y %H:%M})." if who else "."),
        "", "Причина:", comment.text, "",
        "Исправьте значения в Таблице 1 и отправьте отчёт снова: раздел «Мои задачи» портала.",
    ])
    subject = f"Отчёт за {month} возвращён на доработку: {report.institution.short_name}"
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
