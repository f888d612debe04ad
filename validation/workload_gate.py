"""The CI gate on GradBench's evaluations: every backend's objective and gradient within the
case's rounding floor of the exact reference, and within GradBench's own 1e-4.

It reads `validation.workload_accuracy`'s DataFrame and returns one message per failure
(empty = pass), naming evaluation, size, backend, quantity and both numbers.

The tolerance is the chains' (`validation.metrics.floor_tolerance_ulp`: 8 x the normwise
floor plus 16 ULPs), for the same reason: a correct engine may round every op up to an ULP
differently from the floor's half-ULP model, and these evaluations (sums of hundreds of
terms, a cofactor expansion, a solver's stopping test) amplify that no more than a chain
does. A gradient off by a relative 1e-12 is over 4,500 ULPs of its largest element, far
outside on every quick case (their normwise floors are 1 to 300 ULPs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from validation.metrics import FLOOR_FACTOR, floor_tolerance_ulp
from validation.reference.workload_cases import QUANTITIES
from validation.vocabulary import NONFINITE, UNDERFLOW
from validation.workload_accuracy import ERROR, GRADBENCH_TOLERANCE, OK, UNSUPPORTED


def _where(row, quantity=None) -> str:
    what = f"{row.eval} {row.size} in {row.backend}"
    return what if quantity is None else f"{what}, {quantity}"


def _quantity_messages(row, q) -> list[str]:
    flag = getattr(row, f"{q}_flag")
    if pd.isna(flag):
        return []
    if flag == NONFINITE:
        return [f"{_where(row, q)} is not finite"]
    if flag == UNDERFLOW:
        # ULPs mean nothing where the exact result underflows: an absolute error instead
        floor_abs = getattr(row, f"{q}_floor_abs")
        limit = max(float(np.finfo(row.dtype).smallest_normal), FLOOR_FACTOR * floor_abs)
        error = getattr(row, f"{q}_abs_err")
        if error <= limit:
            return []
        return [f"{_where(row, q)}: the exact result underflows but the error is {error:.3g}"]
    error, floor = getattr(row, f"{q}_norm_ulp"), getattr(row, f"{q}_floor_norm_ulp")
    limit = floor_tolerance_ulp(floor)
    if error <= limit:
        return []
    return [
        f"{_where(row, q)}: {error:,.1f} ULP normwise from the exact reference > tolerance "
        f"{limit:,.1f} ULP from its rounding floor {floor:,.1f} ULP"
    ]


def workload_gate_messages(df: pd.DataFrame) -> list[str]:
    """Every failure in the accuracy rows `df` (see the module doc)."""
    messages = []
    for row in df.itertuples(index=False):
        if row.status == UNSUPPORTED:
            if pd.isna(row.reason) or not str(row.reason).strip():
                messages.append(f"{_where(row)} is unsupported without a reason")
            continue
        if row.status == ERROR:
            messages.append(f"{_where(row)} raised {row.reason}")
            continue
        if row.status != OK:
            messages.append(f"{_where(row)} has status {row.status!r}")
            continue
        for q in QUANTITIES:
            messages += _quantity_messages(row, q)
        if not row.gradbench_error <= GRADBENCH_TOLERANCE:
            messages.append(
                f"{_where(row)}: GradBench's error {row.gradbench_error:.3g} > "
                f"{GRADBENCH_TOLERANCE:g}"
            )
    return messages
