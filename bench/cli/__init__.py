"""`python -m bench` / `dezero-bench`: the one command line (benchmarks, accuracy, tables).

- `run`: the benchmark suite in a subprocess (`bench.run_suite`), then the profile's
  accuracy sweep (`bench.accuracy_results`), then `tables`.
- `accuracy`: the accuracy sweep alone, on a profile's accuracy grid.
- `tables`: every table, plot, REPORT.md and the README block from saved results only
  (`bench.build_tables`).
- `check`: the accuracy gate (exit 1 on a regression); `baseline`: rewrite its baseline.
- `compare`: the timing gate (exit 1 when dezero got slower, `bench.timing_gate`).
- `book PATH`: the book's step scripts from the reader's checkout, unmodified
  (`bench.book_command`).
- `fuzz`: random programs against the exact reference (`validation.fuzz`), shrunk findings
  and reproducers under results/fuzz/; `--scheduler` runs it (or `accuracy`) on Dask.

Only a default unfiltered run (or `--publish`) writes the committed results; every other run
writes its own folder results/runs/<kind>/ (`bench.destinations`). A bad input file or
argument is one line and exit 2; Ctrl-C is one line saying what was saved, exit 130.

This module only parses arguments and dispatches; grids come from `bench.profiles`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.cli import book as book_command
from bench.files import atomic_write, destinations
from bench.files.inputs import InputError, UsageError
from bench.machine import configure, simd, threads
from bench.report.build import BENCHMARK_GLOB, README, RESULTS


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors as one line (no usage block), still exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _valid_names():
    from bench.backends import BACKENDS
    from bench.workloads.chains import FAMILIES
    from bench.workloads.profiles import DTYPES, PROFILES

    depths = sorted({d for p in PROFILES.values() for d in p.depths})
    return list(BACKENDS), list(FAMILIES), depths, list(DTYPES), list(PROFILES)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (names are checked against the registries: bad ones exit 2)."""
    backends, families, depths, dtypes, profiles = _valid_names()
    parser = OneLineParser(prog="dezero-bench", description=__doc__.split("\n")[0])
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
    _device_arg(run)
    run.add_argument("--jobs", type=_count, default=1, help="processes for the accuracy sweep")
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
    accuracy.add_argument(
        "--jobs", type=_count, default=1, help="processes (cases are independent)"
    )
    _device_arg(accuracy)
    accuracy.add_argument("--quiet", action="store_true", help="no progress bar")
    accuracy.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    _publish_arg(accuracy)
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

    compare = sub.add_parser(
        "compare",
        help="timing gate: exit 1 when dezero got slower relative to a yardstick backend",
        description="The timing gate. Exit 0: every chain family judged, none slower; "
        "1: a family slower beyond --threshold with p < --alpha; 2: a bad file or argument; "
        "3: none slower, but a family had too few cases to reach p < --alpha at its change "
        "(not a pass: the summary line names it).",
    )
    compare.add_argument("baseline", type=Path, help="pytest-benchmark JSON of the old code")
    compare.add_argument(
        "candidate",
        type=Path,
        nargs="?",
        help="pytest-benchmark JSON of the new code (default: the newest run of the "
        "baseline's profile under results/)",
    )
    compare.add_argument(
        "--threshold",
        type=_fraction,
        default=0.10,
        help="a family fails above this slowdown (median of its cases' ratio changes), "
        "as a fraction (default 0.10 = 10%%)",
    )
    compare.add_argument(
        "--alpha", type=_fraction, default=0.05, help="significance level (default 0.05)"
    )
    compare.add_argument(
        "--yardstick",
        choices=[*(b for b in backends if b != "dezero"), "none"],
        default="numpy",
        help="backend dezero is divided by, case by case (default numpy; none: raw seconds; "
        "not dezero itself, whose ratio is always 1)",
    )
    compare.add_argument("--results", type=Path, default=RESULTS, help="results folder")

    check = sub.add_parser("check", help="the accuracy gate on the ci grid; exit 1 on a regression")
    check.add_argument(
        "--strength",
        action="store_true",
        help="plant errors in each function's derivative; print and save the smallest caught",
    )
    baseline = sub.add_parser(
        "baseline",
        help="rewrite the gate's baseline from the ci grid (filtered: only the cases measured)",
    )
    for gate_command in (check, baseline):
        gate_command.add_argument("--families", nargs="+", choices=families, metavar="NAME")
        gate_command.add_argument("--depths", nargs="+", type=int, choices=depths, metavar="N")
        gate_command.add_argument(
            "--baseline", type=Path, default=None, help="(default: results/accuracy_baseline.csv)"
        )
    check.add_argument("--results", type=Path, default=RESULTS, help="where --strength writes")
    book_command.add_parser(sub)
    return parser


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"depth must be a positive integer, got {text!r}")
    return int(text)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


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


