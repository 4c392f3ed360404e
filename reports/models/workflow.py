"""The monthly Table-1 report of an institution, its review trail and reminder log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from institutions.models import Institution


class ReportState(models.TextChoices):
    DRAFT = "draft", "черновик"
    SUBMITTED = "submitted", "отправлен"
    ACCEPTED = "accepted", "принят муниципалитетом"
    APPROVED = "approved", "утверждён"
    RETURNED = "returned", "возвращён на доработку"


# States in which the institution's figures may still be changed.
EDITABLE_STATES = frozenset({ReportState.DRAFT, ReportState.RETURNED})


class ReportAction(models.TextChoices):
    SUBMIT = "submit", "отправить"
    ACCEPT = "accept", "принять"
    APPROVE = "approve", "утвердить"
    RETURN = "return", "вернуть на доработку"
    REOPEN = "reopen", "переоткрыть"
    COMMENT = "comment", "комментарий"


class ReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReportQuerySet:
        return self.filter(institution__in=Institution.objects.visible_to(user).values("pk"))


class Report(models.Model):
    """One institution's Table-1 report for one month, covering all its communities."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="reports", verbose_name="учреждение"
    )
    month = models.DateField("месяц")
    state = models.CharField(
        "состояние", max_length=16, choices=ReportState.choices, default=ReportState.DRAFT
    )
    # Bumped by every write (values or state): a writer holding an older number gets a Conflict.
    version = models.PositiveIntegerField("версия", default=1)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="отправил",
    )
    submitted_at = models.DateTimeField("отправлен", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="принял",
    )
    accepted_at = models.DateTimeField("принят", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="утвердил",
    )
    approved_at = models.DateTimeField("утверждён", null=True, blank=True)
    created_at = models.DateTimeField("создан", auto_now_add=True)
    updated_at = models.DateTimeField("изменён", auto_now=True)

    objects = ReportQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "отчёт (Таблица 1)"
        verbose_name_plural = "отчёты (Таблица 1)"
        ordering = ["-month", "institution_id"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "month"], name="report_natural_key"),
            models.CheckConstraint(
                condition=Q(state__in=ReportState.values), name="report_state_valid"
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="report_month_first_day"),
            models.CheckConstraint(condition=Q(version__gte=1), name="report_version_positive"),
        ]
        indexes = [models.Index(fields=["month", "state"], name="report_month_state_idx")]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.month:%Y-%m} ({self.get_state_display()})"

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def is_locked(self) -> bool:
        return self.state == ReportState.APPROVED


class ReportComment(models.Model):
    """A comment on a report; every state change is one, with the states before and after."""

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="comments", verbose_name="отчёт"
    )
    action = models.CharField("действие", max_length=16, choices=ReportAction.choices)
    from_state = models.CharField(
        "было", max_length=16, choices=ReportState.choices, blank=True
    )
    to_state = models.CharField("стало", max_length=16, choices=ReportState.choices, blank=True)
    text = models.TextField("комментарий", blank=True)
    # The validation warnings the author saw and answered (submit): [{"code", "message", ...}].
    warnings = models.JSONField("предупреждения", default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="автор",
    )
    created_at = models.DateTimeField("когда", auto_now_add=True)

    class Meta:
        verbose_name = "комментарий к отчёту"
        verbose_name_plural = "комментарии к отчётам"
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ReportAction.values), name="report_comment_action_valid"
            ),
            # A return or a reopen without a stated reason is not allowed by the database either.
            models.CheckConstraint(
                condition=~Q(action__in=["return", "reopen", "comment"]) | ~Q(text=""),
                name="report_comment_reason_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.action}"


class ReminderKind(models.TextChoices):
    OVERDUE = "overdue", "просроченные отчёты"
    AWAITING_REVIEW = "awaiting_review", "отчёты ждут проверки"


class ReminderLog(models.Model):
    """One reminder e-mail sent to a person; at most one of each kind per person per day."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        verbose_name="получатель",
    )
    kind = models.CharField("вид", max_length=16, choices=ReminderKind.choices)
    sent_on = models.DateField("дата")
    sent_at = models.DateTimeField("отправлено", auto_now_add=True)
    email = models.EmailField("адрес")
    reports = models.ManyToManyField(Report, blank=True, related_name="+", verbose_name="отчёты")

    class Meta:
        verbose_name = "напоминание"
        verbose_name_plural = "напоминания"
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "sent_on"], name="reminder_once_a_day"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReminderKind.values), name="reminder_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.sent_on}"
