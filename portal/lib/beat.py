"""Default periodic tasks in django-celery-beat's tables, created once and then left to people.

The schedule is edited in the admin; these helpers only add an entry that is missing (looked up
by its name), so running them again — from a migration, ``seed_demo`` or a deploy — never
overwrites what someone changed. Migrations pass their historical models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class PeriodicEntry:
    """A periodic task and its default crontab (local time of the portal)."""

    name: str
    task: str
    minute: str = "0"
    hour: str = "*"
    day_of_month: str = "*"


def periodic_tasks_ensure(entries: list[PeriodicEntry], *, periodic_task_model: Any = None,
                          crontab_model: Any = None) -> int:
    """Create the entries that are missing; return how many were created."""
    if periodic_task_model is None or crontab_model is None:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask

        periodic_task_model, crontab_model = PeriodicTask, CrontabSchedule
    created = 0
    for entry in entries:
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
