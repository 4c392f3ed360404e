"""docs/operations.md, run as written: the backup is restored into a new database with the same
data and files, and the monitoring commands work against this portal's database and Redis.

The commands are read from the document itself (the first ``bash`` block of a section), so the
document cannot drift from what works.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from metrics.models import MemberSnapshot, MetricValue
from metrics.tokens import secret_decrypt, token_register
from tests.factories import CommunityFactory, MetricValueFactory

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "docs" / "operations.md"
SECRET = "vkemu-svc-backup-check-5521"
CHECKED_TABLES = ("institutions_territory", "institutions_institution", "institutions_community",
                  "metrics_metricvalue", "metrics_networktoken", "auth_user")


def doc_block(after: str) -> str:
    """The first ``bash`` block after the text ``after`` in docs/operations.md."""
    text = OPERATIONS.read_text(encoding="utf-8")
    start = text.index(after)
    block = re.search(r"```bash\n(.*?)```", text[start:], re.DOTALL)
    assert block, f"no bash block after «{after}»"
    return block.group(1)


def database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{name}")


def run_bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """``script`` under bash with stop-on-error, ``python`` being this virtualenv's."""
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    path = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True,
        timeout=300, env={**base, "PATH": path, "PYTHONPATH": str(ROOT), **env},
    )


def drop_database(name: str) -> None:
    with closing(psycopg2.connect(database_url("postgres"))) as admin:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_counts(url: str) -> dict[str, int]:
    with closing(psycopg2.connect(url)) as db, db.cursor() as cursor:
        counts = {}
        for table in CHECKED_TABLES:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
        return counts


def stored_token(url: str) -> str:
    with closing(psycopg2.connect(url)) as db, db.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM metrics_networktoken")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_documented_backup_restores_the_data_and_files(world, regional, tmp_path):
    MetricValueFactory(community=world["a"], value=4321)
    token_register(user=None, network="vk", kind="service", secret=SECRET, label="Резерв",
                   check=False)
    media, restored_media = tmp_path / "media", tmp_path / "restored-media"
    (media / "exports" / "2026" / "01").mkdir(parents=True)
    (media / "exports" / "2026" / "01" / "Сводка.xlsx").write_bytes(b"PK export bytes")
    (tmp_path / "manage.py").symlink_to(ROOT / "manage.py")
    source = database_url(connection.settings_dict["NAME"])
    restore_name = f"{connection.settings_dict['NAME']}_restore"
    drop_database(restore_name)
    script = "\n".join([doc_block("## Резервное копирование"),
                        f"export MEDIA_ROOT={restored_media}",
                        doc_block("## Восстановление")])
    try:
        done = run_bash(script, tmp_path, DATABASE_URL=source, MEDIA_ROOT=str(media),
                        RESTORE_URL=database_url(restore_name))
        assert done.returncode == 0, done.stdout + done.stderr
        restored = database_url(restore_name)
        assert table_counts(restored) == table_counts(source)
        assert table_counts(restored)["metrics_metricvalue"] == MetricValue.objects.count() == 1
        assert secret_decrypt(stored_token(restored)) == SECRET
    finally:
        drop_database(restore_name)
    copy = restored_media / "exports" / "2026" / "01" / "Сводка.xlsx"
    assert copy.read_bytes() == b"PK export bytes"
    assert list(tmp_path.glob("portal-*.dump")) and list(tmp_path.glob("media-*.tar.gz"))


def test_the_documented_monitoring_commands_run(db, settings, tmp_path):
    broker = settings.CELERY_BROKER_URL or settings.REDIS_URL
    if not broker:
        pytest.fail("CELERY_BROKER_URL or REDIS_URL must point at Redis for this test")
    done = run_bash(doc_block("Те же проверки из командной строки"), tmp_path,
                    DATABASE_URL=database_url(connection.settings_dict["NAME"]),
                    CELERY_BROKER_URL=broker)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("(0 rows)") == 3, done.stdout  # all three queries ran


@pytest.mark.django_db(transaction=True)
def test_the_documented_partition_sizes_list_every_month(db, tmp_path):
    community = CommunityFactory()
    for day in (dt.date(2026, 10, 30), dt.date(2026, 11, 2)):
        MemberSnapshot.objects.create(community=community, date=day, members=100)
    done = run_bash(doc_block("Размер разделов и число строк"), tmp_path,
                    DATABASE_URL=database_url(connection.settings_dict["NAME"]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "metrics_membersonday_y2026m10" in done.stdout, done.stdout
    assert "metrics_membersonday_y2026m11" in done.stdout, done.stdout
