"""dezero.functions (imported as F): one Function class and one lowercase wrapper per op.

Each `vjp(m, gy, *xs, y)` is written with the namespace `m`, so the same line serves the
fast sweep (numpy, `m = dezero.array_ops`) and `create_graph=True` (`m` = this module).
"""

import numpy as np

from dezero import array_ops
from dezero.arithmetic import add, div, mul, neg, pow, sub
from dezero.core import Function, Variable, array_of, as_variable, record_unary

# numpy-style functions beyond the book's, convolutions and the layers' helpers live in their
# own modules; F re-exports them.
from dezero.functions_array import concatenate, stack
from dezero.functions_conv import (  # noqa: F401
    average_pooling,
    col2im,
    conv2d,
    conv2d_grad_w,
    conv2d_simple,
    deconv2d,
    im2col,
    pooling,
    pooling_simple,
)
from dezero.functions_elementwise import abs, maximum, minimum, sqrt, where
from dezero.functions_linalg import _swap_last_two, einsum, matmul_vector_vjp, tril, triu
from dezero.functions_nn import (  # noqa: F401
    batch_norm,
    embed_id,
    softmax_cross_entropy_simple,
    softmax_simple,
)

# Activations over an axis and single-Function losses live in their own module; F re-exports them.
from dezero.losses import (
    accuracy,
    dropout,
    log_softmax,
    logsumexp,
    mean_squared_error,
    softmax,
    softmax_cross_entropy,
)

__all__ = [
    "abs",
    "accuracy",
    "add",
    "average",
    "binary_cross_entropy",
    "broadcast_to",
    "clip",
    "concatenate",
    "cos",
    "div",
    "dropout",
    "einsum",
    "exp",
    "expand_dims",
    "flatten",
    "get_item",
    "get_item_grad",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean_squared_error",
    "min",
    "minimum",
    "mul",
    "neg",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "sigmoid_cross_entropy",
    "sin",
    "softmax",
    "softmax_cross_entropy",
    "sqrt",
    "square",
    "stack",
    "sub",
    "sum",
    "sum_to",
    "tanh",
    "transpose",
    "tril",
    "triu",
    "where",
]


# =============================================================================
# Elementwise
# =============================================================================
class Square(Function):
    __slots__ = ()

    def forward(self, x):
        return x * x

    def vjp(self, m, gy, x, y):
        return 2 * x * gy


class Exp(Function):
    __slots__ = ()
    ufunc = np.exp

    def forward(self, x):
        return np.exp(x)

    def vjp(self, m, gy, x, y):
        return gy * y


class Log(Function):
    __slots__ = ()
    ufunc = np.log

    def forward(self, x):
        return np.log(x)

    def vjp(self, m, gy, x, y):
        return gy / x


class Sin(Function):
    __slots__ = ()
    ufunc = np.sin

    def forward(self, x):
        return np.sin(x)

    def vjp(self, m, gy, x, y):
        return gy * m.cos(x)


class Cos(Function):
    __slots__ = ()
    ufunc = np.cos

    def forward(self, x):
        return np.cos(x)

    def vjp(self, m, gy, x, y):
        return gy * -m.sin(x)


class Tanh(Function):
    __slots__ = ()
    ufunc = np.tanh

    def forward(self, x):
        return np.tanh(x)

    def vjp(self, m, gy, x, y):
        return gy * (1 - y * y)


class Sigmoid(Function):
    # `complement` = sigmoid(-x), which the derivative y (1 - y) needs: 1 - y computed by
    # subtraction loses all digits once y ~ 1. Forward has every piece of it already.
    __slots__ = ("complement",)

    def forward(self, x):
        y, self.complement = array_ops.sigmoid_pair(x)
        return y

    def vjp(self, m, gy, x, y):
        # The fast sweep reuses forward's sigmoid(-x); a recorded graph needs it as a
        # function of x (its second derivative), so under create_graph it is rebuilt, by
        # forward's own formula where forward took e^-x / (1 + e^-x): the same bits.
        if m is array_ops:
            complement = self.complement
        elif array_ops.exp_neg_is_finite(x.data):
            e = m.exp(-x)
            complement = e / (1 + e)
        else:
            complement = m.sigmoid(-x)
        return gy * y * complement


class ReLU(Function):
    __slots__ = ()

    def forward(self, x):
        return np.maximum(x, 0)

    def vjp(self, m, gy, x, y):
        xd = array_of(x)
        return gy * (xd > 0).astype(xd.dtype)


class LeakyReLU(Function):
    __slots__ = ("slope",)

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope).astype(x.dtype, copy=False)

    def vjp(self, m, gy, x, y):
        xd = array_of(x)
        return gy * np.where(xd > 0, 1, self.slope).astype(xd.dtype)


