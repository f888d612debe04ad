"""The arguments several commands share, and the checks argparse cannot make alone.

Names are checked against the registries (backends, chain families, depths, dtypes,
profiles), so a bad one exits 2 listing the valid ones. A check that needs other arguments
raises `argparse.ArgumentError`; `bench.cli.main` turns it into the command's one-line error.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from bench.backends import BACKENDS, plugins
from bench.files.destinations import README, RESULTS
from bench.files.inputs import UsageError
from bench.machine import devices
from bench.workloads.chains import FAMILIES
from bench.workloads.profiles import DTYPES, PROFILES
from validation.executors import check_scheduler

NAMES = {
    # a live view: engines from entry points and --backend-module join before the parser is built
    "backends": BACKENDS.keys(),
    "families": list(FAMILIES),
    "depths": sorted({d for p in PROFILES.values() for d in p.depths}),
    "dtypes": list(DTYPES),
    "profiles": list(PROFILES),
}
SCHEDULER_HELP = "run on Dask: 'local' (a LocalCluster of --jobs workers) or tcp://host:8786"


def positive_int(text: str) -> int:
    """A depth given on the command line: a positive integer."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"depth must be a positive integer, got {text!r}")
    return int(text)


def count(text: str) -> int:
    """A count (jobs, programs, seconds): a positive integer."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def fraction(text: str) -> float:
    """A threshold or significance level: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def scheduler(text: str) -> str:
    """A Dask scheduler: 'local' or an address."""
    try:
        return check_scheduler(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--scheduler ")) from None


def filter_args(parser) -> None:
    """--backends and --families, each checked against its registry; --backend-module."""
    backends, families = NAMES["backends"], NAMES["families"]
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
    backend_module_arg(parser)


def plugin_spec(text: str) -> str:
    """A --backend-module value: 'package.module:factory'."""
    try:
        return plugins.check_spec(text)
    except plugins.PluginError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--backend-module ")) from None


def backend_module_arg(parser) -> None:
    """--backend-module: an engine from outside the registry, for every command taking --backends
    (loaded by `load_backends` before the parser is built, so --backends accepts its name)."""
    parser.add_argument(
        "--backend-module",
        action="append",
        type=plugin_spec,
        default=[],
        metavar="MODULE:FACTORY",
        help="add the engine FACTORY() returns (a bench.backends.base.Backend); repeatable",
    )


class _PreParser(argparse.ArgumentParser):
    """Finds --backend-module alone; any other trouble is the full parser's to report."""

    def error(self, message):
        raise ValueError(message)


def load_backends(argv) -> None:
    """Entry-point engines and every --backend-module in `argv` into the registry, before the
    parser (whose --backends choices name them) is built; a bad module is a UsageError (one
    line, exit 2) before any work. The specs are exported to the run's child processes."""
    pre = _PreParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--backend-module", action="append", default=[])
    try:
        specs = pre.parse_known_args(sys.argv[1:] if argv is None else argv)[0].backend_module
    except ValueError:
        specs = []
    plugins.load_entry_points()
    try:
        plugins.load_modules(specs)
    except plugins.PluginError as error:
        raise UsageError(str(error)) from None
    plugins.export(specs)


def tagged_backends(args) -> list[str] | None:
    """The backends a run's output is tagged with: --backends, else every engine when one comes
    from outside the registry (such a run is not the published default: `--publish` makes it)."""
    if args.backends is None and plugins.REGISTERED:
        return list(BACKENDS)
    return args.backends


def warn_broken_plugins(args) -> None:
    """One line per entry point that did not load, in the commands that choose backends."""
    if hasattr(args, "backend_module"):
        for found in plugins.BROKEN.values():
            print(f"warning: skipped {found.error}", file=sys.stderr)


def device_arg(parser) -> None:
    """--device: where torch and JAX run."""
    parser.add_argument(
        "--device",
        choices=devices.CHOICES,
        default=None,
        help=f"where torch and JAX run (default: ${devices.DEVICE_ENV}, else cpu); "
        "numpy, dezero and autograd always run on the CPU",
    )


def select_device(args) -> int:
    """Pin the run to `args.device` (0), or say in one line why this machine cannot (2)."""
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


def output_args(parser) -> None:
    """--results, --readme, --no-readme and --publish: where a run's files go."""
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument(
        "--readme", type=Path, default=README, help="README whose generated block is rewritten"
    )
    parser.add_argument("--no-readme", action="store_true", help="leave the README alone")
    publish_arg(parser)


def publish_arg(parser) -> None:
    """--publish: write the committed files from a run that is not the default one."""
    parser.add_argument(
        "--publish",
        action="store_true",
        help="write the committed results/ files (and README block) even though this is not "
        "a default unfiltered run; otherwise such a run writes results/runs/<kind>/",
    )


def recompute_arg(parser) -> None:
    """--recompute: measure every accuracy row, even those whose fingerprint still holds."""
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="measure every accuracy row again instead of keeping the saved rows whose "
        "fingerprint (code, versions, SIMD level, case) is unchanged",
    )


def readme(args) -> Path | None:
    """The README whose block this run rewrites, None with --no-readme."""
    return None if args.no_readme else args.readme


def check_depths(args) -> None:
    """--depths must be depths of the chosen profile's benchmark grid."""
    valid = PROFILES[args.profile].depths
    wrong = [d for d in args.depths or () if d not in valid]
    if wrong:
        raise argparse.ArgumentError(
            None,
            f"argument --depths: {wrong} not in profile {args.profile!r}; "
            f"valid depths: {', '.join(map(str, valid))}",
        )


def gate_args(parser) -> None:
    """The accuracy gate's grid filters and baseline file (`check`, `baseline`)."""
    parser.add_argument("--families", nargs="+", choices=NAMES["families"], metavar="NAME")
    parser.add_argument("--depths", nargs="+", type=int, choices=NAMES["depths"], metavar="N")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="(default: results/accuracy_baseline.csv)"
    )


def gate_grid(args) -> dict:
    """The gate's grid filters as keyword arguments."""
    return {"families": args.families, "depths": args.depths}
