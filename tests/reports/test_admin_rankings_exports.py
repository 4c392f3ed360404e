"""The admin shows published rankings and export jobs read-only, to regional methodologists."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.utils import timezone

from institutions.models import Community
from metrics.models import MemberSnapshot
from reports.models import ExportJob, ExportKind, ExportState, PublishedRankingVersion
from reports.rankings import RankingParams
from reports.rankings.publishing import ranking_publish

pytestmark = pytest.mark.django_db

D1, D2 = dt.date(2026, 7, 5), dt.date(2026, 8, 7)
LISTS = ["/admin/reports/publishedranking/", "/admin/reports/publishedrankingversion/",
         "/admin/reports/exportjob/"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def version(world, regional) -> PublishedRankingVersion:
    for community in Community.objects.all():
        MemberSnapshot.objects.create(community=community, date=D1, members=600)
        MemberSnapshot.objects.create(community=community, date=D2, members=650)
    return ranking_publish(user=regional, params=RankingParams(metric="growth", date_from=D1,
                                                               date_to=D2),
                           title="Прирост аудитории летом", slug="leto-2026",
                           methodology="Прирост подписчиков за период.")


@pytest.fixture
def job(regional) -> ExportJob:
    job = ExportJob(kind=ExportKind.SUMMARY_ALL, requested_by=regional, state=ExportState.DONE,
                    progress=100, filename="svodnye-202601-202603.zip", params={},
                    finished_at=timezone.now())
    job.file.save("svodnye-202601-202603.zip", ContentFile(b"x" * 2048), save=False)
    job.save()
    return job


@pytest.fixture
def staff_methodologist(regional):
    """A regional methodologist let into the admin with read permissions on these models."""
    regional.is_staff = True
    regional.save()
    regional.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="reports",
        codename__in=["view_publishedranking", "view_publishedrankingversion",
                      "view_exportjob", "change_exportjob", "delete_exportjob",
                      "change_publishedrankingversion", "delete_publishedranking"]))
    return regional


def test_a_methodologist_reads_published_rankings_in_the_admin(login, staff_methodologist,
                                                               version):
    client = login(staff_methodologist)
    listing = client.get("/admin/reports/publishedranking/").content.decode()
    assert "Прирост аудитории летом" in listing and "leto-2026" in listing
    assert "Опубликованные рейтинги" in listing
    detail = client.get(f"/admin/reports/publishedranking/{version.ranking_id}/change/")
    body = detail.content.decode()
    assert detail.status_code == 200
    assert "Версии опубликованных рейтингов" in body and 'name="_save"' not in body
    page = client.get(f"/admin/reports/publishedrankingversion/{version.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Прирост подписчиков за период." in body and "Мест в рейтинге" in body
    assert 'name="_save"' not in body


def test_published_versions_cannot_be_added_changed_or_deleted_in_the_admin(
        login, staff_methodologist, version):
    client = login(staff_methodologist)
    before = PublishedRankingVersion.objects.values().get(pk=version.pk)
    for url in ["/admin/reports/publishedranking/add/",
                "/admin/reports/publishedrankingversion/add/",
                f"/admin/reports/publishedrankingversion/{version.pk}/delete/",
                f"/admin/reports/publishedranking/{version.ranking_id}/delete/"]:
        assert client.get(url).status_code == 403, url
    response = client.post(f"/admin/reports/publishedrankingversion/{version.pk}/change/",
                           {"title": "Подменённое название", "methodology": "другая"})
    assert response.status_code == 403
    assert PublishedRankingVersion.objects.values().get(pk=version.pk) == before


def test_export_jobs_are_listed_with_state_progress_and_file(login, staff_methodologist, job):
    client = login(staff_methodologist)
    listing = client.get("/admin/reports/exportjob/").content.decode()
    assert "Задания на выгрузку" in listing
    assert "готово" in listing and "100 %" in listing and "svodnye-202601-202603.zip" in listing
    detail = client.get(f"/admin/reports/exportjob/{job.pk}/change/").content.decode()
    assert "2,0 КБ" in detail and 'name="_save"' not in detail
    filtered = client.get("/admin/reports/exportjob/", {"state__exact": "failed"})
    assert list(filtered.context["cl"].result_list) == []


def test_export_jobs_cannot_be_changed_or_deleted_in_the_admin(login, staff_methodologist, job):
    client = login(staff_methodologist)
    assert client.get("/admin/reports/exportjob/add/").status_code == 403
    assert client.get(f"/admin/reports/exportjob/{job.pk}/delete/").status_code == 403
    response = client.post(f"/admin/reports/exportjob/{job.pk}/change/",
                           {"state": "failed", "progress": "5"})
    assert response.status_code == 403
    job.refresh_from_db()
    assert (job.state, job.progress) == (ExportState.DONE, 100)


def test_an_expired_job_shows_its_file_as_deleted(login, staff_methodologist, job):
    ExportJob.objects.filter(pk=job.pk).update(state=ExportState.EXPIRED, file="")
    body = login(staff_methodologist).get("/admin/reports/exportjob/").content.decode()
    assert "svodnye-202601-202603.zip (удалён по сроку хранения)" in body


def test_other_staff_personas_are_kept_out(login, municipal_a, editor_a, viewer, version, job):
    for user in (municipal_a, editor_a, viewer):
        user.is_staff = True
        user.save()
        client = login(user)
        for url in LISTS:
            response = client.get(url)
            assert response.status_code == 302, (user.username, url)
            assert response["Location"].startswith("/admin/login/")


def test_the_admin_index_lists_both_sections_for_a_superuser(login, django_user_model, version,
                                                             job):
    chief = django_user_model.objects.create_superuser("chief", password="x-pass-1")
    client = login(chief)
    index = client.get("/admin/").content.decode()
    for url in LISTS:
        assert url in index
        assert client.get(url).status_code == 200
