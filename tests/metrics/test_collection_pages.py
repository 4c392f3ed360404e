"""The runs pages, «Собрать сейчас», the progress endpoint and the help page, by persona."""

import datetime as dt

import pytest
from django.urls import reverse

from institutions.choices import Network
from metrics.collect.choices import ItemOutcome, RunKind, RunState
from metrics.collect.runs import collection_run_create
from metrics.models import CollectionRun, CollectionRunItem
from portal.celery import app as celery_app
from tests.metrics.conftest import make_communities, vk_ids

pytestmark = pytest.mark.django_db
RUNS = reverse("metrics:collection-runs")
START = reverse("metrics:collection-start")


def a_run_with_problems(world) -> CollectionRun:
    """A finished run in which community A (territory A) and B (territory B) failed."""
    run = collection_run_create(kind=RunKind.MEMBERS, network=Network.VK)
    batch = run.batches.get()
    for community in (world["a"], world["b"]):
        CollectionRunItem.objects.create(run=run, batch=batch, community=community,
                                         outcome=ItemOutcome.SKIPPED,
                                         message="сообщество закрыто")
    CollectionRun.objects.filter(pk=run.pk).update(state=RunState.DONE, done=0, skipped=2)
    return run


@pytest.mark.parametrize(("persona", "status"), [
    ("regional", 200), ("municipal_a", 200), ("editor_a", 200), ("viewer", 200),
    ("outsider", 403),
])
def test_who_may_follow_the_collection(request, login, world, persona, status):
    run = a_run_with_problems(world)
    client = login(request.getfixturevalue(persona))
    assert client.get(RUNS).status_code == status
    assert client.get(reverse("metrics:collection-run", args=[run.pk])).status_code == status
    progress = client.get(reverse("metrics:collection-run-progress", args=[run.pk]))
    assert progress.status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(RUNS).status_code == 302


def test_the_municipal_user_sees_only_the_errors_of_territory_a(login, world, municipal_a):
    run = a_run_with_problems(world)
    page = login(municipal_a).get(reverse("metrics:collection-run", args=[run.pk]))
    html = page.content.decode()
    assert str(world["a"]) in html and str(world["b"]) not in html
    assert "сообщество закрыто" in html


def test_the_regional_methodologist_sees_every_error(login, world, regional):
    run = a_run_with_problems(world)
    html = login(regional).get(reverse("metrics:collection-run", args=[run.pk])).content.decode()
    assert str(world["a"]) in html and str(world["b"]) in html


def test_progress_reports_the_counts(login, world, regional):
    run = a_run_with_problems(world)
    progress = login(regional).get(reverse("metrics:collection-run-progress",
                                           args=[run.pk])).json()
    assert progress["state"] == RunState.DONE and progress["skipped"] == 2
    assert progress["percent"] == 100 and progress["finished"] is True


def test_the_runs_list_costs_the_same_queries_for_3_and_for_30_runs(
        login, regional, django_assert_num_queries):
    client = login(regional)
    for _ in range(3):
        collection_run_create(kind=RunKind.MEMBERS, network=Network.VK, user=regional)
    client.get(RUNS)  # warm the session and the profile
    with django_assert_num_queries(5) as few:
        client.get(RUNS)
    for _ in range(27):
        collection_run_create(kind=RunKind.MEMBERS, network=Network.OK, user=regional)
    with django_assert_num_queries(len(few.captured_queries)):
        html = client.get(RUNS).content.decode()
    assert html.count('href="/collection/runs/') == 30


@pytest.mark.parametrize("persona", ["municipal_a", "editor_a", "viewer"])
def test_only_regional_methodologists_may_collect_now(request, login, world, persona):
    response = login(request.getfixturevalue(persona)).post(START, {"kind": "members",
                                                                    "network": "vk"})
    assert response.status_code == 403
    assert not CollectionRun.objects.exists()


def test_collect_now_runs_the_collection_and_shows_its_run(login, regional, emulator, vk_token):
    make_communities(vk_ids("active", 5))

    response = login(regional).post(START, {"kind": "members", "network": "vk"}, follow=True)

    run = CollectionRun.objects.get()
    assert run.state == RunState.DONE and run.done == 5 and run.triggered_by == regional
    assert response.redirect_chain[-1][0] == reverse("metrics:collection-run", args=[run.pk])
    assert (f"Сбор запущен: Участники (ежедневно) ВКонтакте, {run.period:%d.%m.%Y}."
            in response.content.decode())


@pytest.fixture
def broker_down():
    """A real broker that cannot be reached: tasks are queued, not run in process."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url, conf.broker_write_url
    conf.task_always_eager = False
    conf.broker_url = conf.broker_write_url = "redis://127.0.0.1:9/0"
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield
    conf.task_always_eager, conf.broker_url, conf.broker_write_url = saved
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_collect_now_with_the_queue_down_says_so(login, regional, world, vk_token, broker_down):
    response = login(regional).post(START, {"kind": "members", "network": "vk"}, follow=True)

    assert response.status_code == 200
    assert "Очередь задач недоступна" in response.content.decode()
    run = CollectionRun.objects.get()
    assert run.state == RunState.FAILED and "Очередь задач недоступна" in run.message


def test_the_help_page_documents_the_mapping_to_table_1(login, viewer):
    html = login(viewer).get(reverse("metrics:help-collection")).content.decode()
    assert "visitors.views" in html and "Посещения" in html
    assert "group.getStatTrends" in html


def test_the_help_page_names_the_official_fields_and_what_cannot_be_derived(login, viewer):
    html = login(viewer).get(reverse("metrics:help-collection")).content.decode()
    # VK's own descriptions (stats/objects.json) next to each field
    assert "«Visitors number»" in html and "«Reach count»" in html
    assert "интервал «месяц»" in html and "не сумма дней" in html
    # «Просмотр стены группы и раздела Мои новости»: no stats.get field, said so
    row = html.split("Просмотр стены группы и раздела Мои новости", 1)[1].split("</tr>", 1)[0]
    assert "не выводится" in row and "reach.reach" in row and "renderings" in row
    assert 'id="tokens"' in html and "ошибка 28" in html


def test_a_run_is_named_in_russian_with_its_day_or_month():
    members = CollectionRun(kind=RunKind.MEMBERS, network=Network.VK, period=dt.date(2026, 12, 4))
    posts = CollectionRun(kind=RunKind.POSTS, network=Network.OK, period=dt.date(2026, 11, 1))
    assert str(members) == "Участники (ежедневно) ВКонтакте, 04.12.2026"
    assert str(posts) == "Публикации за месяц Одноклассники, ноябрь 2026"
