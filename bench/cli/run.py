"""`run`: the benchmark suite in a subprocess, then the profile's accuracy sweep, then GradBench's
evaluations at the profile's sizes (`bench.cli.workloads_run`), then `tables`."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.cli import args as shared
from bench.cli.accuracy_sweep import run_accuracy_sweep, saved_table
from bench.cli.workloads_run import read_saved, run_workloads, workload_backends
from bench.files import atomic_write, destinations
from bench.report.build import build_tables, output_paths
from bench.timing import run_suite
from bench.timing.workload_tables import WORKLOADS_CSV
from bench.workloads.profiles import PROFILES


def add_parser(sub) -> None:
    """Declare `run` on the CLI's subparsers."""
    run = sub.add_parser("run", help="benchmarks + accuracy sweep, then every table and plot")
    size = run.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        dest="profile",
        action="store_const",
        const="quick",
        help="small grid, about 2 minutes on 2 cores",
    )
    size.add_argument(
        "--full",
        dest="profile",
        action="store_const",
        const="full",
        help="the whole grid (depth 100,000; an hour or more)",
    )
    run.set_defaults(profile="default")
    shared.filter_args(run)
    depths = shared.NAMES["depths"]
    run.add_argument(
        "--depths",
        nargs="+",
        type=int,
        choices=depths,
        metavar="N",
        help=f"only these depths (of {', '.join(map(str, depths))})",
    )
    run.add_argument(
        "--dtype",
        choices=shared.NAMES["dtypes"],
        default=None,
        help="benchmark dtype (float64 unless given); accuracy covers both dtypes unless given",
    )
    run.add_argument("--skip-accuracy", action="store_true", help="benchmarks only")
    run.add_argument(
        "--skip-workloads",
        action="store_true",
        help="leave out GradBench's evaluations (a run filtered by family, depth or float32 "
        "always does)",
    )
    shared.recompute_arg(run)
    shared.device_arg(run)
    run.add_argument(
        "--jobs", type=shared.count, default=1, help="processes for the accuracy sweep"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary (CI)")
    shared.output_args(run)


def main(args) -> int:
    """Benchmarks, accuracy sweep, tables; returns the exit code."""
    shared.check_depths(args)
    dtype = args.dtype or "float64"
    tag = run_suite.filter_tag(shared.tagged_backends(args), args.families, args.depths)
    publish = args.publish or destinations.is_published(args.profile, args.dtype, tag)
    kind = destinations.run_kind(args.profile, args.dtype, tag)
    folder = destinations.output_folder(args.results, kind, publish)
    json_path = folder / f"benchmark-{args.profile}-{dtype}{tag}.json"
    readme = shared.readme(args) if publish else None
    _check_destinations(folder, json_path, readme)
    workloads = _workloads_wanted(args)
    if workloads:  # a bad saved workloads table or its place: exit 2 before the benchmarks
        destinations.check_files([folder / WORKLOADS_CSV])
        read_saved(folder)
    if not args.skip_accuracy:  # the saved rows it reuses or merges into: checked up front
        saved_table(folder, args.recompute, args.backends, args.families, args.depths, args.dtype)
    created = destinations.new_folders(folder)  # removed again if the run saves nothing
    folder.mkdir(parents=True, exist_ok=True)
    log_fd, log_name = tempfile.mkstemp(prefix=f"dezero-bench-{args.profile}-", suffix=".log")
    os.close(log_fd)
    log_path = Path(log_name)
    start = time.perf_counter()
    # pytest-benchmark writes the JSON next to its final place; it replaces the previous
    # run's file only once the run has finished (never a partial or interrupted one). The
    # name is this run's own, so an identical run started meanwhile cannot take it.
    partial = json_path.with_name(f".{json_path.name}.{uuid.uuid4().hex}.partial")
    try:
        code, events = run_suite.run_benchmarks(args, partial, log_path)
        if code == 5:  # pytest: no tests collected
            print("error: no benchmark matches the filters", file=sys.stderr)
            return 2
        if code not in (0, 1) or not partial.exists():
            print(log_path.read_text()[-4000:], file=sys.stderr)
            print(f"benchmark run failed (pytest exit {code}); log: {log_path}", file=sys.stderr)
            return code or 1
        os.replace(partial, json_path)
        atomic_write.WRITTEN.append(json_path)
    finally:
        partial.unlink(missing_ok=True)
        if not json_path.exists():
            destinations.remove_if_empty(created)
    failed = [e for e in events if e["outcome"] == "failed"]
    seconds = time.perf_counter() - start
    if not args.quiet:
        print(run_suite.summary(events))
        skipped = sum(e["outcome"] == "skipped" for e in events)
        print(
            f"\n{len(events)} benchmarks in {seconds:.0f} s ({skipped} skipped over budget or "
            f"unavailable, reasons in {log_path}); wrote {json_path}"
        )
    for event in failed:
        print(f"FAILED {event['nodeid']}", file=sys.stderr)
    if not args.skip_accuracy:
        run_accuracy_sweep(
            PROFILES[args.profile],
            folder,
            args.backends,
            args.families,
            args.depths,
            [args.dtype] if args.dtype else None,
            jobs=args.jobs,
            quiet=args.quiet,
            recompute=args.recompute,
        )
    workloads_failed = 0
    if workloads:
        workloads_failed = run_workloads(
            folder, args.profile, None, workloads, not args.skip_accuracy, args.quiet,
            args.recompute,
        )  # fmt: skip
    build_tables(folder, readme=readme, quiet=args.quiet)
    if not args.quiet:
        print(f"run took {time.perf_counter() - start:.0f} s")
    return 1 if failed or workloads_failed else 0


def _workloads_wanted(args) -> list[str] | None:
    """The backends GradBench's evaluations run in with this run, None when they are left out:
    by --skip-workloads, by a chain filter (family, depth) or a dtype other than float64."""
    if args.skip_workloads or args.families or args.depths or args.dtype not in (None, "float64"):
        return None
    return workload_backends(args.backends) or None


def _check_destinations(folder: Path, json_path: Path, readme: Path | None) -> None:
    """Every file `run` writes, checked before its minutes of benchmarking."""
    csv = folder / "accuracy.csv"
    destinations.check_files([json_path, csv, *output_paths(folder)])
    destinations.check_readme(readme)
