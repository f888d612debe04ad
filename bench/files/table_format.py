"""What every results table shares: its Markdown and CSV writers, and how a filtered run's
rows replace the saved ones.

The timing tables (`bench.timing.tables`), the accuracy tables (`bench.report.accuracy_tables`)
and the CLI import these; the words inside accuracy rows are validation's
(`validation.vocabulary`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.files.atomic_write import write_csv, write_text


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
