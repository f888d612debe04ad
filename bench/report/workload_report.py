"""The workloads' views for the report: the REPORT.md section and the README lines (the
plot is `bench.report.plots.plot_workloads`).

Each is drawn from the workloads table (`bench.timing.workload_tables`) only. The summary
has one row per evaluation at its largest size that torch ran: every backend's time as a
ratio to torch's, and whether every backend that ran stayed within GradBench's 1e-4.
"""

from __future__ import annotations

import pandas as pd

from bench.backends import backend_order
from bench.files.table_format import markdown_table
from bench.timing.tables import format_number
from bench.timing.workload_tables import GRADBENCH_TOLERANCE

UNSUPPORTED = "–"


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per evaluation: its largest size torch ran, torch's ms, every backend's time
    over torch's (`–` where it cannot run the evaluation) and the worst GradBench error."""
    rows = []
    backends = backend_order(table["backend"].unique())
    for evaluation, part in table.groupby("evaluation", sort=False):
        timed = part[(part["backend"] == "torch") & part["median_s"].notna()]
        if timed.empty:
            continue
        size = timed.sort_values("size_index")["size"].iloc[-1]
        at = part[part["size"] == size].set_index("backend")
        row = {"evaluation": evaluation, "size": size}
        row["torch ms"] = format_number(at.at["torch", "median_s"] * 1e3)
        for backend in backends:
            if backend == "torch" or backend not in at.index:
                continue
            ratio = at.at[backend, "vs_torch"]
            row[backend] = UNSUPPORTED if pd.isna(ratio) else format_number(ratio)
        worst = part["gradbench_error"].max()
        row[f"GradBench ≤ {GRADBENCH_TOLERANCE:g}"] = (
            "" if pd.isna(worst) else ("yes" if worst <= GRADBENCH_TOLERANCE else "NO")
        )
        rows.append(row)
    return pd.DataFrame(rows).fillna(UNSUPPORTED)


def report_section(table: pd.DataFrame) -> list[str]:
    """REPORT.md's lines for the workloads (none when the table is empty)."""
    if table.empty:
        return []
    summary = summary_table(table)
    out = [
        "",
        "## GradBench evaluations",
        "",
        "Each evaluation's objective and gradient (or its defined results) at its largest size "
        "torch ran: torch's median ms, every other backend's time over torch's (below 1 = "
        f"faster, `{UNSUPPORTED}` = cannot run it or did not), and whether every backend "
        f"stayed within GradBench's {GRADBENCH_TOLERANCE:g}. Every size, jax_jit's ratios, "
        "compile seconds, errors over the rounding floor and the reasons a backend cannot run "
        "an evaluation: [workloads.md](workloads.md).",
    ]
    if not summary.empty:
        out += ["", markdown_table(summary)]
    return out


def readme_lines(table: pd.DataFrame | None) -> list[str]:
    """The README block's workloads table, one line per evaluation (none without a table)."""
    if table is None or table.empty:
        return []
    summary = summary_table(table)
    if summary.empty:
        return []
    return [
        "",
        "**GradBench evaluations**: time over torch's at the largest size torch ran, float64 "
        "([results/workloads.md](results/workloads.md))",
        "",
        markdown_table(summary),
    ]
