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
`assemble` puts the rows in the order a full computation gives them, saved rows for the
fresh units and new rows for the stale ones (one merge and one sort for the whole sweep, not
a frame per unit): a run with nothing stale rewrites the table byte for byte.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.backends import BACKENDS
from bench.workloads.chains import FAMILIES
from bench.workloads.profiles import AccuracyCase, AccuracyGrid
from validation import fingerprints as fp
from validation.vocabulary import (
    ERROR,
    EXACT,
    NOT_ENGINES,
    NUMERICAL_DIFF,
    NUMERICAL_DIFF_BEST,
    SKIPPED,
)

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


def recorded(name: str) -> dict[str, str]:
    """What this process expects a backend's rows to record of where they ran: its version,
    device and SIMD level (`measure` writes the same fields from the process that ran)."""
    backend = BACKENDS[name]
    device = backend.device()
    return {"version": backend.version(), "device": device.platform,
            "device_name": device.name, "simd": backend.simd_level()}  # fmt: skip


def backend_part(name: str, grid: AccuracyGrid) -> str:
    """The fingerprint of what one backend brings to its rows."""
    limits = grid.max_depth.get(name, math.inf), grid.max_ops_per_backend.get(name, math.inf)
    return fp.digest("backend", name, recorded(name), limits, _adapter_code(name))


def _adapter_code(name: str) -> str:
    """The digest of the adapter's code: the project files it runs, or for an engine from
    outside the project (a plugin) its own module file's contents. One with no file to read
    gets a digest that never repeats, so its rows are always measured again."""
    module = type(BACKENDS[name]).__module__
    try:
        return fp.code_digest(module)
    except ValueError:  # not project source: a plugin engine
        source = inspect.getsourcefile(type(BACKENDS[name]))
        if source is None:
            return fp.digest("unreadable", uuid.uuid4().hex)
        return fp.digest("plugin", module, hashlib.sha256(Path(source).read_bytes()).hexdigest())


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
class Plan:
    """A sweep's plan: per case, the backends to run (in the sweep's order, so pairs keep
    their direction) and the stale units; and the saved rows of every fresh unit."""

    cases: list[AccuracyCase]
    units: list[dict[tuple[str, str], str]]  # per case: unit -> fingerprint, in table order
    stale: list[set[tuple[str, str]]]
    run: list[list[str]]
    kept: pd.DataFrame  # saved rows of fresh units, with their case and unit positions
    recorded: dict[str, dict[str, str]]  # per backend: `recorded(name)` in this process

    def jobs(self) -> list[tuple[AccuracyCase, list[str]]]:
        """(case, backends to run) for every case with a stale unit."""
        return [(c, r) for c, r, s in zip(self.cases, self.run, self.stale, strict=True) if s]


_POSITION = ["_case", "_unit", "_row"]  # where a row goes: its case, its unit, its order


def _expected(cases, units) -> pd.DataFrame:
    """One row per expected unit: its keys, its position and its fingerprint."""
    records = [
        (c.family, c.depth, c.width, c.dtype, backend, against, i, j, fingerprint)
        for i, (c, mine) in enumerate(zip(cases, units, strict=True))
        for j, ((backend, against), fingerprint) in enumerate(mine.items())
    ]
    columns = [*CASE_KEYS, *UNIT_KEYS, "_case", "_unit", "_expected"]
    return pd.DataFrame.from_records(records, columns=columns)


def _match(saved: pd.DataFrame | None, expected: pd.DataFrame) -> pd.DataFrame:
    """The saved rows of expected units, each with its unit's position and fingerprint."""
    if saved is None or saved.empty:
        return pd.DataFrame(columns=[*_POSITION, "_expected", FINGERPRINT, "flag"])
    keys = CASE_KEYS + UNIT_KEYS
    left = saved.assign(_row=range(len(saved)))
    if FINGERPRINT not in left:
        left[FINGERPRINT] = pd.NA
    left = left.astype({k: object for k in keys} | {FINGERPRINT: "string"})
    return left.merge(expected.astype({k: object for k in keys}), on=keys, how="inner")


