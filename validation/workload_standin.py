"""STAND-IN for `workload_accuracy`; delete at merge (import the exact-reference one instead).

The `workloads` command codes against this contract (the exact reference's, on its way in
as validation/workload_accuracy.py): `workload_accuracy(evals, backends, sizes)` with
`sizes` a grid name ('quick', 'default', 'full') returns a DataFrame with one row per
`eval` x `size` x `backend`: `status` 'ok', 'unsupported' or 'error' with `reason` saying
why; per quantity q (objective, gradient, or one `result`) `<q>_rel_err` and `<q>_excess`
(the error over the rounding floor); `gradbench_error`, GradBench's
max |a - b| / max(1, |a| + |b|) (it passes at 1e-4).

This stand-in has no exact reference: it measures every backend against torch (float64),
so torch's own rows read 0 and `excess` is empty. Only the shape of the table is real.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.backends.workload_standin import WORKLOADS, prepare_workload, unsupported
from bench.workloads.grids import grid_sizes

ACCURACY_COLUMNS = [
    "eval", "size", "backend", "status", "reason", "result_rel_err", "result_excess",
    "gradbench_error",
]  # fmt: skip
STANDIN_REFERENCE = "torch"


def _errors(results, reference) -> tuple[float, float]:
    rel, gradbench = 0.0, 0.0
    for a, b in zip(results, reference, strict=True):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        diff = np.abs(a - b)
        rel = max(rel, float(np.max(diff / np.maximum(np.abs(b), np.finfo(float).tiny))))
        gradbench = max(gradbench, float(np.max(diff / np.maximum(1, np.abs(a) + np.abs(b)))))
    return rel, gradbench


def workload_accuracy(evals, backends, sizes: str) -> pd.DataFrame:
    """One row per case: errors against the stand-in reference (see the module docstring)."""
    rows = []
    for name in evals:
        workload = WORKLOADS[name]
        for size in grid_sizes(workload, sizes):
            label = workload.size_label(size)
            reference = prepare_workload(STANDIN_REFERENCE, name, size).call()
            for backend in backends:
                row = {"eval": name, "size": label, "backend": backend}
                why = unsupported(backend, name)
                if why:
                    rows.append(row | {"status": "unsupported", "reason": why})
                    continue
                try:
                    results = prepare_workload(backend, name, size).call()
                except Exception as error:  # a backend's failure is a row, not a crash
                    rows.append(
                        row | {"status": "error", "reason": f"{type(error).__name__}: {error}"}
                    )
                    continue
                rel, gradbench = _errors(results, reference)
                rows.append(
                    row | {"status": "ok", "result_rel_err": rel, "gradbench_error": gradbench}
                )
    return pd.DataFrame(rows).reindex(columns=ACCURACY_COLUMNS)
