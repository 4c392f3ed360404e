"""Putting a task on the queue, by its name: the one door between services and Celery.

Services enqueue through here and never import task modules (tasks import services, never the
reverse). A broker that cannot be reached becomes ``ServiceUnavailable`` with the caller's
Russian message, after a short publish retry.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from kombu.exceptions import OperationalError

from portal.celery import app
from portal.errors import ServiceUnavailable

QUEUE_DOWN = "Очередь задач недоступна, попробуйте позже."
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 1}


@cache
def _tasks_loaded() -> None:
    """Import the apps' task modules once, so an in-process run finds every task by name."""
    app.loader.import_default_modules()


def enqueue(task_name: str, *args: Any, unavailable: str = QUEUE_DOWN) -> None:
    """Send the task named ``task_name`` with ``args``; in-process mode runs it right away."""
    if app.conf.task_always_eager:  # embedded mode: no producer, no broker connection
        _tasks_loaded()
        app.tasks[task_name].apply(args=args)
        return
    try:
        app.send_task(task_name, args=args, retry=True, retry_policy=PUBLISH_RETRY)
    except (OperationalError, ConnectionError, OSError) as exc:
        raise ServiceUnavailable(unavailable) from exc
