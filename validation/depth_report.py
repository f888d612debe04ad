"""Depth views of the accuracy table for `REPORT.md`: error over the rounding floor, growth
exponents (error against depth, log-log), and findings (a backend far off the best one),
grouped by root cause. They are DataFrames; `bench.report.depth_sections` renders them.

All are computed from the accuracy DataFrame (`validation.accuracy`), never typed by hand.
The floor (`floor_ulp`) is the error a correctly rounding engine is expected to reach on the
case (`validation.reference.floor`, read elementwise); `excess` = max |ULP error| / floor.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.backends import backend_order
from bench.workloads.chains import make_chain
from validation import numpy_exp
from validation.vocabulary import EXACT, NOT_ENGINES, ULP_FLAGS_WITH_FIGURE, format_ulp

# A finding: error above FINDING_FACTOR x the best backend's and FINDING_ULP ULPs beyond it.
FINDING_FACTOR = 8.0
FINDING_ULP = 16.0
GROWTH_MIN_DEPTHS = 3  # depths with an error figure a growth exponent is fitted on
GROWTH_MIN_DEPTH = 10  # shallower errors are a few ULP of noise, not growth


def engine_grad_rows(accuracy: pd.DataFrame, dtype: str | None = None) -> pd.DataFrame:
    """Gradient rows of engines (not finite differences) against the exact reference, at
    each family's smallest width (scalar, or the mlp batch)."""
    df = accuracy[
        (accuracy["against"] == EXACT)
        & (accuracy["quantity"] == "grad")
        & ~accuracy["backend"].isin(NOT_ENGINES)
    ]
    if dtype is not None:
        df = df[df["dtype"] == dtype]
    return df[df["width"] == df.groupby("family")["width"].transform("min")]


def _excess_cell(excess, flag) -> str:
    if flag not in ULP_FLAGS_WITH_FIGURE or pd.isna(excess):
        return flag
    return (f"{excess:.2f}" if excess < 10 else f"{excess:,.0f}") + (
        "*" if flag != ULP_FLAGS_WITH_FIGURE[0] else ""
    )


def excess_headline(accuracy: pd.DataFrame, depth: int, dtype: str) -> pd.DataFrame:
    """family x backend at `depth`: error over the rounding floor (1 = as good as a correctly
    rounding engine), with the floor itself in ULPs as the first column."""
    df = engine_grad_rows(accuracy, dtype)
    df = df[df["depth"] == depth]
    if df.empty:
        return pd.DataFrame()
    cells = df.assign(cell=[_excess_cell(e, f) for e, f in zip(df["excess"], df["flag"])])
    table = cells.pivot_table(
        index=["family", "width"], columns="backend", values="cell", aggfunc="first", fill_value=""
    )
    table = table[backend_order(table.columns)]
    floors = df.groupby(["family", "width"])["floor_ulp"].first()
    # no floor in ULPs where the gradient underflows (NaN): a dash, not a figure or a flag
    floor_cells = [format_ulp(v, "ok") if pd.notna(v) else "–" for v in floors.reindex(table.index)]
    table.insert(0, "floor (ULP)", floor_cells)
    table.columns.name = None
    return table.reset_index()


def growth_exponents(accuracy: pd.DataFrame, dtype: str) -> pd.DataFrame:
    """family x backend: slope of log(max |ULP error|) against log(depth), fitted over the
    depths >= GROWTH_MIN_DEPTH with an error figure (at least GROWTH_MIN_DEPTHS of them);
    the floor's own slope in the first column. 0.5 = random-walk rounding, 1 = systematic."""
    df = engine_grad_rows(accuracy, dtype)
    df = df[df["flag"].isin(ULP_FLAGS_WITH_FIGURE) & (df["depth"] >= GROWTH_MIN_DEPTH)]

    def slope(depths, errors):
        keep = np.asarray(errors) > 0
        if keep.sum() < GROWTH_MIN_DEPTHS:
            return math.nan
        return float(np.polyfit(np.log(depths[keep]), np.log(errors[keep]), 1)[0])

    rows = []
    for (family, width, backend), part in df.groupby(["family", "width", "backend"]):
        part = part.sort_values("depth")
        depths = part["depth"].to_numpy(float)
        rows.append((family, width, backend, slope(depths, part["max_abs_ulp"].to_numpy(float))))
    if not rows:
        return pd.DataFrame()
    fits = pd.DataFrame(rows, columns=["family", "width", "backend", "exponent"])
    floors = (
        df.drop_duplicates(["family", "width", "depth"])
        .groupby(["family", "width"])
        .apply(
            lambda p: slope(p["depth"].to_numpy(float), p["floor_ulp"].to_numpy(float)),
            include_groups=False,
        )
        .rename("floor")
    )
    table = fits.pivot_table(index=["family", "width"], columns="backend", values="exponent")
    table = table[backend_order(table.columns)]
    table.insert(0, "floor", floors.reindex(table.index))
    table = table.map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    table.columns.name = None
    return table.reset_index()


