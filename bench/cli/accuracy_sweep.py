"""The accuracy sweep as the CLI runs it: a progress bar, the run's filters, and merging a
filtered sweep into the saved `accuracy.csv` instead of overwriting it."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from bench.files.inputs import read_csv_checked
from bench.files.table_format import merge_measured
from bench.report.accuracy_tables import write_accuracy
from bench.workloads.profiles import Profile, accuracy_cases
from validation.accuracy import REQUIRED_COLUMNS, read_accuracy, run_accuracy

# one row's identity: a backend's case against the exact reference or against a peer backend
MERGE_KEYS = ["backend", "against", "family", "depth", "width", "dtype"]


def run_accuracy_sweep(
    profile: Profile,
    results_dir,
    backends=None,
    families=None,
    depths=None,
    dtypes=None,
    jobs: int = 1,
    quiet: bool = False,
    executor=None,
    recompute: bool = False,
) -> tuple[Path, Path]:
    """`profile`'s accuracy grid, narrowed by the filters; writes accuracy.csv and .md.

    Rows of the saved accuracy.csv whose fingerprint still holds are kept, the rest measured
    (`recompute`: every row measured). A filtered sweep (any of backends, families, depths,
    dtypes given) replaces only the rows it covers in the saved table (see `merge_accuracy`).
    """
    old = saved_table(results_dir, recompute, backends, families, depths, dtypes)
    grid = accuracy_cases(profile, families, depths, dtypes)
    bar = tqdm(total=len(grid), disable=quiet, desc=f"accuracy ({profile.name})")

    def progress(case, done, total):
        bar.total = total
        bar.set_postfix_str(f"{case.family} d{case.depth:,} w{case.width:,} {case.dtype}")
        bar.update(1)

    start = time.perf_counter()
    df = run_accuracy(
        profile, backends, families, depths, dtypes, progress=progress, jobs=jobs,
        executor=executor, saved=None if recompute else old,
    )  # fmt: skip
    bar.close()
    if not quiet:
        print(f"{reuse_summary(df)} in {time.perf_counter() - start:.0f} s")
    if old is not None and any((backends, families, depths, dtypes)):
        df = merge_accuracy(old, df)
    return write_accuracy(df, results_dir)


def saved_table(results_dir, recompute: bool, *filters) -> pd.DataFrame | None:
    """The saved accuracy.csv, checked (an InputError names what is wrong), when a sweep
    reads it: to reuse its rows, or to merge a sweep narrowed by `filters` into it; else
    None. Called before the long sweep (and `run`'s benchmarks), so a bad file stops it."""
    saved = Path(results_dir) / "accuracy.csv"
    if not saved.exists() or (recompute and not any(filters)):
        return None
    return read_csv_checked(saved, REQUIRED_COLUMNS, read_accuracy)


def reuse_summary(df: pd.DataFrame) -> str:
    """'accuracy: 120 rows reused (fingerprint unchanged), 36 computed'."""
    reused = df.attrs.get("reused", 0)
    computed = df.attrs.get("computed", len(df) - reused)
    return f"accuracy: {reused} rows reused (fingerprint unchanged), {computed} computed"


def merge_accuracy(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """`old` with every (backend, against, family, depth, width, dtype) that `new` measured
    replaced, so a filtered run updates its own rows and keeps the rest of a full sweep."""
    return merge_measured(old, new, MERGE_KEYS)
