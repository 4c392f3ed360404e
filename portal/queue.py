"""Putting a task on the queue, by its name: the one door between services and Celery.

Services enqueue through here and never import task modules (tasks import services, never the
reverse). A broker that cannot be reached becomes ``ServiceUnavailable`` with the caller's
Russian message, after a short publish retry.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from kombu.exceptions import OperationalError

from portal.celery import app
from portal.errors import ServiceUnavailable

QUEUE_DOWN = "Очередь задач недоступна, попробуйте позже."
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 1}

log = logging.getLogger(__name__)


@cache
def _tasks_loaded() -> None:
    """Import the apps' task modules once, so an in-process run finds every task by name."""
    app.loader.import_default_modules()


def enqueue(task_name: str, *args: Any, unavailable: str = QUEUE_DOWN) -> None:
    """Send the task named ``task_name`` with ``args``; in-process mode runs it here.

    In-process (no broker) the task runs right away, or, with ``TASKS_IN_BACKGROUND`` (the
    embedded ``make run``), in a thread of its own once the caller's transaction commits: the
    page that started a collection or an export answers at once and shows its progress, as it
    does with a worker, instead of hanging until the task ends.
    """
    if app.conf.task_always_eager:  # embedded mode: no producer, no broker connection
        _tasks_loaded()
        task = app.tasks[task_name]
        if getattr(settings, "TASKS_IN_BACKGROUND", False):
            transaction.on_commit(lambda: _start_thread(task_name, args))
        else:
            task.apply(args=args)
        return
    try:
        app.send_task(task_name, args=args, retry=True, retry_policy=PUBLISH_RETRY)
    except (OperationalError, ConnectionError, OSError) as exc:
        raise ServiceUnavailable(unavailable) from exc


def _start_thread(task_name: str, args: tuple) -> None:
    threading.Thread(target=_run_in_thread, args=(task_name, args), daemon=True,
                     name=f"task {task_name}").start()


def _run_in_thread(task_name: str, args: tuple) -> None:
    """One in-process task on its own thread (and database connection), closed at the end."""
    try:
        app.tasks[task_name].apply(args=args)
    except Exception:  # a worker would log it too; the thread has nobody to raise to
        log.exception("task %s failed", task_name)
    finally:
        connections.close_all()
