"""`baseline`: rewrite the accuracy gate's baseline from the ci grid (a filtered run replaces
only the cases it measured)."""

from __future__ import annotations

from pathlib import Path

from bench.cli import args as shared
from bench.files import destinations
from bench.files.atomic_write import write_csv
from bench.files.inputs import read_csv_checked
from bench.files.table_format import merge_measured
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
    rows = gate.baseline_rows(df)
    if keep is not None:  # the saved cases this run did not measure stay
        rows = merge_measured(
            keep[gate.BASELINE_COLUMNS], rows, gate.CASE_KEYS, gate.gated_rows(df)
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(rows.sort_values(gate.KEYS), path)  # atomic: a crash leaves the old baseline
    print(f"wrote {path}")
    return 0
