"""`python -m bench book PATH`: the book's step scripts, unmodified, on this dezero.

PATH is the reader's own checkout of the book's repository; nothing is downloaded. Prints a
table of verdicts (one per step 1-60) and a summary line; `--json FILE` saves the same as data.
Exit 0 when no step FAILs, 1 when one does, 2 (one line) when PATH is not a checkout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.book import steps
from bench.cli import args as shared
from bench.files import atomic_write, destinations
from bench.files.inputs import InputError


def _step_number(text: str) -> int:
    if not text.isdigit() or int(text) not in steps.BOOK_STEPS:
        raise argparse.ArgumentTypeError(f"a step is a number from 1 to 60, got {text!r}")
    return int(text)


def add_parser(sub) -> None:
    """Declare the `book` subcommand on the CLI's subparsers."""
    parser = sub.add_parser("book", help="run the book's step scripts (your checkout) unmodified")
    parser.add_argument("path", type=Path, help="a checkout of the book's repository")
    parser.add_argument("--steps", nargs="+", type=_step_number, metavar="N", help="only these")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save the verdicts here")
    parser.add_argument(
        "--jobs", type=shared.count, default=1, help="steps run at once (default 1)"
    )


def _check_json_destination(path: Path | None) -> None:
    if path is None:
        return
    if path.is_dir():
        raise InputError(path, "is a folder; --json takes a file name")
    destinations.check_writable(path.parent)


def main(args) -> int:
    """Run the steps; 0 when none FAILs, 1 otherwise (bad PATH/--json: InputError, exit 2)."""
    steps.find_steps(args.path)
    _check_json_destination(args.json)
    results = steps.run_book(args.path, only=args.steps, jobs=args.jobs)
    print(steps.table(results))
    print(steps.summary(results))
    if args.json is not None:
        document = {"checkout": str(args.path.resolve()), "steps": steps.as_records(results)}
        atomic_write.write_text(args.json, json.dumps(document, indent=1) + "\n")
    failures = steps.failed(results)
    if failures:
        print(f"FAIL: steps {', '.join(str(r.step) for r in failures)}", file=sys.stderr)
    return 1 if failures else 0
