"""`baseline`: rewrite the accuracy gate's baseline from the ci grid (a filtered run replaces
only the cases it measured)."""

from __future__ import annotations

from pathlib import Path

from bench.cli import args as shared
from bench.files import destinations
from bench.files.inputs import read_csv_checked
from bench.workloads.profiles import CI
from validation import accuracy, gate


def add_parser(sub) -> None:
    """Declare `baseline` on the CLI's subparsers."""
    baseline = sub.add_parser(
        "baseline",
        help="rewrite the gate's baseline from the ci grid (filtered: only the cases measured)",
    )
    shared.gate_args(baseline)


def main(args) -> int:
    """Rewrite the gate's baseline from dezero on the ci grid; a filtered one (--families,
    --depths) replaces only the cases it measured."""
    path = args.baseline or gate.BASELINE_PATH
    destinations.check_files([path])
    keep = None
    if (args.families or args.depths) and Path(path).exists():  # checked before measuring
        keep = read_csv_checked(path, gate.BASELINE_COLUMNS, gate.read_baseline)
    df = accuracy.run_accuracy(CI, backends=[gate.GATED], **shared.gate_grid(args))
    print(f"wrote {gate.write_baseline(df, path, keep=keep)}")
    return 0
