"""Timing tables from pytest-benchmark JSON: one row per benchmark, derived columns, pivots.

`load_benchmarks` reads one or more JSON files into a long-form DataFrame (one row per
benchmark, i.e. per backend x family x depth x width x dtype x pass, tagged with the
machine and commit it ran on). `timing_table` adds the per-op figures, the ratio to dezero
on the same work, the backward/forward ratio and the fitted depth exponent. The CSV and
every Markdown pivot in `timing.md` are views of that one table.

`pass` is `forward` (forward only) or `backward` (forward + backward, what a training
step pays), so `bwd_fwd_ratio` = time(forward + backward) / time(forward), the quantity
Griewank's cheap-gradient principle bounds by a small constant (often within 5).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from bench.backends import REFERENCE_BACKEND, backend_order
from bench.files.inputs import InputError, read_benchmark_json
from bench.files.table_format import markdown_table, write_csv_and_markdown

PASSES = ("forward", "backward")
GROUP_KEYS = ["machine", "commit"]
WORK_KEYS = [*GROUP_KEYS, "family", "depth", "width", "dtype", "pass"]
ROW_KEYS = [*GROUP_KEYS, "backend", "family", "depth", "width", "dtype", "pass"]
# Depths below this are dominated by per-call overhead (argument conversion, dispatch), not by
# the chain, so the scaling exponent is fitted over the deeper runs only.
FIT_MIN_DEPTH = 10

RAW_COLUMNS = {
    "machine": "string",
    "commit": "string",
    "backend": "string",
    "version": "string",
    "device": "string",
    "device_name": "string",
    "family": "string",
    "depth": "int64",
    "width": "int64",
    "dtype": "string",
    "pass": "string",
    "op_count": "int64",
    "median_s": "float64",
    "q1_s": "float64",
    "q3_s": "float64",
    "iqr_s": "float64",
    "mean_s": "float64",
    "min_s": "float64",
    "stddev_s": "float64",
    "rounds": "int64",
    "compile_seconds": "float64",
    "bytes_per_node": "float64",
    "group": "string",
    "name": "string",
    "datetime": "string",
}
DERIVED_COLUMNS = {
    "us_per_op": "float64",
    "iqr_us_per_op": "float64",
    "ratio_to_dezero": "float64",
    "bwd_fwd_ratio": "float64",
    "depth_exponent": "float64",
}
COLUMNS = RAW_COLUMNS | DERIVED_COLUMNS

# extra_info keys accepted for each column, first match wins (the suite's spelling first).
EXTRA_ALIASES = {
    "backend": ("backend",),
    "version": ("backend_version", "version"),
    "device": ("device",),
    "device_name": ("device_name",),
    "family": ("family",),
    "depth": ("depth",),
    "width": ("width",),
    "dtype": ("dtype",),
    "pass": ("pass", "pass_", "mode"),
    "op_count": ("op_count", "ops"),
    "compile_seconds": ("compile_seconds", "compile_s"),
    "bytes_per_node": ("graph_bytes_per_node", "bytes_per_node", "memory_per_node"),
}


def machine_label(machine_info: dict) -> str:
    """'node (cpu brand)' from pytest-benchmark's machine_info."""
    cpu = machine_info.get("cpu") or {}
    brand = cpu.get("brand_raw") or machine_info.get("processor") or machine_info.get("machine")
    node = machine_info.get("node") or "unknown"
    return f"{node} ({brand})" if brand else node


def commit_label(commit_info: dict) -> str:
    """The short commit id, with '+dirty' when the tree had uncommitted changes."""
    commit = (commit_info.get("id") or "unknown")[:10]
    return commit + ("+dirty" if commit_info.get("dirty") else "")


def _field(bench: dict, column: str):
    extra, params = bench.get("extra_info") or {}, bench.get("params") or {}
    for key in EXTRA_ALIASES[column]:
        if extra.get(key) is not None:
            return extra[key]
        if key in params and isinstance(params[key], str | int | float):
            return params[key]
    return None


def _compile_seconds(bench: dict, pass_: str | None):
    value = _field(bench, "compile_seconds")
    if isinstance(value, dict):  # {'forward': s, 'backward': s}: this benchmark's pass
        value = value.get(pass_)
    return value


