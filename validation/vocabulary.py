"""The words accuracy rows use (`against`, `flag`, the estimate backends) and how a ULP figure
reads beside its flag. validation writes these rows; the report and the CLI read them, so
every one of them imports these names and none retypes them.
"""

from __future__ import annotations

import math

import pandas as pd

# `against` of an accuracy row measured against the exact reference (else: another backend)
EXACT = "exact"

# `flag` of an accuracy row: why a ULP figure is there, partial, or absent
OK = "ok"
NONFINITE = "nonfinite"
UNDERFLOW = "underflow"  # every reference element is 0 or subnormal in the dtype
PARTIAL_UNDERFLOW = "partial_underflow"  # those elements left out of the ULP statistics
OVERFLOW = "overflow"
ERROR = "error"  # the backend raised: the note says what
SKIPPED = "skipped"  # the backend cannot run the case: the note says why
ULP_FLAGS_WITH_FIGURE = (OK, PARTIAL_UNDERFLOW)

# accuracy rows that are estimates, not engines: the seed's central difference at the book's
# eps, and at the best eps (`validation.finite_diff`)
NUMERICAL_DIFF = "numerical_diff"
NUMERICAL_DIFF_BEST = "numerical_diff_best"
NOT_ENGINES = (NUMERICAL_DIFF, NUMERICAL_DIFF_BEST)


def format_ulp(value: float, flag: str) -> str:
    """A ULP cell: the flag where there is no meaningful number, `*` after a partial figure."""
    if flag not in ULP_FLAGS_WITH_FIGURE or value is pd.NA or math.isnan(value):
        return flag
    text = f"{value:.1f}" if abs(value) < 10 else f"{value:,.0f}"
    return text + ("*" if flag == PARTIAL_UNDERFLOW else "")
