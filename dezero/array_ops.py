"""numpy twins of the dezero.functions that derivatives use.

The fast backward sweep hands this module to each `vjp` as its op namespace, so a
derivative written once (`gy * m.cos(x)`) runs on raw ndarrays without building a graph.
Only the names some `vjp` needs live here, with the two shape helpers of broadcasting and
reductions (`sum_to`, `keepdims_shape`) that the sweep and the Functions share. Everything
here takes and returns ndarrays: a Variable reaching this module is a vjp calling a
function directly instead of through its namespace `m`.
"""

import math

import numpy as np

__all__ = [
    "broadcast_to",
    "cos",
    "einsum",
    "exp",
    "exp_neg_is_finite",
    "get_item",
    "get_item_grad",
    "is_basic_index",
    "keepdims_shape",
    "log",
    "logsumexp",
    "matmul",
    "reshape",
    "sigmoid",
    "sin",
    "softmax",
    "sum",
    "sum_to",
    "transpose",
    "tril",
    "triu",
    "where",
]

sin = np.sin
cos = np.cos
exp = np.exp
log = np.log
matmul = np.matmul
einsum = np.einsum
where = np.where
tril = np.tril
triu = np.triu


# exp(-x) is finite for x above -limit: margin of 1 below log(max) so rounding never overflows.
_EXP_NEG_LIMIT = {
    np.dtype(t): float(np.log(np.finfo(t).max)) - 1 for t in (np.float16, np.float32, np.float64)
}


def exp_neg_is_finite(x):
    """True when exp(-x) cannot overflow anywhere in x: then 1 / (1 + exp(-x)) is exact to a
    few roundings for every x, and costs half the passes of the stable form (np.sign alone,
    a scalar loop, was a fifth of a spiral training step). One min-reduction decides."""
    limit = _EXP_NEG_LIMIT.get(x.dtype) if type(x) is np.ndarray else None
    return limit is not None and x.size > 0 and np.minimum.reduce(x, axis=None) >= -limit  # NaN: no


def sigmoid(x):
    """1 / (1 + e^-x). Where some x is so negative that e^-x would overflow, the stable form:
    e = exp(-|x|) never overflows, and the numerator is 1 for x >= 0, e for x < 0. As e
    lies in (0, 1], max(e, sign(x)) is that numerator (NaN stays NaN; x = 0 gives 1 = e)."""
    if exp_neg_is_finite(x):
        return 1 / (1 + np.exp(-x))
    e = np.exp(-np.abs(x))
    return np.maximum(e, np.sign(x)) / (1 + e)


def sigmoid_pair(x):
    """(sigmoid(x), sigmoid(-x)), the first bitwise as `sigmoid` computes it, sharing one exp."""
    if exp_neg_is_finite(x):
        e = np.exp(-x)
        d = 1 + e
        return 1 / d, e / d
    e = np.exp(-np.abs(x))
    d = 1 + e
    sign = np.sign(x)
    return np.maximum(e, sign) / d, np.maximum(e, -sign) / d


def sum_to(x, shape):
    """Sum `x` down to `shape`: the adjoint of broadcasting `shape` up to x.shape."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    lead_axes = tuple(range(lead))
    axes = tuple(i + lead for i, sx in enumerate(shape) if sx == 1)
    y = x.sum(lead_axes + axes, keepdims=True)
    if lead > 0:
        y = y.squeeze(lead_axes)
    return y


def keepdims_shape(x_shape, axis):
    """Shape a reduction over `axis` keeps with keepdims=True, so its gradient broadcasts back."""
    ndim = len(x_shape)
    if axis is None:
        return (1,) * ndim
    axes = {a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else s for i, s in enumerate(x_shape))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over `axis`, shifted by the maximum so no exp overflows. A slice whose
    maximum is infinite is shifted by 0 instead: its result is that infinity (or NaN), not
    inf - inf. LogSoftmax's forward and F.logsumexp share this one definition."""
    x_max = np.maximum.reduce(x, axis=axis, keepdims=True)
    if np.isfinite(x_max).all():
        y = x_max + np.log(np.add.reduce(np.exp(x - x_max), axis=axis, keepdims=True))
    else:
        x_max = np.where(np.isfinite(x_max), x_max, 0)
        with np.errstate(divide="ignore"):  # an all -inf slice sums to 0: log gives -inf
            y = x_max + np.log(np.add.reduce(np.exp(x - x_max), axis=axis, keepdims=True))
    return y if keepdims else np.squeeze(y, axis)


