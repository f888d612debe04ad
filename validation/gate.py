"""The CI gate's checks: dezero against the exact reference within each case's rounding floor,
against torch and jax, finiteness; every dezero function on its own (`validation.op_gate`).

Each check takes the accuracy DataFrame and returns a list of messages (empty = pass), each
naming backend, family, depth, width, dtype, quantity and both numbers, so a failing test
says what regressed. The baseline is written only by `python -m bench baseline`: it lists the
gated cases with each case's rounding floor (`validation.reference.chains.case_floor`, the
floor the depth tables read, here in its normwise and absolute readings), from which the
tolerance follows (`validation.metrics.floor_tolerance_ulp`). The floor is a property of the
chain, not of one machine's libm, so the baseline travels: another CPU's sin/exp, a different
summation order, pass; a derivative off by 1e-12 does not. Its ULPs are kept for reading only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.workloads.profiles import CI
from validation.accuracy import SEED, default_backends, read_accuracy, run_accuracy
from validation.metrics import FLOOR_FACTOR, floor_tolerance_ulp
from validation.op_gate import op_gate_messages
from validation.reference.chains import case_floor
from validation.vocabulary import ERROR, EXACT, NONFINITE, UNDERFLOW

GATED = "dezero"
PEERS = ("torch", "jax")
CASE_KEYS = ["family", "depth", "width", "dtype"]
KEYS = [*CASE_KEYS, "quantity"]
BASELINE_COLUMNS = [
    *KEYS,
    "reference",
    "floor_norm_ulp",
    "floor_abs",
    "max_abs_ulp",
    "norm_ulp",
    "flag",
]
BASELINE_PATH = Path(__file__).resolve().parent.parent / "results" / "accuracy_baseline.csv"


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


def case_floors(rows: pd.DataFrame) -> list[tuple[float, float]]:
    """The rounding floor (normwise ULPs, absolute) of each row's case and quantity."""
    floors = []
    for family, depth, width, dtype, quantity in rows[KEYS].itertuples(index=False):
        floor = case_floor(family, depth, width, SEED, dtype)[quantity]
        floors.append((floor.norm_ulp, floor.abs))
    return floors


def baseline_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The gated cases of a dezero run `df` (errors and non-finite results left out), with their
    rounding floors and dezero's errors: the rows of the baseline the gate compares against.
    `python -m bench baseline` writes them (a filtered run in place of the cases `gated_rows`
    measured)."""
    measured = gated_rows(df)
    rows = measured[~measured["flag"].isin([ERROR, NONFINITE])].copy()
    rows["floor_norm_ulp"], rows["floor_abs"] = zip(*case_floors(rows), strict=True)
    return rows[BASELINE_COLUMNS]


def read_baseline(path=BASELINE_PATH) -> pd.DataFrame:
    """The committed baseline, typed like the accuracy table."""
    return read_accuracy(path)


def check_against_baseline(df: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    """dezero's normwise error beyond its case's floor tolerance, or a vanished ULP figure;
    where the exact result underflows, an absolute error of a smallest normal or more."""
    measured = gated_rows(df)
    merged = measured.merge(baseline, on=KEYS, suffixes=("", "_base"))
    messages = []
    for row in merged.itertuples(index=False):
        if row.flag == UNDERFLOW:
            # NOTE: the rows keep only the largest |error|; `validation.op_gate` checks the
            # elementwise rule (0, or within a few smallest subnormals) where it has arrays.
            # An ill-conditioned chain (random, depth 1,000) moves by far more than the smallest
            # normal under half-ULP noise, and a different libm lands there: its floor counts.
            smallest_normal = float(np.finfo(row.dtype).smallest_normal)
            limit = max(smallest_normal, FLOOR_FACTOR * row.floor_abs)
            if not row.abs_err <= limit:
                messages.append(
                    f"dezero regressed on {_where(row)}: the exact result underflows but the "
                    f"error is {row.abs_err:.3g} > {limit:.3g} (the larger of the smallest "
                    f"normal and {FLOOR_FACTOR:g} x its absolute rounding floor)"
                )
            continue
        limit = floor_tolerance_ulp(row.floor_norm_ulp)
        if pd.isna(row.norm_ulp) or not row.norm_ulp <= limit:
            messages.append(
                f"dezero regressed on {_where(row)}: {row.norm_ulp:,.1f} ULP normwise "
                f"(flag {row.flag}) > tolerance {limit:,.1f} ULP from its rounding floor "
                f"{row.floor_norm_ulp:,.1f} ULP normwise"
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
        + op_gate_messages()
    )
