"""Exact-enough references for every chain: mpmath dual numbers and a numpy longdouble tape.

A chain is written once as a function of an op namespace (`bench.chains.Chain.apply`), so the
reference is just two more namespaces:

* `DualOps` carries (value, derivative) through the registry's `mp_forward`/`mp_derivative`
  in mpmath at `bits` of precision: forward-mode AD, exact to far below one ULP of float64.
* `LongdoubleTape` records the registry's `np_forward` at `np.longdouble` and replays it
  through `np_vjp`: reverse mode with a 64-bit mantissa (x86), for `mlp`, where mpmath
  matmuls would be far too slow. It is the reference's own tape, deliberately plain and not
  shared with the numpy backend (`bench.backends.numpy_tape`): a speed change to a backend
  must not be able to change what that backend is checked against.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace

import mpmath
import numpy as np

from bench.workloads.chains import Chain, make_chain
from bench.workloads.ops import OPS, unbroadcast
from validation.metrics import normwise_ulp

DEFAULT_BITS = 200
# Elementwise chains wider than this are checked on an evenly spaced subsample of elements:
# mpmath costs tens of microseconds per op, so depth 10^4 x width 10^3 would take minutes.
MAX_MPMATH_ELEMENTS = 8
LONGDOUBLE_BITS = np.finfo(np.longdouble).nmant + 1


class Dual:
    """A value and its derivative with respect to the chain's input, both mpmath numbers."""

    __slots__ = ("value", "deriv")

    def __init__(self, value, deriv):
        self.value = value
        self.deriv = deriv

    def __repr__(self):
        return f"Dual({mpmath.nstr(self.value, 20)}, {mpmath.nstr(self.deriv, 20)})"


def _lift(x) -> Dual:
    # Constants a chain passes to a binary op (a Python or numpy scalar) have derivative 0.
    if type(x) is Dual:
        return x
    if np.ndim(x) != 0:
        raise TypeError(f"dual reference handles scalars only, got an array of shape {np.shape(x)}")
    return Dual(mpmath.mpf(float(x)), mpmath.mpf(0))


def _dual_op(op):
    if op.mp_forward is None or op.mp_derivative is None:
        if op.name == "sum":
            # sum over a scalar is the identity: width-1 chains may still end in ops.sum.
            return lambda x: _lift(x)
        return _no_dual(op.name)
    forward, derivative = op.mp_forward, op.mp_derivative

    def apply(*xs):
        xs = [_lift(x) for x in xs]
        values = [x.value for x in xs]
        partials = derivative(*values)
        deriv = mpmath.fsum(p * x.deriv for p, x in zip(partials, xs, strict=True))
        return Dual(forward(*values), deriv)

    apply.__name__ = op.name
    return apply


def _no_dual(name):
    def fail(*xs):
        raise TypeError(f"op {name!r} has no mpmath form; use the longdouble reference")

    return fail


class _CosSin:
    """mpmath.cos_sin of the last argument: a rotation asks cos and sin of the same angle
    (and each one's derivative needs the other), so one call serves all four."""

    __slots__ = ("arg", "pair")

    def __init__(self):
        self.arg, self.pair = None, None

    def __call__(self, x):
        if x is not self.arg:
            self.arg, self.pair = x, mpmath.cos_sin(x)
        return self.pair


def _fast_duals() -> dict:
    """Dual forms of the common ops that evaluate each transcendental once (the registry's
    generic form calls exp twice for exp, sech for tanh...). Deep references spend all their
    time here; `validation/test_depth_families.py` checks each against the generic form."""
    cos_sin = _CosSin()

    def exp(a):
        y = mpmath.exp(a.value)
        return Dual(y, y * a.deriv)

    def log(a):
        return Dual(mpmath.log(a.value), a.deriv / a.value)

    def sin(a):
        c, s = cos_sin(a.value)
        return Dual(s, c * a.deriv)

    def cos(a):
        c, s = cos_sin(a.value)
        return Dual(c, -s * a.deriv)

    def tanh(a):
        y = mpmath.tanh(a.value)
        return Dual(y, (1 - y * y) * a.deriv)

    def sigmoid(a):
        y = 1 / (1 + mpmath.exp(-a.value))
        return Dual(y, y * (1 - y) * a.deriv)

    def square(a):
        return Dual(a.value * a.value, 2 * a.value * a.deriv)

    def neg(a):
        return Dual(-a.value, -a.deriv)

    def add(a, b):
        a, b = _lift(a), _lift(b)
        return Dual(a.value + b.value, a.deriv + b.deriv)

    def mul(a, b):
        a, b = _lift(a), _lift(b)
        return Dual(a.value * b.value, a.value * b.deriv + b.value * a.deriv)

    return {f.__name__: f for f in (exp, log, sin, cos, tanh, sigmoid, square, neg, add, mul)}


