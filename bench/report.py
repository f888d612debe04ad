"""`results/REPORT.md` and the README's generated block: headline tables, plots, provenance.

Every table here is a view of the timing table (`bench.timing`) or the accuracy table
(`validation.accuracy`); nothing is typed by hand. The headline cases are the ones the
issues quote: `sin` at depth 1,000 scalar, `sin` at depth 10 width 10**6, jax_jit compile
seconds by depth, and gradient ULP errors at depth 10,000 per family.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from bench.timing import (
    GROUP_KEYS,
    REFERENCE_BACKEND,
    backend_order,
    format_number,
    group_sections,
)
from validation.tables import format_ulp, markdown_table

README_BEGIN = "<!-- results:begin -->"
README_END = "<!-- results:end -->"
HEADLINE_CASES = (("sin", 1000, 1), ("sin", 10, 10**6))
ULP_DEPTH = 10_000
COMPILE_FAMILY = "sin"
NOT_ENGINES = ("numerical_diff", "numerical_diff_best")


def per_op_headline(
    timing: pd.DataFrame, family: str, depth: int, width: int, dtype: str = "float64"
) -> pd.DataFrame:
    """One row per backend: forward and forward + backward µs/op, each with its ratio to
    dezero, and the backward/forward ratio, for one case of one machine/commit group."""
    case = timing[
        (timing["family"] == family)
        & (timing["depth"] == depth)
        & (timing["width"] == width)
        & (timing["dtype"] == dtype)
    ]
    rows = []
    for backend in backend_order(case["backend"].unique()):
        runs = case[case["backend"] == backend].set_index("pass")
        row = {"backend": backend, "version": runs["version"].iloc[0]}
        for pass_, label in (("forward", "forward"), ("backward", "fwd+bwd")):
            if pass_ in runs.index:
                row[f"{label} µs/op"] = format_number(runs.at[pass_, "us_per_op"])
                row[f"{label} vs dezero"] = format_number(runs.at[pass_, "ratio_to_dezero"])
            else:
                row[f"{label} µs/op"] = row[f"{label} vs dezero"] = ""
        ratio = runs["bwd_fwd_ratio"].get("backward")
        row["fwd+bwd / fwd"] = format_number(ratio)
        rows.append(row)
    return pd.DataFrame(rows)


def compile_headline(timing: pd.DataFrame, family: str = COMPILE_FAMILY) -> pd.DataFrame:
    """Compile seconds of the jit backends by depth (scalar `family`, float64)."""
    compiled = timing[
        (timing["family"] == family)
        & (timing["width"] == 1)
        & (timing["dtype"] == "float64")
        & timing["compile_seconds"].notna()
    ]
    if compiled.empty:
        return pd.DataFrame()
    compiled = compiled.assign(column=compiled["backend"] + " " + compiled["pass"])
    table = compiled.pivot_table(
        index="depth", columns="column", values="compile_seconds", aggfunc="first"
    )
    table = table.map(format_number).reset_index()
    table["depth"] = [f"{d:,}" for d in table["depth"]]
    table.columns.name = None
    return table


def ulp_headline(
    accuracy: pd.DataFrame, depth: int = ULP_DEPTH, dtype: str = "float64"
) -> pd.DataFrame:
    """Signed gradient ULP error at `depth` against the exact reference, family x backend
    (per family its smallest width: scalar, or the mlp batch)."""
    df = accuracy[
        (accuracy["against"] == "exact")
        & (accuracy["quantity"] == "grad")
        & (accuracy["dtype"] == dtype)
        & (accuracy["depth"] == depth)
        & ~accuracy["backend"].isin(NOT_ENGINES)
    ]
    df = df[df["width"] == df.groupby("family")["width"].transform("min")]
    if df.empty:
        return pd.DataFrame()
    cells = df.assign(cell=[format_ulp(v, f) for v, f in zip(df["signed_ulp"], df["flag"])])
    table = cells.pivot_table(
        index=["family", "width"],
        columns="backend",
        values="cell",
        aggfunc="first",
        fill_value="",
    )
    table = table[backend_order(table.columns)]
    table.columns.name = None
    return table.reset_index()


def _headline_tables(timing: pd.DataFrame) -> list[str]:
    out = []
    for family, depth, width in HEADLINE_CASES:
        table = per_op_headline(timing, family, depth, width)
        out += ["", f"**`{family}` chain, depth {depth:,}, width {width:,}, float64**", ""]
        if table.empty:
            out.append(f"_No benchmark of {family} at depth {depth:,} width {width:,} here._")
        else:
            out.append(markdown_table(table))
    return out


def _machine_lines(meta: list[dict]) -> list[str]:
    out = []
    for item in meta:
        info, commit = item["machine_info"], item["commit_info"]
        cpu = info.get("cpu") or {}
        out.append(
            f"- `{item['path']}`: {item['machine']}, {cpu.get('count', '?')} logical cores, "
            f"{info.get('system', '')} {info.get('release', '')}, Python "
            f"{info.get('python_version', '?')} ({info.get('python_implementation', '')}); "
            f"commit `{item['commit']}` on {commit.get('branch', '?')}; run {item['datetime']}"
        )
    return out


def _versions(timing: pd.DataFrame, accuracy: pd.DataFrame | None) -> pd.DataFrame:
    frames = [timing[["backend", "version"]]]
    if accuracy is not None and "version" in accuracy:
        frames.append(accuracy[~accuracy["backend"].isin(NOT_ENGINES)][["backend", "version"]])
    versions = pd.concat(frames).dropna().drop_duplicates()
    versions = versions.groupby("backend")["version"].agg(lambda v: ", ".join(sorted(set(v))))
    return versions.reindex(backend_order(versions.index)).reset_index()


def render_report(
    timing: pd.DataFrame, accuracy: pd.DataFrame | None, meta: list[dict], plots: list[Path]
) -> str:
    """The whole REPORT.md."""
    out = [
        "# dezero-bench report",
        "",
        "Generated by `python -m bench tables` from the saved results in this folder; do not "
        "edit by hand. Full tables: [timing.md](timing.md) (every backend x family x depth x "
        "width x pass) and [accuracy.md](accuracy.md). µs/op = median time of one call "
        "divided by the chain's primitive op count; `fwd+bwd` = forward and backward pass; "
        f"ratios are against `{REFERENCE_BACKEND}` on the same work (below 1 = faster).",
    ]
    if not timing.empty:
        out += ["", "## Time per op"]
        for heading, part in group_sections(timing):
            if timing[GROUP_KEYS].drop_duplicates().shape[0] > 1:
                out += ["", f"### {heading}"]
            out += _headline_tables(part)
            compiled = compile_headline(part)
            if not compiled.empty:
                out += [
                    "",
                    f"**jit compile seconds, `{COMPILE_FAMILY}` chain, scalar, first call**",
                    "",
                    markdown_table(compiled),
                ]
    if accuracy is not None and not accuracy.empty:
        table = ulp_headline(accuracy)
        out += ["", f"## Gradient error at depth {ULP_DEPTH:,}, float64", ""]
        if table.empty:
            out.append(f"_No accuracy measurement at depth {ULP_DEPTH:,} in accuracy.csv._")
        else:
            out += [
                "Signed ULP error of d(sum of outputs)/dx at the worst element, against the "
                "exact reference; `underflow` = the exact gradient is below the smallest "
                "normal float64, so no ULP figure is meaningful.",
                "",
                markdown_table(table),
            ]
    if plots:
        out += ["", "## Plots"]
        out += [f"\n![{p.stem.replace('_', ' ')}]({p.name})" for p in plots]
    out += ["", "## Where these numbers come from", ""]
    out += _machine_lines(meta)
    if not timing.empty:
        out += ["", markdown_table(_versions(timing, accuracy))]
    return "\n".join(out) + "\n"


def readme_block(timing: pd.DataFrame) -> str:
    """The README's generated block: the depth-1,000 headline of the latest run and a link."""
    family, depth, width = HEADLINE_CASES[0]
    latest = timing[timing["datetime"] == timing["datetime"].max()] if not timing.empty else timing
    table = per_op_headline(latest, family, depth, width)
    lines = [
        f"Time per op, `{family}` chain depth {depth:,}, scalar float64 "
        "(generated by `python -m bench tables`; full report: "
        "[results/REPORT.md](results/REPORT.md)):",
        "",
    ]
    lines.append(markdown_table(table) if not table.empty else "_not in the saved results_")
    return "\n".join(lines)


def update_readme(readme, block: str) -> bool:
    """Replace the text between README_BEGIN and README_END in `readme` with `block`.

    Returns False (and changes nothing) when the file or either marker is missing.
    """
    readme = Path(readme)
    if not readme.exists():
        return False
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        return False
    new = pattern.sub(lambda _: f"{README_BEGIN}\n{block}\n{README_END}", text, count=1)
    if new != text:
        readme.write_text(new)
    return True


def write_report(
    results_dir,
    timing: pd.DataFrame,
    accuracy: pd.DataFrame | None,
    meta: list[dict],
    plots: list[Path],
) -> Path:
    """Write `REPORT.md` into `results_dir`; returns its path."""
    path = Path(results_dir) / "REPORT.md"
    path.write_text(render_report(timing, accuracy, meta, plots))
    return path
