"""The rounding floor: how far a result moves when every rounding is redone differently.

A correctly rounding engine may land anywhere its own roundings take it, so an error is judged
against the spread of equally correct roundings: each op's result scaled by (1 + u U(-1, 1)),
u half an ULP of the dtype (`Rounding`), FLOOR_TRIALS times with a seeded generator, and the
move of each quantity from the unperturbed run measured by `spread`. This is the one floor of
the project: the depth tables (`excess`), the CI gate's tolerance, the single-function gate
and the fuzzer all read it, so one case has one floor.

Where the callers legitimately differ, it is a parameter, not another definition:
* what is rounded: every op of a chain or fuzz program (`chain_floor`, the tape), backward
  terms too in fuzz programs (`Tape.round_backward`: gradient terms there can cancel), or
  the inputs of a single function (`validation.op_gate`: one op, whose own rounding is the
  input's);
* how the runs are made: elementwise chains stream FLOOR_TRIALS lanes at once in forward
  mode (memory flat in depth); a run that replays a whole tape or complex step is repeated
  at most REPLAY_TRIALS times (an mlp chain at depth 10**4 takes ~3.5 s per replay), and so
  is any other computation that takes a rounding (`replay_floor`: GradBench's evaluations);
* which reading is compared: `Floor.ulp` elementwise (the depth tables divide the largest
  elementwise error by it), `Floor.norm_ulp` normwise (the gates compare normwise errors),
  `Floor.abs` absolute (where the exact result underflows and ULPs mean nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from bench.workloads.ops import OPS
from validation.metrics import normwise_ulp
from validation.reference.tape import run_chain

FLOOR_TRIALS = 8
REPLAY_TRIALS = 4
# The elementwise floor never goes below half an ULP: the final rounding to the dtype alone
# costs that (and the depth tables divide by it).
MIN_FLOOR_ULP = 0.5


def unit_roundoff(dtype) -> np.longdouble:
    """Half an ULP of 1 in `dtype`, as np.longdouble."""
    return np.longdouble(np.finfo(dtype).eps) / 2


class Rounding:
    """One different but equally correct rounding of every result it is applied to: the real
    part times (1 + u U(-1, 1)) and, for a complex-step value, the imaginary part (the tangent)
    times its own such factor: a common factor would leave every phase, so log's imaginary
    part, exact."""

    __slots__ = ("u", "rng")

    def __init__(self, dtype, rng):
        self.u, self.rng = unit_roundoff(dtype), rng

    def __call__(self, value):
        rounded = value.real * (1 + self.u * self.rng.uniform(-1, 1, np.shape(value)))
        if np.iscomplexobj(value):
            rounded = rounded + 1j * value.imag * (
                1 + self.u * self.rng.uniform(-1, 1, np.shape(value))
            )
        return rounded


@dataclass(frozen=True)
class Floor:
    """One quantity's floor in its three readings (see the module doc)."""

    ulp: float  # elementwise, at least MIN_FLOOR_ULP; NaN where no element is a normal number
    norm_ulp: float  # in ULPs of the largest exact element; NaN where that underflows
    abs: float  # the largest absolute move


def _elementwise_ulp(lanes, dtype) -> float:
    """Largest distance of rows 1.. from row 0, in ULPs of `dtype` at row 0, over the
    elements whose row-0 value is a normal number of `dtype` (NaN when none is)."""
    exact = lanes[0]
    normal = np.abs(exact) >= np.finfo(dtype).smallest_normal
    normal &= np.abs(exact) <= np.finfo(dtype).max
    if not normal.any():
        return float("nan")
    spacing = np.spacing(np.abs(exact[normal].astype(dtype))).astype(np.longdouble)
    return float((np.abs(lanes[1:, normal] - exact[normal]) / spacing).max())


def spread(lanes, dtype) -> Floor:
    """The floor of one quantity from `lanes`: row 0 the unperturbed run, rows 1.. the
    differently rounded ones (np.longdouble, or np.clongdouble's real values)."""
    lanes = np.asarray(lanes)
    lanes = lanes.reshape(len(lanes), -1)
    moved = np.max(np.abs(lanes[1:] - lanes[0]), axis=0, initial=0)
    return Floor(
        max(_elementwise_ulp(lanes, dtype), MIN_FLOOR_ULP),
        normwise_ulp(moved, lanes[0], dtype),
        float(np.max(moved, initial=0)),
    )


