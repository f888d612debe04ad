"""`python -m bench` / `dezero-bench`: run the comparison, rebuild tables, the accuracy gate.

- `run`: the pytest-benchmark suite in a subprocess (`pytest --benchmark-only`, profile and
  dtype passed as DEZERO_BENCH_PROFILE / DEZERO_BENCH_DTYPE, filters and progress through
  the `bench.progress` plugin), then the accuracy sweep, then `tables`.
- `tables`: every table, plot, REPORT.md and the README block from saved results only.
- `check`: the accuracy gate (exit 1 on a regression); `baseline`: rewrite its baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results"
README = REPO / "README.md"
BENCHMARK_GLOB = "benchmark-*.json"
# The accuracy grid run alongside each benchmark profile: validation's profile of that name
# where it has one, else these. `quick` keeps to depth 100 so `run --quick` stays under
# 2 minutes on 2 cores. `default` is the grid the committed tables show: scalar chains to
# depth 100,000, wide ones and mlp to 10,000; jax_jit stops at 1,000 (the unrolled chain's
# compile takes 29 s at 10,000; jax_scan covers deep compiled chains) and JAX eager at
# 10,000 (~160 us per op).
ACCURACY_GRIDS = {
    "quick": dict(depths=(1, 10, 100), wide_depths=(1, 10, 100), width=16, mlp_width=8,
                  max_depth={"jax_jit": 100}, fd_max_depth=100),
    "default": dict(depths=(1, 10, 100, 1000, 10_000, 100_000),
                    wide_depths=(1, 10, 100, 1000, 10_000), width=64, mlp_width=16,
                    max_depth={"jax_jit": 1000, "jax": 10_000}, fd_max_depth=10_000),
}  # fmt: skip
PER_CASE_OVERHEAD_S = 0.02  # pytest and prepare() per case, for the progress estimate


def _valid_names():
    from bench.backends import BACKENDS
    from bench.chains import FAMILIES
    from bench.profiles import DTYPES, PROFILES

    depths = sorted({d for p in PROFILES.values() for d in p.depths})
    return list(BACKENDS), list(FAMILIES), depths, list(DTYPES)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (names are checked against the registries: bad ones exit 2)."""
    backends, families, depths, dtypes = _valid_names()
    parser = argparse.ArgumentParser(prog="dezero-bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

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
    run.add_argument(
        "--backends",
        nargs="+",
        choices=backends,
        metavar="NAME",
        help=f"only these backends (of {', '.join(backends)})",
    )
    run.add_argument(
        "--families",
        nargs="+",
        choices=families,
        metavar="NAME",
        help=f"only these chain families (of {', '.join(families)})",
    )
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

    sub.add_parser("check", help="the accuracy gate on the CI grid; exit 1 on a regression")
    sub.add_parser("baseline", help="rewrite results/accuracy_baseline.csv from the CI grid")
    return parser


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


# ---------------------------------------------------------------- run: the benchmark subprocess


def _estimates(profile_name: str) -> dict[tuple, float]:
    """(backend, family, depth, width, pass) -> estimated seconds, for a weighted ETA."""
    from bench.backends import BACKENDS
    from bench.profiles import PROFILES, plan

    return {
        (c.backend, c.family, c.depth, c.width, c.pass_): seconds + PER_CASE_OVERHEAD_S
        for c, _, seconds in plan(PROFILES[profile_name], list(BACKENDS))
    }


def _case_key(case: dict) -> tuple:
    return tuple(case.get(k) for k in ("backend", "family", "depth", "width", "pass"))


def _case_label(case: dict) -> str:
    if case.get("backend") is None:
        return case["nodeid"].rsplit("::", 1)[-1]
    return (
        f"{case['backend']} {case['family']} d{case['depth']:,} w{case['width']:,} {case['pass']}"
    )


def run_benchmarks(args, json_path: Path, log_path: Path) -> tuple[int, list[dict]]:
    """Run the suite in a subprocess; returns pytest's exit code and one event per test."""
    from tqdm import tqdm

    read_fd, write_fd = os.pipe()
    wanted = {"backends": args.backends, "families": args.families, "depths": args.depths}
    # PYTEST_* from an enclosing pytest (xdist worker ids, PYTEST_ADDOPTS=-n ...) would make
    # pytest-benchmark switch itself off: the subprocess's command line says all it needs.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {
        "DEZERO_BENCH_PROFILE": args.profile,
        "DEZERO_BENCH_DTYPE": args.dtype or "float64",
        "DEZERO_BENCH_FILTER": json.dumps(wanted),
        "DEZERO_BENCH_PROGRESS_FD": str(write_fd),
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "bench/test_benchmarks.py",
        "--benchmark-only",
        f"--benchmark-json={json_path}",
        "-p",
        "bench.progress",
        "-p",
        "no:cacheprovider",
        "-rs",
        "-q",
    ]
    estimates = _estimates(args.profile)
    done: list[dict] = []
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_fd,)
        )
        os.close(write_fd)  # the child holds the only write end: EOF when it exits
        bar, weights = None, {}
        with os.fdopen(read_fd) as events:
            for line in events:
                event = json.loads(line)
                if event["event"] == "collected":
                    cases = event["cases"]
                    weights = {c["nodeid"]: estimates.get(_case_key(c), 1.0) for c in cases}
                    labels = {c["nodeid"]: _case_label(c) for c in cases}
                    bar = tqdm(
                        total=round(sum(weights.values()), 2),
                        disable=args.quiet,
                        desc=f"benchmarks ({args.profile}, {len(cases)} cases)",
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}"
                        "{postfix}",
                    )
                    continue
                done.append(event | {"label": labels.get(event["nodeid"], event["nodeid"])})
                if bar is not None:
                    bar.set_postfix_str(f"{len(done)}/{len(weights)} {done[-1]['label']}")
                    bar.update(round(weights.get(event["nodeid"], 0.0), 2))
        if bar is not None:
            bar.close()
        code = process.wait()
    return code, done


