"""The network emulator as a real subprocess: one per test session, reset before each test.

``emulator`` starts ``manage.py network_emulator`` once per session on a free port, resets it
before each test and points the portal's VK/OK base URLs at it. Tests read its counters over
HTTP (``emulator.stats()``), inject faults (``emulator.faults("wall.get:15")``) and read the
journal of every call and answer (``emulator.journal()``, after ``emulator.faults(journal=True)``).
A pytest plugin of the root conftest, so every test folder shares the one process.
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

from metrics.quota import quota_counter
from metrics.ratelimit import get_limiter

ROOT = Path(__file__).resolve().parents[1]
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

    def journal(self) -> list[dict]:
        """Every call and answer since ``faults(journal=True)`` (see emulator/state.py)."""
        return self._call("/_emulator/journal")


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
    quota_counter().clear()  # every test starts on a fresh day of the tokens' allowances
    return emulator_process