def benchmark_rows(document: dict) -> list[dict]:
    """One row per benchmark of one pytest-benchmark JSON document."""
    machine = machine_label(document.get("machine_info") or {})
    commit = commit_label(document.get("commit_info") or {})
    rows = []
    for bench in document.get("benchmarks", []):
        if (bench.get("extra_info") or {}).get("workload"):
            continue  # a GradBench evaluation: the workloads table reads those
        stats = bench["stats"]
        row = {column: _field(bench, column) for column in EXTRA_ALIASES}
        row |= {
            "machine": machine,
            "commit": commit,
            "compile_seconds": _compile_seconds(bench, row["pass"]),
            "median_s": stats["median"],
            "q1_s": stats["q1"],
            "q3_s": stats["q3"],
            "iqr_s": stats["iqr"],
            "mean_s": stats["mean"],
            "min_s": stats["min"],
            "stddev_s": stats["stddev"],
            "rounds": stats["rounds"],
            "group": bench.get("group"),
            "name": bench.get("name"),
            "datetime": document.get("datetime"),
        }
        missing = [c for c in ("backend", "family", "depth", "width", "pass") if row[c] is None]
        if missing:
            raise ValueError(
                f"benchmark {bench.get('fullname')!r} has no {', '.join(missing)} in "
                "extra_info or params; expected the keys the bench suite records"
            )
        row["dtype"] = row["dtype"] or "float64"
        row["op_count"] = row["op_count"] or 1
        rows.append(row)
    return rows


def load_benchmarks(paths) -> tuple[pd.DataFrame, list[dict]]:
    """Every benchmark of the JSON files at `paths`, and each file's metadata.

    The metadata list has one dict per file: path, machine, commit, machine_info,
    commit_info, datetime (what the report shows about where numbers came from).
    """
    rows, meta = [], []
    for path in paths:
        document = read_benchmark_json(path)
        try:
            rows += benchmark_rows(document)
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(path, str(error).strip("'\"")) from None
        meta.append(
            {
                "path": str(path),
                "machine": machine_label(document.get("machine_info") or {}),
                "commit": commit_label(document.get("commit_info") or {}),
                "machine_info": document.get("machine_info") or {},
                "commit_info": document.get("commit_info") or {},
                "datetime": document.get("datetime"),
            }
        )
    df = pd.DataFrame(rows).reindex(columns=list(RAW_COLUMNS))
    return df.astype(RAW_COLUMNS), meta


# decimals of the fitted exponent kept: timings vary by percents, so these already mean
# nothing; rounding keeps the last bits of a libm's log out of the CSV (timing.md shows two)
EXPONENT_DECIMALS = 6


def fit_exponent(depths, seconds) -> float:
    """Least-squares slope of log(seconds) against log(depth): time ~ depth**slope.

    The closed form with exactly rounded sums (`math.fsum`) and the scalar `math.log`, not a
    BLAS/LAPACK solve or numpy's vectorised log, whose last bits depend on the CPU: the same
    saved runs give the same table on every machine.
    """
    points = [
        (math.log(d), math.log(s))
        for d, s in zip(np.asarray(depths, float), np.asarray(seconds, float))
        if d > 0 and s > 0 and math.isfinite(s)
    ]
    if len({x for x, _ in points}) < 2:
        return math.nan
    mean_x = math.fsum(x for x, _ in points) / len(points)
    mean_y = math.fsum(y for _, y in points) / len(points)
    covariance = math.fsum((x - mean_x) * (y - mean_y) for x, y in points)
    variance = math.fsum((x - mean_x) ** 2 for x, _ in points)
    return round(covariance / variance, EXPONENT_DECIMALS)


def _depth_exponents(df: pd.DataFrame) -> pd.Series:
    keys = [k for k in ROW_KEYS if k != "depth"]
    deep = df[df["depth"] >= FIT_MIN_DEPTH]
    slopes = {
        key: fit_exponent(part["depth"], part["median_s"])
        for key, part in deep.groupby(keys, dropna=False)
    }
    return pd.Series(
        [slopes.get(key, math.nan) for key in df[keys].itertuples(index=False, name=None)],
        index=df.index,
        dtype="float64",
    )


def timing_table(raw: pd.DataFrame) -> pd.DataFrame:
    """`raw` plus the derived columns (see the module docstring), one row per benchmark.

    When runs repeat a benchmark (same machine, commit, backend and work), the latest run
    (by its datetime, then the order read) wins, so pooling files never double-counts.
    """
    df = raw.sort_values("datetime", kind="stable", na_position="first")
    df = df.drop_duplicates(ROW_KEYS, keep="last").reset_index(drop=True)
    df["us_per_op"] = df["median_s"] * 1e6 / df["op_count"]
    df["iqr_us_per_op"] = df["iqr_s"] * 1e6 / df["op_count"]
    reference = df[df["backend"] == REFERENCE_BACKEND].set_index(WORK_KEYS)["median_s"]
    ref = df[WORK_KEYS].merge(reference.rename("ref_s").reset_index(), on=WORK_KEYS, how="left")[
        "ref_s"
    ]
    df["ratio_to_dezero"] = (df["median_s"] / ref.to_numpy()).astype("float64")
    same_run = [k for k in ROW_KEYS if k != "pass"]
    forward = df[df["pass"] == "forward"].set_index(same_run)["median_s"]
    fwd = df[same_run].merge(forward.rename("fwd_s").reset_index(), on=same_run, how="left")
    ratio = df["median_s"] / fwd["fwd_s"].to_numpy()
    df["bwd_fwd_ratio"] = ratio.where(df["pass"] == "backward").astype("float64")
    df["depth_exponent"] = _depth_exponents(df)
    # graph-memory runs (pass 'record') carry bytes per node; their time is not a pass's cost.
    not_timed = ~df["pass"].isin(PASSES)
    df.loc[not_timed, list(DERIVED_COLUMNS)] = math.nan
    order = ["machine", "commit", "family", "width", "dtype", "pass", "depth", "backend"]
    return df.sort_values(order).reset_index(drop=True).astype(COLUMNS)[list(COLUMNS)]


