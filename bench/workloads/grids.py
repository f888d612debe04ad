"""Which sizes of a GradBench evaluation a run measures: one name per grid, one mapping.

`quick` (the smallest, for tests and `run --quick`), `default` (what `run` and the committed
tables show) and `full` (GradBench's whole grid). A benchmark profile picks the grid of its
own name; the `ci` profile (benchmark bodies run once, untimed) picks `quick`.
"""

from __future__ import annotations

import json
import os

import numpy as np

GRIDS = {"quick": "quick", "default": "default", "full": "sizes"}  # name -> Workload attribute
GRID_OF_PROFILE = {"ci": "quick", "quick": "quick", "default": "default", "full": "full"}
# JSON {"evals": [...], "backends": [...]}: the cases a `workloads` run keeps (empty: all)
FILTER_ENV = "DEZERO_BENCH_WORKLOADS"


def grid_sizes(workload, grid: str) -> tuple:
    """The sizes of `workload` in grid `grid` (a ValueError naming the grids if unknown)."""
    if grid not in GRIDS:
        raise ValueError(f"unknown size grid {grid!r}; expected one of {', '.join(GRIDS)}")
    return tuple(getattr(workload, GRIDS[grid]))


def input_elements(params, consts) -> int:
    """The number of array elements a case is given (its parameters and array constants):
    the size axis of the workloads plot, one number for every evaluation's own size dict."""
    arrays = [*params, *(v for v in consts.values() if isinstance(v, np.ndarray))]
    return max(1, sum(int(np.size(a)) for a in arrays))


def active_filter() -> dict:
    """The evaluations and backends a `workloads` run asked for (FILTER_ENV), else {}."""
    text = os.environ.get(FILTER_ENV) or "{}"
    try:
        wanted = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"{FILTER_ENV} is not JSON: {text!r}") from None
    return {key: value for key, value in wanted.items() if value}
