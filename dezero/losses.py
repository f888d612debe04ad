"""Activations and reductions over an axis (softmax, log_softmax, logsumexp) and losses,
re-exported by dezero.functions.

Each here is one Function (or needs only Variable's operators), so this module builds on
core alone; losses composed of other functions (binary_cross_entropy, ...) live in
dezero.functions with the functions they compose.
"""

import functools

import numpy as np

from dezero import array_ops
from dezero.core import Config, Function, Variable, array_of, as_array, as_variable


class Softmax(Function):
    __slots__ = ("axis",)

    def __init__(self, axis=1):
        self.axis = axis

    def forward(self, x):
        y = np.exp(x - x.max(axis=self.axis, keepdims=True))
        return y / y.sum(axis=self.axis, keepdims=True)

    def vjp(self, m, gy, x, y):
        gx = y * gy
        return gx - y * m.sum(gx, axis=self.axis, keepdims=True)


class LogSoftmax(Function):
    __slots__ = ("axis",)

    def __init__(self, axis=1):
        self.axis = axis

    def forward(self, x):
        return x - array_ops.logsumexp(x, self.axis, keepdims=True)

    def vjp(self, m, gy, x, y):
        return gy - m.exp(y) * m.sum(gy, axis=self.axis, keepdims=True)


class LogSumExp(Function):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return array_ops.logsumexp(x, self.axis, self.keepdims)

    def vjp(self, m, gy, x, y):
        # softmax(x) along the axis, from the output: exp(x - y) needs no second reduction.
        shape = array_ops.keepdims_shape(x.shape, self.axis)
        return m.exp(x - m.reshape(y, shape)) * m.reshape(gy, shape)


class MeanSquaredError(Function):
    __slots__ = ()

    def forward(self, x0, x1):
        diff = x0 - x1
        return (diff * diff).sum() / diff.size

    def vjp(self, m, gy, x0, x1, y):
        diff = x0 - x1
        gx0 = gy * diff * (2.0 / array_of(diff).size)
        return gx0, -gx0


class SoftmaxCrossEntropy(Function):
    """Mean over the batch of -log softmax(x)[t]; t holds integer class labels."""

    # Forward keeps softmax(x) and where the labels sit, which the fast sweep's gradient
    # softmax(x) - one_hot(t) needs: no second softmax, no one-hot matrix. `at` indexes
    # the flattened (N, C) array: one index array costs half of a (rows, labels) pair.
    __slots__ = ("p", "at")

    def forward(self, x, t):
        _check_labels(x, t)
        # The ufuncs' reduce is what ndarray.max/sum call, minus a Python wrapper each.
        x_max = np.maximum.reduce(x, axis=1, keepdims=True)
        e = np.exp(x - x_max)
        s = np.add.reduce(e, axis=1, keepdims=True)
        self.p = e / s  # as array_ops.softmax computes it
        self.at = _row_starts(*x.shape) + t.ravel().astype(np.intp, copy=False)  # uint64 too
        # Only the labels' log-probabilities x - logsumexp(x) are needed: gather, then subtract.
        log_p = x.take(self.at) - (x_max + np.log(s)).ravel()
        return -np.add.reduce(log_p) / len(x)  # a Python int keeps the sum's dtype

    def vjp(self, m, gy, x, t, y):
        n = len(x)
        if m is array_ops:
            gx = self.p.copy()
            gx.reshape(-1)[self.at] -= 1  # p is C-contiguous: reshape is a view
            gx *= gy / n
            return gx, None
        # create_graph: softmax must be a function of x, recorded for the second derivative.
        xd, td = array_of(x), array_of(t)
        one_hot = np.eye(xd.shape[1], dtype=xd.dtype)[td.ravel()]
        return (m.softmax(x, axis=1) - one_hot) * (gy / n), None


@functools.lru_cache(maxsize=8)
def _row_starts(rows, columns):
    """Flat index of each row's first element; read-only, shared by every call of one shape."""
    starts = np.arange(rows) * columns
    starts.flags.writeable = False
    return starts


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _check_labels(x, t):
    if x.ndim != 2 or t.size != x.shape[0] or t.dtype.kind not in "iu":
        raise ValueError(
            "softmax_cross_entropy expects x of shape (N, C) and N integer labels, "
            f"got x {x.shape} and t {t.shape} {t.dtype}"
        )
    # A negative label would silently index from the end and give a wrong loss. Viewed as
    # unsigned, a negative label is huge: one pass checks both ends.
    unsigned = t if t.dtype.kind == "u" else t.view(_UNSIGNED[t.dtype.itemsize])
    if t.size and np.maximum.reduce(unsigned, axis=None) >= x.shape[1]:
        raise ValueError(
            f"softmax_cross_entropy labels must lie in [0, {x.shape[1]}), "
            f"got labels from {t.min()} to {t.max()}"
        )


def softmax(x, axis=1):
    return Softmax(axis)(x)


def log_softmax(x, axis=1):
    return LogSoftmax(axis)(x)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x), axis)) without overflow; scipy.special.logsumexp's axis and keepdims."""
    return LogSumExp(axis, keepdims)(x)


def mean_squared_error(x0, x1):
    return MeanSquaredError()(x0, x1)


def softmax_cross_entropy(x, t):
    return SoftmaxCrossEntropy()(x, t)


def accuracy(y, t):
    """Fraction of rows whose argmax equals the label; not differentiable."""
    y, t = as_variable(y), as_variable(t)
    pred = y.data.argmax(axis=1).reshape(t.shape)
    return Variable(as_array((pred == t.data).mean()))


def dropout(x, dropout_ratio=0.5):
    """Inverted dropout while training; the identity under test_mode()."""
    x = as_variable(x)
    if not Config.train:
        return x
    mask = (np.random.rand(*x.shape) > dropout_ratio).astype(x.dtype)
    scale = np.asarray(1.0 - dropout_ratio, dtype=x.dtype)
    return x * mask / scale
