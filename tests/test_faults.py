"""Faults the portal must survive: the database dropping out mid-write, Redis gone.

A dropped connection is real: PostgreSQL terminates the request's backend (pg_terminate_backend
from a second connection) right after the first rows of a multi-row save went out. Nothing of
that save may remain, and the person gets a clean error: the plain Russian page (which needs no
database) or the API's JSON error. With Redis down (broker and rate limiter on a closed port)
every page still answers, and «Собрать сейчас» says the queue is unavailable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Any

import psycopg2
import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client

from metrics.choices import TABLE1_INDICATORS
from metrics.collect.choices import RunState
from metrics.models import CollectionRun, MetricValue
from metrics.tokens import token_register
from portal.celery import app as celery_app
from reports.models import ExportJob
from reports.models.rankings import ExportState
from tests import test_permission_matrix
from tests.test_permission_matrix import ADDRESSES, url_for, write_methods

CLOSED_PORT_REDIS = "redis://127.0.0.1:9/0"
sides = test_permission_matrix.sides  # both territories fully populated (a fixture)
WRITES = ("INSERT", "UPDATE", "DELETE")
# A plausible month (unique visitors ≤ visits, and so on), so the save gets to writing.
FIGURES = {"members": 500, "visits": 300, "unique_visitors": 200, "wall_views": 1000,
           "feedback": 50}


@contextmanager
def connection_dropped_after_writes(count: int) -> Iterator[list[str]]:
    """The database terminates this connection once ``count`` write statements were sent."""
    seen: list[str] = []
    backend_pid = connection.connection.get_backend_pid()
    params = connection.get_connection_params()

    def wrapper(execute: Callable, sql: str, params_: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith(WRITES):
            if len(seen) == count:
                # psycopg2's ``with connection`` ends a transaction but keeps the connection
                # open, which would block dropping the test database at the end of the run.
                with closing(psycopg2.connect(**params)) as admin, admin.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
            seen.append(sql)
        return execute(sql, params_, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen
    connection.close()  # the next query reconnects


def cells(community_id: int) -> dict[str, str]:
    """Every Table-1 figure of January 2026 for one community, as the entry page posts them."""
    return {f"v-{community_id}-2026-01-{indicator.value}": str(FIGURES[indicator.value])
            for indicator in TABLE1_INDICATORS}


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_mid_save_leaves_nothing_and_a_russian_page(editor_a, world):
    client = Client(raise_request_exception=False)
    client.force_login(editor_a)
    community = world["a"]
    url = f"/table1/{community.institution_id}/2026/"
    assert client.get(url).status_code == 200
    connection.ensure_connection()

    with connection_dropped_after_writes(1) as writes:
        response = client.post(url, cells(community.pk))

    assert len(writes) >= 2, "the save was expected to write several rows"
    assert response.status_code == 500
    page = response.content.decode()
    assert '<html lang="ru">' in page  # templates/500.html, not Django's technical page
    assert "<title>Ошибка на сервере — Портал госпабликов</title>" in page
    assert "действие не выполнено" in page
    assert "Traceback" not in page and "psycopg2" not in page and "INSERT" not in page
    assert not MetricValue.objects.filter(community=community).exists()
    # Once the database is back, the same save goes through whole.
    assert client.post(url, cells(community.pk)).status_code == 302
    assert MetricValue.objects.filter(community=community).count() == len(TABLE1_INDICATORS)


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_mid_bulk_upsert_gives_the_api_error_shape(editor_a, world,
                                                                        api_as):
    client = api_as(editor_a)
    client.raise_request_exception = False
    community = world["a"]
    values = [{"community": community.pk, "month": "2026-01", "indicator": i.value,
               "value": FIGURES[i.value]} for i in TABLE1_INDICATORS]
    connection.ensure_connection()

    with connection_dropped_after_writes(1) as writes:
        response = client.post("/api/v1/report-values/bulk/", {"values": values}, format="json")

    assert len(writes) >= 2
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "server_error"
    assert not MetricValue.objects.filter(community=community).exists()


def test_the_error_pages_render_without_a_database():
    """No ``db`` fixture: any query while rendering would raise. 500.html gets no request."""
    for name, title in (("500.html", "Ошибка на сервере"), ("404.html", "Страница не найдена"),
                        ("403.html", "Доступ запрещён")):
        html = render_to_string(name)
        assert title in html and '<html lang="ru">' in html


def test_unknown_pages_and_api_addresses(db, client):
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and "Страница не найдена" in page.content.decode()
    api = client.get("/api/v1/no-such-thing/")
    assert api.status_code == 404
    assert api.json() == {"error": {"code": "not_found", "message": "Адрес API не найден.",
                                    "details": None}}


def test_a_forbidden_page_says_so_in_russian(login, viewer):
    response = login(viewer).get("/collection/tokens/")
    assert response.status_code == 403
    assert "Доступ запрещён" in response.content.decode()


# --- Redis down ---------------------------------------------------------------------------
@pytest.fixture
def redis_down(settings):
    """Broker and rate limiter on a closed port; tasks are queued, not run in process."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url, conf.broker_write_url
    conf.task_always_eager = False
    conf.broker_url = conf.broker_write_url = CLOSED_PORT_REDIS
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    settings.REDIS_URL = CLOSED_PORT_REDIS
    yield
    conf.task_always_eager, conf.broker_url, conf.broker_write_url = saved
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.celery
def test_with_redis_down_collect_now_says_the_queue_is_unavailable(login, regional, world,
                                                                   redis_down):
    token_register(user=None, network="vk", kind="service", secret="faults-token",
                   label="faults", check=False)
    response = login(regional).post("/collection/start/", {"kind": "members", "network": "vk"},
                                    follow=True)
    assert response.status_code == 200
    assert "Очередь задач недоступна" in response.content.decode()
    assert CollectionRun.objects.get().state == RunState.FAILED


@pytest.mark.celery
def test_with_redis_down_every_page_and_endpoint_still_answers(login, api_as, regional, sides,
                                                               redis_down):
    """Reads, and writes that would queue a task (collection, exports, reminders): no 5xx."""
    page_client, api_client = login(regional), api_as(regional)
    failures, answered = [], 0
    for address in ADDRESSES:
        client = api_client if address.is_api else page_client
        url = url_for(address, sides["a"])
        statuses = [client.get(url).status_code]
        if not address.is_api and write_methods(address) == ["post"]:
            statuses.append(client.post(url, {}).status_code)
        failures += [f"{url}: {status}" for status in statuses if status >= 500]
        answered += statuses.count(200)
    assert not failures, failures
    assert answered >= 40, answered


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)  # the task is queued once the job's row is committed
def test_with_redis_down_ordering_an_export_says_the_queue_is_unavailable(login, regional,
                                                                          world, redis_down):
    response = login(regional).post("/exports/summaries/", {"date_from": "2026-01-01",
                                                           "date_to": "2026-01-31"},
                                    follow=True)
    assert response.status_code == 200
    assert "Очередь задач недоступна: выгрузка не запущена" in response.content.decode()
    job = ExportJob.objects.get()
    assert job.state == ExportState.FAILED and "Очередь задач недоступна" in job.error
