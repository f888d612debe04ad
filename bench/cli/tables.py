"""`tables`: every table, plot, REPORT.md and the README block from saved results; runs nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.cli import args as shared
from bench.files import destinations
from bench.files.destinations import BENCHMARK_GLOB
from bench.report.build import benchmark_files, build_tables


def add_parser(sub) -> None:
    """Declare `tables` on the CLI's subparsers."""
    tables = sub.add_parser("tables", help="rebuild tables, plots and REPORT.md; runs nothing")
    tables.add_argument(
        "benchmarks",
        nargs="*",
        type=Path,
        help=f"pytest-benchmark JSON files (default: results/{BENCHMARK_GLOB})",
    )
    tables.add_argument(
        "--accuracy", type=Path, default=None, help="accuracy CSV (default: results/accuracy.csv)"
    )
    shared.output_args(tables)


def main(args) -> int:
    """Rebuild every results file from saved results; 1 when there is nothing to build from."""
    benchmark_files(args.results, args.benchmarks)  # a missing one: exit 2 before anything
    folder, publish = destinations.folder_for_inputs(args.results, args.benchmarks, args.accuracy)
    publish = publish or args.publish
    folder = args.results if publish else folder
    destinations.check_writable(folder)
    readme = shared.readme(args) if publish else None
    destinations.check_readme(readme)
    try:
        build_tables(folder, args.benchmarks, args.accuracy, readme=readme)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