def read_timing(path) -> pd.DataFrame:
    """Read `timing.csv` back with its column types."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return df.astype({c: t for c, t in COLUMNS.items() if c in df.columns})


def format_number(value, digits=3) -> str:
    """`digits` significant figures (trailing zeros kept), whole numbers from 10**(digits-1)."""
    if value is None or pd.isna(value):
        return ""
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    return f"{value:#.{digits}g}"  # '#' keeps trailing zeros: 1.00, 0.500, 15.0


def _cell_with_iqr(median, iqr) -> str:
    return "" if pd.isna(median) else f"{format_number(median)} ({format_number(iqr, 2)})"


def wide(df: pd.DataFrame, index: list[str], cell) -> pd.DataFrame:
    """`index` rows x backend columns (dezero first), cells `cell(row)` as strings."""
    if df.empty:
        return pd.DataFrame(columns=index)
    cells = df.assign(cell=[cell(row) for row in df.itertuples(index=False)])
    table = cells.pivot_table(
        index=index, columns="backend", values="cell", aggfunc="first", fill_value=""
    )
    table = table[backend_order(table.columns)]
    table.columns.name = None
    return table.reset_index()


def _depth_label(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(depth=[f"{d:,}" for d in df["depth"]])


def group_sections(df: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(heading, rows) per machine and commit; a single group gets its heading too."""
    return [
        (f"machine {machine}, commit {commit}", part)
        for (machine, commit), part in df.groupby(GROUP_KEYS, sort=True)
    ]


def render_markdown(df: pd.DataFrame) -> str:
    """The whole `timing.md`: per machine and commit, one pivot per derived quantity."""
    out = [
        "# Timing",
        "",
        "Generated by `python -m bench tables` from pytest-benchmark JSON (`timing.csv` is the "
        "long-form table, one row per benchmark); do not edit by hand. `backward` = forward + "
        "backward pass. Cells are medians; in parentheses the interquartile range, same unit. "
        f"Depth exponents are log-log slopes of time against depth over depths >= "
        f"{FIT_MIN_DEPTH} (1 = linear).",
    ]
    rows = ["family", "width", "dtype", "depth"]
    for heading, part in group_sections(df):
        part = _depth_label(part)
        out += ["", f"## {heading}"]
        for pass_ in PASSES:
            sel = part[part["pass"] == pass_]
            if sel.empty:
                continue
            title = "forward + backward" if pass_ == "backward" else "forward only"
            out += ["", f"### µs per op, {title}", ""]
            out.append(
                markdown_table(
                    wide(sel, rows, lambda r: _cell_with_iqr(r.us_per_op, r.iqr_us_per_op))
                )
            )
            out += ["", f"### Time relative to dezero, {title}", ""]
            out.append(markdown_table(wide(sel, rows, lambda r: format_number(r.ratio_to_dezero))))
        back = part[part["pass"] == "backward"]
        if back["bwd_fwd_ratio"].notna().any():
            out += ["", "### Backward / forward time (forward + backward over forward alone)", ""]
            out.append(markdown_table(wide(back, rows, lambda r: format_number(r.bwd_fwd_ratio))))
        fitted = part.drop_duplicates([k for k in ROW_KEYS if k != "depth"]).dropna(
            subset=["depth_exponent"]
        )
        if not fitted.empty:
            out += ["", "### Depth exponent (time ~ depth^k)", ""]
            index = ["family", "width", "dtype", "pass"]
            out.append(markdown_table(wide(fitted, index, lambda r: f"{r.depth_exponent:.2f}")))
        compiled = part.dropna(subset=["compile_seconds"])
        if not compiled.empty:
            out += ["", "### Compile seconds (first call, jit backends)", ""]
            index = ["family", "width", "dtype", "pass", "depth"]
            out.append(
                markdown_table(wide(compiled, index, lambda r: format_number(r.compile_seconds)))
            )
        memory = part.dropna(subset=["bytes_per_node"])
        if not memory.empty:
            out += ["", "### Graph memory, bytes per node", ""]
            memory = memory.drop_duplicates([k for k in ROW_KEYS if k != "pass"])
            out.append(markdown_table(wide(memory, rows, lambda r: f"{r.bytes_per_node:,.0f}")))
    return "\n".join(out) + "\n"


def write_timing(df: pd.DataFrame, results_dir) -> tuple[Path, Path]:
    """Write `timing.csv` and `timing.md` into `results_dir`; returns both paths."""
    return write_csv_and_markdown(df, results_dir, "timing", render_markdown)
