"""`python -m bench` / `dezero-bench`: the one command line (benchmarks, accuracy, tables).

- `run`: the benchmark suite in a subprocess (`bench.run_suite`), then the profile's
  accuracy sweep (`bench.accuracy_results`), then `tables`.
- `accuracy`: the accuracy sweep alone, on a profile's accuracy grid.
- `tables`: every table, plot, REPORT.md and the README block from saved results only
  (`bench.build_tables`).
- `check`: the accuracy gate (exit 1 on a regression); `baseline`: rewrite its baseline.
- `fuzz`: random programs against the exact reference (`validation.fuzz`), shrunk findings
  and reproducers under results/fuzz/; `--scheduler` runs it (or `accuracy`) on Dask.

This module only parses arguments and dispatches; grids come from `bench.profiles`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.build_tables import BENCHMARK_GLOB, README, RESULTS


def _valid_names():
    from bench.backends import BACKENDS
    from bench.chains import FAMILIES
    from bench.profiles import DTYPES, PROFILES

    depths = sorted({d for p in PROFILES.values() for d in p.depths})
    return list(BACKENDS), list(FAMILIES), depths, list(DTYPES), list(PROFILES)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (names are checked against the registries: bad ones exit 2)."""
    backends, families, depths, dtypes, profiles = _valid_names()
    parser = argparse.ArgumentParser(prog="dezero-bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    _filter_args(run, backends, families)
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
        choices=dtypes,
        default=None,
        help="benchmark dtype (float64 unless given); accuracy covers both dtypes unless given",
    )
    run.add_argument("--skip-accuracy", action="store_true", help="benchmarks only")
    run.add_argument("--jobs", type=int, default=1, help="processes for the accuracy sweep")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary (CI)")
    _output_args(run)

    accuracy = sub.add_parser(
        "accuracy", help="the accuracy sweep alone -> results/accuracy.csv and .md"
    )
    accuracy.add_argument(
        "--profile",
        choices=profiles,
        default="default",
        help="whose accuracy grid (default: default, the one `run` uses)",
    )
    _filter_args(accuracy, backends, families)
    accuracy.add_argument(
        "--depths",
        nargs="+",
        type=_positive_int,
        metavar="N",
        help="these depths instead of the grid's",
    )
    accuracy.add_argument("--dtypes", nargs="+", choices=dtypes, help="only these dtypes")
    accuracy.add_argument("--jobs", type=int, default=1, help="processes (cases are independent)")
    accuracy.add_argument("--quiet", action="store_true", help="no progress bar")
    accuracy.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    accuracy.add_argument("--scheduler", type=_scheduler, help=SCHEDULER_HELP)
    _fuzz_parser(sub, backends)

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
    _output_args(tables)

    sub.add_parser("check", help="the accuracy gate on the ci grid; exit 1 on a regression")
    sub.add_parser("baseline", help="rewrite results/accuracy_baseline.csv from the ci grid")
    return parser


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"depth must be a positive integer, got {text!r}")
    return int(text)


def _filter_args(parser, backends, families):
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=backends,
        metavar="NAME",
        help=f"only these backends (of {', '.join(backends)})",
    )
    parser.add_argument(
        "--families",
        nargs="+",
        choices=families,
        metavar="NAME",
        help=f"only these chain families (of {', '.join(families)})",
    )


def _output_args(parser):
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument(
        "--readme", type=Path, default=README, help="README whose generated block is rewritten"
    )
    parser.add_argument("--no-readme", action="store_true", help="leave the README alone")


def _check_depths(parser, args):
    from bench.profiles import PROFILES

    valid = PROFILES[args.profile].depths
    wrong = [d for d in args.depths or () if d not in valid]
    if wrong:
        parser.error(
            f"argument --depths: {wrong} not in profile {args.profile!r}; "
            f"valid depths: {', '.join(map(str, valid))}"
        )


def _readme(args):
    return None if args.no_readme else args.readme


