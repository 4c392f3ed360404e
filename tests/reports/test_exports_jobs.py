"""Background exports: the all-territories zip and large rankings, with progress and a link."""

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from metrics.models import MemberSnapshot, MetricValue
from reports.exports.jobs import export_job_execute, export_job_request
from reports.models import ExportJob, ExportKind, ExportState
from tests.factories import TerritoryFactory

ROOT = Path(__file__).resolve().parents[2]
PERIOD = {"period": "quarter", "year": "2026", "number": "1"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def figures(world):
    for community in (world["a"], world["b"]):
        MetricValue.objects.create(community=community, month=dt.date(2026, 2, 1),
                                   indicator="visits", value=70)
    TerritoryFactory(name="Пустой муниципальный район")
    return world


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Queued tasks start on commit; inside a test transaction, run them when captured."""

    def call(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return call


def test_the_zip_of_all_territories_is_built_in_the_background(login, regional, figures,
                                                               run_on_commit):
    client = login(regional)
    # The figures have no reports: only the widest choice counts them.
    response = run_on_commit(client.post, "/exports/summaries/", {**PERIOD, "states": "all"})
    job = ExportJob.objects.get()
    assert response["Location"] == f"/exports/{job.pk}/"
    assert (job.kind, job.state, job.progress) == (ExportKind.SUMMARY_ALL, ExportState.DONE, 100)
    assert job.params == {"date_from": "2026-01-01", "date_to": "2026-03-31", "states": "all"}
    status = client.get(f"/exports/{job.pk}/status/").json()
    assert status["state"] == "done" and status["download"] == f"/exports/{job.pk}/download/"
    assert status["filename"] == job.filename and job.filename.endswith(".zip")
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert 'id="export-progress"' in page and "charts_exports.js" in page
    download = client.get(status["download"])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = sorted(archive.namelist())
    assert len(names) == 3 and all(n.endswith(".xlsx") for n in names)
    book = openpyxl.load_workbook(io.BytesIO(archive.read(
        next(n for n in names if "Алексеевский" in n))))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    total = next(r for r in rows if r[0] == "ВСЕГО по территории")
    header = next(r for r in rows if r[0] == "Учреждение")
    assert total[header.index("Посещения")] == 70


def test_a_second_delivery_of_the_task_builds_nothing(regional, figures,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = export_job_request(user=regional, kind=ExportKind.SUMMARY_ALL,
                                 params={"date_from": "2026-01-01", "date_to": "2026-01-31"})
    assert export_job_execute(job_id=job.pk) is True
    first = ExportJob.objects.get(pk=job.pk).file.name
    assert export_job_execute(job_id=job.pk) is False
    assert ExportJob.objects.get(pk=job.pk).file.name == first


def test_a_failing_job_ends_visibly_failed(regional, db):
    job = ExportJob.objects.create(kind=ExportKind.RANKING, requested_by=regional,
                                   params={"metric": "growth", "date_from": "2026-02-01",
                                           "date_to": "2026-01-01"})
    assert export_job_execute(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.state == ExportState.FAILED
    assert "Начальная дата периода позже конечной" in job.error


def test_a_large_ranking_can_be_exported_in_the_background(login, viewer, world, run_on_commit):
    for community in (world["a"], world["b"]):
        MemberSnapshot.objects.create(community=community, date=dt.date(2026, 1, 1), members=5)
        MemberSnapshot.objects.create(community=community, date=dt.date(2026, 2, 1), members=9)
    client = login(viewer)
    response = run_on_commit(client.post, "/exports/ranking/?metric=growth"
                             "&date_from=2026-01-01&date_to=2026-02-01")
    job = ExportJob.objects.get()
    assert response["Location"] == f"/exports/{job.pk}/"
    assert job.state == ExportState.DONE and job.filename.endswith(".xlsx")
    book = openpyxl.load_workbook(job.file.path)
    rows = list(book["Рейтинг"].iter_rows(values_only=True))
    assert [r[0] for r in rows if isinstance(r[0], int)] == [1, 1]


def test_export_jobs_are_private_to_who_asked(login, regional, municipal_a, outsider, figures,
                                              client, run_on_commit):
    run_on_commit(login(regional).post, "/exports/summaries/", PERIOD)
    job = ExportJob.objects.get()
    other = login(municipal_a)
    for path in ("", "status/", "download/"):
        assert other.get(f"/exports/{job.pk}/{path}").status_code == 404
    assert login(outsider).get("/exports/").status_code == 403
    assert client.get("/exports/").status_code == 302
    assert other.get("/exports/").context["jobs"].count() == 0


def test_the_exports_page_query_count(login, regional, figures, django_assert_num_queries):
    client = login(regional)
    for _ in range(3):
        client.post("/exports/summaries/", PERIOD)
    client.get("/exports/")
    with django_assert_num_queries(4):  # session, user, profile, jobs
        response = client.get("/exports/")
    assert len(response.context["jobs"]) == 3


# --- with a real Celery worker on Redis -----------------------------------------------------


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, _media):
    """One Celery worker process on the test database and this test's media folder."""
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete("celery", "unacked",
                                                                   "unacked_index")
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "MEDIA_ROOT": str(_media),
           "REDIS_URL": django_settings.REDIS_URL,
           "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-c", "1", "-P", "solo",
         "-n", "exports@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-l", "warning"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_zip_and_the_page_sees_it_finish(worker, regional, figures,
                                                                  login):
    if not django_settings.CELERY_BROKER_URL:
        pytest.fail("CELERY_BROKER_URL must point at Redis for this test")
    client = login(regional)
    client.post("/exports/summaries/", PERIOD)
    job = ExportJob.objects.get()
    deadline = time.monotonic() + 90
    while client.get(f"/exports/{job.pk}/status/").json()["state"] != "done":
        assert time.monotonic() < deadline, "the worker did not finish the export"
        time.sleep(0.3)
    job.refresh_from_db()
    assert job.progress == 100
    assert zipfile.ZipFile(job.file.path).namelist()