def _device_arg(parser):
    from bench.machine.devices import CHOICES, DEVICE_ENV

    parser.add_argument(
        "--device",
        choices=CHOICES,
        default=None,
        help=f"where torch and JAX run (default: ${DEVICE_ENV}, else cpu); "
        "numpy, dezero and autograd always run on the CPU",
    )


def _select_device(args) -> int:
    """Pin the run to `args.device` (0), or say in one line why this machine cannot (2)."""
    from bench.machine import devices

    if getattr(args, "device", None) is None:
        try:
            devices.requested()
        except ValueError as error:
            print(f"dezero-bench: error: {error}", file=sys.stderr)
            return 2
        return 0
    why = devices.unavailable(args.device)
    if why:
        print(f"dezero-bench: error: --device {args.device}: {why}", file=sys.stderr)
        return 2
    devices.configure(args.device)
    return 0


def _output_args(parser):
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument(
        "--readme", type=Path, default=README, help="README whose generated block is rewritten"
    )
    parser.add_argument("--no-readme", action="store_true", help="leave the README alone")
    _publish_arg(parser)


def _publish_arg(parser):
    parser.add_argument(
        "--publish",
        action="store_true",
        help="write the committed results/ files (and README block) even though this is not "
        "a default unfiltered run; otherwise such a run writes results/runs/<kind>/",
    )


def _check_depths(parser, args):
    from bench.workloads.profiles import PROFILES

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
    from bench.cli.accuracy_sweep import run_accuracy_sweep
    from bench.report.build import build_tables
    from bench.timing.run_suite import filter_tag, run_benchmarks, summary
    from bench.workloads.profiles import PROFILES

    _check_depths(parser, args)
    dtype = args.dtype or "float64"
    tag = filter_tag(args.backends, args.families, args.depths)
    publish = args.publish or destinations.is_published(args.profile, args.dtype, tag)
    kind = destinations.run_kind(args.profile, args.dtype, tag)
    folder = destinations.output_folder(args.results, kind, publish)
    json_path = folder / f"benchmark-{args.profile}-{dtype}{tag}.json"
    _check_run_destinations(folder, json_path, _readme(args) if publish else None)
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
        code, events = run_benchmarks(args, partial, log_path)
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
            folder,
            args.backends,
            args.families,
            args.depths,
            [args.dtype] if args.dtype else None,
            jobs=args.jobs,
            quiet=args.quiet,
        )
    build_tables(folder, readme=_readme(args) if publish else None, quiet=args.quiet)
    if not args.quiet:
        print(f"run took {time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


def _check_run_destinations(folder: Path, json_path: Path, readme: Path | None) -> None:
    """Every file `run` writes, checked before its minutes of benchmarking."""
    from bench.report.build import output_paths

    csv = folder / "accuracy.csv"
    destinations.check_files([json_path, csv, *output_paths(folder)])
    destinations.check_readme(readme)


def command_accuracy(args) -> int:
    """The accuracy sweep alone, on `args.profile`'s accuracy grid."""
    from bench.cli.accuracy_sweep import run_accuracy_sweep
    from bench.timing.run_suite import filter_tag
    from bench.workloads.profiles import PROFILES, accuracy_cases, check_accuracy_depths
    from validation.executors import open_executor

    profile = PROFILES[args.profile]
    check_accuracy_depths(profile, args.depths)
    if not accuracy_cases(profile, args.families, args.depths, args.dtypes):
        print(f"error: no accuracy case of profile {profile.name!r} matches the filters",
              file=sys.stderr)  # fmt: skip
        return 2
    # one dtype is a filter; naming every dtype is the same as naming none
    dtype = args.dtypes[0] if args.dtypes and len(set(args.dtypes)) == 1 else None
    tag = filter_tag(args.backends, args.families, args.depths)
    publish = args.publish or destinations.is_published(args.profile, dtype, tag)
    folder = destinations.output_folder(
        args.results, destinations.run_kind(args.profile, dtype, tag), publish
    )
    destinations.check_files([folder / "accuracy.csv", folder / "accuracy.md"])
    with open_executor(args.jobs, args.scheduler) if args.scheduler else _nothing() as executor:
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
        )
    for path in paths:
        print(f"wrote {path}")
    return 0


def command_tables(args) -> int:
    """Rebuild every results file from saved results; 1 when there is nothing to build from."""
    from bench.report.build import benchmark_files, build_tables

    benchmark_files(args.results, args.benchmarks)  # a missing one: exit 2 before anything
    folder, publish = destinations.folder_for_inputs(args.results, args.benchmarks, args.accuracy)
    publish = publish or args.publish
    folder = args.results if publish else folder
    destinations.check_writable(folder)
    readme = _readme(args) if publish else None
    destinations.check_readme(readme)
    try:
        build_tables(folder, args.benchmarks, args.accuracy, readme=readme)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _gate_grid(args) -> dict:
    return {"families": args.families, "depths": args.depths}


