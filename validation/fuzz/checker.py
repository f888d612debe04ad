"""Differential gradient fuzzing against the exact reference, with hypothesis shrinking.

`check(program, backends)` runs one program (`validation.fuzz.programs`) in each backend
and compares its value, gradients and, where the backend has second derivatives, its
Hessian-vector product with the longdouble reference (`validation.fuzz.reference`), in
normwise ULPs of float64. A quantity fails when it is beyond `tolerance_ulp(floor)`, the
floor being how far that quantity moves when every op rounds differently (failure `ulp`
for the value and gradients, `hvp` for second order); a backend also fails when it raises,
returns a non-finite number, or a gradient of the wrong shape. Each backend is compared with
the reference on its own, so a failure names the backend.

`fuzz_chunk` lets hypothesis generate programs from a seed; the first program that fails
in a new (backend, failure) way is shrunk by hypothesis to a minimal program that still
fails that way, then generation resumes. `run_fuzz` runs chunks in process, or on any
executor with `map` (a `dask.distributed.Client`: `validation.executors`), with identical
results: each chunk depends on its own seed only.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

from validation.fuzz.programs import dumps, input_arrays, op_names, programs
from validation.fuzz.reference import reference, rounding_floor
from validation.fuzz.runners import runner, second_order
from validation.metrics import FLOOR_FACTOR, compare, floor_tolerance_ulp
from validation.vocabulary import NONFINITE, UNDERFLOW

# A correct engine may differ from the reference by the rounding floor (measured on the
# program itself) times a safety factor, plus a few ULPs for kernels that are not correctly
# rounded: the gate's own model (`validation.metrics.floor_tolerance_ulp`), shared, so the
# fuzzer and the gate judge alike. A real derivative bug is far outside: a 1e-6 relative
# error is ~4.5e9 ULP in float64.
# NOTE: an absolute allowance, relative to the largest reference quantity of the same order
# or 1, whichever is larger (a passing quantity needs only one of the two). Why: where a
# derivative is exactly 0 but computed through a cancellation inside one op (log_softmax
# over one element: 1 - exp(y)), the longdouble reference is 1e-20 instead of 0 and a
# float64 engine gets 0 or 1e-17: a ULP figure relative to 1e-20 is meaningless. Second
# order is looser: the complex-step floor does not see the cancellation inside
# first-derivative formulas that engines then differentiate (1 - tanh**2 at saturation,
# ~1e-12 relative in every engine). A planted 1e-6 relative error is 1e4 times it.
ABSOLUTE_ALLOWANCE = {"value": 2.0**-44, "grad": 2.0**-44, "hvp": 1e-10}
CHUNK = 25  # programs per chunk: the unit of work of one process or Dask task
# the CI-sized run: a few seconds for dezero alone. NOTE: the seed is one whose 40 programs
# let the shrinker reach a one-op reproducer of each planted bug in validation/test_fuzz.py;
# on seeds 0-5 of this generator it stops at a chain of negs before a broadcast op, or
# shrinks a planted bug's hvp failure and leaves its first-order one whole.
CI_SEED, CI_PROGRAMS = 6, 40
OK, FAIL = "ok", "fail"
ROW_COLUMNS = {
    "chunk": "int64",
    "program": "int64",
    "backend": "string",
    "quantity": "string",
    "status": "string",
    "failure": "string",
    "norm_ulp": "float64",
    "floor_ulp": "float64",
    "tolerance_ulp": "float64",
    "abs_err": "float64",
    "allowance": "float64",
    "n_ops": "int64",
    "ops": "string",
    "note": "string",
}


def tolerance_ulp(floor_ulp: float) -> float:
    """Normwise ULPs of float64 a correct backend may be away from the reference: the gate's."""
    return floor_tolerance_ulp(floor_ulp)


