"""The op registry: one declarative record per primitive op, in the spirit of OpInfo.

Each `Op` carries everything the rest of the project needs to know about a primitive:
its numpy forward and vector-Jacobian product (the hand-written numpy backend and the
oracle), its mpmath function and partial derivatives (the exact reference used by
`validation`), the input interval on which it is finite and well-conditioned, the
interval its outputs fall in (used to build `random` chains that stay in-domain), and
the dotted name each framework spells it with.

`np_vjp(gy, *xs, y)` returns one gradient per input *at the broadcast shape*; reducing
it back to the input's shape is done once, by the caller (`unbroadcast`), not per op.

This is where a primitive is described, once: its record in the op table
(`bench.workloads.op_table`, which adds the dezero callable and the unit tests' samples) is
built from its `Op`. The module stays light (numpy, optional mpmath) because every backend
and chain imports it; the op table also loads dezero's functions and the optional frameworks.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

try:  # mpmath is only needed by the validation reference
    import mpmath as mp
except ImportError:  # pragma: no cover - the registry stays usable without it
    mp = None

Interval = tuple[float, float]
REALS: Interval = (-math.inf, math.inf)


@dataclass(frozen=True)
class Op:
    """One primitive op and every way the project evaluates or differentiates it."""

    name: str
    arity: int
    np_forward: Callable
    np_vjp: Callable
    mp_forward: Callable | None
    mp_derivative: Callable | None
    domain: Interval
    image: Callable[[float, float], Interval]
    spelling: Mapping[str, str] = field(default_factory=dict)
    elementwise: bool = True

    def spelled(self, backend: str) -> str:
        """The dotted name `backend` calls this op by (e.g. 'jax.numpy.multiply')."""
        try:
            return self.spelling[backend]
        except KeyError:
            raise KeyError(
                f"op {self.name!r} has no spelling for backend {backend!r}; "
                f"known: {sorted(self.spelling)}"
            ) from None


def unbroadcast(gx, shape):
    """Sum a gradient computed at the broadcast shape back down to an input's `shape`."""
    if np.shape(gx) == shape:
        return gx
    ndim_extra = np.ndim(gx) - len(shape)
    axes = tuple(range(ndim_extra)) + tuple(
        i + ndim_extra for i, n in enumerate(shape) if n == 1 and np.shape(gx)[i + ndim_extra] != 1
    )
    # asarray: a sum of an object array (mpmath numbers) to one element is that number
    return np.asarray(np.sum(gx, axis=axes)).reshape(shape)


def expand(gy, x_shape, axis=None, keepdims=False):
    """gy of a reduction (sum/max over `axis`) broadcast back to the input's shape."""
    if axis is not None and not keepdims:
        gy = np.expand_dims(gy, axis)
    return np.broadcast_to(gy, x_shape)


def sum_vjp(gy, x, y, axis=None, keepdims=False):
    """sum's vjp; the fuzzer sums over `axis` (with `keepdims`), the chains over everything."""
    return (expand(gy, np.shape(x), axis, keepdims),)


