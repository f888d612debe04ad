"""Fingerprints of GradBench workload accuracy rows, so a run measures only what changed.

A workload's accuracy row (one evaluation at one size in one backend) is deterministic: the
exact reference, its rounding floor and the backend's outputs depend only on the code that
makes them, the versions and SIMD level that round them, and the size. Its fingerprint
(`validation.fingerprints`' hashing) has three parts, so an edit re-keys only the rows that
run it:
- the evaluation's own module under bench/workloads/gradbench/ and what it imports;
- the shared part, what every row runs: the reference, floor and metric code, what every
  namespace shares (bench/backends/workload_ops.py) and the preparing module
  (bench/backends/workloads.py, read as one file: its imports reach the registry and every
  engine), with numpy's and mpmath's versions;
- the engine's part: its namespace class and that class's module with what it imports
  (`bench.backends.workload_<engine>`, or a plugin's file), its version, device and SIMD
  level; for an engine that is not installed, the reason alone.
The table naming each built-in engine's namespace (bench/backends/workload_engines.py) is in
no part: adding an engine there re-keys none of the others' rows.

`expected_cases` fingerprints a grid, `stale` picks the cases a saved table cannot supply,
`measure_cases` measures those. Nothing here reads or writes a file: the bench layer keeps
the fingerprints in a column of workloads.csv.
"""

from __future__ import annotations

import hashlib
import inspect
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import bench.workloads.gradbench as gradbench
from bench.backends import BACKENDS
from bench.backends.workload_engines import namespace_class, registered
from bench.workloads.gradbench import WORKLOADS
from validation import fingerprints as fp
from validation.accuracy_cache import recorded
from validation.workload_accuracy import ERROR, grid_sizes, measure_case, size_label, to_frame

FINGERPRINT = "accuracy_fingerprint"  # the workloads table's column of row fingerprints
EVALUATIONS = "bench/workloads/gradbench/"  # each evaluation's files belong to its own rows
# What every row runs besides its evaluation and its engine: the reference, its floor, the
# metrics and what every op namespace shares (their imports reach every evaluation; those
# are left out).
SHARED_CODE = (
    "validation.reference.workload_cases",
    "validation.metrics",
    "bench.backends.workload_ops",
)
# read as single files: their imports are SHARED_CODE's, the evaluations' and the engines'
SHARED_FILES = ("validation/workload_accuracy.py", "bench/backends/workloads.py")


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
    code = _files_digest(files), [fp.file_digest(path) for path in SHARED_FILES]
    return fp.digest("workload", code, fp.platform_digest())


def namespace_part(backend: str) -> str:
    """The fingerprint of engine `backend`'s op namespace: its class and the code of the
    module defining it (with what that imports), or for a plugin's class outside the project
    its module file; a namespace with no file to read never repeats, so it is measured."""
    ops_class = namespace_class(backend)
    if ops_class is None:
        return fp.digest("no namespace", backend)
    name = f"{ops_class.__module__}:{ops_class.__qualname__}"
    try:
        return fp.digest("namespace", name, fp.code_digest(ops_class.__module__))
    except ValueError:  # not project source: a plugin's namespace
        source = inspect.getsourcefile(ops_class)
        if source is None:
            return fp.digest("unreadable", uuid.uuid4().hex)
        contents = hashlib.sha256(Path(source).read_bytes()).hexdigest()
        return fp.digest("plugin namespace", name, contents)


def engine_part(backend: str) -> str:
    """The fingerprint of what engine `backend` brings to its rows (see the module doc)."""
    available, why = registered(backend).available()
    if not available:
        return fp.digest("backend", backend, "unavailable", why)
    return fp.digest("backend", backend, recorded(backend), namespace_part(backend))


def evaluation_part(name: str) -> str:
    """The fingerprint of evaluation `name`'s own code (its module and what that imports)."""
    return fp.digest("evaluation", name, _files_digest(fp.source_files(evaluation_module(name))))


def expected_cases(evals, backends, sizes: str, dtype=np.float64) -> list[WorkloadCase]:
    """Every evaluation x size of the `sizes` grid x backend, fingerprinted, in the order
    `workload_accuracy` measures them."""
    unknown = [e for e in evals if e not in WORKLOADS]
    unknown += [b for b in backends if b not in BACKENDS]
    if unknown:
        raise ValueError(f"unknown evaluations or backends {unknown}")
    shared, dtype_name = shared_part(), np.dtype(dtype).name
    engines = {b: engine_part(b) for b in backends}
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
