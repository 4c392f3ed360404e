"""Timing, the result rows and the table every benchmark reports."""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Result:
    """One row of the table: the portal's figure against a baseline measured in the same run."""

    measure: str
    portal: float
    baseline: float | None
    unit: str
    goal: str
    ratio: float | None = None
    verdict: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def judge(self, ok: bool) -> Result:
        self.verdict = "ok" if ok else "MISSED"
        return self


def median_seconds(fn: Callable[[], Any], *, repeats: int, warmup: int = 1,
                   setup: Callable[[], Any] | None = None) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs after ``warmup`` unmeasured ones.

    ``setup`` (not timed) runs before every run, warm-ups included.
    """
    for _ in range(warmup):
        if setup:
            setup()
        fn()
    times = []
    for _ in range(repeats):
        if setup:
            setup()
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_seconds(fns: dict[str, Callable[[], Any]], *,
                        repeats: int) -> dict[str, list[float]]:
    """Each function's wall times, run in turn ``repeats`` times after one warm-up round.

    On a shared machine the load moves within seconds; taking the sides in turn puts each
    repeat of one next to a repeat of the other, so their ratio moves less than their times.
    """
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def time_ratio(measure: str, portal: float, baseline: float, *, limit: float) -> Result:
    """A measure whose goal is ``portal time <= limit × baseline time``."""
    ratio = portal / baseline if baseline else None
    result = Result(measure, portal, baseline, "s", f"≤ {limit:g}× baseline", ratio)
    return result.judge(ratio is not None and ratio <= limit)


def speed_ratio(measure: str, portal: float, baseline: float, *, at_least: float,
                unit: str) -> Result:
    """A measure whose goal is ``portal speed >= at_least × baseline speed``."""
    ratio = portal / baseline if baseline else None
    result = Result(measure, portal, baseline, unit, f"≥ {at_least:g}× baseline", ratio)
    return result.judge(ratio is not None and ratio >= at_least)


def report(measure: str, value: float, unit: str, **extra: Any) -> Result:
    """A measure without a baseline: the figure is reported, not judged."""
    return Result(measure, value, None, unit, "—", None, "reported", extra)


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if abs(value) < 100 else f"{value:,.0f}"


def table(results: list[Result]) -> str:
    header = ["measure", "portal", "baseline", "unit", "ratio", "goal", "verdict"]
    rows = [[r.measure, _fmt(r.portal), _fmt(r.baseline), r.unit, _fmt(r.ratio), r.goal,
             r.verdict] for r in results]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = lambda cells: " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *map(line, rows)])


def save(results: list[Result], path: Path = RESULTS) -> None:
    path.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2))
