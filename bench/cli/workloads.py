"""`workloads`: GradBench's evaluations timed and checked in every backend -> workloads.csv/.md.

The default backends are the default run's (`WORKLOAD_BACKENDS`); --backends names any
registered engine, --backend-module adds one from outside (a plugin without a workload
namespace gets a row saying so for every evaluation).

The default sizes, unfiltered, merge into the committed results/workloads.csv (with REPORT.md
and the README block rebuilt); other sizes or filters write results/runs/<sizes>[-filters]/
(as `run --quick` writes results/runs/quick/) unless --publish. Either way the saved rows
this run did not produce stay as they were. Accuracy rows whose fingerprint holds are kept
from the saved table (--recompute measures them all again); timing is measured every run.
"""

from __future__ import annotations

from bench.backends import plugins
from bench.backends.workloads import WORKLOAD_BACKENDS, WORKLOADS
from bench.cli import args as shared
from bench.cli.workloads_run import read_saved, run_workloads
from bench.files import destinations
from bench.report.build import build_tables, output_paths
from bench.timing import run_suite
from bench.timing.workload_tables import WORKLOADS_CSV
from bench.workloads.grids import GRIDS


def add_parser(sub) -> None:
    """Declare `workloads` on the CLI's subparsers."""
    workloads = sub.add_parser(
        "workloads", help="GradBench's evaluations: time and accuracy per backend"
    )
    workloads.add_argument(
        "--evals", nargs="+", choices=list(WORKLOADS), metavar="NAME",
        help=f"only these evaluations (of {', '.join(WORKLOADS)})",
    )  # fmt: skip
    backends = shared.NAMES["backends"]  # every registered engine, plugins included
    workloads.add_argument(
        "--backends", nargs="+", choices=backends, metavar="NAME",
        help=f"only these backends (default: {', '.join(WORKLOAD_BACKENDS)}; of "
        f"{', '.join(backends)}; one without a workload namespace gets rows saying why)",
    )  # fmt: skip
    workloads.add_argument(
        "--sizes", choices=list(GRIDS), default="default",
        help="quick (smallest), default (the committed tables) or full (GradBench's grid)",
    )  # fmt: skip
    workloads.add_argument("--skip-accuracy", action="store_true", help="timing only")
    workloads.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    shared.backend_module_arg(workloads)
    shared.recompute_arg(workloads)
    shared.output_args(workloads)


def main(args) -> int:
    """Timing, accuracy, the merged table, then every table and plot; the exit code."""
    backends = args.backends
    if backends is None and plugins.REGISTERED:  # a plugin engine joins the default ones
        backends = [*WORKLOAD_BACKENDS, *plugins.REGISTERED]
    tag = run_suite.filter_tag(backends, args.evals)
    publish = args.publish or destinations.is_published(args.sizes, None, tag)
    kind = destinations.run_kind(args.sizes, None, tag)
    folder = destinations.output_folder(args.results, kind, publish)
    readme = shared.readme(args) if publish else None
    destinations.check_files([folder / WORKLOADS_CSV, *output_paths(folder)])
    destinations.check_readme(readme)
    read_saved(folder)  # a bad saved table: one line and exit 2, before the benchmarks
    failed = run_workloads(
        folder, args.sizes, args.evals, backends, not args.skip_accuracy, args.quiet,
        args.recompute,
    )  # fmt: skip
    if (folder / WORKLOADS_CSV).exists():  # none when pytest itself failed on a first run
        build_tables(folder, readme=readme, quiet=args.quiet)
    return 1 if failed else 0
