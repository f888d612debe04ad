"""The workloads as `workloads` and `run` run them: timing, accuracy, and the saved table
merged instead of overwritten (the rows this run produced replace theirs, the rest stay)."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.backends.workloads import WORKLOAD_BACKENDS, WORKLOADS
from bench.files.atomic_write import write_csv
from bench.files.inputs import read_csv_checked
from bench.timing.workload_suite import time_workloads
from bench.timing.workload_tables import (
    KEYS,
    WORKLOADS_CSV,
    merge_saved,
    read_workloads,
    workload_table,
)
from validation.workload_accuracy import workload_accuracy


def read_saved(folder) -> object:
    """The folder's saved workloads table, None when there is none (InputError if unreadable):
    read before any work, so a bad file stops the run before its minutes."""
    path = Path(folder) / WORKLOADS_CSV
    return read_csv_checked(path, KEYS, read_workloads) if path.exists() else None


def workload_backends(backends=None) -> list[str]:
    """The workload backends among `backends` (all of them when None)."""
    return [b for b in WORKLOAD_BACKENDS if backends is None or b in backends]


def run_workloads(folder, grid, evals=None, backends=None, accuracy=True, quiet=False) -> int:
    """Time (and unless `accuracy` is False, check) `grid`'s cases and merge them into
    `folder`/workloads.csv; returns how many cases failed (1 when pytest could not run)."""
    saved = read_saved(folder)
    evals, backends = evals or list(WORKLOADS), backends or list(WORKLOAD_BACKENDS)
    try:
        cases, document = time_workloads(grid, evals, backends, quiet)
    except RuntimeError as error:  # pytest itself failed: nothing measured, nothing written
        print(error, file=sys.stderr)
        return 1
    measured = workload_accuracy(evals, backends, grid) if accuracy else None
    table = merge_saved(saved, workload_table(cases, document, measured), accuracy)
    path = write_csv(table, Path(folder) / WORKLOADS_CSV)
    counts = cases["status"].value_counts()
    if not quiet:
        print(
            f"workloads ({grid}): {len(cases)} cases, {counts.get('passed', 0)} timed, "
            f"{counts.get('skipped', 0)} skipped (reasons in {WORKLOADS_CSV}), "
            f"{counts.get('failed', 0)} failed; wrote {path}"
        )
    for _, row in cases[cases["status"] == "failed"].iterrows():
        where = f"{row['evaluation']} {row['size']} {row['backend']}"
        print(f"FAILED workload {where}: {row['reason']}", file=sys.stderr)
    return int(counts.get("failed", 0))