class DualOps:
    """Op namespace over `Dual` numbers, built from the registry (one attribute per op);
    `fast` replaces the common ops by forms that evaluate each function once."""

    def __init__(self, fast: bool = True):
        for name, op in OPS.items():
            setattr(self, name, _dual_op(op))
        if fast:
            for name, apply in _fast_duals().items():
                setattr(self, name, apply)


DUAL_OPS = DualOps()


def mp_to_longdouble(v) -> np.longdouble:
    """Round an mpmath number to np.longdouble (double-double mantissa, full exponent range)."""
    if not mpmath.isfinite(v):
        return np.longdouble(float(v))
    if v == 0:
        return np.longdouble(0.0)
    # frexp first: float(v) alone would flush magnitudes below 1e-308 that longdouble can hold.
    m, e = mpmath.frexp(v)
    hi = float(m)
    lo = float(mpmath.fsub(m, hi, exact=True))
    # Clamped so ldexp's int32 exponent holds it; beyond +-20000 longdouble gives 0 or inf.
    e = min(max(int(e), -20_000), 20_000)
    return np.ldexp(np.longdouble(hi) + np.longdouble(lo), e)


def dual_scalar(chain: Chain, x0: float, bits: int = DEFAULT_BITS) -> tuple:
    """Value and derivative of the chain's output at scalar x0, in mpmath at `bits` bits."""
    with mpmath.workprec(bits):
        out = chain.apply(DUAL_OPS, Dual(mpmath.mpf(float(x0)), mpmath.mpf(1)))
        out = _lift(out)
        return +out.value, +out.deriv


class _Value:
    """A value on the reference tape; `slot` indexes its gradient in the reverse sweep."""

    __slots__ = ("value", "slot")

    def __init__(self, value, slot):
        self.value = value
        self.slot = slot


class LongdoubleTape:
    """Records every op call of one forward pass at np.longdouble; `grads` replays them.

    `noise` is None, or (rng, u) to scale every op's output by (1 + u * U(-1, 1)), mimicking
    a different but equally correct rounding of each op (see `rounding_sensitivity`).
    """

    def __init__(self, noise=None):
        self.records = []  # (op, input values, output value), in call order
        self.size = 0
        self.noise = noise

    @property
    def ops(self) -> SimpleNamespace:
        """The op namespace that records onto this tape."""
        return SimpleNamespace(**{name: partial(self.call, op) for name, op in OPS.items()})

    def leaf(self, value) -> _Value:
        node = _Value(np.asarray(value, dtype=np.longdouble), self.size)
        self.size += 1
        return node

    def call(self, op, *args: _Value) -> _Value:
        node = self.leaf(op.np_forward(*[a.value for a in args]))
        if self.noise is not None:
            rng, u = self.noise
            node.value = node.value * (1 + u * rng.uniform(-1, 1, np.shape(node.value)))
        self.records.append((op, args, node))
        return node

    def grads(self, out: _Value, leaves) -> tuple:
        """d out / d leaf for each leaf, by one reverse pass over the records (no recursion)."""
        grads = [None] * self.size
        grads[out.slot] = np.ones_like(out.value)
        for op, args, node in reversed(self.records):
            gy = grads[node.slot]
            if gy is None:
                continue
            gxs = op.np_vjp(gy, *[a.value for a in args], node.value)
            for a, gx in zip(args, gxs, strict=True):
                gx = unbroadcast(gx, np.shape(a.value))
                grads[a.slot] = gx if grads[a.slot] is None else grads[a.slot] + gx
        return tuple(
            np.zeros_like(leaf.value) if grads[leaf.slot] is None else grads[leaf.slot]
            for leaf in leaves
        )


@dataclass(frozen=True)
class Reference:
    """Reference objective value and gradients, as np.longdouble arrays.

    `value` is sum(output); `grads` are d/dx then one per param. For elementwise chains
    checked on a subsample, `elements` holds the flat indices of x the grad covers, `grads[0]`
    has only those entries, and `outputs` holds the per-element outputs (value is then NaN).
    """

    kind: str
    bits: int
    value: np.longdouble
    grads: tuple
    elements: np.ndarray | None = None
    outputs: np.ndarray | None = None


def _tape_value_and_grads(chain: Chain, dtype, noise=None):
    tape = LongdoubleTape(noise)
    leaves = [tape.leaf(np.asarray(a, dtype=dtype)) for a in (chain.x, *chain.params)]
    out = tape.call(OPS["sum"], chain.apply(tape.ops, *leaves))
    return out.value[()], tape.grads(out, leaves)


