"""Error metrics: signed ULP distance in the dtype, absolute and relative error, flags.

A ULP figure is only meaningful where the reference is a normal number of the dtype: a gradient
that underflows (or lands among the subnormals) has a huge or meaningless ULP error while its
absolute error looks tiny. Those elements are left out of the ULP statistics and flagged.
"""

from __future__ import annotations

import numpy as np

from validation.vocabulary import NONFINITE, OK, OVERFLOW, PARTIAL_UNDERFLOW, UNDERFLOW

METRIC_COLUMNS = (
    "max_abs_ulp",
    "signed_ulp",
    "median_abs_ulp",
    "norm_ulp",
    "abs_err",
    "rel_err",
    "n_elements",
    "flag",
)


def ulp_of(ref, dtype) -> np.ndarray:
    """Spacing of `dtype` at |ref| (np.spacing is negative for negative inputs, hence abs)."""
    return np.spacing(np.abs(np.asarray(ref).astype(dtype))).astype(np.longdouble)


def compare(computed, ref, dtype, at=None) -> dict:
    """Error of `computed` (values in `dtype`) against `ref` (np.longdouble), one dict of metrics.

    ULP sizes and flags are taken at `at` (default `ref`): comparing two backends, pass the
    exact reference so their disagreement is in the same units as their errors.

    `norm_ulp` is normwise: the largest error over the ULP of the largest element. `flag` is
    ok, nonfinite, underflow (every reference element is 0 or below the dtype's smallest
    normal: no ULP figure), partial_underflow (those elements left out of the ULP
    statistics) or overflow (the reference is beyond the dtype's range).
    """
    computed = np.asarray(computed).ravel()
    ref = np.asarray(ref, dtype=np.longdouble).ravel()
    if computed.shape != ref.shape:
        raise ValueError(f"computed has {computed.size} elements, reference {ref.size}")
    at = ref if at is None else np.asarray(at, dtype=np.longdouble).ravel()
    info = np.finfo(dtype)
    abs_ref = np.abs(at)
    nan = float("nan")
    result = dict.fromkeys(METRIC_COLUMNS[:6], nan) | {"n_elements": ref.size, "flag": OK}
    if not np.all(np.isfinite(computed)):
        result["flag"] = NONFINITE
        return result
    diff = np.abs(computed.astype(np.longdouble) - ref)
    result["abs_err"] = float(diff.max(initial=0))
    if np.any(abs_ref > info.max):
        result["flag"] = OVERFLOW
        return result
    normal = abs_ref >= info.smallest_normal
    if not normal.any():
        result["flag"] = UNDERFLOW
        return result
    if not normal.all():
        result["flag"] = PARTIAL_UNDERFLOW
    ulps = (computed[normal].astype(np.longdouble) - ref[normal]) / ulp_of(at[normal], dtype)
    worst = int(np.argmax(np.abs(ulps)))
    result["max_abs_ulp"] = float(abs(ulps[worst]))
    result["signed_ulp"] = float(ulps[worst])
    result["median_abs_ulp"] = float(np.median(np.abs(ulps)))
    result["rel_err"] = float((diff[normal] / abs_ref[normal]).max())
    # Normwise: the largest error in ULPs of the largest reference element. A gradient element
    # that cancels to near 0 (mlp) has a huge elementwise ULP error while the vector is fine.
    result["norm_ulp"] = float(diff.max() / ulp_of(abs_ref.max(), dtype))
    return result


# The gate's tolerance model (one definition, used for chains and for single functions).
# NOTE: a case's floor is how far its result moves when every rounding is redone half an ULP
# differently (`validation.reference.floor`, a few random trials); another CPU's libm may
# round each op a whole ULP differently, and worse than the trials happened to: seen, a random
# +-1 ULP on every forward result moved sin_exp depth 10 float32 4.3 x its floor. Hence
# 8 x floor, plus a few ULPs for the final roundings the floor's noise model leaves out. A
# derivative off by a relative 1e-12 is at least 4,503 float64 ULPs of its largest element
# (84 float32 ULPs at 1e-5).
FLOOR_FACTOR = 8.0
FLOOR_SLACK_ULP = 16.0
# Where the exact result underflows, a backend may flush to 0 or round among the subnormals.
UNDERFLOW_SLACK_SUBNORMALS = 4


def floor_tolerance_ulp(floor_ulp: float) -> float:
    """Normwise ULPs a correct engine may be off on a case whose rounding floor is `floor_ulp`."""
    return FLOOR_FACTOR * floor_ulp + FLOOR_SLACK_ULP


def normwise_ulp(diff, ref, dtype) -> float:
    """max |diff| in ULPs of `dtype` at the largest |ref| (NaN when ref underflows)."""
    top = np.max(np.abs(np.asarray(ref, dtype=np.longdouble)), initial=0)
    if not top >= np.finfo(dtype).smallest_normal:
        return float("nan")
    return float(np.max(np.abs(diff), initial=0) / ulp_of(top, dtype))


def underflow_violations(computed, ref, dtype) -> np.ndarray:
    """Flat indices where the exact `ref` underflows `dtype` and `computed` is neither 0 nor
    within UNDERFLOW_SLACK_SUBNORMALS smallest subnormals of it (ULPs mean nothing there)."""
    info = np.finfo(dtype)
    computed = np.asarray(computed).ravel().astype(np.longdouble)
    ref = np.asarray(ref, dtype=np.longdouble).ravel()
    tiny = np.abs(ref) < info.smallest_normal
    close = np.abs(computed - ref) <= UNDERFLOW_SLACK_SUBNORMALS * np.longdouble(
        info.smallest_subnormal
    )
    return np.flatnonzero(tiny & (computed != 0) & ~close | tiny & ~np.isfinite(computed))
