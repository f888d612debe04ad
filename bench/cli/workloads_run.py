"""The workloads as `workloads` and `run` run them: timing, accuracy, and the saved table
merged instead of overwritten (the rows this run produced replace theirs, the rest stay).

Timing is measured every run; an accuracy row is measured only when the saved table has no
row with its fingerprint (`validation.workload_cache`), or with `recompute`."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from bench.backends.workloads import WORKLOAD_BACKENDS, WORKLOADS
from bench.files.atomic_write import write_csv
from bench.files.inputs import read_csv_checked
from bench.timing.workload_suite import time_workloads
from bench.timing.workload_tables import (
    ACCURACY_COLUMNS,
    KEYS,
    WORKLOADS_CSV,
    accuracy_columns,
    merge_saved,
    read_workloads,
    workload_table,
)
from validation.workload_cache import FINGERPRINT, expected_cases, measure_cases, stale


def read_saved(folder) -> object:
    """The folder's saved workloads table, None when there is none (InputError if unreadable):
    read before any work, so a bad file stops the run before its minutes."""
    path = Path(folder) / WORKLOADS_CSV
    return read_csv_checked(path, KEYS, read_workloads) if path.exists() else None


def workload_backends(backends=None) -> list[str]:
    """The workload backends among `backends` (all of them when None)."""
    return [b for b in WORKLOAD_BACKENDS if backends is None or b in backends]


def accuracy_rows(saved, evals, backends, grid, recompute=False) -> tuple[pd.DataFrame, int]:
    """The accuracy columns of every evaluation x `grid` size x backend: the saved row's where
    its fingerprint holds (never with `recompute`), measured otherwise; and how many were
    reused. Rows come in `expected_cases`' order."""
    cases = expected_cases(evals, backends, grid)
    known = {}
    if saved is not None and not recompute:
        rows = saved[saved[FINGERPRINT].notna()]
        known = dict(zip(rows[KEYS].itertuples(index=False, name=None), rows[FINGERPRINT]))
    todo = stale(cases, known)
    redo = {case.key for case in todo}
    fresh = [case.key for case in cases if case.key not in redo]
    kept = saved.set_index(KEYS).loc[fresh, list(ACCURACY_COLUMNS)].reset_index() if fresh else None
    measured = accuracy_columns(measure_cases(todo)) if todo else None
    table = pd.concat([f for f in (kept, measured) if f is not None], ignore_index=True)
    order = pd.DataFrame([case.key for case in cases], columns=KEYS, dtype="string")
    table = order.merge(table.astype(dict.fromkeys(KEYS, "string")), on=KEYS, validate="1:1")
    return table, len(fresh)


def run_workloads(
    folder, grid, evals=None, backends=None, accuracy=True, quiet=False, recompute=False
) -> int:
    """Time (and unless `accuracy` is False, check) `grid`'s cases and merge them into
    `folder`/workloads.csv; returns how many cases failed (1 when pytest could not run).
    `recompute`: measure every accuracy row, even those whose fingerprint holds."""
    saved = read_saved(folder)
    evals, backends = evals or list(WORKLOADS), backends or list(WORKLOAD_BACKENDS)
    try:
        cases, document = time_workloads(grid, evals, backends, quiet)
    except RuntimeError as error:  # pytest itself failed: nothing measured, nothing written
        print(error, file=sys.stderr)
        return 1
    measured, reused = (
        accuracy_rows(saved, evals, backends, grid, recompute) if accuracy else (None, 0)
    )
    table = merge_saved(saved, workload_table(cases, document, measured), accuracy)
    path = write_csv(table, Path(folder) / WORKLOADS_CSV)
    counts = cases["status"].value_counts()
    if not quiet:
        print(
            f"workloads ({grid}): {len(cases)} cases, {counts.get('passed', 0)} timed, "
            f"{counts.get('skipped', 0)} skipped (reasons in {WORKLOADS_CSV}), "
            f"{counts.get('failed', 0)} failed; wrote {path}"
        )
        if measured is not None:
            print(
                f"workload accuracy: {reused} rows reused (fingerprint unchanged), "
                f"{len(measured) - reused} computed"
            )
    for _, row in cases[cases["status"] == "failed"].iterrows():
        where = f"{row['evaluation']} {row['size']} {row['backend']}"
        print(f"FAILED workload {where}: {row['reason']}", file=sys.stderr)
    return int(counts.get("failed", 0))
