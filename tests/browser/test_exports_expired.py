"""In the browser: an export whose file the retention period deleted says so in Russian."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from reports.exports.cleanup import export_files_cleanup
from reports.models import ExportJob, ExportKind, ExportState


@pytest.fixture
def job(settings, tmp_path, regional) -> ExportJob:
    settings.MEDIA_ROOT = tmp_path / "media"
    job = ExportJob(kind=ExportKind.SUMMARY_ALL, requested_by=regional, state=ExportState.DONE,
                    progress=100, filename="svodnye-202601-202603.zip", params={},
                    finished_at=timezone.now())
    job.file.save("svodnye-202601-202603.zip", ContentFile(b"PK zip"), save=False)
    job.save()
    return job


def test_a_link_kept_past_the_retention_explains_the_file_is_gone(logged_in_page, regional,
                                                                   job):
    page = logged_in_page(regional)
    page.goto(f"/exports/{job.pk}/")
    download = page.locator("#export-download")
    expect(download).to_be_visible()
    expect(page.locator("#export-expired")).to_be_hidden()

    export_files_cleanup(now=timezone.now() + dt.timedelta(days=8))  # a week later, at night
    download.click()

    expect(page.locator("#export-expired")).to_be_visible()
    expect(page.locator("#export-expired")).to_contain_text(
        "svodnye-202601-202603.zip удалён: готовые выгрузки хранятся 7 дн.")
    expect(page.locator("#export-state")).to_have_text("файл удалён: срок хранения истёк")
    expect(page.locator("#export-download")).to_be_hidden()

    page.goto(f"/exports/{job.pk}/")  # the polling page stops and shows the same notice
    expect(page.locator("#export-expired")).to_be_visible()
    expect(page.locator("#export-ready")).to_be_hidden()
