"""mpmath dual numbers: forward-mode AD through the op registry's `mp_forward` and
`mp_derivative` at `bits` of precision, exact to far below one ULP of float64.

A chain is written once as a function of an op namespace (`bench.chains.Chain.apply`), so
this reference is one more namespace (`DualOps`) over `Dual` numbers.
"""

from __future__ import annotations

import mpmath
import numpy as np

from bench.workloads.chains import Chain
from bench.workloads.ops import OPS

DEFAULT_BITS = 200


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
