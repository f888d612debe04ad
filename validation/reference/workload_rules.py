"""The tape's rules for GradBench's evaluations: the array ops they are written with.

Each rule is `name -> (forward(*xs, **attrs), vjp(gy, *xs, y, **attrs))`, the shape
`validation.reference.tape.Tape` runs, written once for three kinds of array: np.longdouble
(the reference), np.clongdouble (a complex step over it, for second derivatives) and numpy
object arrays of mpmath numbers (the check of the reference at 40 digits). Arithmetic,
matmul, sums and indexing work on all three as numpy gives them; the transcendental functions
go through `_elementwise`, which calls mpmath on object arrays. Comparisons (min, max, the
shift of logsumexp) look at real parts only, so a complex step keeps the real run's choices.

Written from the derivatives' definitions, sharing no code with dezero or any backend.
"""

from __future__ import annotations

import mpmath
import numpy as np


def _elementwise(np_function, mp_function):
    def apply(x):
        x = np.asarray(x)
        if x.dtype == object:
            return np.vectorize(mp_function, otypes=[object])(x)
        return np_function(x)

    return apply


exp = _elementwise(np.exp, mpmath.exp)
log = _elementwise(np.log, mpmath.log)
sqrt = _elementwise(np.sqrt, mpmath.sqrt)
tanh = _elementwise(np.tanh, mpmath.tanh)
sin = _elementwise(np.sin, mpmath.sin)
cos = _elementwise(np.cos, mpmath.cos)
real = _elementwise(np.real, mpmath.re)
imag = _elementwise(np.imag, mpmath.im)


def sigmoid(x):
    return 1 / (1 + exp(-np.asarray(x)))


def _pick(x, axis, arg):
    """min or max of x along `axis` (None: all) by its real part, and the one-hot mask of
    the picked elements (the first one where several tie)."""
    flat = x.reshape(-1) if axis is None else x
    at = 0 if axis is None else axis
    index = np.expand_dims(arg(real(flat), axis=at), at)  # at full precision: no false ties
    mask = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(mask, index, True, axis=at)
    picked = np.take_along_axis(flat, index, axis=at)
    return np.squeeze(picked, at), mask.reshape(x.shape)


def _extreme_rule(arg):
    def forward(x, axis=None):
        return _pick(x, axis, arg)[0]

    def vjp(gy, x, y, axis=None):
        mask = _pick(x, axis, arg)[1]
        return (np.where(mask, _spread(gy, x.shape, axis), 0),)

    return forward, vjp


def _spread(gy, shape, axis):
    """gy of a reduction over `axis` broadcast back to the input's `shape`."""
    gy = np.asarray(gy)
    if axis is not None:
        gy = np.expand_dims(gy, axis)
    return np.broadcast_to(gy, shape)


def _logsumexp(x, axis=None):
    # the shift is any constant near the max (it cancels): a real float, so a complex step
    # and an mpmath run take the same one
    shift = np.max(real(x).astype(float), axis=axis, keepdims=True)
    y = log(np.sum(exp(x - shift), axis=axis, keepdims=True)) + shift
    return y.reshape(()) if axis is None else np.squeeze(y, axis)


def _logsumexp_vjp(gy, x, y, axis=None):
    return (_spread(gy, x.shape, axis) * exp(x - _spread(y, x.shape, axis)),)


def _matmul_vjp(gy, a, b, y):
    """Both factors' gradients, 1-D operands promoted as matmul promotes them (batch axes
    that broadcast are summed back by the tape)."""
    gy = np.asarray(gy)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    gy2 = gy[..., None] if b.ndim == 1 else gy
    gy2 = np.expand_dims(gy2, -2) if a.ndim == 1 else gy2
    ga = np.matmul(gy2, np.swapaxes(b2, -1, -2))
    gb = np.matmul(np.swapaxes(a2, -1, -2), gy2)
    return (ga[..., 0, :] if a.ndim == 1 else ga), (gb[..., 0] if b.ndim == 1 else gb)


def _concatenate_vjp(gy, *xs_and_y, axis=0):
    xs = xs_and_y[:-1]
    cuts = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return tuple(np.split(gy, cuts, axis=axis))


def _getitem_vjp(gy, x, y, index):
    gy = np.asarray(gy)  # a 0-d object array's arithmetic gives a bare mpmath number
    gx = np.zeros(x.shape, dtype=np.result_type(gy, x))
    if gx.dtype == object:
        gx[...] = 0
    np.add.at(gx, index, gy)
    return (gx,)


def _stack_vjp(gy, *xs_and_y, axis=0):
    return tuple(np.moveaxis(gy, axis, 0))


def _transpose_vjp(gy, x, y, axes=None):
    return (np.transpose(gy, None if axes is None else np.argsort(axes)),)


def _power(x, p):
    # repeated products: a complex power and an mpmath one both keep them exact to rounding
    y = x
    for _ in range(p - 1):
        y = y * x
    return y


def _pow_vjp(gy, x, y, p):
    return (gy * p * _power(x, p - 1) if p > 1 else gy,)


def _check_power(p):
    if not (isinstance(p, int) and p >= 1):
        raise ValueError(f"the workload reference raises to positive integer powers, got {p!r}")
    return p


WORKLOAD_RULES = {
    "add": (np.add, lambda gy, a, b, y: (gy, gy)),
    "sub": (np.subtract, lambda gy, a, b, y: (gy, -gy)),
    "mul": (np.multiply, lambda gy, a, b, y: (gy * b, gy * a)),
    "div": (np.divide, lambda gy, a, b, y: (gy / b, -gy * y / b)),
    "neg": (np.negative, lambda gy, x, y: (-gy,)),
    "pow": (lambda x, p: _power(x, _check_power(p)), _pow_vjp),
    "exp": (exp, lambda gy, x, y: (gy * y,)),
    "log": (log, lambda gy, x, y: (gy / x,)),
    "sqrt": (sqrt, lambda gy, x, y: (gy / (2 * y),)),
    "sin": (sin, lambda gy, x, y: (gy * cos(x),)),
    "cos": (cos, lambda gy, x, y: (-gy * sin(x),)),
    "tanh": (tanh, lambda gy, x, y: (gy * (1 - y * y),)),
    "sigmoid": (sigmoid, lambda gy, x, y: (gy * y * (1 - y),)),
    "matmul": (np.matmul, _matmul_vjp),
    "reshape": (
        lambda x, shape: np.reshape(x, shape),
        lambda gy, x, y, shape: (np.reshape(gy, x.shape),),
    ),
    "sum": (
        lambda x, axis=None: np.sum(x, axis=axis),
        lambda gy, x, y, axis=None: (_spread(gy, x.shape, axis),),
    ),
    "min": _extreme_rule(np.argmin),
    "max": _extreme_rule(np.argmax),
    "logsumexp": (_logsumexp, _logsumexp_vjp),
    "concatenate": (lambda *xs, axis=0: np.concatenate(xs, axis=axis), _concatenate_vjp),
    "getitem": (lambda x, index: x[index], _getitem_vjp),
    "stack": (lambda *xs, axis=0: np.stack(xs, axis=axis), _stack_vjp),
    "transpose": (lambda x, axes=None: np.transpose(x, axes), _transpose_vjp),
    # the condition is a constant: only the chosen branch's gradient flows
    "where": (np.where, lambda gy, c, a, b, y: (0 * gy, np.where(c, gy, 0), np.where(c, 0, gy))),
}