class _Tangent:
    """Values and tangents (d/dx) of one op's output, as np.longdouble arrays with one row
    per trial: row 0 exact at longdouble, rows 1.. with every op's output perturbed."""

    __slots__ = ("value", "deriv")

    def __init__(self, value, deriv):
        self.value = value
        self.deriv = deriv


class NoisyTangentOps:
    """Forward-mode op namespace at np.longdouble for elementwise chains, O(1) memory in depth.

    Every op's output in rows 1.. is scaled by (1 + u U(-1, 1)), `Rounding`'s model drawn in
    blocks, and tangents are carried exactly through the registry's `np_vjp` from those
    values: since an elementwise op's Jacobian is diagonal, its vjp applied to an input's
    tangent is that input's share of the jvp.
    """

    BLOCK = 4096  # perturbations drawn per rng call (one call per op costs more than the op)

    def __init__(self, u, rng):
        self.u, self.rng = u, rng
        self.factors, self.used = None, self.BLOCK
        for name, op in OPS.items():
            setattr(self, name, partial(self._call, op))

    def _factor(self, shape):
        if self.factors is None or self.used == self.BLOCK or self.factors.shape[1:] != shape:
            noise = self.rng.uniform(-1, 1, (self.BLOCK, *shape))
            noise[:, 0] = 0  # row 0 stays exact
            self.factors, self.used = 1 + self.u * noise.astype(np.longdouble), 0
        self.used += 1
        return self.factors[self.used - 1]

    def _call(self, op, *args):
        if len(args) == 1:
            (a,) = args
            y = op.np_forward(a.value) * self._factor(a.value.shape)
            return _Tangent(y, op.np_vjp(a.deriv, a.value, y)[0])
        values = [a.value for a in args]
        y = op.np_forward(*values) * self._factor(np.shape(values[0]))
        partials = op.np_vjp(1, *values, y)
        deriv = sum(p * a.deriv for p, a in zip(partials, args, strict=True))
        return _Tangent(y, deriv)


def chain_floor(
    chain, dtype, elements=None, trials: int = FLOOR_TRIALS, seed: int = 0, replays=None
) -> dict[str, Floor]:
    """The floor of each quantity an accuracy row reports for `chain` at `dtype`: "value"
    (the outputs at `elements`, flat indices of x, default all; for a chain that is not
    elementwise, their sum), "grad" (d sum / dx there) and, for chains with parameters,
    "grad_params" (their gradients, concatenated).

    Elementwise chains stream `trials` roundings at once; the others replay the tape
    `replays` times (default min(trials, REPLAY_TRIALS)).
    """
    rng = np.random.default_rng(seed)
    if chain.elementwise and replays is None:
        x = np.asarray(chain.x, dtype=dtype).ravel()
        x = x if elements is None else x[elements]
        x = np.broadcast_to(x.astype(np.longdouble), (trials + 1, x.size)).copy()
        out = chain.apply(NoisyTangentOps(unit_roundoff(dtype), rng), _Tangent(x, np.ones_like(x)))
        return {"value": spread(out.value, dtype), "grad": spread(out.deriv, dtype)}
    replays = min(trials, REPLAY_TRIALS) if replays is None else replays
    runs = [run_chain(chain, dtype)]
    runs += [run_chain(chain, dtype, Rounding(dtype, rng)) for _ in range(replays)]
    if chain.elementwise:
        lanes = {"value": [np.ravel(o) for o, _, _ in runs], "grad": [g[0] for _, _, g in runs]}
    else:
        lanes = {"value": [v for _, v, _ in runs], "grad": [g[0] for _, _, g in runs]}
    if chain.params:
        lanes["grad_params"] = [np.concatenate([np.ravel(p) for p in g[1:]]) for _, _, g in runs]
    if elements is not None:
        lanes["value"] = [np.ravel(v)[elements] for v in lanes["value"]]
        lanes["grad"] = [np.ravel(g)[elements] for g in lanes["grad"]]
    return {quantity: spread(np.stack(rows), dtype) for quantity, rows in lanes.items()}


def replay_floor(run, dtype, replays: int = REPLAY_TRIALS, seed: int = 0) -> dict[str, Floor]:
    """The floor of each quantity of `run(noise) -> {quantity: np.longdouble array}`: its run
    with `noise=None` against `replays` runs with every rounding redone (`Rounding`)."""
    rng = np.random.default_rng(seed)
    runs = [run(None)] + [run(Rounding(dtype, rng)) for _ in range(replays)]
    return {q: spread(np.stack([np.ravel(r[q]) for r in runs]), dtype) for q in runs[0]}