def plan(
    grid_cases: Iterable[AccuracyCase],
    backends: list[str],
    grid: AccuracyGrid,
    seed: int,
    saved: pd.DataFrame | None,
) -> Plan:
    """Per case of `grid_cases`: the stale units against `saved` (every unit when None)."""
    cases = list(grid_cases)
    parts = {name: backend_part(name, grid) for name in {*backends, FD_ENGINE}}
    units = [expected_units(case, backends, grid, seed, parts) for case in cases]
    matched = _match(saved, _expected(cases, units))
    present = set(matched.groupby(["_case", "_unit"], sort=False).groups)
    same = (matched[FINGERPRINT] == matched["_expected"]).fillna(False).astype(bool)
    fresh = {key for key, ok in same.groupby([matched["_case"], matched["_unit"]]).all().items()
             if ok}  # fmt: skip
    computed_rows = ~matched["flag"].isin(NOT_COMPUTED)
    computed = {key for key, ok in computed_rows.groupby([matched["_case"], matched["_unit"]])
                .any().items() if ok}  # fmt: skip
    stale_all, run_all = [], []
    for i, mine in enumerate(units):
        index = {unit: j for j, unit in enumerate(mine)}
        stale = set()
        for unit, j in index.items():
            backend, against = unit
            if against == EXACT:
                if (i, j) not in fresh:
                    stale.add(unit)
                continue
            ends = [(i, index[(backend, EXACT)]), (i, index[(against, EXACT)])]
            if (backend, EXACT) in stale or (against, EXACT) in stale:
                stale.add(unit)
            elif (i, j) in present:
                if (i, j) not in fresh:
                    stale.add(unit)
            elif all(end in computed for end in ends):
                stale.add(unit)  # both computed, yet no saved pair: it was never measured
        running = {name for unit in stale for name in unit}
        stale_all.append(stale)
        run_all.append([name for name in backends if name in running])
    keep = [(i, list(mine).index(u)) for i, mine in enumerate(units) for u in mine
            if u not in stale_all[i]]  # fmt: skip
    kept = matched.set_index(["_case", "_unit"]).loc[lambda f: f.index.isin(keep)]
    seen = {name: recorded(name) for name in {*backends, FD_ENGINE}}
    return Plan(cases, units, stale_all, run_all, kept.reset_index(), seen)


def _unclaimed_elsewhere(rows: pd.DataFrame, expected: dict) -> pd.DataFrame:
    """`rows` with no fingerprint where they record another version, device or SIMD level
    than this process has (a Dask worker on another machine ran them): the fingerprint was
    computed here, so such a row is kept in the table but measured again next time."""
    owner = rows["backend"].where(~rows["backend"].isin(NOT_ENGINES), FD_ENGINE)
    differs = pd.Series(False, index=rows.index)
    for field in ("version", "device", "device_name", "simd"):
        if field not in rows:
            continue
        want = owner.map(lambda name, f=field: expected.get(name, {}).get(f))
        got = rows[field].astype(object)
        differs |= got.notna() & want.notna() & (got != want)
    return rows.assign(**{FINGERPRINT: rows[FINGERPRINT].astype(object).where(~differs, None)})


def assemble(plan: Plan, new: dict[AccuracyCase, pd.DataFrame]) -> tuple[pd.DataFrame, int, int]:
    """Every case's rows in table order, the saved ones for fresh units and `new` (each
    measured case's rows) for stale ones, each with its fingerprint; and how many rows were
    reused and how many computed."""
    made = []
    for i, case in enumerate(plan.cases):
        if case not in new or not plan.stale[i]:
            continue
        rows = new[case]
        where = {unit: j for j, unit in enumerate(plan.units[i])}
        unit = list(zip(rows["backend"], rows["against"], strict=True))
        take = [u in plan.stale[i] for u in unit]
        rows = rows[take]
        positions = [where[u] for u, t in zip(unit, take, strict=True) if t]
        fingerprints = [plan.units[i][u] for u, t in zip(unit, take, strict=True) if t]
        rows = rows.assign(_case=i, _unit=positions, _row=range(len(rows)),
                           **{FINGERPRINT: fingerprints})  # fmt: skip
        made.append(_unclaimed_elsewhere(rows, plan.recorded))
    kept = plan.kept.drop(columns=["_expected"])
    computed = sum(len(m) for m in made)
    frames = [f for f in (kept, *made) if not f.empty]
    if not frames:
        return kept.drop(columns=_POSITION), 0, 0
    df = pd.concat(frames, ignore_index=True).sort_values(_POSITION, kind="stable")
    return df.drop(columns=_POSITION).reset_index(drop=True), len(kept), computed
