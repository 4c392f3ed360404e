"""One group's measures in a fresh process: set Django up, load the scale, run, write rows."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import traceback
import warnings
from dataclasses import asdict
from pathlib import Path

import django


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("--group", required=True)
    parser.add_argument("--scale", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--smoke", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    logging.disable(logging.INFO)  # per-task log lines would drown the figures
    warnings.filterwarnings("ignore", message="No directory at")  # staticfiles: not collected
    from django.core.management import call_command

    from bench import data
    from bench.context import Context
    from bench.measures import MEASURES

    call_command("migrate", interactive=False, verbosity=0)
    scale = data.SCALES[args.scale]
    if data.load(scale):
        print(f"   loaded the {scale.name} scale", file=sys.stderr, flush=True)
    context = Context(scale=scale, repeats=args.repeats, smoke=args.smoke,
                      emulator_url=os.environ.get("BENCH_EMULATOR_URL", ""))
    rows, failed = [], False
    for name in args.only:
        module, function = MEASURES[name].target.split(":")
        try:
            for result in getattr(importlib.import_module(module), function)(context):
                print(f"   {result.measure}: {result.portal:.4g} {result.unit} "
                      f"({result.verdict})", file=sys.stderr, flush=True)
                rows.append(asdict(result))
        except Exception:  # one broken measure must not hide the others' figures
            traceback.print_exc()
            failed = True
        args.out.write_text(json.dumps(rows, ensure_ascii=False, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
