"""The workloads' benchmark cases, and running them under pytest-benchmark in a subprocess.

`workload_cases` is the one list of cases: the suite (`bench/timing/test_workloads.py`)
parametrizes over it and `time_workloads` matches each finished test back to its case, so
a skipped or failed case comes back with its reason instead of going missing.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from bench.backends.workloads import WORKLOAD_BACKENDS, WORKLOADS
from bench.timing import run_suite
from bench.workloads.grids import FILTER_ENV, grid_sizes

SUITE = "bench/timing/test_workloads.py"
PROFILE_OF_GRID = {"quick": "quick", "default": "default", "full": "full"}


@dataclass(frozen=True)
class WorkloadCase:
    evaluation: str
    size: dict
    size_index: int  # position in the evaluation's grid: the order of the tables
    backend: str

    @property
    def label(self) -> str:
        return WORKLOADS[self.evaluation].size_label(self.size)

    @property
    def id(self) -> str:
        return f"{self.evaluation}-{self.label}-{self.backend}"


def workload_cases(grid: str, evals=None, backends=None) -> list[WorkloadCase]:
    """Every case of `grid`, evaluation by evaluation, size by size, backend by backend."""
    return [
        WorkloadCase(name, size, index, backend)
        for name in evals or WORKLOADS
        for index, size in enumerate(grid_sizes(WORKLOADS[name], grid))
        for backend in backends or WORKLOAD_BACKENDS
    ]


def case_outcomes(cases: list[WorkloadCase], events: list[dict]) -> pd.DataFrame:
    """One row per case: evaluation, size, size_index, backend, status, reason. A case with
    no event (the run stopped before it) is 'failed', saying so."""
    by_id = {event["nodeid"].rsplit("[", 1)[-1].rstrip("]"): event for event in events}
    rows = []
    for case in cases:
        event = by_id.get(case.id, {"outcome": "failed", "reason": "did not run"})
        reason = event.get("reason")
        if event["outcome"] == "failed" and not reason:
            reason = "the benchmark raised; see the run's log"
        rows.append(
            {
                "evaluation": case.evaluation,
                "size": case.label,
                "size_index": case.size_index,
                "backend": case.backend,
                "status": event["outcome"],
                "reason": reason,
            }
        )
    return pd.DataFrame(rows)


def time_workloads(grid: str, evals, backends, quiet: bool) -> tuple[pd.DataFrame, dict | None]:
    """Time `grid`'s cases in a pytest subprocess: (their outcomes, the benchmark JSON or None
    when no case was timed). A pytest error (not a failed case) raises RuntimeError with the
    log's tail."""
    cases = workload_cases(grid, evals, backends)
    handle, log_name = tempfile.mkstemp(prefix=f"dezero-bench-workloads-{grid}-", suffix=".log")
    os.close(handle)
    json_path = Path(tempfile.gettempdir()) / f"dezero-bench-workloads-{uuid.uuid4().hex}.json"
    args = SimpleNamespace(
        profile=PROFILE_OF_GRID[grid], dtype=None, backends=None, families=None, depths=None,
        quiet=quiet,
    )  # fmt: skip
    wanted = {FILTER_ENV: json.dumps({"evals": evals, "backends": backends})}
    try:
        code, events = run_suite.run_benchmarks(args, json_path, Path(log_name), SUITE, wanted)
        if code not in (0, 1):
            tail = Path(log_name).read_text()[-3000:]
            raise RuntimeError(
                f"{tail}\nworkload benchmarks failed (pytest exit {code}); log: {log_name}"
            )
        document = json.loads(json_path.read_text()) if json_path.exists() else None
    finally:
        json_path.unlink(missing_ok=True)
    return case_outcomes(cases, events), document
