"""The accuracy sweep as the CLI runs it: a progress bar, the run's filters, and merging a
filtered sweep into the saved `accuracy.csv` instead of overwriting it."""

from __future__ import annotations

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
) -> tuple[Path, Path]:
    """`profile`'s accuracy grid, narrowed by the filters; writes accuracy.csv and .md.

    A filtered sweep (any of backends, families, depths, dtypes given) replaces only the rows
    it measured in an existing accuracy.csv (see `merge_accuracy`).
    """
    saved = Path(results_dir) / "accuracy.csv"
    old = None
    # the saved table is checked before the long sweep
    if (backends or families or depths or dtypes) and saved.exists():
        old = read_csv_checked(saved, REQUIRED_COLUMNS, read_accuracy)
    grid = accuracy_cases(profile, families, depths, dtypes)
    bar = tqdm(total=len(grid), disable=quiet, desc=f"accuracy ({profile.name})")

    def progress(case, done, total):
        bar.set_postfix_str(f"{case.family} d{case.depth:,} w{case.width:,} {case.dtype}")
        bar.update(1)

    df = run_accuracy(
        profile, backends, families, depths, dtypes, progress=progress, jobs=jobs, executor=executor
    )
    bar.close()
    if old is not None:
        df = merge_accuracy(old, df)
    return write_accuracy(df, results_dir)


def merge_accuracy(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """`old` with every (backend, against, family, depth, width, dtype) that `new` measured
    replaced, so a filtered run updates its own rows and keeps the rest of a full sweep."""
    return merge_measured(old, new, MERGE_KEYS)
