"""The numbers: monthly indicator values (Table 1 and collected extras) and daily members."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from institutions.choices import Network
from institutions.models import Community
from metrics.choices import Indicator, PostFormat, ValueSource
from metrics.collect.choices import (
    AnomalyKind,
    AnomalyState,
    BatchState,
    ItemOutcome,
    RunKind,
    RunState,
    TokenKind,
)
from portal.lib.months import month_label


class MetricValue(models.Model):
    """One indicator of one community for one month, with where it came from.

    ``value`` is the effective figure (NULL: explicitly not reported; no row: not reported).
    ``api_value`` keeps what the network's API said even after a person overrides ``value``.
    """

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="values", verbose_name="сообщество"
    )
    month = models.DateField("месяц")
    indicator = models.CharField("показатель", max_length=32, choices=Indicator.choices)
    value = models.PositiveBigIntegerField("значение", null=True, blank=True)
    source = models.CharField(
        "источник", max_length=16, choices=ValueSource.choices, default=ValueSource.MANUAL
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="кто внёс",
    )
    updated_at = models.DateTimeField("когда внесено", auto_now=True)
    source_file = models.CharField("файл импорта", max_length=200, blank=True, default="",
                                   db_default="")
    api_value = models.PositiveBigIntegerField("значение из API", null=True, blank=True)
    api_source = models.CharField(
        "источник API", max_length=16, choices=ValueSource.choices, blank=True
    )
    api_collected_at = models.DateTimeField("получено из API", null=True, blank=True)
    is_confirmed = models.BooleanField("подтверждено учреждением", default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "значение показателя"
        verbose_name_plural = "значения показателей"
        constraints = [
            models.UniqueConstraint(
                fields=["community", "month", "indicator"], name="metric_value_natural_key"
            ),
            models.CheckConstraint(
                condition=Q(indicator__in=Indicator.values), name="metric_value_indicator_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=ValueSource.values), name="metric_value_source_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["indicator", "month"], name="metric_value_ind_month_idx"),
            # The order of the values list (API and pages): a page is read off the index
            # instead of sorting every value in the reader's scope.
            models.Index(fields=["-month", "community", "indicator"],
                         name="metric_value_list_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.month:%Y-%m} {self.indicator}={self.value}"


class ValueCount(models.Model):
    """How many ``MetricValue`` rows a community has, kept by database triggers.

    On PostgreSQL statement triggers on ``metrics_metricvalue`` (migration 0004) keep ``rows``
    exact for every write, bulk loads and deletes included, so the values list counts a whole
    scope by summing a row per community instead of ``COUNT(*)`` over every value. Other
    databases have no triggers and no rows here; ``metrics.selectors.values_count`` counts
    the values there.
    """

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, primary_key=True, related_name="+",
        verbose_name="сообщество",
    )
    rows = models.BigIntegerField("значений", default=0)

    class Meta:
        verbose_name = "число значений сообщества"
        verbose_name_plural = "число значений сообществ"

    def __str__(self) -> str:
        return f"{self.community_id}: {self.rows}"


class SnapshotSource(models.TextChoices):
    COLLECTED = "collected", "Собрано из соцсети"
    IMPORT = "import", "Импорт"


class MemberSnapshot(models.Model):
    """Members of a community on a date: collected daily, or imported for past dates.

    A collected figure is the network's own count on that date, so it replaces an imported one
    and an import never replaces it (``metrics.past``). ``collected_at`` is when the row was
    last written, by either path.
    """

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="snapshots", verbose_name="сообщество"
    )
    date = models.DateField("дата")
    members = models.PositiveIntegerField("участников")
    collected_at = models.DateTimeField("собрано", auto_now=True)
    # Database defaults: the collectors write rows with one raw INSERT that names no source.
    source = models.CharField("источник", max_length=16, choices=SnapshotSource.choices,
                              default=SnapshotSource.COLLECTED,
                              db_default=SnapshotSource.COLLECTED)
    source_file = models.CharField("файл импорта", max_length=200, blank=True, default="",
                                   db_default="")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="кто импортировал",
    )

    class Meta:
        verbose_name = "участники на дату"
        verbose_name_plural = "участники на дату"
        constraints = [
            models.UniqueConstraint(
                fields=["community", "date"], name="member_snapshot_natural_key"
            ),
            models.CheckConstraint(condition=Q(source__in=SnapshotSource.values),
                                   name="member_snapshot_source_valid"),
        ]
        indexes = [models.Index(fields=["date"], name="member_snapshot_date_idx")]

    def __str__(self) -> str:
        return f"{self.community_id} {self.date}: {self.members}"


class MembersOnDay(models.Model):
    """Members of a community on every day: its latest snapshot on or before that day.

    A carry-forward of ``MemberSnapshot`` with a row per community per day from its first
    snapshot to the latest day any snapshot has (the horizon), so "members on a date or the
    nearest earlier one" is one direct read, and a day's figures for every community lie
    together. On PostgreSQL the table is partitioned by month and kept exact by triggers on the
    snapshots (every writer: the collector, imports, the admin, COPY), see migration
    ``metrics/0008``; other databases (the SQLite demo) get an empty table and read snapshots.
    """

    pk = models.CompositePrimaryKey("date", "community")
    date = models.DateField("дата")
    community = models.ForeignKey(
        Community, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        related_name="+",
        verbose_name="сообщество",
    )
    members = models.PositiveIntegerField("участников")
    observed_on = models.DateField("дата снимка")

    class Meta:
        verbose_name = "участники на день"
        verbose_name_plural = "участники на день"

    def __str__(self) -> str:
        return f"{self.community_id} {self.date}: {self.members} ({self.observed_on})"


class Post(models.Model):
    """One post of a community's month as the posts run read it: its format and counters.

    The posts run of a month replaces the month's rows of each community it reads, so running
    it twice leaves the same rows.
    """

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="posts", verbose_name="сообщество"
    )
    key = models.CharField("id записи в соцсети", max_length=40)
    month = models.DateField("месяц")
    published_at = models.DateTimeField("опубликована")
    format = models.CharField("формат", max_length=8, choices=PostFormat.choices)
    has_image = models.BooleanField("с изображением", default=False)
    has_video = models.BooleanField("с загруженным видео", default=False)
    has_external_video = models.BooleanField("со ссылкой на видеохостинг", default=False)
    hashtags = models.PositiveSmallIntegerField("хештегов", default=0)
    comments_open = models.BooleanField("комментарии открыты", null=True, blank=True)
    likes = models.PositiveIntegerField("отметки «Нравится»", default=0)
    reposts = models.PositiveIntegerField("репосты", default=0)
    comments = models.PositiveIntegerField("комментарии", default=0)
    views = models.PositiveIntegerField("просмотры", default=0)

    class Meta:
        verbose_name = "запись сообщества"
        verbose_name_plural = "записи сообществ"
        constraints = [
            models.UniqueConstraint(fields=["community", "key"], name="post_natural_key"),
            models.CheckConstraint(condition=Q(format__in=PostFormat.values),
                                   name="post_format_valid"),
        ]
        indexes = [models.Index(fields=["month", "community"], name="post_month_idx")]

    def __str__(self) -> str:
        return f"{self.community_id}/{self.key} {self.format}"

    @property
    def interactions(self) -> int:
        return self.likes + self.reposts + self.comments


class PostHashtag(models.Model):
    """A hashtag of a post (lower case, without «#»), for counting posts by hashtag."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="tags")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    month = models.DateField("месяц")
    tag = models.CharField("хештег", max_length=100)

    class Meta:
        verbose_name = "хештег записи"
        verbose_name_plural = "хештеги записей"
        constraints = [
            models.UniqueConstraint(fields=["post", "tag"], name="post_hashtag_natural_key"),
        ]
        indexes = [models.Index(fields=["month", "tag"], name="post_hashtag_month_idx")]

    def __str__(self) -> str:
        return f"#{self.tag}"


# --- Collection from VK and OK --------------------------------------------------------------------


class NetworkToken(models.Model):
    """A VK or OK access token the collection may use; stored encrypted, shown masked."""

    network = models.CharField("соцсеть", max_length=2, choices=Network.choices)
    kind = models.CharField("вид ключа", max_length=16, choices=TokenKind.choices)
    label = models.CharField("название", max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="network_tokens", verbose_name="кто зарегистрировал",
    )
    secret_encrypted = models.TextField("ключ (зашифрован)", editable=False)
    fingerprint = models.CharField("отпечаток", max_length=64, editable=False)
    last4 = models.CharField("последние символы", max_length=4, editable=False)
    app_key = models.CharField("ключ приложения OK (application_key)", max_length=64,
                               blank=True)
    app_secret_encrypted = models.TextField("секрет приложения OK (зашифрован)", blank=True,
                                            editable=False)
    communities = models.ManyToManyField(
        Community, blank=True, related_name="admin_tokens",
        verbose_name="администрирует сообщества (для статистики)",
    )
    is_active = models.BooleanField("действует", default=True)
    disabled_reason = models.CharField("причина отключения", max_length=300, blank=True)
    disabled_at = models.DateTimeField("отключён", null=True, blank=True)
    rests_until = models.DateTimeField("отдыхает до (дневной лимит)", null=True, blank=True)
    checked_at = models.DateTimeField("проверен", null=True, blank=True)
    created_at = models.DateTimeField("зарегистрирован", auto_now_add=True)
    # Tokens connected through OAuth («Подключить VK/ОК») expire and are renewed with these.
    expires_at = models.DateTimeField("действует до", null=True, blank=True)
    refresh_encrypted = models.TextField("ключ обновления (зашифрован)", blank=True,
                                         editable=False)
    device_id = models.CharField("device_id VK ID", max_length=100, blank=True, editable=False)

    class Meta:
        verbose_name = "ключ доступа к API"
        verbose_name_plural = "ключи доступа к API"
        ordering = ["network", "-is_active", "label", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["network", "fingerprint"],
                                    name="network_token_unique"),
            models.CheckConstraint(condition=Q(network__in=Network.values),
                                   name="network_token_network_valid"),
            models.CheckConstraint(condition=Q(kind__in=TokenKind.values),
                                   name="network_token_kind_valid"),
            models.CheckConstraint(condition=Q(is_active=True) | ~Q(disabled_reason=""),
                                   name="network_token_disabled_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.masked})"

    @property
    def masked(self) -> str:
        return f"…{self.last4}"

    @property
    def rate(self) -> int:
        """Requests a second the network allows this token (VK community tokens: 20)."""
        return 20 if self.kind == TokenKind.COMMUNITY else 3


class CollectionRun(models.Model):
    """One collection of one kind from one network, as people see it on the runs page."""

    kind = models.CharField("что собираем", max_length=16, choices=RunKind.choices)
    network = models.CharField("соцсеть", max_length=2, choices=Network.choices)
    period = models.DateField("дата или месяц")
    state = models.CharField("состояние", max_length=16, choices=RunState.choices,
                             default=RunState.PENDING)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name="кто запустил",
    )
    created_at = models.DateTimeField("создан", auto_now_add=True)
    started_at = models.DateTimeField("начат", null=True, blank=True)
    finished_at = models.DateTimeField("завершён", null=True, blank=True)
    total = models.PositiveIntegerField("сообществ", default=0)
    done = models.PositiveIntegerField("собрано", default=0)
    failed = models.PositiveIntegerField("ошибок", default=0)
    skipped = models.PositiveIntegerField("пропущено", default=0)
    requests = models.PositiveIntegerField("запросов к API", default=0)
    errors_by_code = models.JSONField("ошибки по кодам", default=dict, blank=True)
    message = models.CharField("сообщение", max_length=300, blank=True)
    plan = models.CharField("как идёт сбор", max_length=500, blank=True,
                            help_text="Почему сбор медленнее возможного и какой ключ это "
                                      "исправит (по ключам на момент запуска).")
    resumes_at = models.DateTimeField(
        "продолжится", null=True, blank=True,
        help_text="Ключи исчерпали дневные лимиты: сбор продолжится в это время.")

    class Meta:
        verbose_name = "сбор данных"
        verbose_name_plural = "сборы данных"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RunKind.values),
                                   name="collection_run_kind_valid"),
            models.CheckConstraint(condition=Q(network__in=Network.values),
                                   name="collection_run_network_valid"),
            models.CheckConstraint(condition=Q(state__in=RunState.values),
                                   name="collection_run_state_valid"),
        ]

    def __str__(self) -> str:
        """«Участники (ежедневно) ВКонтакте, 04.12.2026», «Публикации за месяц …, ноябрь 2026»."""
        period = (f"{self.period:%d.%m.%Y}" if self.kind == RunKind.MEMBERS
                  else month_label(self.period))
        return f"{self.get_kind_display()} {self.get_network_display()}, {period}"

    @property
    def processed(self) -> int:
        return self.done + self.failed + self.skipped

    @property
    def percent(self) -> int:
        if self.state in (RunState.DONE, RunState.FAILED) or not self.total:
            return 100 if self.state in (RunState.DONE, RunState.FAILED) else 0
        return min(100, self.processed * 100 // self.total)

    @property
    def is_finished(self) -> bool:
        return self.state in (RunState.DONE, RunState.FAILED)


class CollectionBatch(models.Model):
    """A slice of a run that one task collects; redone whole if its worker dies."""

    run = models.ForeignKey(CollectionRun, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField("номер")
    community_ids = models.JSONField("сообщества", default=list)
    state = models.CharField("состояние", max_length=16, choices=BatchState.choices,
                             default=BatchState.PENDING)
    attempts = models.PositiveIntegerField("попыток", default=0)
    done = models.PositiveIntegerField("собрано", default=0)
    failed = models.PositiveIntegerField("ошибок", default=0)
    skipped = models.PositiveIntegerField("пропущено", default=0)
    requests = models.PositiveIntegerField("запросов к API", default=0)
    errors_by_code = models.JSONField("ошибки по кодам", default=dict, blank=True)
    message = models.CharField("сообщение", max_length=300, blank=True)
    # The Celery worker (node name) that last received the batch's message or claimed it;
    # blank until one has. A worker that starts again takes back what it held (recovery.py).
    worker = models.CharField("обработчик", max_length=200, blank=True)
    updated_at = models.DateTimeField("изменена", auto_now=True)

    class Meta:
        verbose_name = "пакет сбора"
        verbose_name_plural = "пакеты сбора"
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="collection_batch_natural_key"),
            models.CheckConstraint(condition=Q(state__in=BatchState.values),
                                   name="collection_batch_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.index}"


class CollectionRunItem(models.Model):
    """A community a run could not collect, and why, in plain Russian."""

    run = models.ForeignKey(CollectionRun, on_delete=models.CASCADE, related_name="items")
    batch = models.ForeignKey(CollectionBatch, on_delete=models.CASCADE, related_name="items")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+",
                                  verbose_name="сообщество")
    outcome = models.CharField("итог", max_length=16, choices=ItemOutcome.choices)
    error_key = models.CharField("код ошибки", max_length=32, blank=True)
    message = models.CharField("ошибка", max_length=300)

    class Meta:
        verbose_name = "сообщество с ошибкой сбора"
        verbose_name_plural = "сообщества с ошибками сбора"
        ordering = ["run", "community_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "community"],
                                    name="collection_item_natural_key"),
            models.CheckConstraint(condition=Q(outcome__in=ItemOutcome.values),
                                   name="collection_item_outcome_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id}: {self.message}"


class Anomaly(models.Model):
    """A collected or imported figure the plausibility guard held back, with its evidence.

    Held figures are not written where rankings and summaries read them (snapshots, titles)
    until a regional methodologist accepts them; a rejected one is never written.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="anomalies",
                                  verbose_name="сообщество")
    kind = models.CharField("что не так", max_length=16, choices=AnomalyKind.choices)
    day = models.DateField("дата")
    source = models.CharField("источник", max_length=16, choices=ValueSource.choices)
    run = models.ForeignKey(CollectionRun, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+", verbose_name="сбор")
    previous_members = models.PositiveIntegerField("участников до", null=True, blank=True)
    previous_date = models.DateField("дата прежнего значения", null=True, blank=True)
    members = models.PositiveIntegerField("участников по источнику", null=True, blank=True)
    previous_title = models.CharField("прежнее название", max_length=300, blank=True)
    title = models.CharField("название по источнику", max_length=300, blank=True)
    previous_screen_name = models.CharField("прежнее короткое имя", max_length=100, blank=True)
    screen_name = models.CharField("короткое имя по источнику", max_length=100, blank=True)
    state = models.CharField("состояние", max_length=16, choices=AnomalyState.choices,
                             default=AnomalyState.HELD)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name="кто решил")
    decided_at = models.DateTimeField("когда решено", null=True, blank=True)
    created_at = models.DateTimeField("обнаружено", auto_now_add=True)

    class Meta:
        verbose_name = "подозрительное значение"
        verbose_name_plural = "подозрительные значения"
        ordering = ["-day", "community_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["community", "day", "kind"],
                                    name="anomaly_natural_key"),
            models.CheckConstraint(condition=Q(kind__in=AnomalyKind.values),
                                   name="anomaly_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=AnomalyState.values),
                                   name="anomaly_state_valid"),
        ]
        indexes = [models.Index(fields=["state", "-day"], name="anomaly_state_day_idx")]

    def __str__(self) -> str:
        return f"{self.community_id} {self.day} {self.kind}"

    @property
    def jump(self) -> int | None:
        if self.members is None or self.previous_members is None:
            return None
        return self.members - self.previous_members

    @property
    def jump_pct(self) -> float | None:
        """The jump as a share of the previous figure, in percent (None from zero)."""
        if self.jump is None or not self.previous_members:
            return None
        return 100 * self.jump / self.previous_members
