"""A pytest plugin for `python -m bench run`: case filters, and progress events on a pipe.

Loaded into the benchmark subprocess with `-p bench.timing.progress`. It reads two environment
variables set by the CLI:

- DEZERO_BENCH_FILTER: JSON {"backends": [...], "families": [...], "depths": [...]}; cases
  outside it are deselected (selection by the `Case` parameter, not by matching test ids,
  so depth 10 never selects depth 100).
- DEZERO_BENCH_PROGRESS_FD: a file descriptor the CLI reads; one JSON line per event:
  {"event": "collected", "cases": [...]} once, then {"event": "done", ...} per test.
"""

from __future__ import annotations

import json
import os

import pytest

FILTER_ENV = "DEZERO_BENCH_FILTER"
PROGRESS_FD_ENV = "DEZERO_BENCH_PROGRESS_FD"


def case_fields(item) -> dict:
    """backend, family, depth, width, pass of a benchmark test item (None where unknown)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    case = params.get("case")
    if case is not None:
        return {
            "backend": case.backend,
            "family": case.family,
            "depth": case.depth,
            "width": case.width,
            "pass": case.pass_,
        }
    if "memory_backend" in params:
        return {
            "backend": params["memory_backend"],
            "family": "sin",
            "depth": params.get("memory_depth"),
            "width": 1,
            "pass": "record",
        }
    return {"backend": None, "family": None, "depth": None, "width": None, "pass": None}


def requested() -> dict:
    """The filters DEZERO_BENCH_FILTER holds ({} when unset)."""
    return json.loads(os.environ.get(FILTER_ENV) or "{}")


def requested_families() -> list[str] | None:
    """The families DEZERO_BENCH_FILTER names, or None: a run asked for these by name, so
    they are timed even where the profile's own grid leaves them out."""
    return requested().get("families") or None


def selected(fields: dict, wanted: dict) -> bool:
    """Whether a case passes every filter in `wanted` (an empty or missing filter passes)."""
    for key, column in (("backends", "backend"), ("families", "family"), ("depths", "depth")):
        values = wanted.get(key)
        if values and fields[column] is not None and fields[column] not in values:
            if not (column == "depth" and fields["pass"] == "record"):
                return False  # graph memory runs at its own fixed depth: depth filters skip it
    return True


class _Progress:
    def __init__(self, fd: int):
        self.stream = os.fdopen(fd, "w", buffering=1)
        self.outcomes: dict[str, str] = {}
        self.reasons: dict[str, str] = {}

    def send(self, **event):
        try:
            self.stream.write(json.dumps(event, default=str) + "\n")
        except BrokenPipeError:  # the CLI went away; the run itself goes on
            pass

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        cases = [{"nodeid": item.nodeid, **case_fields(item)} for item in session.items]
        self.send(event="collected", cases=cases)

    def pytest_runtest_logreport(self, report):
        failed = report.failed and "failed"
        skipped = report.skipped and "skipped"
        outcome = failed or skipped or ("passed" if report.when == "call" else None)
        if outcome and self.outcomes.get(report.nodeid) != "failed":
            self.outcomes[report.nodeid] = outcome
        if skipped and isinstance(report.longrepr, tuple):
            self.reasons[report.nodeid] = str(report.longrepr[2]).removeprefix("Skipped: ")

    def pytest_runtest_logfinish(self, nodeid, location):
        outcome = self.outcomes.get(nodeid, "passed")
        self.send(event="done", nodeid=nodeid, outcome=outcome, reason=self.reasons.get(nodeid))


def pytest_configure(config):
    fd = os.environ.get(PROGRESS_FD_ENV)
    if fd:
        config.pluginmanager.register(_Progress(int(fd)), "bench-progress")


def pytest_collection_modifyitems(config, items):
    wanted = requested()
    if not any(wanted.values()):
        return
    keep, drop = [], []
    for item in items:
        (keep if selected(case_fields(item), wanted) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
