"""The exact-enough reference for fuzz programs: the longdouble tape over the op table's rules.

The rules are the op table's records that carry a `vjp` (`bench.workloads.op_table`): their numpy
reference and vjp, written for any numpy dtype, complex included, so the one tape
(`validation.reference.tape.Tape`) gives:

* value and gradients at np.longdouble (64-bit mantissa: 11 bits beyond float64);
* the Hessian-vector product by the complex step: the gradient at x + i*h*v, with h tiny,
  has imaginary part h * H v up to O(h^2), with no cancellation, so H v comes out as
  accurate as the gradient itself. Masks (relu, clip, max) are taken on the real part;
* the rounding floor (`validation.reference.floor`), every op's output and every gradient
  term rounded half a float64 ULP differently.

It is deliberately independent of every backend it checks (dezero, torch, jax, autograd);
the `numpy` fuzz backend runs this same tape at float64, so it checks float64 rounding
only, not the vjps.
"""

from __future__ import annotations

import numpy as np

from bench.workloads.op_table import OPS
from validation.fuzz.programs import OP_NAMES, evaluate, input_arrays
from validation.reference.floor import REPLAY_TRIALS, Rounding, spread
from validation.reference.tape import Tape

COMPLEX_STEP = 1e-100


def fuzz_name(record_name: str) -> str:
    """The fuzzer's op name for an op-table record: the function's name, without the sample's
    suffix ("einsum-ij,jk->ik" is the fuzzer's "einsum", its spec an attribute)."""
    return record_name.partition("-")[0]


# name -> (forward(*xs, **attrs), vjp(gy, *xs, y, **attrs) at the broadcast shape)
RULES = {fuzz_name(r.name): (r.ref, r.vjp) for r in OPS if r.vjp is not None}
assert len(RULES) == sum(r.vjp is not None for r in OPS), "two records give one fuzz op a vjp"
assert set(OP_NAMES) <= set(RULES), sorted(set(OP_NAMES) - set(RULES))


def tape_value_and_grads(program: dict, arrays, noise=None):
    """(objective, [gradient per input]) of `program` at `arrays` on a fresh tape; `noise`
    (a `Rounding`) rounds forward results and gradient terms alike."""
    tape = Tape(RULES, noise, round_backward=True)
    leaves = [tape.leaf(a) for a in arrays]
    out = evaluate(program, tape.ops, leaves)
    return out.value[()], tape.grads(out, leaves)


def reference(program: dict, direction=None) -> dict:
    """The longdouble reference: value, grads and, given `direction` (one array per input),
    the Hessian-vector product `hvp` by the complex step. Inputs are the program's float64
    values, so every backend is compared at exactly the point it computed at."""
    arrays = input_arrays(program, np.longdouble)
    value, grads = tape_value_and_grads(program, arrays)
    ref = {"value": value, "grads": grads}
    if direction is not None:
        h, stepped = _stepped(arrays, direction)
        _, cgrads = tape_value_and_grads(program, stepped)
        ref["hvp"] = [g.imag / h for g in cgrads]
    return ref


def _named(prefix, arrays) -> dict:
    return {f"{prefix}{i}": a for i, a in enumerate(arrays)}


def _stepped(arrays, direction):
    h = np.longdouble(COMPLEX_STEP)
    return h, [
        (a + 1j * h * np.asarray(v, np.longdouble)).astype(np.clongdouble)
        for a, v in zip(arrays, direction, strict=True)
    ]


def rounding_floor(program: dict, ref: dict, direction=None, seed: int = 0) -> tuple:
    """The program's rounding floor (`validation.reference.floor`) in float64, over
    REPLAY_TRIALS replays of the tape (and of its complex step, given `direction`).

    Returns `(ulps, absolute)`: {"value": f, "grad0": f, ..., "hvp0": f, ...} in normwise
    ULPs of float64 (NaN where the exact quantity underflows), and the same as absolute
    moves (the only measure where the exact quantity is 0: the gradient of sum(softmax(x))).
    """
    arrays = input_arrays(program, np.longdouble)
    rounding = Rounding(np.float64, np.random.default_rng(seed))
    exact = {"value": ref["value"], **_named("grad", ref["grads"])}
    if direction is not None:
        exact |= _named("hvp", ref["hvp"])
        h, stepped = _stepped(arrays, direction)
    runs = []
    for _ in range(REPLAY_TRIALS):
        value, grads = tape_value_and_grads(program, arrays, rounding)
        runs.append({"value": value, **_named("grad", grads)})
        if direction is not None:
            _, cgrads = tape_value_and_grads(program, stepped, rounding)
            runs[-1] |= _named("hvp", [g.imag / h for g in cgrads])
    floors = {
        key: spread(np.stack([want, *(run[key] for run in runs)]), np.float64)
        for key, want in exact.items()
    }
    return {k: f.norm_ulp for k, f in floors.items()}, {k: f.abs for k, f in floors.items()}