def direction_for(arrays, seed: int = 0) -> list[np.ndarray]:
    """The fixed random direction v of the Hessian-vector product (one array per input)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(a)) for a in arrays]


def _quantities(ref, value, grads, hvp) -> list[tuple[str, object, object]]:
    out = [("value", value, ref["value"])]
    out += [(f"grad{i}", g, r) for i, (g, r) in enumerate(zip(grads, ref["grads"], strict=True))]
    if hvp is not None:
        out += [(f"hvp{i}", h, r) for i, (h, r) in enumerate(zip(hvp, ref["hvp"], strict=True))]
    return out


def _scales(ref) -> dict:
    """The magnitude each order's absolute allowance is taken relative to."""

    def biggest(arrays):
        return max((float(np.max(np.abs(a), initial=0)) for a in arrays), default=0.0)

    # at least 1: inputs are O(1) by construction, and a derivative that is exactly 0
    # (anything after sum(softmax(x))) has no scale of its own
    grad = max(biggest(ref["grads"]), 1.0)
    return {
        "value": max(abs(float(ref["value"])), 1.0),
        "grad": grad,
        "hvp": max(grad, biggest(ref.get("hvp", ()))),
    }


def _order(quantity: str) -> str:
    return (
        "hvp" if quantity.startswith("hvp") else "grad" if quantity.startswith("grad") else "value"
    )


def check_backend(program, backend, arrays, direction, ref, floors) -> list[dict]:
    """Rows for one backend on one program: one per quantity, or one for a crash."""
    second = direction if second_order(backend) else None
    try:
        value, grads, hvp = runner(backend)(program, arrays, second)
    except Exception as exc:  # a crash is a finding: the reference ran this program
        note = f"{type(exc).__name__}: {exc}"[:300]
        return [{"backend": backend, "quantity": "run", "status": FAIL, "failure": "raises"}
                | {"note": note}]  # fmt: skip
    rows, scales = [], _scales(ref)
    for quantity, got, want in _quantities(ref, value, grads, hvp):
        order = _order(quantity)
        floor, floor_abs = (f[quantity] for f in floors)
        row = {"backend": backend, "quantity": quantity, "floor_ulp": floor}
        row["tolerance_ulp"] = tolerance_ulp(floor)
        # the same tolerance in absolute terms, for quantities whose exact value is 0
        row["allowance"] = ABSOLUTE_ALLOWANCE[order] * scales[order] + FLOOR_FACTOR * floor_abs
        got = np.asarray(got)
        if got.shape != np.shape(want) or got.dtype != np.float64:
            note = f"got {got.dtype}{list(got.shape)}, expected float64{list(np.shape(want))}"
            rows.append(row | {"status": FAIL, "failure": "shape", "note": note})
            continue
        metrics = compare(got, want, np.float64)
        row |= {"norm_ulp": metrics["norm_ulp"], "abs_err": metrics["abs_err"]}
        within = metrics["abs_err"] <= row["allowance"]
        if metrics["flag"] == NONFINITE:
            rows.append(row | {"status": FAIL, "failure": "nonfinite"})
        elif within or (
            metrics["flag"] != UNDERFLOW and metrics["norm_ulp"] <= row["tolerance_ulp"]
        ):
            rows.append(row | {"status": OK})
        else:
            # second order apart: shrunk separately, a first-order failure names the bad op
            rows.append(row | {"status": FAIL, "failure": "hvp" if order == "hvp" else "ulp"})
    return rows


def check(program: dict, backends) -> list[dict]:
    """Every backend's rows for `program` against the exact reference (see the module doc)."""
    arrays = input_arrays(program)
    direction = direction_for(arrays)
    wants_hvp = any(second_order(b) for b in backends)
    ops = op_names(program)
    common = {"n_ops": len(ops), "ops": ",".join(ops)}
    try:
        ref = reference(program, direction if wants_hvp else None)
        floors = rounding_floor(program, ref, direction if wants_hvp else None)
    except Exception as exc:  # the generator made a program the reference cannot run
        note = f"{type(exc).__name__}: {exc}"[:300]
        return [{"backend": "reference", "quantity": "run", "status": FAIL, "failure": "raises"}
                | {"note": note} | common]  # fmt: skip
    return [
        row | common
        for b in backends
        for row in check_backend(program, b, arrays, direction, ref, floors)
    ]


