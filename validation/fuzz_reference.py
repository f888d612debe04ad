"""The exact-enough reference for fuzz programs: a reverse-mode tape at np.longdouble.

Like `validation.reference.LongdoubleTape`, but over the fuzzed ops, which take attributes
(`axis`, `shape`, `index`...) that the chain registry's ops do not. Every vjp below is
written for any numpy dtype, complex included, so the same tape gives:

* value and gradients at np.longdouble (64-bit mantissa: 11 bits beyond float64);
* the Hessian-vector product by the complex step: the gradient at x + i*h*v, with h tiny,
  has imaginary part h * H v up to O(h^2), with no cancellation, so H v comes out as
  accurate as the gradient itself. Masks (relu, clip, max) are taken on the real part;
* the rounding floor: every op's output, forward and backward, scaled by (1 + u * U(-1, 1)),
  u half a float64 ULP, as `validation.reference.rounding_sensitivity` does for chains.

It is deliberately independent of every backend it checks (dezero, torch, jax, autograd);
the `numpy` fuzz backend runs this same tape at float64, so it checks float64 rounding
only, not the vjps.
"""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import numpy as np

from bench.workloads.ops import OPS, unbroadcast
from validation.fuzz_programs import OP_NAMES, evaluate, input_arrays

COMPLEX_STEP = 1e-100
FLOOR_TRIALS = 4


def _expand(gy, x_shape, axis, keepdims):
    """gy of a reduction (sum/max over `axis`) broadcast back to the input's shape."""
    if axis is not None and not keepdims:
        gy = np.expand_dims(gy, axis)
    return np.broadcast_to(gy, x_shape)


def _max_forward(x, axis=None, keepdims=False):
    # argmax on the real part, so the complex step follows the real computation's winner.
    flat, along = (x.reshape(-1), 0) if axis is None else (x, axis)
    where = np.expand_dims(np.argmax(flat.real, axis=along), along)
    y = np.take_along_axis(flat, where, axis=along)
    if axis is None:
        return y.reshape((1,) * x.ndim) if keepdims else y.reshape(())
    return y if keepdims else np.squeeze(y, axis)


def _max_vjp(gy, x, y, axis=None, keepdims=False):
    # no ties by construction (see validation.fuzz_programs), so one winner per slice
    winners = x.real == _expand(y.real, x.shape, axis, keepdims)
    return (_expand(gy, x.shape, axis, keepdims) * winners,)


def _softmax(x, axis):
    e = np.exp(x)  # inputs are within +-30 (see SOFTMAX_DOMAIN): no shift needed
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))


def _log_softmax_vjp(gy, x, y, axis):
    return (gy - np.exp(y) * np.sum(gy, axis=axis, keepdims=True),)


def _clip(x, lo, hi):
    return np.where(x.real < lo, lo, np.where(x.real > hi, hi, x))


def _get_item_vjp(gy, x, y, index):
    gx = np.zeros(x.shape, dtype=gy.dtype)
    np.add.at(gx, np.asarray(index), gy)  # repeated indices add up
    return (gx,)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name -> (forward(*xs, **attrs), vjp(gy, *xs, y, **attrs) at the broadcast shape)
# fmt: off
RULES = {
    "add": (np.add, lambda gy, a, b, y: (gy, gy)),
    "sub": (np.subtract, lambda gy, a, b, y: (gy, -gy)),
    "mul": (np.multiply, lambda gy, a, b, y: (gy * b, gy * a)),
    "div": (np.divide, lambda gy, a, b, y: (gy / b, -gy * a / (b * b))),
    "matmul": (np.matmul, OPS["matmul"].np_vjp),
    "sigmoid": (_sigmoid, OPS["sigmoid"].np_vjp),
    "relu": (lambda x: x * (x.real > 0), lambda gy, x, y: (gy * (x.real > 0),)),
    "clip": (_clip, lambda gy, x, y, lo, hi: (gy * ((x.real >= lo) & (x.real <= hi)),)),
    "sum": (lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
            lambda gy, x, y, axis=None, keepdims=False: (_expand(gy, x.shape, axis, keepdims),)),
    "max": (_max_forward, _max_vjp),
    "reshape": (lambda x, shape: np.reshape(x, shape),
                lambda gy, x, y, shape: (np.reshape(gy, x.shape),)),
    "transpose": (lambda x, axes: np.transpose(x, axes),
                  lambda gy, x, y, axes: (np.transpose(gy, np.argsort(axes)),)),
    "get_item": (lambda x, index: x[np.asarray(index)], _get_item_vjp),
    "softmax": (_softmax,
                lambda gy, x, y, axis: (y * (gy - np.sum(gy * y, axis=axis, keepdims=True)),)),
    "log_softmax": (_log_softmax, _log_softmax_vjp),
}
# fmt: on
for _name in ("neg", "sin", "cos", "tanh", "exp", "square", "log"):
    RULES[_name] = (OPS[_name].np_forward, OPS[_name].np_vjp)
