"""`accuracy`: the accuracy sweep alone, on a profile's accuracy grid."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from bench.cli import args as shared
from bench.cli.accuracy_sweep import run_accuracy_sweep
from bench.files import destinations
from bench.files.destinations import RESULTS
from bench.timing import run_suite
from bench.workloads.profiles import PROFILES, accuracy_cases, check_accuracy_depths
from validation.executors import open_executor


def add_parser(sub) -> None:
    """Declare `accuracy` on the CLI's subparsers."""
    accuracy = sub.add_parser(
        "accuracy", help="the accuracy sweep alone -> results/accuracy.csv and .md"
    )
    accuracy.add_argument(
        "--profile",
        choices=shared.NAMES["profiles"],
        default="default",
        help="whose accuracy grid (default: default, the one `run` uses)",
    )
    shared.filter_args(accuracy)
    accuracy.add_argument(
        "--depths",
        nargs="+",
        type=shared.positive_int,
        metavar="N",
        help="these depths instead of the grid's",
    )
    accuracy.add_argument(
        "--dtypes", nargs="+", choices=shared.NAMES["dtypes"], help="only these dtypes"
    )
    accuracy.add_argument(
        "--jobs", type=shared.count, default=1, help="processes (cases are independent)"
    )
    shared.device_arg(accuracy)
    accuracy.add_argument("--quiet", action="store_true", help="no progress bar")
    accuracy.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    shared.publish_arg(accuracy)
    shared.recompute_arg(accuracy)
    accuracy.add_argument("--scheduler", type=shared.scheduler, help=shared.SCHEDULER_HELP)


def main(args) -> int:
    """The accuracy sweep alone, on `args.profile`'s accuracy grid."""
    profile = PROFILES[args.profile]
    check_accuracy_depths(profile, args.depths)
    if not accuracy_cases(profile, args.families, args.depths, args.dtypes):
        print(f"error: no accuracy case of profile {profile.name!r} matches the filters",
              file=sys.stderr)  # fmt: skip
        return 2
    # one dtype is a filter; naming every dtype is the same as naming none
    dtype = args.dtypes[0] if args.dtypes and len(set(args.dtypes)) == 1 else None
    tag = run_suite.filter_tag(shared.tagged_backends(args), args.families, args.depths)
    publish = args.publish or destinations.is_published(args.profile, dtype, tag)
    folder = destinations.output_folder(
        args.results, destinations.run_kind(args.profile, dtype, tag), publish
    )
    destinations.check_files([folder / "accuracy.csv", folder / "accuracy.md"])
    context = (
        open_executor(args.jobs, args.scheduler) if args.scheduler else contextlib.nullcontext()
    )
    with context as executor:
        paths = run_accuracy_sweep(
            profile,
            folder,
            args.backends,
            args.families,
            args.depths,
            args.dtypes,
            jobs=args.jobs,
            quiet=args.quiet,
            executor=executor,
            recompute=args.recompute,
        )
    for path in paths:
        print(f"wrote {path}")
    return 0
