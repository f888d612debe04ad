"""The report's figures (matplotlib, Agg, PNG), each drawn from a results table only.

- `time_per_op.png`: µs per op against depth, one panel per family, one colour per backend;
  solid = forward + backward, dashed = forward only (log-log).
- `ulp_error.png`: |gradient error| in ULPs against depth, one panel per family, with
  √depth and depth reference lines (rounding errors that add up like a random walk grow like
  √depth, systematic ones like depth).
- `bwd_fwd_ratio.png`: time(forward + backward) / time(forward) against depth, with the
  cheap-gradient bound of 5.
- `workloads.png`: GradBench's evaluations, seconds per call against the number of input
  elements, one panel per evaluation, one line per backend (log-log).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import NullFormatter, StrMethodFormatter  # noqa: E402

from bench.backends import REFERENCE_BACKEND, backend_order  # noqa: E402
from bench.files.atomic_write import save_figure  # noqa: E402
from validation.vocabulary import EXACT, NOT_ENGINES, ULP_FLAGS_WITH_FIGURE  # noqa: E402

CHEAP_GRADIENT_BOUND = 5.0
RATIO_TICKS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)


MARKERS = "osv^D<>ph*"
ULP_FLOOR = 0.01  # an exact gradient (0 ULP) is drawn here, so it stays on a log axis


def _styles(backends) -> dict[str, dict]:
    """Colour and marker per backend; dezero drawn thicker and on top (the subject)."""
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = {}
    for i, backend in enumerate(backend_order(backends)):
        top = backend == REFERENCE_BACKEND
        styles[backend] = dict(
            color=cycle[i % len(cycle)], marker=MARKERS[i % len(MARKERS)], markersize=4,
            lw=2.4 if top else 1.3, zorder=3 if top else 2, alpha=1.0 if top else 0.85,
        )  # fmt: skip
    return styles


def _plot_backends(ax, part: pd.DataFrame, styles, column: str, ls: str = "-") -> None:
    """One line per backend in `part`: `column` against depth."""
    for backend, style in styles.items():
        line = part[part["backend"] == backend].sort_values("depth")
        if not line.empty:
            ax.plot(line["depth"], line[column], label=backend, ls=ls, **style)


def _family_panels(df: pd.DataFrame):
    """(figure, backend styles, [(axes, family, rows)]) with one panel per family; None if empty."""
    families = _families(df)
    if not families:
        return None
    fig, axes = _panels(families)
    panels = [(ax, family, df[df["family"] == family]) for ax, family in zip(axes, families)]
    return fig, _styles(df["backend"].unique()), panels


def _log_log_axes(ax, ylabel: str, title: str) -> None:
    ax.set(xscale="log", yscale="log", xlabel="depth (layers)", ylabel=ylabel, title=title)
    ax.grid(True, which="major", alpha=0.3)


def _panels(families):
    n = len(families)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(4.6 * cols + 1.8, 3.6 * rows + 0.4),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _scalar_slice(df: pd.DataFrame, dtype: str) -> tuple[pd.DataFrame, str]:
    """Rows at `dtype` (else the first dtype present) and, per family, the smallest width
    present (width 1 where it exists)."""
    if not (df["dtype"] == dtype).any() and not df.empty:  # e.g. a float32-only run
        dtype = str(df["dtype"].iloc[0])
    df = df[df["dtype"] == dtype]
    smallest = df.groupby("family")["width"].transform("min")
    return df[df["width"] == smallest], dtype


def _families(df: pd.DataFrame) -> list[str]:
    # families with more than one depth: a single point (the `seed` example) is no curve.
    counts = df.groupby("family")["depth"].nunique()
    return [f for f in dict.fromkeys(df["family"]) if counts[f] > 1]


def _group_label(df: pd.DataFrame) -> str:
    groups = df[["machine", "commit"]].drop_duplicates()
    if len(groups) == 1:
        machine, commit = groups.iloc[0]
        return f"{machine}, commit {commit}"
    return f"{len(groups)} machine/commit groups, latest per backend"


def _latest_group(df: pd.DataFrame) -> pd.DataFrame:
    """One machine/commit per backend and work (the last read), so curves do not zig-zag."""
    keys = ["backend", "family", "depth", "width", "dtype", "pass"]
    return df.drop_duplicates(keys, keep="last")


def _finish(fig, path: Path, title: str, handles=None) -> Path:
    """Title, one legend for all panels (outside, right), save, close."""
    fig.suptitle(title, fontsize=11)
    if handles is None:  # every label drawn in any panel, once
        by_label = {}
        for ax in fig.axes:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                by_label.setdefault(label, handle)
        handles = list(by_label.values())
        labels = list(by_label)
    else:
        labels = [h.get_label() for h in handles]
    fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    try:
        save_figure(fig, path, dpi=110)
    finally:
        plt.close(fig)
    return path


def plot_time_per_op(timing: pd.DataFrame, path, dtype: str = "float64") -> Path | None:
    """µs/op against depth per backend, one panel per family (log-log)."""
    df, dtype = _scalar_slice(_latest_group(timing), dtype)
    layout = _family_panels(df)
    if layout is None:
        return None
    fig, styles, panels = layout
    for ax, family, part in panels:
        for pass_, dash in (("backward", "-"), ("forward", "--")):
            _plot_backends(ax, part[part["pass"] == pass_], styles, "us_per_op", ls=dash)
        _log_log_axes(ax, "µs per op", f"{family}, width {int(part['width'].iloc[0]):,}")
    handles = [Line2D([], [], label=backend, **style) for backend, style in styles.items()]
    handles += [
        Line2D([], [], color="k", ls="-", label="forward + backward"),
        Line2D([], [], color="k", ls="--", label="forward only"),
    ]
    title = f"Time per op against chain depth ({dtype}; {_group_label(df)})"
    return _finish(fig, Path(path), title, handles)


def plot_bwd_fwd_ratio(timing: pd.DataFrame, path, dtype: str = "float64") -> Path | None:
    """time(forward + backward) / time(forward) against depth per backend, one panel per family."""
    df, dtype = _scalar_slice(_latest_group(timing), dtype)
    df = df[(df["pass"] == "backward") & df["bwd_fwd_ratio"].notna()]
    layout = _family_panels(df)
    if layout is None:
        return None
    fig, styles, panels = layout
    for ax, family, part in panels:
        _plot_backends(ax, part, styles, "bwd_fwd_ratio")
        ax.axhline(CHEAP_GRADIENT_BOUND, color="grey", ls=":", label="cheap-gradient bound 5")
        ax.axhline(1.0, color="grey", ls="-", lw=0.5)
        title = f"{family}, width {int(part['width'].iloc[0]):,}"
        _log_log_axes(ax, "(forward + backward) / forward", title)
        # ratios span one decade at most: plain numbers read better than 3 x 10^0.
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        low, high = ax.get_ylim()
        ax.set_yticks([t for t in RATIO_TICKS if low <= t <= high])
        ax.set_ylim(low, high)
    title = f"Cost of the gradient relative to the forward pass ({dtype}; {_group_label(df)})"
    return _finish(fig, Path(path), title)


def plot_ulp_error(accuracy: pd.DataFrame, path, dtype: str = "float64") -> Path | None:
    """|gradient error| in ULPs against depth per backend, one panel per family, width 1."""
    df = accuracy[
        (accuracy["against"] == EXACT)
        & (accuracy["quantity"] == "grad")
        & (accuracy["dtype"] == dtype)
        & (accuracy["width"] == 1)
        & ~accuracy["backend"].isin(NOT_ENGINES)
        & accuracy["flag"].isin(ULP_FLAGS_WITH_FIGURE)
    ]
    layout = _family_panels(df.assign(ulp_drawn=df["max_abs_ulp"].clip(lower=ULP_FLOOR)))
    if layout is None:
        return None
    fig, styles, panels = layout
    for ax, family, part in panels:
        _plot_backends(ax, part, styles, "ulp_drawn")
        depths = np.geomspace(part["depth"].min(), part["depth"].max(), 50)
        ax.plot(depths, np.sqrt(depths), color="grey", ls=":", label="√depth")
        ax.plot(depths, depths, color="grey", ls="--", label="depth")
        _log_log_axes(ax, "|gradient error| (ULP)", family)
    title = (
        f"Gradient error against the exact reference ({dtype}, scalar input; "
        f"underflowing gradients left out, exact ones drawn at {ULP_FLOOR})"
    )
    return _finish(fig, Path(path), title)


def plot_workloads(table: pd.DataFrame, path) -> Path | None:
    """Seconds per call against input elements, a panel per evaluation, a line per backend."""
    timed = table[table["median_s"].notna()]
    evaluations = list(dict.fromkeys(timed["evaluation"]))
    if not evaluations:
        return None
    fig, axes = _panels(evaluations)
    styles = _styles(timed["backend"].unique())
    for ax, evaluation in zip(axes, evaluations, strict=True):
        part = timed[timed["evaluation"] == evaluation]
        for backend, style in styles.items():
            line = part[part["backend"] == backend].sort_values("elements")
            if not line.empty:
                ax.plot(line["elements"], line["median_s"], label=backend, **style)
        _log_log_axes(ax, "seconds per call (median)", evaluation)
        ax.set_xlabel("input elements")
    return _finish(fig, Path(path), "GradBench evaluations: time per call, float64")


PLOTS = {
    "time_per_op.png": ("timing", plot_time_per_op),
    "bwd_fwd_ratio.png": ("timing", plot_bwd_fwd_ratio),
    "ulp_error.png": ("accuracy", plot_ulp_error),
    "workloads.png": ("workloads", plot_workloads),
}


def write_plots(results_dir, timing=None, accuracy=None, workloads=None) -> list[Path]:
    """Draw every plot whose table is given into `results_dir`; returns the paths written."""
    tables = {"timing": timing, "accuracy": accuracy, "workloads": workloads}
    written = []
    for name, (table, draw) in PLOTS.items():
        if tables[table] is not None and not tables[table].empty:
            path = draw(tables[table], Path(results_dir) / name)
            if path is not None:
                written.append(path)
    return written
