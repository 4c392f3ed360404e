"""The compose stack shares what its processes hand each other: export files are written by the
Celery worker and downloaded through the web process, so both mount the same media volume where
the image's MEDIA_ROOT is."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_web_and_worker_share_the_media_volume_at_media_root():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    workdir = next(line.split()[1] for line in dockerfile.splitlines()
                   if line.startswith("WORKDIR"))
    media_in_image = f"{workdir}/{Path(settings.MEDIA_ROOT).relative_to(settings.BASE_DIR)}"
    mounts = {name: compose["services"][name].get("volumes", [])
              for name in ("web", "worker", "beat")}
    for name, volumes in mounts.items():
        assert f"media:{media_in_image}" in volumes, (name, volumes)
    assert "media" in compose["volumes"]
    assert f"mkdir -p {media_in_image}" in dockerfile  # owned by the portal user, not root
