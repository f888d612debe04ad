"""`results/REPORT.md` and the README's generated block: headline tables, plots, provenance.

Every table here is a view of the timing table (`bench.timing.tables`) or the accuracy table
(`validation.accuracy`); nothing is typed by hand. The headline cases are the ones the
issues quote: `sin` at depth 1,000 scalar, `sin` at depth 10 width 10**6, jax_jit compile
seconds by depth, and gradient ULP errors at depth 10,000 per family.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from bench.backends import REFERENCE_BACKEND, backend_order
from bench.files.atomic_write import write_text
from bench.files.table_format import markdown_table
from bench.report.depth_sections import render_depth_sections
from bench.report.fuzz_section import render_fuzz_section
from bench.report.workload_report import readme_lines, report_section
from bench.timing.tables import GROUP_KEYS, format_number, group_sections
from validation.depth_report import excess_headline
from validation.vocabulary import EXACT, NOT_ENGINES, format_ulp

README_BEGIN = "<!-- results:begin -->"
README_END = "<!-- results:end -->"
HEADLINE_CASES = (("sin", 1000, 1), ("sin", 10, 10**6))
ULP_DEPTH = 10_000
COMPILE_FAMILY = "sin"


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
        (accuracy["against"] == EXACT)
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


def nearest_case(
    timing: pd.DataFrame, family: str, depth: int, width: int, dtype: str = "float64"
) -> tuple[int, int] | None:
    """(depth, width) of the benchmarked `family` case nearest the asked one on log scales
    (width first), so a quick run still gets a headline; None when `family` was not run."""
    runs = timing[(timing["family"] == family) & (timing["dtype"] == dtype)]
    runs = runs[runs["pass"].isin(("forward", "backward"))]
    if runs.empty:
        return None
    widths = runs["width"].unique()
    best_width = min(widths, key=lambda w: (abs(math.log(w / width)), -w))
    depths = runs.loc[runs["width"] == best_width, "depth"].unique()
    best_depth = min(depths, key=lambda d: (abs(math.log(d / depth)), -d))
    return int(best_depth), int(best_width)


def _headline_title(family, depth, width, asked) -> str:
    title = f"**`{family}` chain, depth {depth:,}, width {width:,}, float64**"
    if (depth, width) != asked:
        title += f" (depth {asked[0]:,} width {asked[1]:,} not in these results: nearest shown)"
    return title


def _headline_tables(timing: pd.DataFrame) -> list[str]:
    out = []
    for family, depth, width in HEADLINE_CASES:
        case = nearest_case(timing, family, depth, width)
        if case is None:
            out += ["", f"_No benchmark of the {family} chain here._"]
            continue
        table = per_op_headline(timing, family, *case)
        out += ["", _headline_title(family, *case, (depth, width)), "", markdown_table(table)]
    return out


def ulp_depth(accuracy: pd.DataFrame) -> int:
    """ULP_DEPTH when the accuracy table reaches it, else its deepest measured depth."""
    depths = accuracy.loc[accuracy["against"] == EXACT, "depth"]
    return ULP_DEPTH if (depths == ULP_DEPTH).any() or depths.empty else int(depths.max())


def _machine_lines(meta: list[dict]) -> list[str]:
    out = []
    for item in meta:
        info, commit = item["machine_info"], item["commit_info"]
        cpu = info.get("cpu") or {}
        out.append(
            f"- `{Path(item['path']).name}`: {item['machine']}, "
            f"{cpu.get('count', '?')} logical cores, "
            f"{info.get('system', '')} {info.get('release', '')}, Python "
            f"{info.get('python_version', '?')} ({info.get('python_implementation', '')}); "
            f"commit `{item['commit']}` on {commit.get('branch', '?')}; run {item['datetime']}"
            + "".join(
                f"; {label} {info[key]}"
                for key, label in (
                    ("bench_profile", "profile"),
                    ("bench_threads", "threads"),
                    ("bench_device", "device"),
                )
                if info.get(key)
            )
            + _simd_phrase(info.get("bench_simd"))
        )
    return out


def _simd_phrase(levels: dict | None) -> str:
    """'; SIMD numpy baseline ..., torch AVX2, xla host' ('' for records without it)."""
    if not levels:
        return ""
    return "; SIMD " + ", ".join(f"{library} {level}" for library, level in levels.items())


def _accuracy_simd_lines(accuracy: pd.DataFrame | None) -> list[str]:
    """The SIMD levels the accuracy rows were computed at (none for older files)."""
    if accuracy is None or "simd" not in accuracy:
        return []
    levels = sorted(set(accuracy["simd"].dropna()) - {""})
    if not levels:
        return []
    return [f"- `accuracy.csv`: computed at SIMD {'; '.join(levels)}"]


def _version_and_device(df: pd.DataFrame) -> pd.DataFrame:
    """backend, version and device label ('cpu (model)'; '' where no device was recorded)."""
    platforms = df["device"] if "device" in df else [pd.NA] * len(df)
    names = df["device_name"] if "device_name" in df else [pd.NA] * len(df)
    labels = [
        "" if pd.isna(p) else f"{p} ({n})" if not pd.isna(n) else p
        for p, n in zip(platforms, names, strict=True)
    ]
    return pd.DataFrame({"backend": df["backend"], "version": df["version"], "device": labels})


def _versions(timing: pd.DataFrame, accuracy: pd.DataFrame | None) -> pd.DataFrame:
    frames = [_version_and_device(timing)]
    if accuracy is not None and "version" in accuracy:
        frames.append(_version_and_device(accuracy[~accuracy["backend"].isin(NOT_ENGINES)]))
    rows = pd.concat(frames).dropna(subset=["version"]).drop_duplicates()
    table = rows.groupby("backend").agg(lambda v: ", ".join(sorted(set(v) - {""})))
    return table.reindex(backend_order(table.index)).reset_index()


def render_report(
    timing: pd.DataFrame,
    accuracy: pd.DataFrame | None,
    meta: list[dict],
    plots: list[Path],
    workloads: pd.DataFrame | None = None,
    fuzz: pd.DataFrame | None = None,
) -> str:
    """The whole REPORT.md (`fuzz`: the fuzz findings record, results/fuzz_findings.csv)."""
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
            memory = part.dropna(subset=["bytes_per_node"])
            if not memory.empty:
                memory = memory.assign(
                    bytes_per_node=[f"{b:,.0f}" for b in memory["bytes_per_node"]],
                    depth=[f"{d:,}" for d in memory["depth"]],
                )
                columns = ["backend", "family", "depth", "bytes_per_node"]
                out += ["", "**Graph memory per recorded op (bytes)**", ""]
                out.append(markdown_table(memory[columns]))
            compiled = compile_headline(part)
            if not compiled.empty:
                out += [
                    "",
                    f"**jit compile seconds, `{COMPILE_FAMILY}` chain, scalar, first call**",
                    "",
                    markdown_table(compiled),
                ]
    if accuracy is not None and not accuracy.empty:
        depth = ulp_depth(accuracy)
        table = ulp_headline(accuracy, depth)
        out += ["", f"## Gradient error at depth {depth:,}, float64", ""]
        if table.empty:
            out.append(f"_No accuracy measurement at depth {depth:,} in accuracy.csv._")
        else:
            out += [
                "Signed ULP error of d(sum of outputs)/dx at the worst element, against the "
                "exact reference; `underflow` = the exact gradient is below the smallest "
                "normal float64, so no ULP figure is meaningful.",
                "",
                markdown_table(table),
            ]
    if accuracy is not None and not accuracy.empty and "excess" in accuracy:
        out += render_depth_sections(accuracy)
    fuzz_lines = render_fuzz_section(fuzz)
    if fuzz_lines and "## Findings" not in out:
        out += ["", "## Findings"]
    out += fuzz_lines
    if workloads is not None:
        out += report_section(workloads)
    if plots:
        out += ["", "## Plots"]
        out += [f"\n![{p.stem.replace('_', ' ')}]({p.name})" for p in plots]
    out += ["", "## Where these numbers come from", ""]
    out += _machine_lines(meta) + _accuracy_simd_lines(accuracy)
    if not timing.empty:
        out += ["", markdown_table(_versions(timing, accuracy))]
    return "\n".join(out) + "\n"


def readme_block(
    timing: pd.DataFrame,
    accuracy: pd.DataFrame | None = None,
    workloads: pd.DataFrame | None = None,
) -> str:
    """The README's generated block: the depth-1,000 headline of the latest run, the gradient
    error over the rounding floor at depth 10**4 and 10**5 (float64) when `accuracy` has it,
    a line per GradBench evaluation when `workloads` has them, and a link. The README stays
    within 160 lines: with the evaluations shown, depth 10**5 is left to REPORT.md."""
    family, depth, width = HEADLINE_CASES[0]
    latest = timing[timing["datetime"] == timing["datetime"].max()] if not timing.empty else timing
    case = nearest_case(latest, family, depth, width)
    link = "full report: [results/REPORT.md](results/REPORT.md)"
    evaluations = readme_lines(workloads)
    if case is None:
        return "\n".join([f"_No `{family}` benchmark in the saved results_; {link}.", *evaluations])
    lines = [
        _headline_title(family, *case, (depth, width)),
        "",
        markdown_table(per_op_headline(latest, family, *case)),
        "",
        f"µs per op (median), generated by `python -m bench tables`; {link}.",
    ]
    if accuracy is not None and "excess" in accuracy:
        for at in (10_000,) if evaluations else (10_000, 100_000):
            table = excess_headline(accuracy, at, "float64")
            if not table.empty:
                lines += ["", f"**Gradient error over the rounding floor, depth {at:,}, "
                          "float64** (1 = as good as correct rounding)", "",
                          markdown_table(table)]  # fmt: skip
    return "\n".join(lines + evaluations)


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
        write_text(readme, new)
    return True


def write_report(
    results_dir,
    timing: pd.DataFrame,
    accuracy: pd.DataFrame | None,
    meta: list[dict],
    plots: list[Path],
    workloads: pd.DataFrame | None = None,
    fuzz: pd.DataFrame | None = None,
) -> Path:
    """Write `REPORT.md` into `results_dir`; returns its path."""
    path = Path(results_dir) / "REPORT.md"
    write_text(path, render_report(timing, accuracy, meta, plots, workloads, fuzz))
    return path
