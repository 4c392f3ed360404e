"""The ranking export of every community against XlsxWriter (constant_memory) alone."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from django.conf import settings

from bench.context import Context
from bench.harness import Result, time_ratio

MEMORY_LIMIT_MB = 300
MAX_RUNS = 3  # a run of a side takes tens of seconds at country scale


def _side(side: str, context: Context) -> dict:
    """One run of a side in a fresh process (its own peak RSS)."""
    command = [sys.executable, "-m", "bench.export_side", side, context.scale.start.isoformat(),
               context.scale.end.isoformat()]
    done = subprocess.run(command, cwd=settings.BASE_DIR, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _runs(side: str, context: Context) -> list[dict]:
    return [_side(side, context) for _ in range(min(context.repeats, MAX_RUNS))]


def ranking_export(context: Context) -> list[Result]:
    baseline, portal = _runs("baseline", context), _runs("portal", context)
    portal_s = statistics.median(r["seconds"] for r in portal)
    base_s = statistics.median(r["seconds"] for r in baseline)
    peak = max(r["peak_rss_mb"] for r in portal)
    time_result = time_ratio("ranking_export [time]", portal_s, base_s, limit=1.5)
    time_result.extra = {"rows": portal[0]["rows"], "baseline_rows": baseline[0]["rows"]}
    memory = Result("ranking_export [peak RSS]", peak,
                    max(r["peak_rss_mb"] for r in baseline), "MB",
                    f"< {MEMORY_LIMIT_MB} MB", peak / max(r["peak_rss_mb"] for r in baseline),
                    extra={"how": "VmHWM of a fresh process per run and side, Django loaded"})
    return [time_result, memory.judge(peak < MEMORY_LIMIT_MB)]
