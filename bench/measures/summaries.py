"""The summary pack: one workbook per territory in a zip, as the background export builds it."""

from __future__ import annotations

import tempfile
import tracemalloc

from bench.context import Context
from bench.harness import Result, median_seconds, report
from institutions.models import Territory
from portal.lib.months import add_months
from reports.exports.summary import summaries_zip
from reports.summaries.selectors import territory_summary


def pack(context: Context) -> list[Result]:
    user = context.regional_user()
    last = context.scale.end.replace(day=1)
    first = add_months(last, -(max(context.scale.months, 1) - 1))
    territories = list(Territory.objects.visible_to(user).order_by("name", "pk"))
    size = 0

    def build() -> None:
        nonlocal size
        with tempfile.TemporaryFile() as handle:
            summaries = (territory_summary(user=user, territory=t, date_from=first,
                                           date_to=context.scale.end) for t in territories)
            summaries_zip(handle, summaries)
            size = handle.tell()

    seconds = median_seconds(build, repeats=context.repeats)
    tracemalloc.start()
    build()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    extra = {"territories": len(territories), "months": f"{first:%Y-%m}…{last:%Y-%m}",
             "zip_bytes": size}
    return [report("summary_pack [time]", seconds, "s", **extra),
            report("summary_pack [peak memory, tracemalloc]", peak, "MB", **extra)]
