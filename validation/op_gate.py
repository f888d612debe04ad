"""The gate for every dezero function on its own: exact gradients from the op table, in float64
and float32, with the tolerance from each case's rounding floor.

Chains only reach the registry's twelve ops; softmax, linear, div, max... are reached here. Each
case is one op-table record at one sample of input shapes in one dtype: dezero's gradient of
sum(cotangent * op(xs)) is compared, per input, with the exact one.

The exact gradient is the complex step on the record's numpy reference at np.clongdouble:
Im f(x + ih) / h is f'(x) to longdouble precision (no difference is taken, so no cancellation),
one evaluation per input element. It needs no derivative written by hand, so it shares nothing
with the vjp it checks. The floor is the one rounding floor (`validation.reference.floor`) with
the inputs as what is rounded (a single op's own rounding is its input's): how far that exact
gradient moves, normwise, when the inputs are off by half an ULP of the dtype. An
ill-conditioned case (tanh near saturation) gets a wider tolerance, a well-conditioned one
stays tight. Where the exact gradient underflows, ULPs mean
nothing and the absolute rule of `validation.metrics.underflow_violations` applies.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

import dezero
from bench.workloads.op_table import GRAD_CASES, OpRecord, cotangent, sample_inputs
from validation.metrics import floor_tolerance_ulp, normwise_ulp, underflow_violations
from validation.reference.floor import REPLAY_TRIALS, Rounding, spread

DTYPES = ("float64", "float32")
# A power of two, so x + ih is exact and dividing by h is too; small enough that the step's
# own error (h**2 * f''') is far below a longdouble ULP.
STEP = np.longdouble(2.0) ** -100


@dataclass(frozen=True)
class OpCase:
    """One gated case: a record, one tuple of input shapes, a dtype."""

    record: OpRecord
    shapes: tuple
    dtype: str

    @property
    def name(self) -> str:
        shapes = ",".join("x".join(map(str, s)) or "scalar" for s in self.shapes)
        return f"{self.record.name} {shapes} {self.dtype}"


# Cases whose exact gradient underflows the dtype (exp'(x) = exp(x) below the smallest normal,
# d(x0 * x1)/dx0 = x1 subnormal): a blind spot of any ULP metric. One record per dtype, since
# the underflow threshold is the dtype's.
UNDERFLOW_RECORDS = {
    "float64": (
        OpRecord("exp-underflow", dezero.functions.exp, np.exp, (((4,),),), (-740.0, -709.0)),
        OpRecord(
            "mul-underflow",
            dezero.functions.mul,
            np.multiply,
            (((4,), (4,)),),
            ((-2.0, 2.0), (1e-315, 1e-309)),
        ),
    ),
    "float32": (
        OpRecord("exp-underflow", dezero.functions.exp, np.exp, (((4,),),), (-100.0, -88.0)),
        OpRecord(
            "mul-underflow",
            dezero.functions.mul,
            np.multiply,
            (((4,), (4,)),),
            ((-2.0, 2.0), (1e-43, 1e-39)),
        ),
    ),
}

OP_CASES: tuple[OpCase, ...] = tuple(
    OpCase(record, shapes, dtype) for record, shapes in GRAD_CASES for dtype in DTYPES
) + tuple(
    OpCase(record, shapes, dtype)
    for dtype, records in UNDERFLOW_RECORDS.items()
    for record in records
    for shapes in record.shapes
)


def complex_step_grads(record: OpRecord, xs, gy) -> list[np.ndarray]:
    """d sum(gy * ref(xs)) / d xs[i] for each input, by the complex step at np.clongdouble."""
    xs = [np.asarray(x, dtype=np.longdouble) for x in xs]
    gy = np.asarray(gy, dtype=np.longdouble)
    grads = []
    for i, x in enumerate(xs):
        grad = np.empty(x.shape, dtype=np.longdouble)
        for index in np.ndindex(x.shape):
            stepped = x.astype(np.clongdouble)
            stepped[index] += 1j * STEP
            args = [*xs[:i], stepped, *xs[i + 1 :]]
            grad[index] = np.sum(gy * np.asarray(record.ref(*args))).imag / STEP
        grads.append(grad)
    return grads


@dataclass(frozen=True)
class Exact:
    """What a case is checked against: its inputs, cotangent, exact gradients and floors."""

    xs: tuple
    gy: np.ndarray
    grads: tuple
    floors: tuple  # normwise ULPs per input (NaN where the exact gradient underflows)


@functools.cache
def exact(case: OpCase, seed: int = 0) -> Exact:
    """The case's seeded inputs, cotangent, exact gradients and rounding floors (cached: a
    strength run replays dezero many times against the same references)."""
    dtype = np.dtype(case.dtype)
    xs = tuple(sample_inputs(case.record, case.shapes, dtype, seed))
    gy = cotangent(np.asarray(case.record.ref(*xs)).astype(dtype))
    grads = complex_step_grads(case.record, xs, gy)
    rounding = Rounding(dtype, np.random.default_rng(seed))
    # each trial is a complex-step differentiation per input element: a replay
    runs = [
        complex_step_grads(case.record, [rounding(np.asarray(x, np.longdouble)) for x in xs], gy)
        for _ in range(REPLAY_TRIALS)
    ]
    floors = tuple(
        spread(np.stack([g, *(run[i] for run in runs)]), dtype).norm_ulp
        for i, g in enumerate(grads)
    )
    return Exact(xs, gy, tuple(grads), floors)


def dezero_grads(case: OpCase, xs, gy) -> list:
    """dezero's gradients of sum(gy * op(xs)) (the cotangent is seeded, not multiplied in, so
    no op but the case's own runs in the backward pass)."""
    variables = [dezero.Variable(np.array(x)) for x in xs]
    y = case.record.op(*variables)
    y.grad = dezero.Variable(np.asarray(gy))
    y.backward()
    return [None if v.grad is None else v.grad.data for v in variables]


def check_case(case: OpCase) -> list[str]:
    """Messages (empty = pass) for one case, naming the op, input, shapes, dtype and numbers."""
    ref = exact(case)
    dtype = np.dtype(case.dtype)
    messages = []
    for i, (got, want, floor) in enumerate(
        zip(dezero_grads(case, ref.xs, ref.gy), ref.grads, ref.floors, strict=True)
    ):
        where = f"op {case.name} input {i}"
        if got is None or np.shape(got) != np.shape(want) or not np.all(np.isfinite(got)):
            messages.append(f"dezero gave no finite gradient of the right shape on {where}")
            continue
        bad = underflow_violations(got, want, dtype)
        if bad.size:
            k = bad[0]
            messages.append(
                f"dezero regressed on {where}: the exact gradient underflows "
                f"({float(want.ravel()[k]):.3g}) but dezero gives {float(got.ravel()[k]):.3g}, "
                "neither 0 nor within a few smallest subnormals"
            )
        if np.isnan(floor):
            continue  # the whole gradient underflows: the absolute rule above is the check
        error = normwise_ulp(got.astype(np.longdouble) - want, want, dtype)
        limit = floor_tolerance_ulp(floor)
        if not error <= limit:
            messages.append(
                f"dezero regressed on {where}: {error:,.1f} ULP normwise > tolerance "
                f"{limit:,.1f} ULP from its rounding floor {floor:,.1f} ULP"
            )
    return messages


def op_gate_messages(cases=OP_CASES) -> list[str]:
    """Every case's messages together (what the gate reports for single functions)."""
    return [message for case in cases for message in check_case(case)]
