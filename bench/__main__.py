"""``python -m bench [--smoke] [--only NAME ...] [--repeats N]``: every measure, one table.

Each group of measures runs in a subprocess (``bench.worker``) against its own database, named
after DATABASE_URL's with a suffix (``_collect``, ``_region``, ``_country``; ``--smoke`` uses
``_smoke`` and ``_smoke_collect``), created and migrated here, so the loaded data stay cached
between runs. The collection measures also get a VK/OK emulator subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bench.harness import RESULTS, Result, save, table
from bench.measures import GROUPS, MEASURES, measures_of
from bench.runner import DEFAULT_DATABASE_URL, database_for, emulator_running, run_worker


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny scale: seconds, not minutes")
    parser.add_argument("--only", nargs="+", choices=list(MEASURES), metavar="NAME",
                        help=f"only these measures: {', '.join(MEASURES)}")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats per figure (default 5, smoke 1)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL")
                        or DEFAULT_DATABASE_URL, help="base database (suffixes are added)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where results.json goes")
    return parser.parse_args(argv)


def _failed_rows(names: list[str], reason: str) -> list[Result]:
    return [Result(name, float("nan"), None, "", MEASURES[name].goal, None, f"ERROR: {reason}")
            for name in names]


def _run_group(group: str, names: list[str], args: argparse.Namespace, repeats: int,
               emulator_url: str | None) -> list[Result]:
    spec = GROUPS[group]
    scale = spec.smoke_scale if args.smoke else spec.scale
    url = database_for(args.database_url, spec.smoke_suffix if args.smoke else spec.suffix)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        code = run_worker(database_url=url, group=group, scale=scale, names=names,
                          repeats=repeats, smoke=args.smoke, out=Path(out.name),
                          emulator_url=emulator_url)
        text = Path(out.name).read_text()
    rows = [Result(**row) for row in json.loads(text)] if text else []
    done = {r.measure.split(" [")[0] for r in rows}
    missing = [n for n in names if n not in done]
    if code != 0 or missing:
        rows += _failed_rows(missing or names[:1], f"worker exited with {code}")
    return rows


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    repeats = args.repeats or (1 if args.smoke else 5)
    selected = args.only or list(MEASURES)
    results: list[Result] = []
    for group in GROUPS:
        names = measures_of(group, selected)
        if not names:
            continue
        print(f"… {group}: {', '.join(names)}", file=sys.stderr, flush=True)
        if GROUPS[group].needs_emulator:
            with emulator_running() as emulator_url:
                results += _run_group(group, names, args, repeats, emulator_url)
        else:
            results += _run_group(group, names, args, repeats, None)
    print(table(results))
    save(results, args.output)
    return 0 if all(not r.verdict.startswith("ERROR") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