class Clip(Function):
    __slots__ = ("x_min", "x_max")

    def __init__(self, x_min, x_max):
        self.x_min = x_min
        self.x_max = x_max

    def forward(self, x):
        return np.clip(x, self.x_min, self.x_max)

    def vjp(self, m, gy, x, y):
        xd = array_of(x)
        # Inside the closed interval the slope is 1; clipped elements get no gradient.
        mask = (xd >= self.x_min) & (xd <= self.x_max)
        return gy * mask.astype(xd.dtype)


def square(x):
    return Square()(x)


def exp(x):
    return record_unary(Exp, x)


def log(x):
    return record_unary(Log, x)


def sin(x):
    return record_unary(Sin, x)


def cos(x):
    return record_unary(Cos, x)


def tanh(x):
    return record_unary(Tanh, x)


def sigmoid(x):
    return Sigmoid()(x)


def relu(x):
    return ReLU()(x)


def leaky_relu(x, slope=0.2):
    return LeakyReLU(slope)(x)


def clip(x, x_min, x_max):
    return Clip(x_min, x_max)(x)


# =============================================================================
# Shape
# =============================================================================
class Reshape(Function):
    __slots__ = ("shape", "x_shape")

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(self.shape)

    def vjp(self, m, gy, x, y):
        return m.reshape(gy, self.x_shape)


class Transpose(Function):
    __slots__ = ("axes",)

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        return x.transpose(self.axes)

    def vjp(self, m, gy, x, y):
        if self.axes is None:
            return m.transpose(gy)
        inverse = tuple(np.argsort([a % len(self.axes) for a in self.axes]))
        return m.transpose(gy, inverse)


class GetItem(Function):
    __slots__ = ("slices",)

    def __init__(self, slices):
        self.slices = slices

    def forward(self, x):
        return x[self.slices]

    def vjp(self, m, gy, x, y):
        return m.get_item_grad(gy, self.slices, x.shape)


class GetItemGrad(Function):
    """Scatter of gy into zeros: the adjoint of indexing (repeated indices add up)."""

    __slots__ = ("slices", "in_shape")

    def __init__(self, slices, in_shape):
        self.slices = slices
        self.in_shape = in_shape

    def forward(self, gy):
        return array_ops.get_item_grad(gy, self.slices, self.in_shape)

    def vjp(self, m, ggx, gy, y):
        return m.get_item(ggx, self.slices)


def reshape(x, shape):
    if x.shape == tuple(shape):
        return as_variable(x)
    return Reshape(shape)(x)


def transpose(x, axes=None):
    return Transpose(axes)(x)


def get_item(x, slices):
    return GetItem(slices)(x)


def get_item_grad(gy, slices, in_shape):
    return GetItemGrad(slices, in_shape)(gy)


def expand_dims(x, axis):
    x = as_variable(x)
    shape = list(x.shape)
    shape.insert(axis if axis >= 0 else len(shape) + axis + 1, 1)
    return reshape(x, tuple(shape))


def flatten(x):
    """Keep the first axis (the batch), flatten the rest."""
    x = as_variable(x)
    return reshape(x, (x.shape[0], -1))


# =============================================================================
# Reductions and broadcasting
# =============================================================================
class Sum(Function):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis, keepdims):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def vjp(self, m, gy, x, y):
        gy = m.reshape(gy, array_ops.keepdims_shape(x.shape, self.axis))
        return m.broadcast_to(gy, x.shape)


class SumTo(Function):
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return array_ops.sum_to(x, self.shape)

    def vjp(self, m, gy, x, y):
        return m.broadcast_to(gy, x.shape)


class BroadcastTo(Function):
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def vjp(self, m, gy, x, y):
        return m.sum_to(gy, x.shape)


class Max(Function):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis=None, keepdims=False):
        self.axis = axis
        self.keepdims = keepdims

    def forward(self, x):
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def vjp(self, m, gy, x, y):
        shape = array_ops.keepdims_shape(x.shape, self.axis)
        xd, yd = array_of(x), array_of(y).reshape(shape)
        # Ties share the gradient equally (torch.amax does the same), so it sums to gy.
        # The mask stays boolean and the share is taken on the reduced shape: two passes
        # over x fewer than a float mask divided in place, and the same numbers.
        winners = xd == yd
        share = 1.0 / winners.sum(axis=self.axis, keepdims=True, dtype=xd.dtype)
        return m.broadcast_to(m.reshape(gy, shape) * share, x.shape) * winners


