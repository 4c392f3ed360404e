"""The network emulator as a real subprocess, tokens it accepts, communities of each fate.

``emulator`` starts ``manage.py network_emulator`` once per session on a free port, resets it
before each test and points the portal's VK/OK base URLs at it. Tests read its counters over
HTTP (``emulator.stats()``) and inject faults (``emulator.faults("wall.get:15")``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from emulator import data as emu_data
from institutions.choices import Network
from metrics.collect.choices import TokenKind
from metrics.ratelimit import get_limiter
from metrics.tokens import token_register
from tests.factories import CommunityFactory, InstitutionFactory

ROOT = Path(__file__).resolve().parents[2]
SEED = 7


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmulatorHandle:
    """The running emulator: its URLs, counters and fault switches."""

    def __init__(self, port: int, process: subprocess.Popen) -> None:
        self.port, self.process = port, process
        self.url = f"http://127.0.0.1:{port}"
        self.vk_url, self.ok_url = f"{self.url}/method/", f"{self.url}/fb.do"

    def _call(self, path: str, payload: dict | None = None) -> dict:
        body = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=body, method="POST" if body
                                         is not None else "GET")
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def stats(self) -> dict:
        return self._call("/_emulator/stats")

    def reset(self) -> None:
        self._call("/_emulator/reset", {})

    def faults(self, spec: str = "", **options) -> dict:
        return self._call("/_emulator/faults", {"spec": spec, **options})


def start_emulator(*, seed: int = SEED, extra: tuple[str, ...] = ()) -> EmulatorHandle:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "network_emulator", "--port", str(port), "--seed",
         str(seed), "--slow-seconds", "3", *extra],
        cwd=ROOT, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    handle = EmulatorHandle(port, process)
    deadline = time.monotonic() + 30
    while True:
        try:
            handle.stats()
            return handle
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"emulator did not start: {process.stderr.read()!r}") from None
            time.sleep(0.1)


@pytest.fixture(scope="session")
def emulator_process():
    handle = start_emulator()
    yield handle
    handle.process.terminate()
    handle.process.wait(timeout=10)


@pytest.fixture
def emulator(emulator_process, settings):
    """A freshly reset emulator that the portal's clients talk to."""
    emulator_process.reset()
    settings.VK_API_BASE_URL = emulator_process.vk_url
    settings.OK_API_BASE_URL = emulator_process.ok_url
    settings.NETWORK_TIMEOUT_SECONDS = 2.0
    get_limiter().clear()
    return emulator_process


# --- tokens ---------------------------------------------------------------------------------------
def register(network: str, secret: str, *, kind: str = TokenKind.SERVICE, communities=(),
             label: str = "", check: bool = False):
    """Register a token as the regional methodologist would (skip the API check by default)."""
    extra = {}
    if network == Network.OK:
        extra = {"app_key": "CBAEMULATOR", "app_secret": "emulator-secret"}
        kind = TokenKind.USER
    return token_register(user=None, network=network, kind=kind, secret=secret,
                          label=label or secret, community_ids=[c.pk for c in communities],
                          check=check, **extra)


@pytest.fixture
def vk_token(db):
    return register(Network.VK, "vkemu-svc-tests")


@pytest.fixture
def ok_token(db):
    return register(Network.OK, "okemu-usr-tests")


# --- communities of each fate ---------------------------------------------------------------------
def vk_ids(fate: str, count: int, start: int = 1000) -> list[int]:
    return emu_data.ids_with_fate(SEED, "vk", fate, count, start)


def ok_ids(fate: str, count: int, start: int = 50_000_000_000_000) -> list[int]:
    return emu_data.ids_with_fate(SEED, "ok", fate, count, start)


def make_communities(network_ids: list[int], *, network: str = Network.VK, institution=None,
                     **fields) -> list:
    institution = institution or InstitutionFactory()
    prefix = "https://vk.com/club" if network == Network.VK else "https://ok.ru/group/"
    return [CommunityFactory(institution=institution, network=network, network_id=gid,
                             url=f"{prefix}{gid}", **fields) for gid in network_ids]