def _graded(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Engine gradient rows with an error figure, each with the best backend on its case
    (`best_backend`, `best_ulp`) and `off`: whether it is a finding at that depth."""
    df = engine_grad_rows(accuracy)
    df = df[df["flag"].isin(ULP_FLAGS_WITH_FIGURE) & df["max_abs_ulp"].notna()]
    case = ["family", "width", "dtype", "depth"]
    best = df.loc[df.groupby(case)["max_abs_ulp"].idxmin(), case + ["backend", "max_abs_ulp"]]
    best = best.rename(columns={"backend": "best_backend", "max_abs_ulp": "best_ulp"})
    df = df.merge(best, on=case)
    # NOTE: also above the rounding floor: an error that correct rounding can produce is the
    # chain's conditioning (the best backend was lucky), not something to report upstream.
    off = (
        (df["max_abs_ulp"] > FINDING_FACTOR * df["best_ulp"])
        & (df["max_abs_ulp"] > df["best_ulp"] + FINDING_ULP)
        & ~(df["max_abs_ulp"] <= df["floor_ulp"])
    )
    return df.assign(off=off)


def _worst(part: pd.DataFrame) -> pd.Series:
    """The row of `part` furthest off its case's best backend (by ratio)."""
    return part.loc[(part["max_abs_ulp"] / part["best_ulp"].clip(lower=0.5)).idxmax()]


def findings(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Every (backend, family, width, dtype) whose gradient error exceeds the best backend's on
    the same case by more than FINDING_FACTOR x and FINDING_ULP ULPs, and the case's rounding
    floor: the depth where it starts, and the worst case (its error, the best backend's, the
    floor)."""
    graded = _graded(accuracy)
    off = graded[graded["off"]]
    rows = []
    for (backend, family, width, dtype), part in off.groupby(
        ["backend", "family", "width", "dtype"]
    ):
        worst = _worst(part)
        rows.append(
            {
                "backend": backend,
                "family": family,
                "width": width,
                "dtype": dtype,
                "from_depth": int(part["depth"].min()),
                "depth": int(worst["depth"]),
                "error_ulp": worst["max_abs_ulp"],
                "best_backend": worst["best_backend"],
                "best_ulp": worst["best_ulp"],
                "floor_ulp": worst["floor_ulp"],
                "op_count": int(worst["op_count"]),
            }
        )
    return pd.DataFrame(rows)


def _shared_cause(case: pd.DataFrame, a: str, b: str) -> bool:
    """True when backends `a` and `b` have the same signed error at every depth where either
    is a finding and both were measured (at least one): the same roundings up to there."""
    rows = case[case["backend"].isin((a, b))]
    depths = rows.loc[rows["off"], "depth"].unique()
    errors = rows[rows["depth"].isin(depths)].pivot_table(
        index="depth", columns="backend", values="signed_ulp", aggfunc="first"
    )
    both = errors.reindex(columns=[a, b]).dropna()
    return not both.empty and bool((both[a] == both[b]).all())


def root_causes(accuracy: pd.DataFrame) -> pd.DataFrame:
    """The findings grouped by root cause: one row per (family, width, dtype) and set of
    backends that share it (`_shared_cause`, chained), with its shallowest `from_depth` and
    the worst case of its members."""
    graded = _graded(accuracy)
    rows = []
    for (family, width, dtype), case in graded.groupby(["family", "width", "dtype"]):
        groups: list[list[str]] = []
        for backend in sorted(case.loc[case["off"], "backend"].unique()):
            joined = [g for g in groups if any(_shared_cause(case, backend, m) for m in g)]
            groups = [g for g in groups if g not in joined]
            groups.append([backend, *(m for g in joined for m in g)])
        for group in groups:
            members = case[case["off"] & case["backend"].isin(group)]
            worst = _worst(members)
            rows.append(
                {
                    "backends": tuple(backend_order(group)),
                    "family": family,
                    "width": width,
                    "dtype": dtype,
                    "from_depth": int(members["depth"].min()),
                    "depth": int(worst["depth"]),
                    "error_ulp": worst["max_abs_ulp"],
                    "best_backend": worst["best_backend"],
                    "best_ulp": worst["best_ulp"],
                    "floor_ulp": worst["floor_ulp"],
                }
            )
    if not rows:
        return pd.DataFrame()
    causes = pd.DataFrame(rows)
    return causes.sort_values(["dtype", "family", "from_depth", "backends"], ignore_index=True)


# A finding's standalone script is written in the API of the first of these among its
# backends (`validation.reproducers`): numpy for the numpy-kernel group, since dezero and
# autograd compute with the same numpy calls in the same order.
SCRIPT_ENGINES = ("numpy", "torch", "autograd", "jax", "jax_jit", "jax_scan")
FINDINGS_FOLDER = "findings"  # beside REPORT.md


def numpy_exp_entry() -> list[str]:
    """The Findings entry for numpy's float64 exp near 0 (`validation.numpy_exp`): a kernel,
    not a chain, measured by its own script."""
    lo, hi = numpy_exp.ARGUMENTS
    name = numpy_exp.SCRIPT_NAME
    return [
        f"- **numpy's float64 `exp` near 0** (a kernel): "
        f"{', '.join(numpy_exp.NUMPY_ENGINES)}, which compute with it. On AVX-512 CPUs numpy "
        f"dispatches a vectorised exp that is not correctly rounded for arguments in "
        f"[{lo:g}, {hi:g}]: about 10 % of results are the lower neighbour (mean -0.1 ULP, "
        "always low), where glibc's exp (`math.exp`) is correctly rounded; torch and XLA use "
        "kernels of their own, correctly rounded there. `gauss` (exp(-x**2)) takes its "
        "arguments in that range past depth ~10^4, and the bias adds up: on an AVX-512 "
        "machine its float64 gradient at depth 100,000 is 11x the rounding floor for these "
        "engines against 0.3x for torch; the committed accuracy.csv above comes from a run "
        "where numpy's exp did not show it. Kind: numpy's speed/accuracy choice, not a wrong "
        "derivative; the bias is what makes it worth reporting.",
        "  `python -m bench accuracy --backends dezero autograd torch --families gauss "
        "--depths 100000 --dtypes float64`",
        f"  Standalone (numpy and mpmath only): [`{FINDINGS_FOLDER}/{name}`]"
        f"({FINDINGS_FOLDER}/{name})",
    ]


# why a finding has no standalone script (REPORT says it on the entry)
NO_SCRIPT = (
    "the numpy script writes only parameter-free chains by hand, and none of this finding's "
    "other engines has a script writer (torch, autograd and the jax family do)"
)


def script_engine(cause) -> str | None:
    """The backend whose API a finding's standalone script uses (None: no script). The numpy
    script writes a parameter-free chain's reverse pass by hand, so a chain with weights
    (mlp) takes the next engine of the finding that has an API."""
    with_params = make_chain(cause.family, 1, int(cause.width)).params_per_layer > 0
    return next(
        (b for b in SCRIPT_ENGINES if b in cause.backends and not (b == "numpy" and with_params)),
        None,
    )


def script_name(cause) -> str | None:
    """The file name of a finding's standalone script, e.g. 'torch-tanh-float64.py'; None
    where none is written: no engine with an API there, or a chain that is not one repeated
    step (or a `random` program)."""
    engine = script_engine(cause)
    chain = make_chain(cause.family, 1, int(cause.width))
    if engine is None or not (chain.program or (chain.layer and chain.lift is None)):
        return None
    return f"{engine}-{cause.family}-{cause.dtype}.py"


def reproducer(cause) -> str:
    """One command line that measures a finding's worst case again, for its backends and the
    best one (a filtered run: it writes under results/runs/, never the committed files)."""
    backends = " ".join(backend_order({*cause.backends, cause.best_backend}))
    return (
        f"python -m bench accuracy --backends {backends} --families {cause.family} "
        f"--depths {cause.depth} --dtypes {cause.dtype}"
    )