assert set(OP_NAMES) <= set(RULES), sorted(set(OP_NAMES) - set(RULES))


class _Value:
    __slots__ = ("value", "slot")

    def __init__(self, value, slot):
        self.value, self.slot = value, slot


class FuzzTape:
    """Records one forward pass of a program at the leaves' dtype; `grads` replays it.

    `noise`: None, or (rng, u) to scale every op output and every vjp output by
    (1 + u * U(-1, 1)): backward rounding matters where gradient terms cancel (x / x).
    """

    def __init__(self, noise=None):
        self.records = []
        self.size = 0
        self.noise = noise

    @property
    def ops(self) -> SimpleNamespace:
        """The op namespace that records onto this tape."""
        return SimpleNamespace(**{name: partial(self.call, name) for name in RULES})

    def _rounded(self, value):
        if self.noise is None:
            return value
        rng, u = self.noise
        rounded = value.real * (1 + u * rng.uniform(-1, 1, np.shape(value)))
        if np.iscomplexobj(value):
            # the tangent (imaginary part) rounds on its own: a common real factor would
            # leave every phase, so log's imaginary part, exact
            rounded = rounded + 1j * value.imag * (1 + u * rng.uniform(-1, 1, np.shape(value)))
        return rounded

    def leaf(self, value) -> _Value:
        self.size += 1
        return _Value(np.asarray(value), self.size - 1)

    def call(self, name, *args, **attrs) -> _Value:
        forward, _ = RULES[name]
        node = self.leaf(self._rounded(forward(*[a.value for a in args], **attrs)))
        self.records.append((name, args, attrs, node))
        return node

    def grads(self, out: _Value, leaves) -> list:
        """d out / d leaf for each leaf: one reverse pass over the records, no recursion."""
        grads = [None] * self.size
        grads[out.slot] = np.ones_like(out.value)
        for name, args, attrs, node in reversed(self.records):
            gy = grads[node.slot]
            if gy is None:
                continue
            gxs = RULES[name][1](gy, *[a.value for a in args], node.value, **attrs)
            for a, gx in zip(args, gxs, strict=True):
                gx = self._rounded(unbroadcast(gx, np.shape(a.value)))
                grads[a.slot] = gx if grads[a.slot] is None else grads[a.slot] + gx
        return [
            np.zeros_like(leaf.value) if grads[leaf.slot] is None else grads[leaf.slot]
            for leaf in leaves
        ]


def tape_value_and_grads(program: dict, arrays, noise=None):
    """(objective, [gradient per input]) of `program` at `arrays` on a fresh `FuzzTape`."""
    tape = FuzzTape(noise)
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
    """How far each quantity moves when every op rounds differently (half a float64 ULP of
    noise per op output): the error a correct engine may make here.

    Returns `(ulps, absolute)`: {"value": f, "grad0": f, ..., "hvp0": f, ...} (hvp given
    `direction`) in normwise ULPs of float64, and the same as absolute deviations (the only
    measure where the exact quantity is 0: the gradient of sum(softmax(x))); the worst of
    FLOOR_TRIALS noisy runs.
    """
    arrays = input_arrays(program, np.longdouble)
    u = np.longdouble(np.finfo(np.float64).eps) / 2
    rng = np.random.default_rng(seed)
    exact = {"value": ref["value"], **_named("grad", ref["grads"])}
    if direction is not None:
        exact |= _named("hvp", ref["hvp"])
        h, stepped = _stepped(arrays, direction)
    worst = dict.fromkeys(exact, np.longdouble(0))
    for _ in range(FLOOR_TRIALS):
        value, grads = tape_value_and_grads(program, arrays, (rng, u))
        noisy = {"value": value, **_named("grad", grads)}
        if direction is not None:
            _, cgrads = tape_value_and_grads(program, stepped, (rng, u))
            noisy |= _named("hvp", [g.imag / h for g in cgrads])
        for key, want in exact.items():
            worst[key] = max(worst[key], np.max(np.abs(noisy[key] - want), initial=0))
    floor = {}
    for key, want in exact.items():
        scale = np.max(np.abs(np.asarray(want, dtype=np.float64)), initial=0)
        spacing = np.spacing(scale) if scale > 0 else np.finfo(np.float64).smallest_subnormal
        floor[key] = float(worst[key] / np.longdouble(spacing))
    return floor, {key: float(deviation) for key, deviation in worst.items()}
