"""Reusing saved accuracy rows whose fingerprint still holds.

Rows come in units: within one case, the rows of one (backend, against) pair — a backend
against the exact reference, one backend against another, or a finite-difference estimate.
Each unit's fingerprint (`validation.fingerprints`) hashes what decides it: the case's own
part (chain, reference, floor, comparison, platform), the backend's part (its adapter and
engine code, version, device, SIMD level, profile limits), both backends' parts for a pair,
and dezero's part and the finite-difference code for the estimates.

`plan` compares the expected fingerprints with a saved table and says, per case, which units
are stale and which backends must run to recompute them (a pair needs both backends'
gradients, so an unchanged partner runs too, but its own rows are kept from the table).
`assemble` puts a case's rows back in the order a full computation gives them, saved rows
for the fresh units, new rows for the stale ones: a run with nothing stale rewrites the
table byte for byte.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from bench.backends import BACKENDS
from bench.files.table_format import ERROR, EXACT, NUMERICAL_DIFF, NUMERICAL_DIFF_BEST, SKIPPED
from bench.machine import simd
from bench.workloads.chains import FAMILIES
from bench.workloads.profiles import AccuracyCase, AccuracyGrid
from validation import fingerprints as fp

FINGERPRINT = "fingerprint"  # the column that holds each row's fingerprint
CASE_KEYS = ["family", "depth", "width", "dtype"]
UNIT_KEYS = ["backend", "against"]
# The code every row of a case runs besides its backends: the chain, the exact reference and
# its floor, the comparison, and the sweep's own module (read as one file: its imports reach
# every backend, which belong to the backends' parts).
CASE_CODE = ("bench.workloads.chains", "validation.reference.chains", "validation.metrics")
SWEEP_FILE = "validation/accuracy.py"
FD_CODE = ("validation.finite_diff",)  # the estimates run dezero's forward
FD_ENGINE = "dezero"
NOT_COMPUTED = (SKIPPED, ERROR)


def backend_part(name: str, grid: AccuracyGrid) -> str:
    """The fingerprint of what one backend brings to its rows."""
    backend = BACKENDS[name]
    device = backend.device()
    level = simd.describe(backend.math_library) if device.platform == "cpu" else ""
    limits = grid.max_depth.get(name, math.inf), grid.max_ops_per_backend.get(name, math.inf)
    code = fp.code_digest(type(backend).__module__)
    return fp.digest("backend", name, backend.version(), device.platform, device.name, level,
                     limits, code)  # fmt: skip


def case_part(case: AccuracyCase, seed: int) -> str:
    """The fingerprint of what every row of `case` shares."""
    code = fp.code_digest(*CASE_CODE), fp.file_digest(SWEEP_FILE)
    return fp.digest("case", case.family, case.depth, case.width, case.dtype, seed, code,
                     fp.platform_digest())  # fmt: skip


def has_estimates(case: AccuracyCase, grid: AccuracyGrid) -> bool:
    """Whether `measure` adds the finite-difference rows to `case` (scalar elementwise)."""
    family = FAMILIES[case.family]
    return family.elementwise and case.width == 1 and case.depth <= grid.fd_max_depth


def expected_units(case, backends, grid, seed, parts) -> dict[tuple[str, str], str]:
    """(backend, against) -> fingerprint for every unit `case` can have, in table order.

    `parts` maps a backend name to its `backend_part` (computed once per sweep)."""
    shared = case_part(case, seed)
    units = {(b, EXACT): fp.digest(shared, parts[b]) for b in backends}
    for a, b in itertools.combinations(backends, 2):
        units[(a, b)] = fp.digest(shared, parts[a], parts[b])
    if has_estimates(case, grid):
        estimates = fp.digest(shared, parts[FD_ENGINE], fp.code_digest(*FD_CODE),
                              grid.fd_max_depth)  # fmt: skip
        units[(NUMERICAL_DIFF, EXACT)] = units[(NUMERICAL_DIFF_BEST, EXACT)] = estimates
    return units


@dataclass
class CasePlan:
    """One case: its units' fingerprints, which are stale, and which backends must run."""

    case: AccuracyCase
    units: dict[tuple[str, str], str]
    stale: set[tuple[str, str]]
    run: list[str]  # backends to measure, in the sweep's order (pairs keep their direction)
    saved: dict[tuple[str, str], pd.DataFrame]  # the saved rows of each unit present


def _saved_units(saved: pd.DataFrame | None) -> dict[tuple, pd.DataFrame]:
    """(family, depth, width, dtype, backend, against) -> the saved rows of that unit."""
    if saved is None or saved.empty:
        return {}
    return dict(iter(saved.groupby(CASE_KEYS + UNIT_KEYS, sort=False, dropna=False)))


def _fresh(rows: pd.DataFrame | None, fingerprint: str) -> bool:
    return (
        rows is not None
        and not rows.empty
        and FINGERPRINT in rows
        and bool((rows[FINGERPRINT] == fingerprint).all())
    )


def _computed(rows: pd.DataFrame | None) -> bool:
    """Whether a backend's saved exact rows hold a computed gradient (so pairs were made)."""
    return rows is not None and not rows["flag"].isin(NOT_COMPUTED).all()


def plan(
    grid_cases: Iterable[AccuracyCase],
    backends: list[str],
    grid: AccuracyGrid,
    seed: int,
    saved: pd.DataFrame | None,
) -> list[CasePlan]:
    """Per case of `grid_cases`: the stale units against `saved` (every unit when None)."""
    parts = {name: backend_part(name, grid) for name in {*backends, FD_ENGINE}}
    by_unit = _saved_units(saved)
    plans = []
    for case in grid_cases:
        units = expected_units(case, backends, grid, seed, parts)
        mine = {}
        for unit in units:
            key = (case.family, case.depth, case.width, case.dtype, *unit)
            if key in by_unit:
                mine[unit] = by_unit[key]
        stale = set()
        for unit, fingerprint in units.items():
            backend, against = unit
            if against == EXACT:
                if not _fresh(mine.get(unit), fingerprint):
                    stale.add(unit)
                continue
            ends = (backend, EXACT), (against, EXACT)
            if any(end in stale for end in ends):
                stale.add(unit)
            elif unit in mine:
                if not _fresh(mine[unit], fingerprint):
                    stale.add(unit)
            elif all(_computed(mine.get(end)) for end in ends):
                stale.add(unit)  # both computed, yet no saved pair: it was never measured
        running = {name for unit in stale for name in unit if name in backends}
        run = [name for name in backends if name in running]
        plans.append(CasePlan(case, units, stale, run, mine))
    return plans


def assemble(case_plan: CasePlan, new: pd.DataFrame) -> tuple[list[pd.DataFrame], int, int]:
    """The case's rows in table order, as frames: saved rows for fresh units, `new` rows
    (the case's measurement) for stale ones, each with its fingerprint; and how many rows
    were reused and how many computed."""
    frames, reused, computed = [], 0, 0
    for unit, fingerprint in case_plan.units.items():
        if unit in case_plan.stale:
            mine = new[(new["backend"] == unit[0]) & (new["against"] == unit[1])]
            frames.append(mine.assign(**{FINGERPRINT: fingerprint}))
            computed += len(mine)
        elif unit in case_plan.saved:
            frames.append(case_plan.saved[unit])
            reused += len(case_plan.saved[unit])
    return frames, reused, computed
