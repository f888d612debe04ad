"""Fingerprints of GradBench workload accuracy rows, so a run measures only what changed.

A workload's accuracy row (one evaluation at one size in one backend) is deterministic: the
exact reference, its rounding floor and the backend's outputs depend only on the code that
makes them, the versions and SIMD level that round them, and the size. Its fingerprint
(`validation.fingerprints`' hashing) covers: the evaluation's own module under
bench/workloads/gradbench/ and what it imports; the reference, floor and metric code and the
backends' workload adapters (bench/backends/workloads.py, workload_ops.py and their imports,
every evaluation module left out, so editing one evaluation keeps the others' rows); the
backend's version, device and SIMD level; numpy's and mpmath's versions; the size and dtype.

`expected_cases` fingerprints a grid, `stale` picks the cases a saved table cannot supply,
`measure_cases` measures those. Nothing here reads or writes a file: the bench layer keeps
the fingerprints in a column of workloads.csv.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

import bench.workloads.gradbench as gradbench
from bench.backends.workloads import WORKLOAD_BACKENDS
from bench.workloads.gradbench import WORKLOADS
from validation import fingerprints as fp
from validation.accuracy_cache import recorded
from validation.workload_accuracy import ERROR, grid_sizes, measure_case, size_label, to_frame

FINGERPRINT = "accuracy_fingerprint"  # the workloads table's column of row fingerprints
EVALUATIONS = "bench/workloads/gradbench/"  # each evaluation's files belong to its own rows
# What every row runs besides its evaluation: the reference, its floor, the metrics and the
# backends' workload adapters (their imports reach every evaluation; those are left out).
SHARED_CODE = (
    "validation.reference.workload_cases",
    "validation.metrics",
    "bench.backends.workloads",
    "bench.backends.workload_ops",
)
ACCURACY_FILE = "validation/workload_accuracy.py"  # one file: its imports are SHARED_CODE's


@dataclass(frozen=True)
class WorkloadCase:
    """One row to measure: an evaluation at one size in one backend, and its fingerprint."""

    name: str
    size: dict
    label: str  # the size as the tables print it
    backend: str
    fingerprint: str

    @property
    def key(self) -> tuple[str, str, str]:
        """(evaluation, size label, backend): the row's key in the workloads table."""
        return self.name, self.label, self.backend


def _files_digest(paths: Iterable) -> str:
    relative = sorted(p.relative_to(fp.ROOT).as_posix() for p in paths)
    return fp.digest(*[(path, fp.file_digest(path)) for path in relative])


def evaluation_module(name: str) -> str:
    """The module of bench/workloads/gradbench/ that defines evaluation `name`."""
    workload = WORKLOADS[name]
    for value in vars(gradbench).values():
        if getattr(value, "__name__", "").startswith(f"{gradbench.__name__}.") and any(
            item is workload for item in vars(value).values()
        ):
            return value.__name__
    raise ValueError(f"no module of {gradbench.__name__} defines the evaluation {name!r}")


def shared_part() -> str:
    """The fingerprint of what every workload row runs besides its evaluation."""
    files = [
        path
        for path in fp.source_files(*SHARED_CODE)
        if not path.relative_to(fp.ROOT).as_posix().startswith(EVALUATIONS)
    ]
    code = _files_digest(files), fp.file_digest(ACCURACY_FILE)
    return fp.digest("workload", code, fp.platform_digest())


def evaluation_part(name: str) -> str:
    """The fingerprint of evaluation `name`'s own code (its module and what that imports)."""
    return fp.digest("evaluation", name, _files_digest(fp.source_files(evaluation_module(name))))


def expected_cases(evals, backends, sizes: str, dtype=np.float64) -> list[WorkloadCase]:
    """Every evaluation x size of the `sizes` grid x backend, fingerprinted, in the order
    `workload_accuracy` measures them."""
    unknown = [e for e in evals if e not in WORKLOADS]
    unknown += [b for b in backends if b not in WORKLOAD_BACKENDS]
    if unknown:
        raise ValueError(f"unknown evaluations or backends {unknown}")
    shared, dtype_name = shared_part(), np.dtype(dtype).name
    engines = {b: fp.digest("backend", b, recorded(b)) for b in backends}
    cases = []
    for name in evals:
        own = evaluation_part(name)
        for size in grid_sizes(WORKLOADS[name], sizes):
            label = size_label(name, size)
            for backend in backends:
                fingerprint = fp.digest(shared, own, engines[backend], label, dtype_name)
                cases.append(WorkloadCase(name, size, label, backend, fingerprint))
    return cases


def stale(cases: list[WorkloadCase], saved: Mapping[tuple[str, str, str], str]):
    """The cases whose fingerprint `saved` ((evaluation, size label, backend) -> fingerprint
    of a saved row) does not hold."""
    return [case for case in cases if saved.get(case.key) != case.fingerprint]


def measure_cases(cases: list[WorkloadCase], dtype=np.float64) -> pd.DataFrame:
    """`workload_accuracy`'s rows of `cases`, each with its fingerprint in FINGERPRINT; a
    row that errored has none (a crash may be the machine's, so it is measured again)."""
    rows = [measure_case(c.name, c.size, c.backend, dtype) for c in cases]
    df = to_frame(rows)
    prints = pd.Series([c.fingerprint for c in cases], index=df.index, dtype="string")
    df[FINGERPRINT] = prints.mask(df["status"] == ERROR)
    return df
