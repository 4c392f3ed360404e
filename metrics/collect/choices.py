from django.db import models


class TokenKind(models.TextChoices):
    USER = "user", "Ключ пользователя"
    SERVICE = "service", "Сервисный ключ приложения"
    COMMUNITY = "community", "Ключ сообщества"


class RunKind(models.TextChoices):
    MEMBERS = "members", "Участники (ежедневно)"
    POSTS = "posts", "Публикации за месяц"
    STATS = "stats", "Статистика за месяц"


class RunState(models.TextChoices):
    PENDING = "pending", "В очереди"
    RUNNING = "running", "Идёт"
    DONE = "done", "Завершён"
    FAILED = "failed", "Завершён с ошибками"


class BatchState(models.TextChoices):
    PENDING = "pending", "В очереди"
    RUNNING = "running", "Идёт"
    DONE = "done", "Готова"
    FAILED = "failed", "Сбой"


class AnomalyKind(models.TextChoices):
    MEMBERS_JUMP = "members_jump", "Скачок числа участников"
    RENAME = "rename", "Новое название не похоже на прежнее"
    IDENTITY = "identity", "По тому же id отвечает другое сообщество"


class AnomalyState(models.TextChoices):
    HELD = "held", "Ждёт решения"
    ACCEPTED = "accepted", "Принято"
    REJECTED = "rejected", "Отклонено"


class ItemOutcome(models.TextChoices):
    FAILED = "failed", "Ошибка"
    SKIPPED = "skipped", "Пропущено"
