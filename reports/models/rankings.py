"""Published rankings (immutable versions under stable addresses) and background export jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class PublishedRanking(models.Model):
    """A ranking the regional methodologist publishes; its versions live under one slug."""

    slug = models.SlugField("адрес", max_length=80, unique=True, allow_unicode=False)
    title = models.CharField("название", max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="создал",
    )
    created_at = models.DateTimeField("создан", auto_now_add=True)

    class Meta:
        verbose_name = "опубликованный рейтинг"
        verbose_name_plural = "опубликованные рейтинги"
        ordering = ["-created_at", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("reports:published-latest", kwargs={"slug": self.slug})


class PublishedRankingVersion(models.Model):
    """One frozen version: parameters, methodology, "data as of" and the rows as published.

    Rows are copies (names and figures), so later changes of the registry or the numbers do not
    alter what was published. Versions are only ever added, never edited.
    """

    ranking = models.ForeignKey(
        PublishedRanking, on_delete=models.PROTECT, related_name="versions",
        verbose_name="рейтинг",
    )
    number = models.PositiveIntegerField("версия")
    title = models.CharField("название", max_length=300)
    metric_label = models.CharField("показатель", max_length=200)
    params = models.JSONField("параметры")
    methodology = models.TextField("методика")
    notes = models.JSONField("пояснения к расчёту", default=list)
    data_as_of = models.DateField("данные на", null=True, blank=True)
    # The report states whose Table-1 values the version counted, and how many values of the
    # period were still awaiting approval when it was published.
    counted_states = models.JSONField("учтены отчёты в состояниях", default=list)
    pending = models.PositiveIntegerField(
        "ждали утверждения", null=True, default=0,
        help_text="Пусто: показатель считается не по Таблице 1 (утверждение на него не влияет).")
    rows = models.JSONField("строки рейтинга", default=list)
    missing = models.JSONField("без данных", default=list)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="опубликовал",
    )
    published_at = models.DateTimeField("опубликован", auto_now_add=True)

    class Meta:
        verbose_name = "версия опубликованного рейтинга"
        verbose_name_plural = "версии опубликованных рейтингов"
        ordering = ["ranking_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["ranking", "number"],
                                    name="published_version_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1),
                                   name="published_version_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.ranking_id} v{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("reports:published-version",
                       kwargs={"slug": self.ranking.slug, "number": self.number})


class ExportKind(models.TextChoices):
    SUMMARY_ALL = "summary_all", "Сводные отчёты всех территорий (zip)"
    RANKING = "ranking", "Рейтинг (Excel)"


class ExportState(models.TextChoices):
    PENDING = "pending", "в очереди"
    RUNNING = "running", "выполняется"
    DONE = "done", "готово"
    FAILED = "failed", "ошибка"
    EXPIRED = "expired", "файл удалён: срок хранения истёк"


class ExportJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> ExportJobQuerySet:
        if getattr(user, "is_superuser", False):
            return self
        return self.filter(requested_by_id=getattr(user, "pk", None))


class ExportJob(models.Model):
    """A large export built in the background; people watch its progress and download the file."""

    kind = models.CharField("вид", max_length=32, choices=ExportKind.choices)
    params = models.JSONField("параметры", default=dict)
    state = models.CharField(
        "состояние", max_length=16, choices=ExportState.choices, default=ExportState.PENDING
    )
    progress = models.PositiveSmallIntegerField("готовность, %", default=0)
    file = models.FileField("файл", upload_to="exports/%Y/%m/", blank=True)
    filename = models.CharField("имя файла", max_length=200, blank=True)
    error = models.TextField("ошибка", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        verbose_name="заказал",
    )
    created_at = models.DateTimeField("создано", auto_now_add=True)
    started_at = models.DateTimeField("начато", null=True, blank=True)
    finished_at = models.DateTimeField("завершено", null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = "задание на выгрузку"
        verbose_name_plural = "задания на выгрузку"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ExportKind.values),
                                   name="export_job_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=ExportState.values),
                                   name="export_job_state_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100),
                                   name="export_job_progress_percent"),
            models.CheckConstraint(condition=~Q(state=ExportState.DONE) | ~Q(file=""),
                                   name="export_job_done_has_file"),
        ]
        indexes = [models.Index(fields=["requested_by", "-created_at"],
                                name="export_job_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in (ExportState.DONE, ExportState.FAILED, ExportState.EXPIRED)
