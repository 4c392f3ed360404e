"""The compose stack as operations run it.

Its processes share what they hand each other: export files are written by the Celery worker and
downloaded through the web process, so both mount the same media volume where the image's
MEDIA_ROOT is. A reverse proxy (nginx) is the only published service, and the portal believes
X-Forwarded-For from that proxy's address alone. No secret key is shipped with it.
"""

from __future__ import annotations

import ipaddress
import re
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


# --- the reverse proxy in front -----------------------------------------------------------------
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def published(service: dict) -> list:
    return service.get("ports", [])


def test_only_the_reverse_proxy_is_published():
    services = compose()["services"]
    exposed = {name for name, service in services.items() if published(service)}
    assert exposed == {"proxy"}, exposed
    image = services["proxy"]["image"]
    assert image.split(":")[0] in ("nginx", "caddy"), image
    assert not published(services["web"]) and "8000" in map(str, services["web"]["expose"])
    assert [str(p).rsplit(":", 1)[1] for p in published(services["proxy"])] == ["80"]


def proxy_config() -> str:
    mounts = compose()["services"]["proxy"]["volumes"]
    source = next(m.split(":")[0] for m in mounts if "nginx" in m)
    return (ROOT / source).read_text(encoding="utf-8")


def test_the_proxy_forwards_to_web_with_the_clients_address():
    config = proxy_config()
    assert "proxy_pass http://web:8000;" in config
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config
    limit = int(re.search(r"client_max_body_size (\d+)m;", config).group(1))
    assert limit * 1024 * 1024 == settings.REQUEST_MAX_BYTES


def test_web_trusts_x_forwarded_for_from_the_proxys_address_alone():
    stack = compose()
    proxy_address = stack["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    subnet = stack["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    for name in ("web", "worker", "beat", "migrate"):
        environment = stack["services"][name]["environment"]
        assert environment["TRUSTED_PROXIES"] == proxy_address, name


def test_the_stack_has_no_secret_key_of_its_own():
    """Compose refuses to start without SECRET_KEY (``${SECRET_KEY:?…}``) instead of a default
    published here; the token keys of .env reach the containers."""
    environment = compose()["x-portal"]["environment"]
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert environment["TOKEN_ENCRYPTION_KEYS"] == "${TOKEN_ENCRYPTION_KEYS:-}"
    example = dict(line.split("=", 1) for line in
                   (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
                   if line and not line.startswith("#"))
    assert example["SECRET_KEY"] == "" and example["TOKEN_ENCRYPTION_KEYS"] == ""
    assert "TRUSTED_PROXIES" in example