def longdouble_reference(chain: Chain, dtype) -> Reference:
    """Reverse mode over the registry's numpy functions at np.longdouble (for `mlp`)."""
    value, grads = _tape_value_and_grads(chain, dtype)
    return Reference("longdouble", LONGDOUBLE_BITS, value, grads)


def rounding_sensitivity(chain: Chain, dtype, trials: int = 4, seed: int = 0) -> np.ndarray:
    """How far d/dx moves (elementwise, in ULPs of `dtype`) when every op's output is off by up
    to half a ULP of `dtype`: the error any correct engine may make on this chain.

    Ill-conditioned chains (tanh near saturation, whose derivative 1 - y**2 cancels; sin of
    an argument near a zero of cos) have sensitivities far above their op count.
    """
    _, (grad, *_) = _tape_value_and_grads(chain, dtype)
    u = np.longdouble(np.finfo(dtype).eps) / 2
    rng = np.random.default_rng(seed)
    worst = np.zeros(np.shape(grad), dtype=np.longdouble)
    for _ in range(trials):
        _, (noisy, *_) = _tape_value_and_grads(chain, dtype, (rng, u))
        worst = np.maximum(worst, np.abs(noisy - grad))
    spacing = np.spacing(np.abs(grad.astype(dtype))).astype(np.longdouble)
    return (worst / spacing).astype(np.float64)


def dual_reference(chain: Chain, dtype, bits: int = DEFAULT_BITS) -> Reference:
    """mpmath forward-mode reference for an elementwise chain, at x rounded to `dtype`."""
    if not chain.elementwise:
        raise ValueError(f"dual reference needs an elementwise chain, got family {chain.family!r}")
    x = np.asarray(chain.x, dtype=dtype).ravel()
    if x.size <= MAX_MPMATH_ELEMENTS:
        elements = np.arange(x.size)
    else:
        elements = np.unique(np.linspace(0, x.size - 1, MAX_MPMATH_ELEMENTS).round().astype(int))
    pairs = [dual_scalar(chain, float(x[i]), bits) for i in elements]
    outputs = np.array([mp_to_longdouble(v) for v, _ in pairs], dtype=np.longdouble)
    grad = np.array([mp_to_longdouble(d) for _, d in pairs], dtype=np.longdouble)
    if elements.size == x.size:
        with mpmath.workprec(bits):
            value = mp_to_longdouble(mpmath.fsum(v for v, _ in pairs))
        kind = "mpmath"
    else:
        value = np.longdouble(np.nan)
        kind = f"mpmath {elements.size}/{x.size} elements"
    grad = grad.reshape(np.shape(chain.x)) if elements.size == x.size else grad
    return Reference(kind, bits, value, (grad,), elements, outputs)


@functools.lru_cache(maxsize=256)
def reference(family: str, depth: int, width: int, seed: int, dtype_name: str) -> Reference:
    """The reference for `make_chain(family, depth, width, seed)` with inputs rounded to dtype.

    Cached in-process: every backend of a sweep is compared against the same reference.
    """
    chain = make_chain(family, depth, width, seed=seed)
    dtype = np.dtype(dtype_name)
    if chain.elementwise:
        return dual_reference(chain, dtype)
    return longdouble_reference(chain, dtype)


def rounding_floor(chain: Chain, dtype, trials: int = 4, seed: int = 0) -> dict:
    """Rounding floor of each quantity the accuracy rows report ('value', 'grad',
    'grad_params') as (normwise ULPs of `dtype`, absolute): the largest move, over `trials`
    noisy tapes, of the outputs (or their sum) and of the gradients when every op's output is
    off by up to half an ULP; in ULPs of the largest element (NaN where the quantity underflows:
    then the absolute move is the measure, and can be far above the smallest normal when the
    chain is ill-conditioned enough)."""

    def run(noise):
        tape = LongdoubleTape(noise)
        leaves = [tape.leaf(np.asarray(a, dtype=dtype)) for a in (chain.x, *chain.params)]
        outputs = chain.apply(tape.ops, *leaves)
        out = tape.call(OPS["sum"], outputs)
        grads = tape.grads(out, leaves)
        params = np.concatenate([np.ravel(g) for g in grads[1:]]) if grads[1:] else None
        return {"value": (outputs.value, out.value), "grad": (grads[0],), "grad_params": (params,)}

    exact = run(None)
    rng = np.random.default_rng(seed)
    u = np.longdouble(np.finfo(dtype).eps) / 2
    floor = dict.fromkeys(exact, (0.0, 0.0))
    for _ in range(trials):
        noisy = run((rng, u))
        for quantity, arrays in exact.items():
            for want, got in zip(arrays, noisy[quantity], strict=True):
                if want is not None:
                    ulps, absolute = floor[quantity]
                    moved = normwise_ulp(got - want, want, dtype)
                    ulps = moved if np.isnan(moved) else max(ulps, moved)
                    absolute = max(absolute, float(np.max(np.abs(got - want), initial=0)))
                    floor[quantity] = (ulps, absolute)
    return floor