class Min(Max):
    __slots__ = ()

    def forward(self, x):
        return x.min(axis=self.axis, keepdims=self.keepdims)


def sum(x, axis=None, keepdims=False):
    return Sum(axis, keepdims)(x)


def sum_to(x, shape):
    if x.shape == tuple(shape):
        return as_variable(x)
    return SumTo(shape)(x)


def broadcast_to(x, shape):
    if x.shape == tuple(shape):
        return as_variable(x)
    return BroadcastTo(shape)(x)


def max(x, axis=None, keepdims=False):
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims=False):
    return Min(axis, keepdims)(x)


def average(x, axis=None, keepdims=False):
    x = as_variable(x)
    y = sum(x, axis, keepdims)
    return y * (y.data.size / x.data.size)


# =============================================================================
# Linear algebra
# =============================================================================
def _check_matmul_operands(x, W):
    if x.ndim < 2 or W.ndim < 2:
        raise ValueError(
            f"linear needs operands with ndim >= 2, got shapes {x.shape} and {W.shape}; "
            "reshape vectors to (1, n) or (n, 1)"
        )


class MatMul(Function):
    """numpy's matmul: batched over leading axes, a 1-D operand taken as a row or a column."""

    __slots__ = ()

    def forward(self, x, W):
        if x.ndim == 0 or W.ndim == 0:
            raise ValueError(
                f"matmul needs operands with ndim >= 1, got shapes {x.shape} and {W.shape}"
            )
        return np.matmul(x, W)

    def vjp(self, m, gy, x, W, y):
        if x.ndim == 1 or W.ndim == 1:
            return matmul_vector_vjp(self, m, gy, x, W)
        gx = gW = None  # an operand given as an array gets no gradient: skip its matmul
        if self.needs_input_grad(0):
            gx = m.matmul(gy, m.transpose(W, _swap_last_two(W.ndim)))
        if self.needs_input_grad(1):
            gW = m.matmul(m.transpose(x, _swap_last_two(x.ndim)), gy)
        return gx, gW


class Linear(Function):
    __slots__ = ()

    def forward(self, x, W, b=None):
        if x.ndim < 2 or W.ndim < 2:  # the check inline: a layer calls this every step
            _check_matmul_operands(x, W)
        y = np.matmul(x, W)
        return y if b is None else y + b

    def vjp(self, m, gy, x, W, *b_and_y):
        if x.ndim == 2 and W.ndim == 2:  # a layer's case: .T is the transpose, a view
            gW = m.matmul(x.T, gy)
            # A raw input batch's gradient is never read: skip its matmul.
            gx = m.matmul(gy, W.T) if self.needs_input_grad(0) else None
        else:
            gx = m.matmul(gy, m.transpose(W, _swap_last_two(W.ndim)))
            gW = m.matmul(m.transpose(x, _swap_last_two(x.ndim)), gy)
        if len(b_and_y) == 2 and b_and_y[0].ndim == 1 and gy.ndim == 2:
            # A layer's bias, broadcast over the batch: its adjoint here is one sum,
            # cheaper than the sweep's general sum_to.
            return gx, gW, m.sum(gy, axis=0)
        return gx, gW, gy  # without a bias, the sweep's zip drops the third


def matmul(x, W):
    return MatMul()(x, W)


def linear(x, W, b=None):
    return Linear()(x, W) if b is None else Linear()(x, W, b)


# The book's Variable methods beside its operators (its setup_variable installs these four);
# `@` too, as numpy spells matmul. dezero's setup_variable() installs them.
VARIABLE_METHODS = {
    "matmul": matmul,
    "dot": matmul,
    "max": max,
    "min": min,
    "__matmul__": matmul,
    "__rmatmul__": lambda right, left: matmul(left, right),
}


# =============================================================================
# Losses composed of the functions above
# =============================================================================
def sigmoid_cross_entropy(x, t):
    """Mean binary cross-entropy of sigmoid(x) against 0/1 targets t."""
    x, t = as_variable(x), as_variable(t)
    if x.shape != t.shape:
        t = reshape(t, x.shape)
    return binary_cross_entropy(sigmoid(x), t)


def binary_cross_entropy(p, t):
    """Mean of -(t log p + (1 - t) log(1 - p)); p is clipped away from 0 and 1."""
    p, t = as_variable(p), as_variable(t)
    if p.shape != t.shape:
        t = reshape(t, p.shape)
    eps = 1e-7 if p.dtype == np.float32 else 1e-15
    p = clip(p, eps, 1.0 - eps)
    t = Variable(t.data.astype(p.dtype, copy=False))
    log_likelihood = t * log(p) + (1 - t) * log(1 - p)
    return -sum(log_likelihood) / p.data.size
