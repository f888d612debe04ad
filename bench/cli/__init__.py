"""`python -m bench` / `dezero-bench`: the one command line (benchmarks, accuracy, tables).

One module per command, each with `add_parser(sub)` and `main(args) -> int`:
- `run`: the benchmark suite in a subprocess (`bench.timing.run_suite`), then the profile's
  accuracy sweep (`bench.cli.accuracy_sweep`), then `tables`.
- `accuracy`: the accuracy sweep alone, on a profile's accuracy grid.
- `workloads`: GradBench's evaluations timed and checked per backend (`bench.cli.workloads_run`).
- `fuzz`: random programs against the exact reference (`validation.fuzz.checker`), shrunk findings
  and reproducers under results/fuzz/; `--scheduler` runs it (or `accuracy`) on Dask.
- `tables`: every table, plot, REPORT.md and the README block from saved results only
  (`bench.report.build`).
- `compare`: the timing gate (exit 1 when dezero got slower, `bench.timing.gate`).
- `check`: the accuracy gate (exit 1 on a regression); `baseline`: rewrite its baseline.
- `book PATH`: the book's step scripts from the reader's checkout, unmodified.
- `backends`: every engine found (built-in, entry point `dezero_bench.backends`,
  `--backend-module`), its version, device and what it supports (`bench.backends.capabilities`).

Only a default unfiltered run (or `--publish`) writes the committed results; every other run
writes its own folder results/runs/<kind>/ (`bench.files.destinations`). A bad input file or
argument is one line and exit 2; Ctrl-C is one line saying what was saved, exit 130.
Arguments shared by several commands are declared once, in `bench.cli.args`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.cli import (
    accuracy,
    backends,
    baseline,
    book,
    check,
    compare,
    fuzz,
    run,
    tables,
    workloads,
)
from bench.cli.args import load_backends, select_device, warn_broken_plugins
from bench.files import atomic_write
from bench.files.inputs import UsageError
from bench.machine import configure, threads
from validation.executors import SchedulerUnreachable

# subcommand -> its module, in the order `--help` lists them
COMMANDS = {
    "run": run,
    "accuracy": accuracy,
    "workloads": workloads,
    "fuzz": fuzz,
    "tables": tables,
    "compare": compare,
    "check": check,
    "baseline": baseline,
    "book": book,
    "backends": backends,
}


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors as one line (no usage block), still exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: every command declares its own subparser."""
    parser = OneLineParser(prog="dezero-bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        command.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of `python -m bench` and the `dezero-bench` console script.

    A bad input file ends the command with one line and exit 2; Ctrl-C with one line saying
    which files were saved before it (each one whole: `bench.files.atomic_write`), exit 130.
    """
    saved_before = len(atomic_write.WRITTEN)
    try:
        configure()  # threads, JAX's device and the allocator, before any work
        threads.check()  # even before --help: configure() read the value
        load_backends(argv)  # plugin engines first: --backends choices name them
        parser = build_parser()
        args = parser.parse_args(argv)
        warn_broken_plugins(args)
        try:
            return select_device(args) or COMMANDS[args.command].main(args)
        except argparse.ArgumentError as error:  # a check across arguments: argparse's one line
            parser.error(str(error))
    except (UsageError, SchedulerUnreachable) as error:
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