def command_check(args) -> int:
    """The accuracy gate: recompute dezero on the ci grid, compare with the baseline; with
    --strength, the gate's own strength table instead (exit 1 when a function misses its
    target)."""
    from validation import gate

    if args.strength:
        from validation import strength

        destinations.check_files([args.results / "gate_strength.csv"])
        table = strength.measure_strength()
        print(table.to_string(index=False, float_format="{:g}".format))
        print(f"wrote {strength.write_strength(table, args.results / 'gate_strength.csv')}")
        messages = strength.shortfalls(table)
        print("\n".join(messages) or "gate strength: every function caught at its target")
        return 1 if messages else 0
    else:
        path = args.baseline or gate.BASELINE_PATH
        if not path.exists():
            print(
                f"error: baseline {path} not found: run `python -m bench baseline`", file=sys.stderr
            )
            return 2
        from bench.files.inputs import read_csv_checked

        # the baseline is checked before the minutes of measuring
        baseline = read_csv_checked(path, gate.BASELINE_COLUMNS, gate.read_baseline)
        messages = gate.gate_messages(gate.ci_accuracy(**_gate_grid(args)), baseline)
        from validation.fuzz import ci_fuzz_messages

        messages += ci_fuzz_messages()  # seeded random programs: dezero vs the exact reference
    print("\n".join(messages) or "accuracy gate: pass")
    return 1 if messages else 0


def command_baseline(args) -> int:
    """Rewrite the gate's baseline from dezero on the ci grid; a filtered one (--families,
    --depths) replaces only the cases it measured."""
    from bench.files.inputs import read_csv_checked
    from bench.workloads.profiles import CI
    from validation import gate
    from validation.accuracy import run_accuracy

    path = args.baseline or gate.BASELINE_PATH
    destinations.check_files([path])
    keep = None
    if (args.families or args.depths) and Path(path).exists():  # checked before measuring
        keep = read_csv_checked(path, gate.BASELINE_COLUMNS, gate.read_baseline)
    df = run_accuracy(CI, backends=[gate.GATED], **_gate_grid(args))
    print(f"wrote {gate.write_baseline(df, path, keep=keep)}")
    return 0


def command_compare(args) -> int:
    """The timing gate: 1 when a family's cases got slower beyond the threshold (p < alpha),
    3 when none did but a family could not be judged, 0 when every family passed."""
    from bench.files.inputs import read_benchmark_json
    from bench.timing import gate as timing_gate

    candidate = args.candidate
    if candidate is None:
        info = read_benchmark_json(args.baseline).get("machine_info") or {}
        profile = info.get("bench_profile", "*")
        candidate = timing_gate.newest_run(args.results, profile, exclude=args.baseline)
        if candidate is None:
            raise InputError(args.results, f"holds no benchmark-{profile}-*.json to compare")
    yardstick = None if args.yardstick == "none" else args.yardstick
    out = args.results / destinations.RUNS / "compare.md"
    destinations.check_files([out])
    cases, families = timing_gate.compare_files(
        args.baseline, candidate, args.threshold, args.alpha, yardstick
    )
    notes = timing_gate.run_differences(args.baseline, candidate)
    infos = [read_benchmark_json(p).get("machine_info") or {} for p in (args.baseline, candidate)]
    simd_note = simd.compare_note(*infos)
    notes = [*notes, simd_note] if simd_note else list(notes)
    markdown = timing_gate.render_markdown(cases, families, yardstick, args.threshold)
    header = f"`python -m bench compare {args.baseline} {candidate}`\n\n"
    atomic_write.write_text(out, header + "".join(f"{n}\n\n" for n in notes) + markdown)
    print(markdown, end="")
    print(f"wrote {out}")
    for note in notes:
        print(note, file=sys.stderr)
    slower = families[families["verdict"] == timing_gate.SLOWER]
    for _, family in slower.iterrows():
        worst = cases[
            (cases["family"] == family["family"]) & (cases["change"] > 1 + args.threshold)
        ]
        named = ", ".join(
            f"d{r['depth']} w{r['width']} {r['dtype']} {r['pass']} x{r['change']:.2f} "
            f"(p {r['p_rounds']:.2g})"
            for _, r in worst.sort_values("change", ascending=False).iterrows()
        )
        print(
            f"SLOWER: dezero {family['family']}: x{family['change']:.2f} over "
            f"{family['cases']} cases (median of ratio changes, Wilcoxon p = "
            f"{family['p_value']:.2g}); slowest: {named}",
            file=sys.stderr,
        )
    line, code = timing_gate.verdict_line(cases, families, args.threshold, args.alpha)
    print(line)
    return code


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
    fuzz.add_argument(
        "--programs", type=_count, help="programs to run (default 100; with --seconds, a cap)"
    )
    fuzz.add_argument(
        "--seconds",
        type=_count,
        help="fuzz for about this long: chunks of 25 programs stop starting once it is spent",
    )
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
    fuzz.set_defaults(fuzz_defaults={name: fuzz.get_default(name) for name in REPLAY_IGNORES})


