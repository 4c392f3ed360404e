"""The benchmarks at the SMOKE scale, through the same code as ``make bench``, so they do not rot.

``python -m bench --smoke`` runs as a subprocess against its own ``test_…_bench_smoke*``
databases (created and migrated by the benchmark) and the VK/OK emulator it starts itself.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench.measures import MEASURES

ROOT = Path(__file__).resolve().parent.parent


def _smoke_base_url() -> str:
    """A ``test_``-prefixed base database next to the suite's, so the data guard accepts it."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal")
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "portal"
    return urlunsplit(parts._replace(path=f"/test_{name.removeprefix('test_')}_bench"))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, list[dict]]:
    output = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--database-url", _smoke_base_url(),
         "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    rows = json.loads(output.read_text()) if output.exists() else []
    return done, rows


def test_smoke_run_finishes_without_errors(smoke_run):
    done, _ = smoke_run
    assert done.returncode == 0, done.stderr[-3000:]


def test_every_measure_reports_numeric_figures(smoke_run):
    _, rows = smoke_run
    reported = {row["measure"].split(" [")[0] for row in rows}
    assert reported == set(MEASURES)
    for row in rows:
        assert isinstance(row["portal"], float | int) and math.isfinite(row["portal"]), row
        assert row["portal"] > 0, row
        assert row["verdict"] in ("ok", "MISSED", "reported"), row
        if row["verdict"] != "reported":
            assert math.isfinite(row["baseline"]) and row["baseline"] > 0, row
            assert math.isfinite(row["ratio"]), row


def test_the_printed_table_names_every_measure(smoke_run):
    done, _ = smoke_run
    header = done.stdout.splitlines()[0]
    for column in ("measure", "portal", "baseline", "ratio", "goal", "verdict"):
        assert column in header
    for name in MEASURES:
        assert name in done.stdout


def test_collection_smoke_counts_the_emulators_requests(smoke_run):
    _, rows = smoke_run
    collection = [r for r in rows if r["measure"].startswith("collect_")]
    assert len(collection) == 6  # members and posts: 1 and 3 tokens, and the country's 10
    for row in collection:
        assert row["extra"]["requests"] >= row["extra"]["minimum_requests"] >= 1, row
        assert row["extra"]["limit_errors"] == 0, row
        assert row["extra"]["anomalies_held"] == 0, row  # the registry is the network's own


def test_quality_index_smoke_matches_its_hand_written_query(smoke_run):
    _, rows = smoke_run
    quality = next(r for r in rows if r["measure"] == "quality_index_region")
    assert quality["extra"]["same_figures"] is True, quality
    assert quality["extra"]["ranked_rows"] == quality["extra"]["sql_rows"] > 0, quality