def _summary(events: list[dict]) -> str:
    import pandas as pd

    from validation.tables import markdown_table

    counts = Counter((e["label"].split(" ", 1)[0], e["outcome"]) for e in events)
    backends = list(dict.fromkeys(e["label"].split(" ", 1)[0] for e in events))
    outcomes = ("passed", "skipped", "failed")
    table = pd.DataFrame(
        [{"backend": b, **{o: counts[(b, o)] for o in outcomes}} for b in backends]
    )
    text = markdown_table(table)
    # skip reasons differ only in their estimates: count them by pattern
    reasons = Counter(re.sub(r"\d[\d.,e+-]*", "#", e["reason"]) for e in events if e.get("reason"))
    for reason, count in reasons.most_common():
        text += f"\n{count:5d} skipped: {reason}"
    return text


def filter_tag(args) -> str:
    """'' for an unfiltered run, else e.g. '-dezero-sin-d1000': a filtered run writes its own
    JSON, so it never overwrites a full run's (`tables` pools them, latest first)."""
    parts = [*(args.backends or ()), *(args.families or ())]
    parts += [f"d{d}" for d in args.depths or ()]
    return "".join(f"-{p}" for p in parts)


def command_run(parser, args) -> int:
    """Benchmarks, accuracy sweep, tables; returns the exit code."""
    _check_depths(parser, args)
    args.results.mkdir(parents=True, exist_ok=True)
    dtype = args.dtype or "float64"
    json_path = args.results / f"benchmark-{args.profile}-{dtype}{filter_tag(args)}.json"
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
        print(Path(log_path).read_text()[-4000:], file=sys.stderr)
        print(f"benchmark run failed (pytest exit {code}); log: {log_path}", file=sys.stderr)
        return code or 1
    seconds = time.perf_counter() - start
    if not args.quiet:
        print(_summary(events))
        skipped = sum(e["outcome"] == "skipped" for e in events)
        print(
            f"\n{len(events)} benchmarks in {seconds:.0f} s ({skipped} skipped over budget or "
            f"unavailable, reasons in {log_path}); wrote {json_path}"
        )
    for event in failed:
        print(f"FAILED {event['nodeid']}", file=sys.stderr)
    if not args.skip_accuracy:
        run_accuracy_sweep(args, accuracy_profile(args.profile))
    build_tables(args.results, None, None, args, quiet=args.quiet)
    if not args.quiet:
        print(f"run took {time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


def accuracy_profile(name: str):
    """The accuracy grid that goes with benchmark profile `name` (see ACCURACY_GRIDS)."""
    from validation.accuracy import PROFILES, Profile

    if name in PROFILES:
        return PROFILES[name]
    return Profile(name, **ACCURACY_GRIDS[name])


def run_accuracy_sweep(args, profile):
    """The cross-validation of `validation.accuracy` on the same filters; writes its CSV."""
    from tqdm import tqdm

    from validation.accuracy import DTYPES, cases, read_accuracy, run_accuracy
    from validation.tables import write_accuracy

    dtypes = [args.dtype] if args.dtype else DTYPES
    grid = cases(profile, args.families, args.depths and tuple(args.depths), tuple(dtypes))
    bar = tqdm(total=len(grid), disable=args.quiet, desc=f"accuracy ({profile.name})")

    def progress(case, done, total):
        bar.set_postfix_str(f"{case.family} d{case.depth:,} w{case.width:,} {case.dtype}")
        bar.update(1)

    df = run_accuracy(
        profile,
        backends=args.backends,
        families=args.families,
        depths=args.depths,
        dtypes=dtypes,
        progress=progress,
        jobs=args.jobs,
    )
    bar.close()
    saved = Path(args.results) / "accuracy.csv"
    if filter_tag(args) and saved.exists():
        df = merge_accuracy(read_accuracy(saved), df)
    write_accuracy(df, args.results)


def merge_accuracy(old, new):
    """`old` with every (backend, family, depth, width, dtype) that `new` measured replaced,
    so a filtered run updates its own rows and keeps the rest of a full sweep."""
    import pandas as pd

    keys = ["backend", "family", "depth", "width", "dtype"]
    measured = new[keys].drop_duplicates().assign(_remeasured=True)
    old = old.merge(measured, on=keys, how="left")
    old = old[old["_remeasured"].isna()].drop(columns="_remeasured")
    return pd.concat([old, new], ignore_index=True).astype(new.dtypes.to_dict())


# ---------------------------------------------------------------- tables: saved results only


def benchmark_files(results_dir: Path, paths) -> list[Path]:
    """The JSON files to read: `paths` if given, else every results/benchmark-*.json."""
    if paths:
        missing = [str(p) for p in paths if not Path(p).exists()]
        if missing:
            raise FileNotFoundError(f"no such benchmark JSON: {', '.join(missing)}")
        return list(paths)
    return sorted(Path(results_dir).glob(BENCHMARK_GLOB))


def build_tables(results_dir: Path, paths, accuracy_path, args, quiet=False) -> list[Path]:
    """Every table, plot, REPORT.md and the README block from saved results; returns paths."""
    from bench import plots, report, timing
    from validation.accuracy import read_accuracy
    from validation.tables import render_markdown

    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    files = benchmark_files(results_dir, paths)
    accuracy_path = Path(accuracy_path or results_dir / "accuracy.csv")
    if not files and not accuracy_path.exists():
        raise FileNotFoundError(
            f"nothing to build from: no {BENCHMARK_GLOB} and no {accuracy_path.name} in "
            f"{results_dir}; run `python -m bench run` first"
        )
    written = []
    raw, meta = timing.load_benchmarks(files)
    table = timing.timing_table(raw)
    if files:
        written += timing.write_timing(table, results_dir)
    accuracy = None
    if accuracy_path.exists():
        accuracy = read_accuracy(accuracy_path)
        md_path = results_dir / "accuracy.md"
        md_path.write_text(render_markdown(accuracy))
        written.append(md_path)
    figures = plots.write_plots(results_dir, timing=table, accuracy=accuracy)
    written += figures
    written.append(report.write_report(results_dir, table, accuracy, meta, figures))
    if not getattr(args, "no_readme", False) and files:
        readme = getattr(args, "readme", README)
        if report.update_readme(readme, report.readme_block(table)):
            written.append(Path(readme))
        else:
            print(
                f"note: {readme} has no {report.README_BEGIN} ... {report.README_END} "
                "block; README left unchanged",
                file=sys.stderr,
            )
    if not quiet:
        for path in written:
            print(f"wrote {path}")
    return written


# ---------------------------------------------------------------- check and baseline


def command_check() -> int:
    """The accuracy gate: recompute dezero on the CI grid, compare with the baseline."""
    from validation import gate

    messages = gate.gate_messages(gate.ci_accuracy(), gate.read_baseline())
    print("\n".join(messages) or "accuracy gate: pass")
    return 1 if messages else 0


def command_baseline() -> int:
    """Rewrite the gate's baseline from dezero on the CI grid."""
    from validation import gate
    from validation.accuracy import run_accuracy

    print(f"wrote {gate.write_baseline(run_accuracy('ci', backends=[gate.GATED]))}")
    return 0


def main(argv=None) -> int:
    """Entry point of `python -m bench` and the `dezero-bench` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return command_run(parser, args)
    if args.command == "tables":
        try:
            build_tables(args.results, args.benchmarks, args.accuracy, args)
        except FileNotFoundError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "check":
        return command_check()
    return command_baseline()
