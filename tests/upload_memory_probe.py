"""Uploads one file to one page in a fresh process and says how far its peak memory grew.

Run by tests/test_upload_limits.py as ``python -m tests.upload_memory_probe URL FIELD USERNAME
FILE [EXTRA_FIELDS_JSON]`` with DATABASE_URL pointing at the test database. A fresh process,
because the peak
resident size (``ru_maxrss``) only ever grows: in the test process it would already hold whatever
earlier tests needed. The process first warms up (the same page, a small harmless upload: imports,
templates, the first query), then uploads the file; the answer's status and text and the growth
of the peak go to stdout as JSON.
"""

from __future__ import annotations

import gc
import io
import json
import os
import resource
import sys
import time


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(url: str, field: str, username: str, path: str, extra: str = "{}") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from openpyxl import Workbook

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))

    def upload(name: str, data: bytes):
        return client.post(url, {field: SimpleUploadedFile(name, data), **json.loads(extra)})

    harmless = Workbook()
    harmless.active["A1"] = "не форма"
    buffer = io.BytesIO()
    harmless.save(buffer)
    for _ in range(2):
        upload("warm-up.xlsx", buffer.getvalue())
    with open(path, "rb") as source:
        data = source.read()
    gc.collect()
    before = peak_mb()
    started = time.monotonic()
    response = upload("bomb.xlsx", data)
    seconds = time.monotonic() - started
    grew = peak_mb() - before
    print(json.dumps({"status": response.status_code, "grew_mb": round(grew, 1),
                      "seconds": round(seconds, 2), "text": response.content.decode()}))


if __name__ == "__main__":
    main(*sys.argv[1:6])
