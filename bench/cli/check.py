"""`check`: the accuracy gate on the ci grid (exit 1 on a regression); `--strength`: the gate's
own strength table instead."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.cli import args as shared
from bench.files import destinations
from bench.files.destinations import RESULTS
from bench.files.inputs import read_csv_checked
from validation import gate, strength
from validation.fuzz import checker as fuzzer


def add_parser(sub) -> None:
    """Declare `check` on the CLI's subparsers."""
    check = sub.add_parser("check", help="the accuracy gate on the ci grid; exit 1 on a regression")
    check.add_argument(
        "--strength",
        action="store_true",
        help="plant errors in each function's derivative; print and save the smallest caught",
    )
    shared.gate_args(check)
    check.add_argument("--results", type=Path, default=RESULTS, help="where --strength writes")


def main(args) -> int:
    """The accuracy gate: recompute dezero on the ci grid, compare with the baseline; with
    --strength, the gate's own strength table instead (exit 1 when a function misses its
    target)."""
    if args.strength:
        return _strength(args.results / "gate_strength.csv")
    path = args.baseline or gate.BASELINE_PATH
    if not path.exists():
        print(f"error: baseline {path} not found: run `python -m bench baseline`", file=sys.stderr)
        return 2
    # the baseline is checked before the minutes of measuring
    baseline = read_csv_checked(path, gate.BASELINE_COLUMNS, gate.read_baseline)
    messages = gate.gate_messages(gate.ci_accuracy(**shared.gate_grid(args)), baseline)
    messages += fuzzer.ci_fuzz_messages()  # seeded random programs: dezero vs the exact reference
    print("\n".join(messages) or "accuracy gate: pass")
    return 1 if messages else 0


def _strength(out: Path) -> int:
    destinations.check_files([out])
    table = strength.measure_strength()
    print(table.to_string(index=False, float_format="{:g}".format))
    print(f"wrote {strength.write_strength(table, out)}")
    messages = strength.shortfalls(table)
    print("\n".join(messages) or "gate strength: every function caught at its target")
    return 1 if messages else 0