class _Tangent:
    """Values and tangents (d/dx) of one op's output, as np.longdouble arrays with one row
    per trial: row 0 exact at longdouble, rows 1.. with every op's output perturbed."""

    __slots__ = ("value", "deriv")

    def __init__(self, value, deriv):
        self.value = value
        self.deriv = deriv


class NoisyTangentOps:
    """Forward-mode op namespace at np.longdouble for elementwise chains, O(1) memory in depth.

    Every op's output in rows 1.. is scaled by (1 + u * U(-1, 1)) (a different but equally
    correct rounding, as in `rounding_sensitivity`), and tangents are carried exactly through
    the registry's `np_vjp` from those values: since an elementwise op's Jacobian is
    diagonal, its vjp applied to an input's tangent is that input's share of the jvp.
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


def _spread_in_ulps(lanes, dtype) -> float:
    """Largest distance of rows 1.. from row 0, in ULPs of `dtype` at row 0, over the
    elements whose row-0 value is a normal number of `dtype` (NaN when none is)."""
    exact = lanes[0]
    normal = np.abs(exact) >= np.finfo(dtype).smallest_normal
    normal &= np.abs(exact) <= np.finfo(dtype).max
    if not normal.any():
        return float("nan")
    spacing = np.spacing(np.abs(exact[normal].astype(dtype))).astype(np.longdouble)
    return float((np.abs(lanes[1:, normal] - exact[normal]) / spacing).max())


TAPE_TRIALS = 4
# The floor never goes below half an ULP: the final rounding to the dtype alone costs that.
MIN_FLOOR_ULP = 0.5


def rounding_floor_ulp(chain: Chain, dtype, elements=None, trials: int = 8, seed: int = 0) -> dict:
    """The error a correctly rounding engine is expected to reach on `chain` at `dtype`:
    {"value": ulps, "grad": ulps}, the worst over `elements` (flat indices of x; default all)
    of how far the output and d/dx move when every op's output is off by up to half an ULP
    (`trials` random roundings), and at least MIN_FLOOR_ULP. NaN where the exact quantity is
    not a normal number of `dtype` (no ULP figure exists there).

    Elementwise chains run forward mode over `trials + 1` rows at once, streaming (memory
    does not grow with depth); others replay the longdouble tape min(trials, TAPE_TRIALS)
    times.
    """
    rng = np.random.default_rng(seed)
    u = np.longdouble(np.finfo(dtype).eps) / 2
    if chain.elementwise:
        x = np.asarray(chain.x, dtype=dtype).ravel()
        x = x if elements is None else x[elements]
        x = np.broadcast_to(x.astype(np.longdouble), (trials + 1, x.size)).copy()
        out = chain.apply(NoisyTangentOps(u, rng), _Tangent(x, np.ones_like(x)))
        values, grads = out.value, out.deriv
    else:
        # NOTE: at most TAPE_TRIALS replays: each is a whole longdouble tape (mlp at depth
        # 10**4: ~3.5 s), where the streaming lanes above cost little per extra trial.
        runs = [_tape_value_and_grads(chain, dtype)]
        runs += [
            _tape_value_and_grads(chain, dtype, (rng, u)) for _ in range(min(trials, TAPE_TRIALS))
        ]
        values = np.stack([np.ravel(v) for v, _ in runs])
        grads = np.stack([np.ravel(g[0]) for _, g in runs])
    return {
        quantity: max(_spread_in_ulps(lanes, dtype), MIN_FLOOR_ULP)
        for quantity, lanes in (("value", values), ("grad", grads))
    }


@functools.lru_cache(maxsize=256)
def floor_ulp(family: str, depth: int, width: int, seed: int, dtype_name: str) -> dict:
    """`rounding_floor_ulp` of `make_chain(family, depth, width, seed)` on the elements its
    `reference` checks: {"value": ulps, "grad": ulps}. Cached like `reference`."""
    ref = reference(family, depth, width, seed, dtype_name)
    chain = make_chain(family, depth, width, seed=seed)
    return rounding_floor_ulp(chain, np.dtype(dtype_name), ref.elements)
