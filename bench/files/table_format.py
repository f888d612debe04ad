"""What every results table shares: its Markdown and CSV writers, its vocabulary, and how a
filtered run's rows replace the saved ones.

The timing tables (`bench.timing.tables`), the accuracy tables (`validation.tables`), the
report and the plots all import these names; none retypes them. It sits in bench's lowest
layer (`bench.files`), so the timing tables and validation need nothing above them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.files.atomic_write import write_csv, write_text

# `against` of an accuracy row measured against the exact reference (else: another backend)
EXACT = "exact"

# `flag` of an accuracy row: why a ULP figure is there, partial, or absent
OK = "ok"
NONFINITE = "nonfinite"
UNDERFLOW = "underflow"  # every reference element is 0 or subnormal in the dtype
PARTIAL_UNDERFLOW = "partial_underflow"  # those elements left out of the ULP statistics
OVERFLOW = "overflow"
ERROR = "error"  # the backend raised: the note says what
SKIPPED = "skipped"  # the backend cannot run the case: the note says why
ULP_FLAGS_WITH_FIGURE = (OK, PARTIAL_UNDERFLOW)

# accuracy rows that are estimates, not engines: the seed's central difference at the book's
# eps, and at the best eps (`validation.finite_diff`)
NUMERICAL_DIFF = "numerical_diff"
NUMERICAL_DIFF_BEST = "numerical_diff_best"
NOT_ENGINES = (NUMERICAL_DIFF, NUMERICAL_DIFF_BEST)


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub Markdown table of `df` (index ignored), cells as the values' text.

    `disable_numparse`: cells are already formatted strings ('1.00', '1e-5') and must be
    printed as given, not re-parsed as numbers and reformatted.
    """
    return df.to_markdown(index=False, tablefmt="github", disable_numparse=True)


def write_csv_and_markdown(df: pd.DataFrame, results_dir, stem: str, render) -> tuple[Path, Path]:
    """Write `<stem>.csv` (the long-form table) and `<stem>.md` (`render(df)`); both paths."""
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = results_dir / f"{stem}.csv", results_dir / f"{stem}.md"
    markdown = render(df)  # rendered first: a rendering error leaves both files as they were
    write_csv(df, csv_path)
    write_text(md_path, markdown)
    return csv_path, md_path


def merge_measured(old: pd.DataFrame, new: pd.DataFrame, keys, measured=None) -> pd.DataFrame:
    """`old` without the rows whose `keys` appear in `measured` (default: `new`), then `new`:
    what a filtered run re-measured replaces the saved rows, everything else stays."""
    measured = (new if measured is None else measured)[keys].drop_duplicates()
    old = old.merge(measured.assign(_remeasured=True), on=keys, how="left")
    old = old[old["_remeasured"].isna()].drop(columns="_remeasured")
    return pd.concat([old, new], ignore_index=True).astype(new.dtypes.to_dict())
