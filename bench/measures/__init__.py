"""The registry of measures: which group (database and scale) each runs in, and its goal.

Only names live here, so the orchestrator can list measures without loading Django; the
functions are imported by the worker (``bench.worker``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    """Measures sharing one database, one data scale and one worker process."""

    scale: str
    smoke_scale: str
    suffix: str
    smoke_suffix: str
    needs_emulator: bool = False


@dataclass(frozen=True)
class Measure:
    """A named measure: its group, the module:function that runs it, and its goal."""

    group: str
    target: str
    goal: str


GROUPS = {
    "collect": Group("collect", "smoke_collect", "_collect", "_smoke_collect",
                     needs_emulator=True),
    "region": Group("region", "smoke", "_region", "_smoke"),
    "country": Group("country", "smoke", "_country", "_smoke"),
}
MEASURES = {
    "collect_members": Measure("collect", "bench.measures.collection:members",
                               "≥ 0.9× bound, requests = minimum"),
    "collect_posts": Measure("collect", "bench.measures.collection:posts",
                             "≥ 0.9× bound, requests = minimum"),
    "ranking_region": Measure("region", "bench.measures.rankings:region", "≤ 3× bare read"),
    "metrics_api": Measure("region", "bench.measures.api:metrics_list", "≥ 0.5× bare"),
    "quality_index_region": Measure("region", "bench.measures.quality:region", "≤ 2× SQL"),
    "summary_pack": Measure("region", "bench.measures.summaries:pack", "report"),
    "ranking_country": Measure("country", "bench.measures.rankings:country",
                               "≤ 3× bare read"),
    "ranking_export": Measure("country", "bench.measures.exports:ranking_export",
                              "≤ 1.5× XlsxWriter, < 300 MB"),
}


def measures_of(group: str, selected: list[str]) -> list[str]:
    return [name for name, m in MEASURES.items() if m.group == group and name in selected]
