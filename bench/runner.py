"""The orchestrator's plumbing: per-scale databases, the emulator subprocess, worker processes."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"


def database_for(base_url: str, suffix: str) -> str:
    """``base_url`` with ``suffix`` added to its database name."""
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") or "portal_bench"
    return urlunsplit(parts._replace(path=f"/{name}{suffix}"))


def database_ensure(url: str) -> None:
    """Create the database if missing (via the ``postgres`` database); the worker migrates."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def emulator_running() -> Iterator[str]:
    """Start ``manage.py network_emulator`` on a free port; yield its base URL; stop it."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "network_emulator", "--port", str(port)], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/_emulator/stats", process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the emulator exited at start")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                json.load(answer)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the emulator did not answer at {url}")


def run_worker(*, database_url: str, group: str, scale: str, names: list[str], repeats: int,
               smoke: bool, out: Path, emulator_url: str | None) -> int:
    """Run one group's measures in a fresh process; its rows go to ``out`` as JSON."""
    database_ensure(database_url)
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "portal.settings",
           # Tasks run in process (eager); the rate limiter still lives in Redis (REDIS_URL).
           "CELERY_BROKER_URL": ""}
    if emulator_url:
        # Collection runs on real Celery workers with Redis as their broker (when there is one).
        broker = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL", "")
        env |= {"VK_API_BASE_URL": f"{emulator_url}/method/", "CELERY_BROKER_URL": broker,
                "OK_API_BASE_URL": f"{emulator_url}/fb.do", "BENCH_EMULATOR_URL": emulator_url}
    command = [sys.executable, "-m", "bench.worker", "--group", group, "--scale", scale,
               "--repeats", str(repeats), "--out", str(out), "--only", *names]
    if smoke:
        command.append("--smoke")
    return subprocess.run(command, cwd=ROOT, env=env).returncode
