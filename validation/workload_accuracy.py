"""Accuracy of GradBench's evaluations: every backend's outputs against the exact reference.

One row per case (evaluation x size x backend): for each quantity (`objective` and
`gradient`, or the one `result` of an evaluation made from derivatives; see
`validation.reference.workload_cases`) the largest relative error, the error in ULPs of
float64 (elementwise and normwise, `validation.metrics.compare`), the case's rounding floor
in both readings, and the error over the floor as the chains report it (`excess`: elementwise
ULPs over the elementwise floor). `gradbench_error` is GradBench's own metric,
max |a - b| / max(1, |a| + |b|) over every output element, which passes at 1e-4. A backend
that cannot run a case, or raises, has a row that says so (`status`, `reason`): never a gap.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np
import pandas as pd

from bench.backends import BACKENDS
from bench.backends.workloads import WORKLOAD_BACKENDS, prepare_workload, unsupported
from bench.workloads.gradbench import WORKLOADS
from bench.workloads.grids import grid_sizes
from validation.metrics import compare
from validation.reference.workload_cases import (
    LONGDOUBLE_BITS,
    QUANTITIES,
    quantities,
    size_key,
    workload_floor,
    workload_reference,
)

GRADBENCH_TOLERANCE = 1e-4
OK, UNSUPPORTED, ERROR = "ok", "unsupported", "error"
PER_QUANTITY = {
    "rel_err": "float64",
    "ulp": "float64",  # the largest elementwise error, in ULPs
    "norm_ulp": "float64",  # the largest error in ULPs of the largest reference element
    "abs_err": "float64",
    "floor_ulp": "float64",
    "floor_norm_ulp": "float64",
    "floor_abs": "float64",
    "excess": "float64",  # ulp / floor_ulp
    "flag": "string",
}
COLUMNS = {
    "eval": "string",
    "size": "string",
    "backend": "string",
    "dtype": "string",
    "status": "string",
    "reason": "string",
    "reference": "string",
    "ref_bits": "int64",
    **{f"{q}_{m}": t for q in QUANTITIES for m, t in PER_QUANTITY.items()},
    "gradbench_error": "float64",
    "gradbench_pass": "boolean",
    "seconds": "float64",
}


def size_label(name: str, size: dict) -> str:
    """A size as the tables print it ("d=2,k=5,n=1000"), by the evaluation's own label."""
    return WORKLOADS[name].size_label(size)


def gradbench_error(computed, reference) -> float:
    """GradBench's metric: max |a - b| / max(1, |a| + |b|) over the elements."""
    a = np.asarray(computed, dtype=np.longdouble).ravel()
    b = np.asarray(reference, dtype=np.longdouble).ravel()
    if not np.all(np.isfinite(a)):
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(1, np.abs(a) + np.abs(b)), initial=0))


def measure_outputs(name: str, size: dict, outputs, dtype=np.float64) -> dict:
    """The error columns of one case from a backend's `outputs` (objective, gradients...)."""
    key = size_key(size)
    reference = workload_reference(name, key).quantities
    floors = workload_floor(name, key, np.dtype(dtype).name)
    got = quantities(outputs)
    if got.keys() != reference.keys() or any(got[q].size != reference[q].size for q in got):
        shapes = {q: v.size for q, v in got.items()}
        sizes = {q: v.size for q, v in reference.items()}
        raise ValueError(f"{name} gave outputs of sizes {shapes}, the reference {sizes}")
    row = {"gradbench_error": 0.0}
    for q, want in reference.items():
        metrics = compare(got[q], want, dtype)
        floor = floors[q]
        row |= {
            f"{q}_rel_err": metrics["rel_err"],
            f"{q}_ulp": metrics["max_abs_ulp"],
            f"{q}_norm_ulp": metrics["norm_ulp"],
            f"{q}_abs_err": metrics["abs_err"],
            f"{q}_floor_ulp": floor.ulp,
            f"{q}_floor_norm_ulp": floor.norm_ulp,
            f"{q}_floor_abs": floor.abs,
            f"{q}_excess": metrics["max_abs_ulp"] / floor.ulp,
            f"{q}_flag": metrics["flag"],
        }
        row["gradbench_error"] = max(row["gradbench_error"], gradbench_error(got[q], want))
    row["gradbench_pass"] = row["gradbench_error"] <= GRADBENCH_TOLERANCE
    return row


def measure_case(name: str, size: dict, backend: str, dtype=np.float64) -> dict:
    """The row of one evaluation at one size in one backend."""
    row = {
        "eval": name,
        "size": size_label(name, size),
        "backend": backend,
        "dtype": np.dtype(dtype).name,
        "reference": workload_reference(name, size_key(size)).kind,
        "ref_bits": LONGDOUBLE_BITS,
    }
    reason = unsupported(backend, name)
    if reason is not None:
        return row | {"status": UNSUPPORTED, "reason": reason}
    workload_floor(name, size_key(size), row["dtype"])  # its failure is not the backend's
    try:
        prepared = prepare_workload(backend, name, size, dtype)
        start = time.perf_counter()
        outputs = prepared.call()
        seconds = time.perf_counter() - start
        errors = measure_outputs(name, size, outputs, dtype)
    except Exception as exc:  # a crash or a wrong shape is a measurement too: the gate fails it
        return row | {"status": ERROR, "reason": f"{type(exc).__name__}: {exc}"[:300]}
    return row | {"status": OK, "seconds": seconds} | errors


def workload_accuracy(
    evals: Iterable[str] | None = None,
    backends: Iterable[str] | None = None,
    sizes: str = "quick",
    dtype=np.float64,
) -> pd.DataFrame:
    """Every evaluation x size of the `sizes` grid x backend against the exact reference: the
    typed DataFrame of the module doc, one row per case, in that order. Writes nothing."""
    evals = list(WORKLOADS) if evals is None else list(evals)
    backends = list(WORKLOAD_BACKENDS) if backends is None else list(backends)
    unknown = [e for e in evals if e not in WORKLOADS]
    unknown += [b for b in backends if b not in BACKENDS]
    if unknown:
        raise ValueError(
            f"unknown evaluations or backends {unknown}: expected from "
            f"{sorted(WORKLOADS)} and {list(BACKENDS)}"
        )
    cases = {name: grid_sizes(WORKLOADS[name], sizes) for name in evals}  # names the grid first
    rows = [
        measure_case(name, size, backend, dtype)
        for name, grid in cases.items()
        for size in grid
        for backend in backends
    ]
    return to_frame(rows)


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows to the typed DataFrame (missing fields become NA)."""
    df = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    df["ref_bits"] = df["ref_bits"].fillna(0)
    return df.astype(COLUMNS)