def reshape(x, shape):
    return np.reshape(x, shape)


def transpose(x, axes=None):
    return np.transpose(x, axes)


def broadcast_to(x, shape):
    if type(x) is np.ndarray and x.shape == shape:
        # what np.broadcast_to gives here (a read-only view of x), without its Python-level
        # checks: ~8x cheaper, and sum's backward of a scalar loss lands here on every call
        view = x.view()
        view.setflags(write=False)
        return view
    return np.broadcast_to(x, shape)


def sum(x, axis=None, keepdims=False):
    # np.sum's reduction, minus its Python wrapper (dtypes and results are the same).
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


def softmax(x, axis=1):
    y = np.exp(x - x.max(axis=axis, keepdims=True))
    return y / y.sum(axis=axis, keepdims=True)


def get_item(x, slices):
    return x[slices]


def get_item_grad(gy, slices, in_shape):
    """The adjoint of `x[slices]`: gy scattered into zeros of x's shape. A basic index
    (ints, slices, Ellipsis, None) reads each element at most once, so an assignment does
    it (~20x faster than np.add.at at 10**4 elements); an integer or boolean array index
    can repeat elements, whose gradients np.add.at sums (np.bincount for a gather)."""
    if gy.dtype == np.float64 and type(gy) is np.ndarray:
        axis = _gather_axis(slices)
        if axis is not None and axis < len(in_shape):
            index = slices if axis == 0 and type(slices) is np.ndarray else slices[axis]
            return _gather_grad(gy, axis, index, in_shape)
    gx = np.zeros(in_shape, dtype=gy.dtype)
    if is_basic_index(slices):
        gx[slices] = gy
    else:
        np.add.at(gx, slices, gy)
    return gx


_FULL = slice(None)


def _gather_axis(slices):
    """The axis of a gather `x[:, ..., :, index]` (full slices, then one integer array),
    or None for any other index."""
    if type(slices) is np.ndarray:
        return 0 if slices.dtype.kind == "i" else None
    if type(slices) is not tuple or not slices:
        return None
    *lead, index = slices
    if type(index) is not np.ndarray or index.dtype.kind != "i":
        return None
    for s in lead:
        if type(s) is not slice or s != _FULL:
            return None
    return len(lead)


def _gather_grad(gy, axis, index, in_shape):
    """The adjoint of a gather along `axis` by np.bincount: 3-8x faster than np.add.at.
    Each element of gy goes to the flat position it was read from; bincount sums each bin
    in double precision in that C order, the order np.add.at adds in, so float64
    gradients are the same bits."""
    n = in_shape[axis]
    if index.size and index.min() < 0:
        index = np.where(index < 0, index + n, index)
    lead = math.prod(in_shape[:axis])
    trail = math.prod(in_shape[axis + 1 :])
    if lead != 1:  # the rows before the gathered axis
        index = np.arange(lead).reshape((lead,) + (1,) * index.ndim) * n + index
    if trail != 1:  # the elements after it
        index = index[..., None] * trail + np.arange(trail)
    weights = gy.reshape(-1)
    return np.bincount(index.reshape(-1), weights, minlength=lead * n * trail).reshape(in_shape)


_BASIC_INDEX_TYPES = (int, np.integer, slice, type(Ellipsis), type(None))


def is_basic_index(slices):
    """Whether numpy's basic indexing takes `slices` (no element is read twice). bool is an
    int to Python but an array mask to numpy, so it is not basic."""
    items = slices if type(slices) is tuple else (slices,)
    for s in items:
        if type(s) is bool or not isinstance(s, _BASIC_INDEX_TYPES):
            return False
    return True
