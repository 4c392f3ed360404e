"""The default collection schedule, stored in django-celery-beat's tables (editable in admin)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class ScheduleEntry:
    """A periodic task of the collection and its default crontab."""

    name: str
    task: str
    minute: str
    hour: str
    day_of_month: str


DEFAULT_SCHEDULE = [
    ScheduleEntry("Сбор участников VK и OK (ежедневно в 03:00)",
                  "metrics.tasks.collect_members_daily", "0", "3", "*"),
    ScheduleEntry("Сбор публикаций и статистики за прошлый месяц (2-го числа в 04:00)",
                  "metrics.tasks.collect_monthly", "0", "4", "2"),
    ScheduleEntry("Участники на конец прошлого месяца в Таблицу 1 (1-го числа в 05:00)",
                  "metrics.tasks.members_month_fill", "0", "5", "1"),
    ScheduleEntry("Перезапуск пакетов сбора, потерянных упавшим обработчиком (каждые 15 минут)",
                  "metrics.tasks.collection_recover_lost", "*/15", "*", "*"),
]


def collection_schedule_ensure(*, periodic_task_model=None, crontab_model=None) -> int:
    """Create the default periodic tasks that are missing; return how many were created.

    Idempotent, and never overwrites a schedule someone edited in the admin. Migrations pass
    their historical models.
    """
    if periodic_task_model is None or crontab_model is None:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask

        periodic_task_model, crontab_model = PeriodicTask, CrontabSchedule
    created = 0
    for entry in DEFAULT_SCHEDULE:
        if periodic_task_model.objects.filter(name=entry.name).exists():
            continue
        crontab, _ = crontab_model.objects.get_or_create(
            minute=entry.minute, hour=entry.hour, day_of_month=entry.day_of_month,
            day_of_week="*", month_of_year="*", timezone=settings.TIME_ZONE,
        )
        periodic_task_model.objects.create(name=entry.name, task=entry.task, crontab=crontab,
                                           enabled=True)
        created += 1
    return created
