"""The CI gate's checks: dezero against its committed baseline, against torch and jax, finiteness.

Each check takes the accuracy DataFrame and returns a list of messages (empty = pass), each
naming backend, family, depth, width, dtype, quantity and both numbers, so a failing test
says what regressed. The baseline is written only by `python -m bench baseline`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.atomic_write import write_csv
from bench.profiles import CI
from bench.table_format import ERROR, EXACT, NONFINITE
from validation.accuracy import default_backends, read_accuracy, run_accuracy

GATED = "dezero"
PEERS = ("torch", "jax")
KEYS = ["family", "depth", "width", "dtype", "quantity"]
BASELINE_COLUMNS = [*KEYS, "reference", "max_abs_ulp", "norm_ulp", "flag"]
BASELINE_PATH = Path(__file__).resolve().parent.parent / "results" / "accuracy_baseline.csv"
# The regression rule of the issue: dezero may get worse by half its baseline plus 2 ULP.
BASELINE_FACTOR = 1.5
BASELINE_SLACK_ULP = 2.0


def peer_tolerance_ulp(op_count: int, peer_error_ulp: float) -> float:
    """How far (normwise ULPs of the dtype) dezero may sit from torch or jax on a chain.

    NOTE: two correct engines round differently in every op (numpy, PyTorch and XLA ship
    different sin/exp/tanh kernels, each within a few ULP), and the roundings propagate
    through the chain, so the gap grows with the op count: 4 ULP per op plus 16 for short
    chains. Ill-conditioned chains amplify the gap far beyond that (tanh's derivative
    1 - y**2 cancels once tanh saturates, so a `random` chain can leave every engine 10^5
    ULP from the truth, on either side), so the peer's own error against the exact reference
    is taken as the measure of the chain's conditioning and dezero may sit 4 times that away
    (seen: dezero 2.0x torch's error on a float32 `random` chain, 3.0x apart). A real
    float64 derivative bug stays far outside: a 1e-9 relative error is ~9e6 ULP.
    """
    return 16.0 + 4.0 * op_count + 4.0 * peer_error_ulp


def _where(row) -> str:
    return f"{row.family} depth {row.depth:,} width {row.width} {row.dtype} {row.quantity}"


def ci_accuracy(backends=None, families=None, depths=None, dtypes=None) -> pd.DataFrame:
    """The gate's grid: the `ci` profile's accuracy grid, dezero and whichever of torch and jax
    are installed."""
    if backends is None:
        backends = [b for b in (GATED, *PEERS) if b == GATED or b in default_backends()]
    grid = {"families": families, "depths": depths} | ({"dtypes": dtypes} if dtypes else {})
    return run_accuracy(CI, backends=backends, **grid)


def gated_rows(df: pd.DataFrame) -> pd.DataFrame:
    """dezero's rows against the exact reference."""
    return df[(df["backend"] == GATED) & (df["against"] == EXACT)]


def write_baseline(df: pd.DataFrame, path=BASELINE_PATH) -> Path:
    """Write dezero's errors as the baseline the gate compares against (explicit command only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = gated_rows(df)
    rows = rows[~rows["flag"].isin([ERROR, NONFINITE])]
    write_csv(rows[BASELINE_COLUMNS].sort_values(KEYS), path)
    return path


def read_baseline(path=BASELINE_PATH) -> pd.DataFrame:
    """The committed baseline, typed like the accuracy table."""
    return read_accuracy(path)


def check_against_baseline(df: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    """dezero's ULP error above 1.5 x baseline + 2 ULP, or a ULP figure that has vanished."""
    merged = gated_rows(df).merge(baseline, on=KEYS, suffixes=("", "_base"))
    messages = []
    for row in merged.itertuples(index=False):
        old, new = row.max_abs_ulp_base, row.max_abs_ulp
        if pd.isna(old):
            continue  # the baseline has no ULP figure here (underflow): nothing to regress
        limit = BASELINE_FACTOR * old + BASELINE_SLACK_ULP
        if pd.isna(new) or not new <= limit:
            messages.append(
                f"dezero regressed on {_where(row)}: {new:,.1f} ULP "
                f"(flag {row.flag}) > {BASELINE_FACTOR} x baseline {old:,.1f} "
                f"+ {BASELINE_SLACK_ULP:g} = {limit:,.1f} ULP"
            )
    return messages


def missing_from_baseline(df: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    """dezero cases the baseline does not cover (a stale baseline checks nothing)."""
    merged = gated_rows(df).merge(baseline[KEYS], on=KEYS, how="left", indicator=True)
    missing = merged[merged["_merge"] == "left_only"]
    return [
        f"no baseline for {_where(row)}: run `python -m bench baseline`"
        for row in missing.itertuples(index=False)
    ]


def check_peers(df: pd.DataFrame) -> list[str]:
    """dezero against torch and jax beyond `peer_tolerance_ulp`."""
    exact = df[df["backend"].isin(PEERS) & (df["against"] == EXACT)]
    peer_error = exact.set_index(["backend", *KEYS])["norm_ulp"].to_dict()
    pairs = df[
        ((df["backend"] == GATED) & df["against"].isin(PEERS))
        | (df["backend"].isin(PEERS) & (df["against"] == GATED))
    ]
    messages = []
    for row in pairs.itertuples(index=False):
        peer = row.against if row.backend == GATED else row.backend
        error = peer_error.get((peer, *(getattr(row, k) for k in KEYS)), float("nan"))
        tolerance = peer_tolerance_ulp(row.op_count, 0.0 if pd.isna(error) else error)
        if pd.isna(row.norm_ulp) or row.norm_ulp <= tolerance:
            continue
        messages.append(
            f"dezero disagrees with {peer} on {_where(row)}: {row.norm_ulp:,.1f} ULP "
            f"(normwise) > tolerance {tolerance:,.0f} ULP ({peer} is {error:,.1f} ULP "
            "from the exact reference)"
        )
    return messages


def check_finite(df: pd.DataFrame) -> list[str]:
    """Every non-finite result and every crash, of any backend."""
    bad = df[df["flag"].isin([NONFINITE, ERROR])]
    return [
        f"{row.backend} gave {row.flag} on {_where(row)}"
        + (f": {row.note}" if not pd.isna(row.note) else "")
        for row in bad.itertuples(index=False)
    ]


def gate_messages(df: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    """All gate checks together (what `python -m bench check` reports)."""
    return (
        check_finite(df)
        + check_against_baseline(df, baseline)
        + missing_from_baseline(df, baseline)
        + check_peers(df)
    )