def matmul_vjp(gy, a, b, y):
    """matmul's vjp with numpy's 1-D operands: a vector on the left is a row, on the right a
    column, and that axis is dropped from the product (so from gy too)."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    gy2 = gy[..., None] if b.ndim == 1 else gy  # the column axis first: gy may be 0-d
    gy2 = gy2[..., None, :] if a.ndim == 1 else gy2
    ga = gy2 @ np.swapaxes(b2, -1, -2)
    gb = np.swapaxes(a2, -1, -2) @ gy2
    return (ga[..., 0, :] if a.ndim == 1 else ga), (gb[..., 0] if b.ndim == 1 else gb)


def _monotone_up(f):
    return lambda lo, hi: (f(lo), f(hi))


def _square_image(lo, hi):
    if lo >= 0:
        return lo * lo, hi * hi
    if hi <= 0:
        return hi * hi, lo * lo
    return 0.0, max(lo * lo, hi * hi)


def _sin_image(lo, hi, phase=0.0):
    # sin(x + phase) reaches +1 at pi/2 + 2k*pi and -1 at -pi/2 + 2k*pi; the image of
    # [lo, hi] is the endpoint values widened to any extremum the interval contains.
    def contains_peak(at):
        return math.ceil((lo + phase - at) / (2 * math.pi)) <= math.floor(
            (hi + phase - at) / (2 * math.pi)
        )

    ends = (math.sin(lo + phase), math.sin(hi + phase))
    top = 1.0 if contains_peak(math.pi / 2) else max(ends)
    bottom = -1.0 if contains_peak(-math.pi / 2) else min(ends)
    return bottom, top


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _product_image(lo, hi):
    corners = (lo * lo, lo * hi, hi * hi)
    return min(corners), max(corners)


def _spell(name, **overrides):
    """Default spellings follow the op name; `overrides` fixes the frameworks that differ."""
    spelling = {
        "dezero": f"dezero.functions.{name}",
        "torch": f"torch.{name}",
        "jax": f"jax.numpy.{name}",
        "autograd": f"autograd.numpy.{name}",
        "tensorflow": f"tensorflow.math.{name}",
        "paddle": f"paddle.{name}",
        "mygrad": f"mygrad.{name}",
        "tinygrad": f"tinygrad.Tensor.{name}",
    }
    spelling.update(overrides)
    return spelling


def _mp(fname):
    # Resolved at call time so the registry imports without mpmath installed.
    return lambda *xs: getattr(mp, fname)(*xs)


_NEG = {
    "jax": "jax.numpy.negative",
    "autograd": "autograd.numpy.negative",
    "tensorflow": "tensorflow.math.negative",
    "mygrad": "mygrad.negative",
}
_MUL = {
    "jax": "jax.numpy.multiply",
    "autograd": "autograd.numpy.multiply",
    "tensorflow": "tensorflow.math.multiply",
    "paddle": "paddle.multiply",
    "mygrad": "mygrad.multiply",
}
_SIGMOID = {
    "jax": "jax.nn.sigmoid",
    "autograd": "autograd.scipy.special.expit",
    "paddle": "paddle.nn.functional.sigmoid",
    "mygrad": "mygrad.nnet.activations.sigmoid",
}

# Domains are where the op is finite and its relative condition number stays modest:
# exp's is |x| (so |x| <= 30), sin/cos need exact argument reduction (|x| <= 100),
# sigmoid's grows like |x| for negative x, log is kept away from 0 and overflowed inputs.
# square is well-conditioned everywhere, but its domain starts at 1: below 1, repeated
# squaring in a `random` chain collapses to denormals and then 0 (slow and meaningless).
# fmt: off
OPS: dict[str, Op] = {op.name: op for op in (
    #  name  arity np_forward  np_vjp(gy, *xs, y)
    #  mp_forward  mp_derivative  domain  image  spelling
    Op("square", 1, np.square, lambda gy, x, y: (2 * x * gy,),
       lambda x: x * x, lambda x: (2 * x,),
       (1.0, 1e4), _square_image, _spell("square")),
    Op("exp", 1, np.exp, lambda gy, x, y: (gy * y,),
       _mp("exp"), lambda x: (mp.exp(x),),
       (-30.0, 30.0), _monotone_up(math.exp), _spell("exp")),
    Op("log", 1, np.log, lambda gy, x, y: (gy / x,),
       _mp("log"), lambda x: (1 / x,),
       (1e-3, 1e8), _monotone_up(math.log), _spell("log")),
    Op("sin", 1, np.sin, lambda gy, x, y: (gy * np.cos(x),),
       _mp("sin"), lambda x: (mp.cos(x),),
       (-100.0, 100.0), _sin_image, _spell("sin")),
    Op("cos", 1, np.cos, lambda gy, x, y: (-gy * np.sin(x),),
       _mp("cos"), lambda x: (-mp.sin(x),),
       (-100.0, 100.0), lambda lo, hi: _sin_image(lo, hi, math.pi / 2), _spell("cos")),
    Op("tanh", 1, np.tanh, lambda gy, x, y: (gy * (1 - y * y),),
       _mp("tanh"), lambda x: (mp.sech(x) ** 2,),
       REALS, _monotone_up(math.tanh), _spell("tanh")),
    Op("sigmoid", 1, _sigmoid, lambda gy, x, y: (gy * y * (1 - y),),
       lambda x: 1 / (1 + mp.exp(-x)), lambda x: (mp.exp(-x) / (1 + mp.exp(-x)) ** 2,),
       (-40.0, 40.0), _monotone_up(lambda v: 1 / (1 + math.exp(-v))),
       _spell("sigmoid", **_SIGMOID)),
    Op("neg", 1, np.negative, lambda gy, x, y: (-gy,),
       lambda x: -x, lambda x: (-1,),
       REALS, lambda lo, hi: (-hi, -lo), _spell("neg", **_NEG)),
    Op("add", 2, np.add, lambda gy, x0, x1, y: (gy, gy),
       lambda x0, x1: x0 + x1, lambda x0, x1: (1, 1),
       REALS, lambda lo, hi: (2 * lo, 2 * hi), _spell("add")),
    Op("mul", 2, np.multiply, lambda gy, x0, x1, y: (gy * x1, gy * x0),
       lambda x0, x1: x0 * x1, lambda x0, x1: (x1, x0),
       REALS, _product_image, _spell("mul", **_MUL)),
    Op("matmul", 2, np.matmul, matmul_vjp,
       None, None, REALS, lambda lo, hi: REALS,
       _spell("matmul", tensorflow="tensorflow.linalg.matmul"), elementwise=False),
    Op("sum", 1, np.sum, sum_vjp,
       None, None, REALS, lambda lo, hi: REALS,
       _spell("sum", tensorflow="tensorflow.math.reduce_sum"), elementwise=False),
)}
# fmt: on

UNARY_ELEMENTWISE: tuple[Op, ...] = tuple(
    op for op in OPS.values() if op.arity == 1 and op.elementwise
)