def failure_keys(rows) -> set[tuple[str, str]]:
    """(backend, failure kind) of every failing row: the identity a shrink preserves."""
    return {(r["backend"], r.get("failure")) for r in rows if r["status"] == FAIL}


@dataclass
class Finding:
    """One failure, shrunk: which backend, how, and the minimal program that shows it."""

    backend: str
    failure: str
    program: dict
    rows: list
    chunk: int
    shrunk: bool = True  # False: another failure of the same program was shrunk instead

    @property
    def ops(self) -> list[str]:
        return op_names(self.program)


class _Failed(Exception):
    def __init__(self, program, rows):
        super().__init__("fuzz program failed")
        self.program, self.rows = program, rows


def _fail(program, rows):
    # one raise site: hypothesis tells failures apart by where they are raised, and the
    # shrunk program must count as the same failure as the generated one
    raise _Failed(program, rows)


def fuzz_chunk(seed: int, n: int, backends, chunk: int = 0, max_nodes: int = 8):
    """Run `n` hypothesis-generated programs from `seed`; returns (rows, findings)."""
    backends = list(backends)
    rows, findings, found = [], [], set()
    state = {"target": None, "done": 0}
    first_seen = {}  # (backend, failure) -> (program, rows) of its first generated program

    def body(program):
        target = state["target"]
        if target is not None:  # shrinking: only the failing backend needs to run
            result = check(program, [] if target[0] == "reference" else [target[0]])
            if target in failure_keys(result):
                _fail(program, result)
            return
        result = check(program, backends)
        for row in result:
            rows.append({"chunk": chunk, "program": state["done"]} | row)
        state["done"] += 1
        for key in failure_keys(result):
            first_seen.setdefault(key, (program, result))
        new = sorted(failure_keys(result) - found)
        if new:
            state["target"] = new[0]
            _fail(program, result)

    restart = 0
    while state["done"] < n:
        test = given(programs(max_nodes=max_nodes))(body)
        test = settings(
            max_examples=n - state["done"], database=None, deadline=None,
            suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
            phases=(Phase.generate, Phase.shrink), print_blob=False,
        )(test)  # fmt: skip
        test = hypothesis_seed(seed * 1_000 + restart)(test)
        restart += 1
        try:
            test()
            break  # hypothesis ran its examples without a new failure
        except _Failed as failure:
            backend, kind = state["target"]
            rows_of = [
                r for r in failure.rows if (r["backend"], r.get("failure")) == (backend, kind)
            ]
            findings.append(Finding(backend, kind, failure.program, rows_of, chunk))
            found.add(state["target"])
            state["target"] = None
        except Exception:  # hypothesis gave up shrinking (e.g. a flaky failure): keep it unshrunk
            if state["target"] is None:
                raise
            state["target"] = None
    # a program failing in several ways is shrunk for one; the others keep it unshrunk
    for key in sorted(set(first_seen) - found):
        program, result = first_seen[key]
        rows_of = [r for r in result if (r["backend"], r.get("failure")) == key]
        findings.append(Finding(*key, program, rows_of, chunk, shrunk=False))
    return rows, findings


def _chunk_task(args):
    seed, n, backends, chunk, max_nodes = args
    return fuzz_chunk(seed, n, backends, chunk, max_nodes)