def command_run(parser, args) -> int:
    """Benchmarks, accuracy sweep, tables; returns the exit code."""
    from bench.accuracy_results import run_accuracy_sweep
    from bench.build_tables import build_tables
    from bench.profiles import PROFILES
    from bench.run_suite import filter_tag, run_benchmarks, summary

    _check_depths(parser, args)
    args.results.mkdir(parents=True, exist_ok=True)
    dtype = args.dtype or "float64"
    tag = filter_tag(args.backends, args.families, args.depths)
    json_path = args.results / f"benchmark-{args.profile}-{dtype}{tag}.json"
    log_fd, log_name = tempfile.mkstemp(prefix=f"dezero-bench-{args.profile}-", suffix=".log")
    os.close(log_fd)
    log_path = Path(log_name)
    start = time.perf_counter()
    code, events = run_benchmarks(args, json_path, log_path)
    failed = [e for e in events if e["outcome"] == "failed"]
    if code == 5:  # pytest: no tests collected
        print("no benchmark matches the filters", file=sys.stderr)
        return 1
    if code not in (0, 1) or not json_path.exists():
        print(log_path.read_text()[-4000:], file=sys.stderr)
        print(f"benchmark run failed (pytest exit {code}); log: {log_path}", file=sys.stderr)
        return code or 1
    seconds = time.perf_counter() - start
    if not args.quiet:
        print(summary(events))
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
            args.results,
            args.backends,
            args.families,
            args.depths,
            [args.dtype] if args.dtype else None,
            jobs=args.jobs,
            quiet=args.quiet,
        )
    build_tables(args.results, readme=_readme(args), quiet=args.quiet)
    if not args.quiet:
        print(f"run took {time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


def command_accuracy(args) -> int:
    """The accuracy sweep alone, on `args.profile`'s accuracy grid."""
    from bench.accuracy_results import run_accuracy_sweep
    from bench.profiles import PROFILES
    from validation.executors import open_executor

    with open_executor(args.jobs, args.scheduler) if args.scheduler else _nothing() as executor:
        paths = run_accuracy_sweep(
            PROFILES[args.profile],
            args.results,
            args.backends,
            args.families,
            args.depths,
            args.dtypes,
            jobs=args.jobs,
            quiet=args.quiet,
            executor=executor,
        )
    for path in paths:
        print(f"wrote {path}")
    return 0


def command_tables(args) -> int:
    """Rebuild every results file from saved results; 1 when there is nothing to build from."""
    from bench.build_tables import build_tables

    try:
        build_tables(args.results, args.benchmarks, args.accuracy, readme=_readme(args))
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def command_check() -> int:
    """The accuracy gate: recompute dezero on the ci grid, compare with the baseline."""
    from validation import gate

    messages = gate.gate_messages(gate.ci_accuracy(), gate.read_baseline())
    print("\n".join(messages) or "accuracy gate: pass")
    return 1 if messages else 0


def command_baseline() -> int:
    """Rewrite the gate's baseline from dezero on the ci grid."""
    from bench.profiles import CI
    from validation import gate
    from validation.accuracy import run_accuracy

    print(f"wrote {gate.write_baseline(run_accuracy(CI, backends=[gate.GATED]))}")
    return 0


SCHEDULER_HELP = "run on Dask: 'local' (a LocalCluster of --jobs workers) or tcp://host:8786"
FUZZ_BACKENDS = ("dezero", "numpy", "torch", "jax", "autograd")


def _scheduler(text: str) -> str:
    from validation.executors import check_scheduler

    try:
        return check_scheduler(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--scheduler ")) from None


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def _fuzz_parser(sub, backends):
    fuzz = sub.add_parser(
        "fuzz", help="random programs in every backend against the exact reference"
    )
    fuzz.add_argument("--programs", type=_count, default=100, help="programs to run")
    fuzz.add_argument("--seed", type=int, default=0, help="the run's seed (same seed, same run)")
    fuzz.add_argument(
        "--backends",
        nargs="+",
        choices=[b for b in FUZZ_BACKENDS if b in backends],
        metavar="NAME",
        help=f"backends to check (of {', '.join(FUZZ_BACKENDS)}; default: the installed ones)",
    )
    fuzz.add_argument("--max-nodes", type=_count, default=8, help="ops per program, at most")
    fuzz.add_argument("--jobs", type=_count, default=1, help="local processes")
    fuzz.add_argument("--scheduler", type=_scheduler, help=SCHEDULER_HELP)
    fuzz.add_argument("--out", type=Path, default=RESULTS / "fuzz", help="output folder")
    fuzz.add_argument(
        "--replay", type=Path, metavar="PROGRAM_JSON", help="re-check one saved program instead"
    )


def command_fuzz(parser, args) -> int:
    """Fuzz (or replay one program); exit 1 when dezero fails, other backends' are findings."""
    from validation.executors import open_executor
    from validation.fuzz import run_fuzz, summary
    from validation.fuzz_programs import load
    from validation.fuzz_report import replay, write_results

    if args.replay is not None:
        try:
            load(args.replay)
        except (OSError, ValueError) as error:
            parser.error(f"argument --replay: {error}")
    backends = args.backends or [b for b in FUZZ_BACKENDS if _installed(b)]
    if args.replay is not None:
        rows = replay(args.replay, backends)
        print(rows.to_string(index=False))
        return 1 if ((rows["backend"] == "dezero") & (rows["status"] == "fail")).any() else 0
    start = time.perf_counter()
    with open_executor(args.jobs, args.scheduler) as executor:
        rows, findings = run_fuzz(
            args.seed, args.programs, backends, executor, args.max_nodes, progress=_fuzz_progress
        )
    seconds = time.perf_counter() - start
    table = write_results(args.out, rows, findings)
    info = summary(rows, findings)
    print(
        f"{info['programs']} programs in {seconds:.1f} s ({info['programs'] / seconds:.1f}/s), "
        f"backends {', '.join(backends)}; {len(info['ops_covered'])} ops covered: "
        f"{', '.join(info['ops_covered'])}"
    )
    print(table.to_string(index=False) if len(table) else "no findings")
    print(f"wrote {args.out}")
    return 1 if (table["backend"] == "dezero").any() else 0


def _fuzz_progress(chunks_done, chunks, programs_done, findings):
    found = ", ".join(f"{f.backend} {f.failure} ({','.join(f.ops)})" for f in findings) or "none"
    print(f"[{chunks_done}/{chunks}] {programs_done} programs; findings: {found}", flush=True)


def _installed(backend: str) -> bool:
    from bench.backends import BACKENDS

    return backend == "numpy" or BACKENDS[backend].available()[0]


# subcommand -> its function of (parser, args); `build_parser` declares the same names
COMMANDS = {
    "run": command_run,
    "accuracy": lambda parser, args: command_accuracy(args),
    "tables": lambda parser, args: command_tables(args),
    "check": lambda parser, args: command_check(),
    "baseline": lambda parser, args: command_baseline(),
    "fuzz": command_fuzz,
}


def main(argv=None) -> int:
    """Entry point of `python -m bench` and the `dezero-bench` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return COMMANDS[args.command](parser, args)
