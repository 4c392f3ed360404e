"""The default collection schedule, stored in django-celery-beat's tables (editable in admin)."""

from __future__ import annotations

from portal.lib.beat import PeriodicEntry, periodic_tasks_ensure

DEFAULT_SCHEDULE = [
    PeriodicEntry("Сбор участников VK и OK (ежедневно в 03:00)",
                  "metrics.tasks.collect_members_daily", "0", "3", "*"),
    PeriodicEntry("Сбор публикаций и статистики за прошлый месяц (2-го числа в 04:00)",
                  "metrics.tasks.collect_monthly", "0", "4", "2"),
    PeriodicEntry("Участники на конец прошлого месяца в Таблицу 1 (1-го числа в 05:00)",
                  "metrics.tasks.members_month_fill", "0", "5", "1"),
    PeriodicEntry("Перезапуск пакетов сбора, потерянных упавшим обработчиком (каждые 15 минут)",
                  "metrics.tasks.collection_recover_lost", "*/15", "*", "*"),
    PeriodicEntry("Обновление подключённых ключей VK и OK до их истечения (ежечасно)",
                  "metrics.tasks.refresh_connected_tokens", "20", "*", "*"),
]


def collection_schedule_ensure(*, periodic_task_model=None, crontab_model=None) -> int:
    """Create the default periodic tasks that are missing; return how many were created.

    Idempotent, and never overwrites a schedule someone edited in the admin. Migrations pass
    their historical models.
    """
    return periodic_tasks_ensure(DEFAULT_SCHEDULE, periodic_task_model=periodic_task_model,
                                 crontab_model=crontab_model)