def run_fuzz(
    seed: int,
    n: int,
    backends,
    executor=None,
    max_nodes: int = 8,
    chunk_size: int = CHUNK,
    progress=None,
    seconds: float | None = None,
):
    """Fuzz `n` programs in chunks of `chunk_size` (chunk i seeded by (seed, i)).

    Returns `(rows, findings)`: rows a long-form DataFrame (one row per program, backend
    and quantity), findings the shrunk failures, one per (backend, failure) and first chunk
    seen. `executor` is anything with `map(fn, items) -> iterable of results in order`
    (`validation.executors`); None runs in process. The result does not depend on it.
    `progress(chunks_done, chunks, programs_done, findings)` is called after each chunk.
    With `seconds`, chunks stop starting once that budget is spent (`n` is then a cap): the
    programs run are the first ones of the same seed, so `--programs` of that count repeats it.
    """
    backends = list(backends)
    sizes = [min(chunk_size, n - start) for start in range(0, n, chunk_size)]
    tasks = [(seed * 10_007 + i, size, backends, i, max_nodes) for i, size in enumerate(sizes)]
    if seconds is not None:
        results = _within_budget(tasks, executor, time.perf_counter() + seconds)
    else:
        results = map(_chunk_task, tasks) if executor is None else executor.map(_chunk_task, tasks)
    rows, findings, seen = [], [], set()
    for done, (chunk_rows, chunk_findings) in enumerate(results, 1):
        rows += chunk_rows
        for finding in chunk_findings:
            if (finding.backend, finding.failure) not in seen:
                seen.add((finding.backend, finding.failure))
                findings.append(finding)
        if progress is not None:
            progress(done, len(tasks), sum(sizes[:done]), findings)
    frame = pd.DataFrame(rows).reindex(columns=list(ROW_COLUMNS))
    for column in ("norm_ulp", "abs_err", "allowance"):
        frame[column] = frame[column].astype(float)
    return frame.astype(ROW_COLUMNS), findings


def _within_budget(tasks, executor, deadline, batch: int = 2):
    """Chunk results, `batch` chunks at a time, until `deadline` (a perf_counter time) passes."""
    for start in range(0, len(tasks), batch):
        if time.perf_counter() >= deadline:
            return
        chunk_tasks = tasks[start : start + batch]
        if executor is None:
            yield from map(_chunk_task, chunk_tasks)
        else:
            yield from executor.map(_chunk_task, chunk_tasks)


def ci_fuzz_messages(seed: int = CI_SEED, n: int = CI_PROGRAMS) -> list[str]:
    """The CI-sized fuzz for a gate: dezero alone on `n` programs from `seed` (seconds);
    one message per shrunk dezero finding, naming the failure, the ops and the program."""
    _, findings = run_fuzz(seed, n, ["dezero"])
    messages = []
    for f in findings:
        worst = max(f.rows, key=lambda r: np.nan_to_num(r.get("norm_ulp", np.inf), nan=np.inf))
        messages.append(
            f"fuzz: dezero {f.failure} on {'-'.join(f.ops)} ({worst['quantity']}: "
            f"{worst.get('norm_ulp', float('nan')):.3g} ULP > {worst.get('tolerance_ulp', 0):.3g}"
            f"; {worst.get('note', '')}) program {dumps(f.program, indent=None)}"
        )
    return messages


def summary(rows: pd.DataFrame, findings) -> dict:
    """Programs run, op coverage and failures by backend (for the CLI and the report)."""
    programs_run = rows[["chunk", "program"]].drop_duplicates()
    per_program = rows.drop_duplicates(["chunk", "program"])
    coverage = sorted({op for ops in per_program["ops"] for op in ops.split(",") if op})
    failing = rows[rows["status"] == FAIL].drop_duplicates(["chunk", "program", "backend"])
    return {
        "programs": len(programs_run),
        "ops_covered": coverage,
        "failing_programs_by_backend": failing["backend"].value_counts().to_dict(),
        "findings": [(f.backend, f.failure, len(f.ops), f.ops) for f in findings],
        "worst_ulp_over_tolerance": _worst_ratio(rows),
    }


def _worst_ratio(rows):
    ok = rows[rows["norm_ulp"].notna()]
    ratio = ok["norm_ulp"] / ok["tolerance_ulp"]
    return {b: float(r.max()) for b, r in ratio.groupby(ok["backend"]) if not math.isnan(r.max())}