def command_fuzz(parser, args) -> int:
    """Fuzz (or replay one program); exit 1 when dezero fails, other backends' are findings."""
    from validation.executors import open_executor
    from validation.fuzz import run_fuzz, summary
    from validation.fuzz_program_file import load
    from validation.fuzz_report import FUZZ_FILES, replay, write_results

    if args.replay is not None:
        given = [n for n, default in args.fuzz_defaults.items() if getattr(args, n) != default]
        if given:
            flags = ", ".join(f"--{n.replace('_', '-')}" for n in given)
            parser.error(f"argument --replay: re-checks one saved program; {flags} do not apply")
        try:
            load(args.replay)
        except (OSError, ValueError) as error:
            parser.error(f"argument --replay: {error}")
    backends = args.backends or [b for b in FUZZ_BACKENDS if _installed(b)]
    if args.replay is not None:
        rows = replay(args.replay, backends)
        print(rows.to_string(index=False))
        return 1 if ((rows["backend"] == "dezero") & (rows["status"] == "fail")).any() else 0
    destinations.check_files([args.out / name for name in FUZZ_FILES])
    start = time.perf_counter()
    with open_executor(args.jobs, args.scheduler) as executor:
        programs = args.programs or (10**7 if args.seconds else 100)
        rows, findings = run_fuzz(
            args.seed,
            programs,
            backends,
            executor,
            args.max_nodes,
            progress=_fuzz_progress(args.seconds, args.programs),
            seconds=args.seconds,
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


# what a replay (one program, in process, printed) has no use for
REPLAY_IGNORES = ("programs", "seconds", "seed", "max_nodes", "jobs", "scheduler")


def _fuzz_progress(seconds: int | None, programs: int | None):
    """The line printed after each chunk: chunks of all, or with --seconds the time spent
    (its chunk count is only a cap, and none at all without --programs)."""
    start = time.perf_counter()

    def show(chunks_done, chunks, programs_done, findings):
        found = ", ".join(f"{f.backend} {f.failure} ({','.join(f.ops)})" for f in findings)
        where = f"{chunks_done}/{chunks}"
        if seconds:
            spent = min(time.perf_counter() - start, seconds)
            cap = f" of at most {chunks}" if programs else ""
            where = f"{chunks_done} chunks{cap}, {spent:.0f}/{seconds} s"
        print(f"[{where}] {programs_done} programs; findings: {found or 'none'}", flush=True)

    return show


def _installed(backend: str) -> bool:
    from bench.backends import BACKENDS

    return backend == "numpy" or BACKENDS[backend].available()[0]


# subcommand -> its function of (parser, args); `build_parser` declares the same names
COMMANDS = {
    "run": command_run,
    "accuracy": lambda parser, args: command_accuracy(args),
    "tables": lambda parser, args: command_tables(args),
    "compare": lambda parser, args: command_compare(args),
    "check": lambda parser, args: command_check(args),
    "baseline": lambda parser, args: command_baseline(args),
    "fuzz": command_fuzz,
    "book": lambda parser, args: book_command.main(args),
}


def main(argv=None) -> int:
    """Entry point of `python -m bench` and the `dezero-bench` console script.

    A bad input file ends the command with one line and exit 2; Ctrl-C with one line saying
    which files were saved before it (each one whole: `bench.atomic_write`), exit 130.
    """
    saved_before = len(atomic_write.WRITTEN)
    try:
        configure()  # threads, JAX's device and the allocator, before any work
        threads.check()  # even before --help: configure() read the value
        parser = build_parser()
        args = parser.parse_args(argv)
        return _select_device(args) or COMMANDS[args.command](parser, args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(interrupted_message(atomic_write.WRITTEN[saved_before:]), file=sys.stderr)
        return 130


def interrupted_message(saved: list[Path]) -> str:
    """The one line Ctrl-C prints: what was saved (whole) and that nothing else changed."""
    if not saved:
        return "interrupted: nothing was saved; every results file is as it was before"
    names = [str(p) for p in dict.fromkeys(saved)]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return (
        f"interrupted: saved {len(names)} file(s) whole ({shown}); the rest (unfinished "
        "benchmarks, sweep or tables) was not saved and its files are as they were"
    )
